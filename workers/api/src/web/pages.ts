import type { Context } from "hono";
import type { ErrorBody } from "../../../../lib/errors";
import { AppError } from "../../../../lib/errors";
import type { VaultResult } from "../../../../durable-objects/vault/context";
import type { ApiEnv } from "../http/vault";
import { csrfToken, sessionToken, setSession, vaultOfSession } from "./session";

/** A signed-in page's context: the session token, its vault, the member's email and the CSRF value. */
export interface WebSession {
  token: string;
  vault: ReturnType<typeof vaultOfSession>;
  email: string;
  role: string;
  csrf: string;
}

/** Signed-in pages: no session, or an expired one, goes to the sign-in page and comes back. */
export async function requireSession(c: Context<ApiEnv>): Promise<WebSession | Response> {
  const token = sessionToken(c);
  const back = `/signin?next=${encodeURIComponent(new URL(c.req.url).pathname + new URL(c.req.url).search)}`;
  if (!token) return c.redirect(back, 303);
  const vault = vaultOfSession(c.env, token);
  const me = await vault.me(token);
  if (!me.ok || !me.value.member) return c.redirect(back, 303);
  setSession(c, token); // sliding: every page view renews the cookie
  return { token, vault, email: me.value.member.email, role: me.value.member.role, csrf: csrfToken(c) };
}

/** A vault answer for a page: the value, or the error to show in the page (never a stack trace). */
export function pageValue<T>(r: VaultResult<T>): { value: T; error: null } | { value: null; error: ErrorBody } {
  return r.ok ? { value: r.value, error: null } : { value: null, error: r.error };
}

export function asErrorBody(e: unknown): ErrorBody {
  return e instanceof AppError ? e.toBody() : { code: "internal", message: "Something went wrong." };
}
