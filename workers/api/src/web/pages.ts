import type { Context } from "hono";
import type { ErrorBody } from "../../../../lib/errors";
import { AppError, httpStatusOf } from "../../../../lib/errors";
import type { Principal } from "../../../../lib/permissions";
import type { ProjectRole } from "../../../../lib/schemas/common";
import type { Me } from "../../../../lib/schemas/identity";
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

/** Where a signed-out browser goes: the sign-in page, then back here. */
function signInAgain(c: Context<ApiEnv>): Response {
  const url = new URL(c.req.url);
  return c.redirect(`/signin?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
}

/** The session cookie's token and its vault, before any vault call; no cookie goes to sign-in. */
export function signedIn(c: Context<ApiEnv>): { token: string; vault: ReturnType<typeof vaultOfSession> } | Response {
  const token = sessionToken(c);
  return token ? { token, vault: vaultOfSession(c.env, token) } : signInAgain(c);
}

/** A vault call from a page: a cookie naming an org nobody minted is refused before any vault (vaultStub), as data. */
async function settle<T>(call: () => Promise<VaultResult<T>>): Promise<VaultResult<T>> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof AppError && e.code === "unauthorized") return { ok: false, error: e.toBody(), status: 401 };
    throw e;
  }
}

function sessionFrom(c: Context<ApiEnv>, token: string, vault: WebSession["vault"], viewer: Me): WebSession | null {
  const member = viewer.member;
  if (!member) return null;
  const projects: Record<string, ProjectRole> = {};
  for (const p of viewer.projects) if (p.role) projects[p.slug] = p.role;
  return {
    token,
    vault,
    email: member.email,
    role: member.role,
    csrf: csrfToken(c),
    principal: { member: member.id, role: member.role, projects },
    projects: viewer.projects.map((p) => p.slug),
  };
}

/**
 * A signed-in page: ONE vault call (`load`, a `load…Page` method of the vault) answers the page's
 * data and who is signed in, inside one authentication (issue 12: one vault call per page). No
 * session, or an expired one, goes to the sign-in page and comes back.
 */
export async function loadPage<T extends { viewer: Me }>(
  c: Context<ApiEnv>,
  load: (vault: WebSession["vault"], token: string) => Promise<VaultResult<T>>,
): Promise<{ s: WebSession; page: T } | Response> {
  const session = signedIn(c);
  if (session instanceof Response) return session;
  const r = await settle(() => load(session.vault, session.token));
  if (!r.ok) return r.error.code === "unauthorized" || r.error.code === "forbidden" ? signInAgain(c) : webError(new AppError(r.error.code, r.error.message, { fix: r.error.fix }), c);
  const s = sessionFrom(c, session.token, session.vault, r.value.viewer);
  if (!s) return signInAgain(c);
  setSession(c, session.token); // sliding: every page view renews the cookie (and the vault the token)
  return { s, page: r.value };
}

/**
 * A form's action, one vault call that authenticates the session itself: a refused session goes to
 * sign-in, a done action slides the session; the answer is the caller's to redirect or re-render.
 */
export async function act<T>(c: Context<ApiEnv>, call: (vault: WebSession["vault"], token: string) => Promise<VaultResult<T>>): Promise<VaultResult<T> | Response> {
  const session = signedIn(c);
  if (session instanceof Response) return session;
  const r = await settle(() => call(session.vault, session.token));
  if (!r.ok && r.error.code === "unauthorized") return signInAgain(c);
  if (r.ok) setSession(c, session.token);
  return r;
}

/** The nav props of a signed-in page. */
/** The banner a `?done=` names, if it names one: an own key only (`__proto__` or `constructor` are none). */
export function doneBanner<T>(table: Readonly<Record<string, T>>, done: string | undefined): T | null {
  return done !== undefined && Object.hasOwn(table, done) ? table[done]! : null;
}

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
  return httpStatusOf(e.code) as 400;
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
