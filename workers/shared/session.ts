import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { constantTimeEqual, parseToken } from "../../lib/tokens";
import { vaultStub, type VaultBindings } from "../../durable-objects/vault-stub";

/**
 * The browser session: an HttpOnly cookie holding a member token (`ks_user_…`), so the page
 * routes call the vault exactly like the API does. Shared by the api and oauth workers, which
 * serve the same host. Over https the cookies carry the `__Host-` prefix (Secure, Path=/, no
 * Domain), so a sibling subdomain cannot plant or overwrite them; http://localhost keeps plain
 * names because browsers refuse `__Host-` cookies without Secure.
 */
export const SESSION_COOKIE = "ks_session";
export const CSRF_COOKIE = "ks_csrf";
/** Web sessions are short; every signed-in page view renews the cookie (sliding). */
export const SESSION_TTL_S = 8 * 60 * 60;

const secure = (c: Context) => new URL(c.req.url).protocol === "https:";
const prefix = (c: Context) => (secure(c) ? ("host" as const) : undefined);
const cookieOptions = (c: Context) => ({ httpOnly: true, sameSite: "Lax" as const, secure: secure(c), path: "/", prefix: prefix(c) });

/** What the session cookie says, read once per request by `webSession`: a member token and its org, not yet checked by the vault. */
export interface SessionCookie {
  token: string;
  orgId: string;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by the `webSession` middleware on every request of the api and oauth workers. */
    session: SessionCookie | null;
  }
}

function readSession(c: Context): SessionCookie | null {
  const raw = getCookie(c, SESSION_COOKIE, prefix(c));
  const parsed = raw ? parseToken(raw) : null;
  return raw && parsed?.kind === "user" ? { token: raw, orgId: parsed.orgId } : null;
}

/** The session's token as `webSession` read it; fails closed without the middleware. */
export function sessionToken(c: Context): string | null {
  const session = c.get("session");
  if (session === undefined) throw new Error("webSession middleware is not installed");
  return session?.token ?? null;
}

export function setSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, { ...cookieOptions(c), maxAge: SESSION_TTL_S });
}

/** A new session (sign-in): its cookie, and the CSRF value bound to it for the pages that follow. */
export async function startSession(c: Context, token: string): Promise<void> {
  setSession(c, token);
  const bound = await sessionCsrf(token);
  csrfOfRequest.set(c.req.raw, bound);
  setCookie(c, CSRF_COOKIE, bound, cookieOptions(c));
}

export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secure(c), prefix: prefix(c) });
}

/**
 * CSRF. Signed in, the form value is bound to the session: an HMAC keyed by the session token, so
 * a value from one session is refused in every other and a cross-site form cannot compute it.
 * Before sign-in (the sign-in form itself) it is a double submit: a random value in an HttpOnly
 * SameSite cookie, repeated in the form. The session-bound value is mirrored in the same cookie
 * for clients that read it there. Web Crypto is async, so `webSession` (the middleware on both
 * workers) computes it once per request and the page code reads it synchronously.
 */
const csrfOfRequest = new WeakMap<Request, string | null>();
const CSRF_LABEL = new TextEncoder().encode("keystroke web csrf v1");

export async function sessionCsrf(token: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, CSRF_LABEL));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The one session middleware of every browser-facing worker (api, oauth): reads the session
 * cookie once into `c.var.session` and computes its bound CSRF value. Pages read both from here;
 * the vault call of the page is what checks the token.
 */
export const webSession = createMiddleware(async (c, next) => {
  const session = readSession(c);
  c.set("session", session);
  csrfOfRequest.set(c.req.raw, session ? await sessionCsrf(session.token) : null);
  await next();
});

/** The session's bound value, or null before sign-in; fails closed without the middleware. */
function boundCsrf(c: Context): string | null {
  const bound = csrfOfRequest.get(c.req.raw);
  if (bound === undefined) throw new Error("webSession middleware is not installed");
  return bound;
}

export function csrfToken(c: Context): string {
  const bound = boundCsrf(c);
  let value = getCookie(c, CSRF_COOKIE, prefix(c));
  if (bound) {
    if (value !== bound) setCookie(c, CSRF_COOKIE, bound, cookieOptions(c));
    return bound;
  }
  if (!value || !/^[a-f0-9]{32}$/.test(value)) {
    value = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    setCookie(c, CSRF_COOKIE, value, cookieOptions(c));
  }
  return value;
}

export function csrfValid(c: Context, submitted: unknown): boolean {
  const expected = boundCsrf(c) ?? getCookie(c, CSRF_COOKIE, prefix(c));
  return typeof submitted === "string" && !!expected && expected.length === submitted.length && constantTimeEqual(expected, submitted);
}

/** Where the org of a session token lives. */
export function vaultOfSession(env: VaultBindings, token: string) {
  return vaultStub(env, parseToken(token)!.orgId);
}
