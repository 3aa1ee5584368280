/**
 * The one module that imports arctic (3.7.0, deprecated upstream): swapping it for hand-written
 * fetch code later changes this file only. Every provider call of the product goes through here:
 * the oauth worker's code exchange and the vault's refresh and revoke. Each has a deadline
 * (`timeoutMs`, default OUTBOUND_TIMEOUTS.provider): arctic takes no AbortSignal, so its calls
 * are raced against it (withDeadline); our own fetches use outboundFetch.
 */
import {
  ArcticFetchError,
  CodeChallengeMethod,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
  generateCodeVerifier,
  generateState,
} from "arctic";
import { AppError } from "../lib/errors";
import type { ProviderConfig } from "../lib/oauth";
import { OUTBOUND_TIMEOUTS, outboundFetch, withDeadline } from "./outbound-fetch";

export { generateCodeVerifier, generateState };

const PROVIDER_MS: number = OUTBOUND_TIMEOUTS.provider;

const client = (cfg: ProviderConfig, redirectUri: string | null) => new OAuth2Client(cfg.clientId, cfg.clientSecret, redirectUri);

export function authorizationUrl(cfg: ProviderConfig, redirectUri: string, state: string, verifier: string | null): URL {
  const c = client(cfg, redirectUri);
  const url = cfg.pkce && verifier
    ? c.createAuthorizationURLWithPKCE(cfg.authorizeUrl, state, CodeChallengeMethod.S256, verifier, [])
    : c.createAuthorizationURL(cfg.authorizeUrl, state, []);
  // arctic joins scopes with spaces; Slack, Linear and a few others want commas.
  if (cfg.scopes.length) url.searchParams.set("scope", cfg.scopes.join(cfg.scopeSeparator));
  for (const [k, v] of Object.entries(cfg.extraAuthorizeParams)) url.searchParams.set(k, v);
  return url;
}

/** Provider failures become AppErrors with the provider's error code (never its body) in details. */
function providerError(e: unknown, what: string): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof OAuth2RequestError) {
    return new AppError("upstream_error", `The provider refused the ${what}: ${e.code}.`, { details: { provider_error: e.code } });
  }
  if (e instanceof ArcticFetchError) return new AppError("upstream_error", `The provider could not be reached for the ${what}.`, { details: { provider_error: "unreachable" } });
  if (e instanceof UnexpectedResponseError) return new AppError("upstream_error", `The provider answered the ${what} with HTTP ${e.status}.`, { details: { provider_error: `http_${e.status}` } });
  if (e instanceof UnexpectedErrorResponseBodyError) return new AppError("upstream_error", `The provider answered the ${what} with HTTP ${e.status}.`, { details: { provider_error: `http_${e.status}` } });
  return new AppError("upstream_error", `The ${what} failed.`, { details: { provider_error: "unknown" } });
}

/** Slack answers errors with HTTP 200 and `{ok:false}`; arctic takes any 200 as success. */
function checkSlack(cfg: ProviderConfig, data: object, what: string): void {
  const d = data as { ok?: unknown; error?: unknown };
  if (cfg.slack && d.ok !== true) {
    const code = typeof d.error === "string" ? d.error : "slack_error";
    throw new AppError("upstream_error", `Slack refused the ${what}: ${code}.`, { details: { provider_error: code === "invalid_refresh_token" ? "invalid_grant" : code } });
  }
}

export async function exchangeCode(cfg: ProviderConfig, redirectUri: string, code: string, verifier: string | null, timeoutMs = PROVIDER_MS): Promise<Record<string, unknown>> {
  try {
    const tokens = await withDeadline(client(cfg, redirectUri).validateAuthorizationCode(cfg.tokenUrl, code, cfg.pkce ? verifier : null), timeoutMs, "provider's token endpoint");
    checkSlack(cfg, tokens.data, "code exchange");
    return tokens.data as Record<string, unknown>;
  } catch (e) {
    throw providerError(e, "code exchange");
  }
}

/**
 * No deadline of its own: the vault's single-flight refresh gives its callers one (ensureFresh)
 * but keeps waiting for the answer, because the provider may have rotated the refresh token.
 */
export async function refreshTokens(cfg: ProviderConfig, refreshToken: string): Promise<Record<string, unknown>> {
  try {
    const tokens = await client(cfg, null).refreshAccessToken(cfg.refreshUrl, refreshToken, []);
    checkSlack(cfg, tokens.data, "token refresh");
    return tokens.data as Record<string, unknown>;
  } catch (e) {
    throw providerError(e, "token refresh");
  }
}

/** Best effort: revocation failures are reported, never block the local revoke. */
export async function revokeToken(cfg: ProviderConfig, token: string, timeoutMs = PROVIDER_MS): Promise<boolean> {
  if (!cfg.revokeUrl) return false;
  try {
    if (cfg.slack) {
      // auth.revoke is a Web API method, not RFC 7009.
      const res = await outboundFetch(cfg.revokeUrl, { method: "POST", headers: { authorization: `Bearer ${token}` } }, timeoutMs, "provider's revoke endpoint");
      return res.ok && ((await res.json()) as { ok?: boolean }).ok === true;
    }
    await withDeadline(client(cfg, null).revokeToken(cfg.revokeUrl, token), timeoutMs, "provider's revoke endpoint");
    return true;
  } catch {
    return false;
  }
}

