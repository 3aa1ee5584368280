import { expect } from "vitest";

/**
 * The browser-less connect dance against the real stack: a cookie jar and manual redirects, so a
 * test sees every hop (sign-in, /oauth/start, the sandbox consent page, /oauth/callback).
 */
export class Jar {
  readonly cookies = new Map<string, string>();
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  /** One request, no automatic redirects; Set-Cookie answers update the jar (Max-Age=0 deletes). */
  async fetch(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(pathOrUrl, this.baseUrl);
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** A form post, as a browser submits one. */
  post(pathOrUrl: string, form: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of ([] as string[]).concat(v)) body.append(k, one);
    return this.fetch(pathOrUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  }

  /** The CSRF value: before sign-in the cookie's own, after it the session-bound value the server mirrors there. */
  get csrf(): string {
    const v = this.cookies.get("ks_csrf");
    if (!v) throw new Error("no ks_csrf cookie yet");
    return v;
  }
}

export const location = (res: Response): string => {
  const loc = res.headers.get("location");
  if (!loc) throw new Error(`expected a redirect, got HTTP ${res.status}`);
  return loc;
};

/** Dev sign-in: GET /signin (sets ks_csrf), then the picked user's form (sets ks_session). */
export async function signIn(baseUrl: string, email: string): Promise<Jar> {
  const jar = new Jar(baseUrl);
  const page = await jar.fetch("/signin");
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(email);
  const res = await jar.post("/signin", { csrf: jar.csrf, email, next: "/apps" });
  expect(res.status).toBe(303);
  expect(jar.cookies.get("ks_session")).toMatch(/^ks_user_/);
  return jar;
}

/** One JSON API call with a bearer token; answers the HTTP status and body. */
export async function api(baseUrl: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The connect page's form: posts to /oauth/start and answers the provider's authorize URL. */
export async function start(jar: Jar, session: string, targets: string[], name?: string): Promise<URL> {
  const page = await jar.fetch(`/connect/${session}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain(`action="/oauth/start"`);
  const res = await jar.post("/oauth/start", { csrf: jar.csrf, session, target: targets, ...(name ? { name } : {}) });
  // A page that moves on to the provider (a meta refresh), not a 302: CSP form-action 'self'.
  const onward = await res.text();
  expect(res.status, onward).toBe(200);
  const link = /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(onward);
  if (!link) throw new Error(`no provider link in ${onward.slice(0, 300)}`);
  return new URL(link[1]!.replaceAll("&amp;", "&"));
}

/** The sandbox consent page: Approve or Deny as `login`; answers the callback URL it redirects to. */
export async function consent(jar: Jar, authorize: URL, decision: "approve" | "deny", login = "octo"): Promise<URL> {
  const page = await jar.fetch(authorize.toString());
  expect(page.status).toBe(200);
  const form: Record<string, string> = Object.fromEntries(authorize.searchParams);
  const res = await jar.post(authorize.origin + authorize.pathname, { ...form, decision, login });
  expect(res.status).toBe(302);
  return new URL(location(res));
}

export interface Dance {
  session: string;
  authorize: URL;
  callbackUrl: URL;
  callback: Response;
  text: string;
}

/** The whole web flow for an existing connect session: start, consent, callback. */
export async function dance(jar: Jar, session: string, opts: { targets?: string[]; decision?: "approve" | "deny"; login?: string; name?: string } = {}): Promise<Dance> {
  const authorize = await start(jar, session, opts.targets ?? ["project:support"], opts.name);
  const callbackUrl = await consent(jar, authorize, opts.decision ?? "approve", opts.login ?? "octo");
  const callback = await jar.fetch(callbackUrl.pathname + callbackUrl.search);
  return { session, authorize, callbackUrl, callback, text: await callback.text() };
}

/** A fresh connect session for `app` (optionally a reconnect), created with the member's token. */
export async function newSession(baseUrl: string, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(baseUrl, "POST", "/v1/connect-sessions", token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe("pending");
  return res.body.id as string;
}

export const sandbox = {
  async stats(baseUrl: string): Promise<{ authorization_code: number; refresh_token: number; reuse_detected: number; revoked: number; userinfo: number }> {
    return (await fetch(`${baseUrl}/_sandbox/oauth/stats`)).json() as never;
  },
  /** One-shot: the next access token the sandbox issues lives `seconds`. */
  async nextTtl(baseUrl: string, seconds: number): Promise<void> {
    const res = await fetch(`${baseUrl}/_sandbox/oauth/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ next_access_token_ttl: seconds }) });
    expect(await res.json()).toEqual({ next_access_token_ttl: seconds });
  },
  async userinfo(baseUrl: string, slug: string, accessToken: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${baseUrl}/_sandbox/oauth/${slug}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    return { status: res.status, body: await res.json() };
  },
};

/** POST /v1/runtime/resolve for one app in a project, as workflow `<project>` step `step`. */
export function resolveRuntime(baseUrl: string, runtimeToken: string, app: string, project: string, consumer = "step") {
  return api(baseUrl, "POST", "/v1/runtime/resolve", runtimeToken, { project, consumer: { kind: "workflow", target: project, id: consumer }, requirements: [{ app }] });
}
