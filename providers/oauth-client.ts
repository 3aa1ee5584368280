/**
 * The module every provider call of the product goes through (with arctic-classes.ts, the only
 * importers of arctic 3.7.0, deprecated upstream: swapping it for hand-written fetch code later
 * changes these two files only): the vault's authorization URL, code exchange, refresh and revoke,
 * and the platform's GitHub sign-in. Each catalog app is spoken to by its own arctic class
 * (arctic-classes.ts: which class, and how configured endpoints reach it); the generic client only
 * serves apps arctic has no class for. Each call has a deadline (`timeoutMs`, default
 * OUTBOUND_TIMEOUTS.provider): arctic takes no AbortSignal, so its calls are raced against it
 * (withDeadline); our own fetches use outboundFetch.
 */
import {
  ArcticFetchError,
  GitHub,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
  generateCodeVerifier,
  generateState,
} from "arctic";
import { AppError } from "../lib/errors";
import type { ProviderConfig } from "../lib/oauth";
import { atAuthorizeUrl, routed, routeTo, speakerFor } from "./arctic-classes";
import { OUTBOUND_TIMEOUTS, outboundFetch, withDeadline } from "./outbound-fetch";

export { generateCodeVerifier, generateState };

const PROVIDER_MS: number = OUTBOUND_TIMEOUTS.provider;

/**
 * The provider's authorization URL for `cfg.scopes`. Scope separators, PKCE and the class's own
 * parameters (Atlassian's audience, Notion's owner) are arctic's; the catalog's
 * extraAuthorizeParams add what arctic does not set (Google's offline access, Dropbox's, Reddit's).
 * `verifier` is used when the class takes one (the vault passes it when cfg.pkce).
 */
export function authorizationUrl(cfg: ProviderConfig, redirectUri: string, state: string, verifier: string | null): URL {
  const s = speakerFor(cfg, redirectUri);
  const url = atAuthorizeUrl(s.authorize(state, s.pkce === "never" ? null : verifier, s.scopes ? cfg.scopes : []), cfg.authorizeUrl);
  for (const [k, v] of Object.entries(cfg.extraAuthorizeParams)) url.searchParams.set(k, v);
  return url;
}

/** GitHub's words for RFC 6749's refusals (arctic's GitHub class reads them from HTTP 200 answers). */
const REFUSAL_ALIASES: Record<string, string> = { bad_verification_code: "invalid_grant", bad_refresh_token: "invalid_grant", incorrect_client_credentials: "invalid_client" };

/** Provider failures become AppErrors with the provider's error code (never its body) in details. */
function providerError(e: unknown, what: string): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof OAuth2RequestError) {
    const code = REFUSAL_ALIASES[e.code] ?? e.code;
    return new AppError("upstream_error", `The provider refused the ${what}: ${code}.`, { details: { provider_error: code } });
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
    const s = speakerFor(cfg, redirectUri);
    const work = routed(routeTo(s.native.token, cfg.tokenUrl), () => s.exchange(code, s.pkce === "never" ? null : verifier));
    const tokens = await withDeadline(work, timeoutMs, "provider's token endpoint");
    checkSlack(cfg, tokens.data, "code exchange");
    return tokens.data as Record<string, unknown>;
  } catch (e) {
    throw providerError(e, "code exchange");
  }
}

/**
 * No deadline of its own: the vault's single-flight refresh gives its callers one (ensureFresh)
 * but keeps waiting for the answer, because the provider may have rotated the refresh token.
 * A class without refreshAccessToken (arctic's Linear, Notion, Facebook) falls back to the generic
 * client at the configured refresh URL.
 */
export async function refreshTokens(cfg: ProviderConfig, refreshToken: string): Promise<Record<string, unknown>> {
  try {
    const s = speakerFor(cfg, null);
    const tokens = s.refresh
      ? await routed(routeTo(s.native.refresh, cfg.refreshUrl), () => s.refresh!(refreshToken))
      : await new OAuth2Client(cfg.clientId, cfg.clientSecret, null).refreshAccessToken(cfg.refreshUrl, refreshToken, []);
    checkSlack(cfg, tokens.data, "token refresh");
    return tokens.data as Record<string, unknown>;
  } catch (e) {
    throw providerError(e, "token refresh");
  }
}

/**
 * Best effort: revocation failures are reported, never block the local revoke. The class's
 * revokeToken where it has one; else RFC 7009 through the generic client at the catalog's
 * documented revoke URL (Linear, LinkedIn, Reddit, Twitch have one arctic does not know).
 */
export async function revokeToken(cfg: ProviderConfig, token: string, timeoutMs = PROVIDER_MS): Promise<boolean> {
  if (!cfg.revokeUrl) return false;
  const revokeUrl = cfg.revokeUrl;
  try {
    if (cfg.slack) {
      // auth.revoke is a Web API method, not RFC 7009.
      const res = await outboundFetch(revokeUrl, { method: "POST", headers: { authorization: `Bearer ${token}` } }, timeoutMs, "provider's revoke endpoint");
      return res.ok && ((await res.json()) as { ok?: boolean }).ok === true;
    }
    const s = speakerFor(cfg, null);
    const work = s.revoke
      ? routed(routeTo(s.native.revoke, revokeUrl), () => s.revoke!(token))
      : new OAuth2Client(cfg.clientId, cfg.clientSecret, null).revokeToken(revokeUrl, token);
    await withDeadline(work, timeoutMs, "provider's revoke endpoint");
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
  return atAuthorizeUrl(new GitHub(cfg.clientId, cfg.clientSecret, cfg.redirectUri).createAuthorizationURL(state, GITHUB_SIGNIN_SCOPES), at.authorize);
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
    const gh = new GitHub(cfg.clientId, cfg.clientSecret, cfg.redirectUri);
    accessToken = (await withDeadline(routed(routeTo(GITHUB.token, at.token), () => gh.validateAuthorizationCode(code)), PROVIDER_MS, "GitHub token endpoint")).accessToken();
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
  // The platform-user cookie keeps at most 20 (lib/platform-user.ts): the primary first, then the rest in GitHub's order.
  return { id, login, emails: [...new Set(emails)].filter((e) => e.length <= 254).slice(0, 20) };
}
