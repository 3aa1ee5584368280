import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { constantTimeEqual, parseToken } from "../../../../lib/tokens";

/**
 * The browser session: an HttpOnly cookie holding a member token (`ks_user_…`), so the page
 * routes call the vault exactly like the API does. Shared by the api and oauth workers, which
 * serve the same host.
 */
export const SESSION_COOKIE = "ks_session";
export const CSRF_COOKIE = "ks_csrf";
/** Web sessions are short; every signed-in page view renews the cookie (sliding). */
export const SESSION_TTL_S = 8 * 60 * 60;

const secure = (c: Context) => new URL(c.req.url).protocol === "https:";

export function sessionToken(c: Context): string | null {
  const raw = getCookie(c, SESSION_COOKIE);
  return raw && parseToken(raw)?.kind === "user" ? raw : null;
}

export function setSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: "Lax", secure: secure(c), path: "/", maxAge: SESSION_TTL_S });
}

export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/**
 * CSRF: double submit. A random value in an HttpOnly SameSite cookie, repeated in every form;
 * a cross-site form can neither read the cookie nor guess the value.
 */
export function csrfToken(c: Context): string {
  let value = getCookie(c, CSRF_COOKIE);
  if (!value || !/^[a-f0-9]{32}$/.test(value)) {
    value = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    setCookie(c, CSRF_COOKIE, value, { httpOnly: true, sameSite: "Lax", secure: secure(c), path: "/" });
  }
  return value;
}

export function csrfValid(c: Context, submitted: unknown): boolean {
  const cookie = getCookie(c, CSRF_COOKIE);
  return typeof submitted === "string" && !!cookie && cookie.length === submitted.length && constantTimeEqual(cookie, submitted);
}

/** Where the org of a session token lives. */
export function vaultOfSession(env: { VAULT: DurableObjectNamespace<import("../../../../durable-objects/org-vault").OrgVault> }, token: string) {
  const orgId = parseToken(token)!.orgId;
  return env.VAULT.get(env.VAULT.idFromName(orgId));
}