export async function fetchUserinfo(cfg: ProviderConfig, accessToken: string, timeoutMs = PROVIDER_MS): Promise<unknown> {
  if (!cfg.userinfoUrl) throw new AppError("upstream_error", "The provider has no userinfo endpoint.");
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "keystroke" };
  const init: RequestInit = cfg.userinfoQuery
    ? { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ query: cfg.userinfoQuery }) }
    : { method: "GET", headers };
  const res = await outboundFetch(cfg.userinfoUrl, init, timeoutMs, "provider's userinfo endpoint");
  if (!res.ok) throw new AppError("upstream_error", `The provider's userinfo endpoint answered HTTP ${res.status}.`);
  return withDeadline(res.json(), timeoutMs, "provider's userinfo endpoint");
}

/** The bot id of a Slack bot token (oauth.v2.access does not carry it). */
export async function slackAuthTest(slackApiUrl: string, botToken: string, timeoutMs: number = OUTBOUND_TIMEOUTS.slack): Promise<{ botId: string; userId: string; teamId: string }> {
  const res = await outboundFetch(`${slackApiUrl}/auth.test`, { method: "POST", headers: { authorization: `Bearer ${botToken}` } }, timeoutMs, "Slack Web API");
  const d = (await res.json().catch(() => ({}))) as { ok?: boolean; bot_id?: string; user_id?: string; team_id?: string; error?: string };
  if (d.ok !== true || !d.bot_id) throw new AppError("upstream_error", `Slack auth.test failed: ${d.error ?? "no bot id"}.`);
  return { botId: d.bot_id, userId: d.user_id ?? "", teamId: d.team_id ?? "" };
}

// ---- platform sign-in: "Sign in with GitHub" on the web app (not an app credential) ----

/** The platform's own GitHub OAuth app (PLATFORM_GITHUB_CLIENT_ID / _SECRET) and its callback. */
export interface PlatformGitHub {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Where GitHub is: github.com unless told (dev: the sandbox provider plays GitHub). */
  endpoints?: GitHubEndpoints;
}
export interface GitHubEndpoints {
  authorize: string;
  token: string;
  /** The REST API's base (`/user`, `/user/emails` under it). */
  api: string;
}
const GITHUB: GitHubEndpoints = { authorize: "https://github.com/login/oauth/authorize", token: "https://github.com/login/oauth/access_token", api: "https://api.github.com" };

/** Only what sign-in needs: the profile and the email addresses with their verification state. */
const GITHUB_SIGNIN_SCOPES = ["read:user", "user:email"];

export function githubSignInUrl(cfg: PlatformGitHub, state: string): URL {
  const at = cfg.endpoints ?? GITHUB;
  return new OAuth2Client(cfg.clientId, cfg.clientSecret, cfg.redirectUri).createAuthorizationURL(at.authorize, state, GITHUB_SIGNIN_SCOPES);
}

/** Who signed in at GitHub: the account (id and login, display only) and its verified emails, primary first. */
export interface GitHubAccount {
  id: string;
  login: string;
  emails: string[];
}

/**
 * Exchanges the sign-in code and answers the GitHub account's verified email addresses, primary
 * first (lowercased), with its id and login. The access token is used for these calls and then
 * dropped. Members are matched by verified email only, so the profile read is best effort.
 */
export async function githubAccount(cfg: PlatformGitHub, code: string): Promise<GitHubAccount> {
  const at = cfg.endpoints ?? GITHUB;
  let accessToken: string;
  try {
    accessToken = (await withDeadline(new OAuth2Client(cfg.clientId, cfg.clientSecret, cfg.redirectUri).validateAuthorizationCode(at.token, code, null), PROVIDER_MS, "GitHub token endpoint")).accessToken();
  } catch (e) {
    throw providerError(e, "GitHub sign-in");
  }
  const headers = { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "keystroke" };
  const profile = outboundFetch(`${at.api}/user`, { headers }, PROVIDER_MS, "GitHub API")
    .then(async (r) => (r.ok ? ((await r.json()) as { id?: unknown; login?: unknown }) : {}))
    .catch(() => ({}) as { id?: unknown; login?: unknown });
  let res: Response;
  try {
    res = await outboundFetch(`${at.api}/user/emails`, { headers }, PROVIDER_MS, "GitHub API");
  } catch {
    throw new AppError("upstream_error", "GitHub could not be reached to read your email addresses.", { fix: "Try signing in again." });
  }
  if (!res.ok) throw new AppError("upstream_error", `GitHub answered HTTP ${res.status} when asked for your email addresses.`, { fix: "Try signing in again; approve the email permission." });
  const body = (await res.json().catch(() => null)) as unknown;
  const list = Array.isArray(body) ? body : [];
  const emails = list
    .filter((e): e is { email: string; verified: boolean; primary?: boolean } => typeof e === "object" && e !== null && typeof (e as { email?: unknown }).email === "string" && (e as { verified?: unknown }).verified === true)
    .sort((a, b) => Number(b.primary === true) - Number(a.primary === true))
    .map((e) => e.email.toLowerCase());
  const p = await profile;
  const id = typeof p.id === "number" || typeof p.id === "string" ? String(p.id).slice(0, 40) : "";
  const login = typeof p.login === "string" ? p.login.slice(0, 100) : "";
  return { id, login, emails: [...new Set(emails)] };
}
