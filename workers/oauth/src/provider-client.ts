/**
 * The one module that imports arctic (3.7.0, deprecated upstream): swapping it for hand-written
 * fetch code later changes this file only. Every provider call of the product goes through here:
 * the oauth worker's code exchange and the vault's refresh and revoke.
 */
import {
  ArcticFetchError,
  CodeChallengeMethod,
  GitHub,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
  generateCodeVerifier,
  generateState,
} from "arctic";
import { AppError } from "../../../lib/errors";
import type { ProviderConfig } from "../../../lib/oauth";

export { generateCodeVerifier, generateState };

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

export async function exchangeCode(cfg: ProviderConfig, redirectUri: string, code: string, verifier: string | null): Promise<Record<string, unknown>> {
  try {
    const tokens = await client(cfg, redirectUri).validateAuthorizationCode(cfg.tokenUrl, code, cfg.pkce ? verifier : null);
    checkSlack(cfg, tokens.data, "code exchange");
    return tokens.data as Record<string, unknown>;
  } catch (e) {
    throw providerError(e, "code exchange");
  }
}

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
export async function revokeToken(cfg: ProviderConfig, token: string): Promise<boolean> {
  if (!cfg.revokeUrl) return false;
  try {
    if (cfg.slack) {
      // auth.revoke is a Web API method, not RFC 7009.
      const res = await fetch(cfg.revokeUrl, { method: "POST", headers: { authorization: `Bearer ${token}` } });
      return res.ok && ((await res.json()) as { ok?: boolean }).ok === true;
    }
    await client(cfg, null).revokeToken(cfg.revokeUrl, token);
    return true;
  } catch {
    return false;
  }
}

export async function fetchUserinfo(cfg: ProviderConfig, accessToken: string): Promise<unknown> {
  if (!cfg.userinfoUrl) throw new AppError("upstream_error", "The provider has no userinfo endpoint.");
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "keystroke" };
  const init: RequestInit = cfg.userinfoQuery
    ? { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ query: cfg.userinfoQuery }) }
    : { method: "GET", headers };
  let res: Response;
  try {
    res = await fetch(cfg.userinfoUrl, init);
  } catch {
    throw new AppError("upstream_error", "The provider's userinfo endpoint could not be reached.");
  }
  if (!res.ok) throw new AppError("upstream_error", `The provider's userinfo endpoint answered HTTP ${res.status}.`);
  return res.json();
}

/** The bot id of a Slack bot token (oauth.v2.access does not carry it). */
export async function slackAuthTest(slackApiUrl: string, botToken: string): Promise<{ botId: string; userId: string; teamId: string }> {
  const res = await fetch(`${slackApiUrl}/auth.test`, { method: "POST", headers: { authorization: `Bearer ${botToken}` } });
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
}

/** Only what sign-in needs: the profile and the email addresses with their verification state. */
const GITHUB_SIGNIN_SCOPES = ["read:user", "user:email"];
const GITHUB_API = "https://api.github.com";

export function githubSignInUrl(cfg: PlatformGitHub, state: string): URL {
  return new GitHub(cfg.clientId, cfg.clientSecret, cfg.redirectUri).createAuthorizationURL(state, GITHUB_SIGNIN_SCOPES);
}

/**
 * Exchanges the sign-in code and answers the GitHub account's verified email addresses, primary
 * first (lowercased). The access token is used for this one call and then dropped.
 */
export async function githubVerifiedEmails(cfg: PlatformGitHub, code: string): Promise<string[]> {
  let accessToken: string;
  try {
    accessToken = (await new GitHub(cfg.clientId, cfg.clientSecret, cfg.redirectUri).validateAuthorizationCode(code)).accessToken();
  } catch (e) {
    throw providerError(e, "GitHub sign-in");
  }
  const headers = { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "keystroke" };
  let res: Response;
  try {
    res = await fetch(`${GITHUB_API}/user/emails`, { headers });
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
  return [...new Set(emails)];
}
