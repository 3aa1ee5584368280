import type { Context } from "hono";
import type { ErrorBody } from "../../../../lib/errors";
import { AppError } from "../../../../lib/errors";
import type { Principal } from "../../../../lib/permissions";
import type { ProjectRole } from "../../../../lib/schemas/common";
import type { VaultResult } from "../../../../lib/rpc";
import type { ApiEnv } from "../http/vault";
import { csrfToken, csrfValid, sessionToken, setSession, vaultOfSession } from "../../../shared/session";
import { errorPage } from "../../../shared/error-page";

/** A signed-in page's context: the session token, its vault, who the member is and the CSRF value. */
export interface WebSession {
  token: string;
  vault: ReturnType<typeof vaultOfSession>;
  email: string;
  role: string;
  csrf: string;
  /** The member as lib/permissions sees them: pages show only the actions `can` allows. */
  principal: Principal;
  /** Projects the member can see (org admins: every project). */
  projects: string[];
}

/** Signed-in pages: no session, or an expired one, goes to the sign-in page and comes back. */
export async function requireSession(c: Context<ApiEnv>): Promise<WebSession | Response> {
  const token = sessionToken(c);
  const back = `/signin?next=${encodeURIComponent(new URL(c.req.url).pathname + new URL(c.req.url).search)}`;
  if (!token) return c.redirect(back, 303);
  const vault = vaultOfSession(c.env, token);
  // A cookie naming an org nobody minted is refused before any vault (vaultStub): not signed in either.
  const me = await vault.me(token).catch((e: unknown) => {
    if (e instanceof AppError && e.code === "unauthorized") return null;
    throw e;
  });
  if (!me?.ok || !me.value.member) return c.redirect(back, 303);
  setSession(c, token); // sliding: every page view renews the cookie (and the vault the token)
  const projects: Record<string, ProjectRole> = {};
  for (const p of me.value.projects) if (p.role) projects[p.slug] = p.role;
  const member = me.value.member;
  return {
    token,
    vault,
    email: member.email,
    role: member.role,
    csrf: csrfToken(c),
    principal: { member: member.id, role: member.role, projects },
    projects: me.value.projects.map((p) => p.slug),
  };
}

/** The nav props of a signed-in page. */
export const navOf = (s: Pick<WebSession, "email" | "role" | "csrf">, current?: string) => ({ member: s.email, role: s.role, csrf: s.csrf, current });

/** A vault answer for a page: the value, or the error to show in the page (never a stack trace). */
export function pageValue<T>(r: VaultResult<T>): { value: T; error: null } | { value: null; error: ErrorBody } {
  return r.ok ? { value: r.value, error: null } : { value: null, error: r.error };
}

export function asErrorBody(e: unknown): ErrorBody {
  return e instanceof AppError ? e.toBody() : { code: "internal", message: "Something went wrong." };
}

/** The HTTP status of an error body, for pages that render it. */
export function statusOf(e: ErrorBody): 400 | 401 | 403 | 404 | 409 | 429 | 500 | 502 {
  return new AppError(e.code, e.message).httpStatus as 400;
}

export const FORM_EXPIRED: ErrorBody = {
  code: "forbidden",
  message: "This form expired or did not come from this site, so nothing was changed.",
  fix: "Reload the page and submit the form again.",
};

type Form = Record<string, string | File | (string | File)[]>;

/**
 * A signed-in form post: the parsed body, or null when the CSRF value is missing or wrong
 * (the caller answers 403 with FORM_EXPIRED). Every state-changing page route goes through it.
 */
export async function formOf(c: Context<ApiEnv>): Promise<Form | null> {
  let form: Form;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    return null;
  }
  const csrf = form.csrf;
  return csrfValid(c, Array.isArray(csrf) ? csrf[0] : csrf) ? form : null;
}

/** One text value of a form field (the first, trimmed); "" when absent. */
export function text(form: Form, name: string): string {
  const v = form[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === "string" ? one.trim() : "";
}

/** All text values of a repeated form field. */
export function texts(form: Form, name: string): string[] {
  return ([] as unknown[]).concat(form[name] ?? []).filter((v): v is string => typeof v === "string");
}

/**
 * Last resort for the page routes: an HTML page with the error and its fix, never a stack trace
 * (the API routes keep the JSON envelope of http/errors.ts).
 */
export function webError(err: unknown, c: Context): Response | Promise<Response> {
  const body = asErrorBody(err);
  if (body.code === "internal") console.error("web page error", err instanceof Error ? err.name : typeof err, c.req.method, c.req.routePath);
  return errorPage(c, body, { status: err instanceof AppError ? err.httpStatus : undefined });
}

/** Whether a request is a browser asking for a page (for HTML 404s outside the API). */
export function wantsPage(c: Context): boolean {
  const path = new URL(c.req.url).pathname;
  return c.req.method === "GET" && !path.startsWith("/v1/") && path !== "/mcp" && (c.req.header("accept") ?? "").includes("text/html");
}
