import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../workers/api/src/index";
import oauthWorker from "../../workers/oauth/src/index";
import slackWorker from "../../workers/slack-events/src/index";
import { sessionCsrf } from "../../workers/shared/session";
import { hashToken, tokenPreview, newToken } from "../../lib/tokens";
import type { OrgVault } from "../../durable-objects/org-vault";
import { call, providerLink, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";

/**
 * The web app's security rules of issue 11: `next` only ever leads to this platform (item 8),
 * security headers and no-store on pages and error envelopes (item 10), and the web parts of
 * item 13: CSRF values bound to the session, `__Host-` cookies over https, no pre-made tokens
 * outside dev mode, an absolute session lifetime, and no connect session started by a GET.
 */
let s: Seed;
const PUBLIC = "http://localhost:8787";
const CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'";

async function page(method: string, path: string, opts: { token?: string; csrf?: string | null; form?: Record<string, string>; origin?: string; cookie?: string } = {}) {
  const host = (opts.origin ?? "http://localhost").startsWith("https:") ? "__Host-" : "";
  const headers: Record<string, string> = { cookie: opts.cookie ?? (opts.token ? `${host}ks_session=${opts.token}` : ""), accept: "text/html" };
  let body: string | undefined;
  if (method === "POST") {
    const f = new URLSearchParams(opts.form ?? {});
    if (opts.csrf !== null) f.set("csrf", opts.csrf ?? (opts.token ? await sessionCsrf(opts.token) : ""));
    body = f.toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const res = await exports.default.fetch(new Request(`${opts.origin ?? "http://localhost"}${path}`, { method, headers, body, redirect: "manual" }));
  return { status: res.status, headers: res.headers, html: await res.text(), location: res.headers.get("location"), cookies: res.headers.getSetCookie() };
}

const expectPageHeaders = (h: Headers, what: string) => {
  expect(h.get("content-security-policy"), what).toBe(CSP);
  expect(h.get("x-content-type-options"), what).toBe("nosniff");
  expect(h.get("referrer-policy"), what).toBe("same-origin");
  expect(h.get("x-frame-options"), what).toBe("DENY");
};

beforeAll(async () => {
  s = await seed();
});
afterEach(() => vi.restoreAllMocks());

describe("sign-in sends the browser only to this platform (item 8)", () => {
  const github = { ...env, PLATFORM_GITHUB_CLIENT_ID: "gh-client", PLATFORM_GITHUB_CLIENT_SECRET: "gh-secret" };
  const run = async (path: string, cookie = "") => {
    const res = await app.fetch(new Request(`http://localhost${path}`, { headers: { cookie, accept: "text/html" }, redirect: "manual" }), github, createExecutionContext());
    return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie() };
  };
  /** The whole GitHub sign-in with `next`: where the final 303 points. */
  async function signInWith(next: string): Promise<string | null> {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (req.url === "https://github.com/login/oauth/access_token") return Response.json({ access_token: "gho_test", token_type: "bearer", scope: "read:user,user:email" });
      if (req.url === "https://api.github.com/user/emails") return Response.json([{ email: "bob@acme.test", verified: true, primary: true }]);
      return new Response("unexpected", { status: 599 });
    });
    const started = await run(`/signin/github?next=${encodeURIComponent(next)}`);
    expect(started.status).toBe(302);
    const state = new URL(started.location!).searchParams.get("state")!;
    const cookie = started.cookies.find((c) => c.startsWith("ks_gh_state="))!.split(";")[0]!;
    const done = await run(`/signin/github/callback?code=gh-code&state=${state}`, cookie);
    expect(done.status).toBe(303);
    vi.restoreAllMocks();
    return done.location;
  }

  it("refuses every next a browser would read as another host, and keeps a legit path with its query", async () => {
    for (const evil of ["/\\evil.example/x", "//evil.example", "https://evil.example", "/x/..//evil.example", "http://localhost:8787.evil.example/"]) {
      expect(await signInWith(evil), evil).toBe("/apps");
    }
    // An encoded backslash is a path on this origin, not a host: it stays here.
    const encoded = await signInWith("/%5Cevil.example");
    expect(new URL(encoded!, PUBLIC).origin).toBe(PUBLIC);
    expect(encoded).toBe("/%5Cevil.example");
    expect(await signInWith("/audit?x=1")).toBe("/audit?x=1");
    expect(await signInWith(`${PUBLIC}/audit?x=1#top`)).toBe("/audit?x=1#top");
  });
});

describe("security headers and no-store (item 10)", () => {
  it("on a signed-in page, the sign-in page and the HTML error page; the stylesheet alone is cacheable", async () => {
    const signedIn = await page("GET", "/apps", { token: s.alice });
    expect(signedIn.status).toBe(200);
    expectPageHeaders(signedIn.headers, "/apps");
    expect(signedIn.headers.get("cache-control")).toBe("no-store");
    const signin = await page("GET", "/signin");
    expectPageHeaders(signin.headers, "/signin");
    expect(signin.headers.get("cache-control")).toBe("no-store");
    const missing = await page("GET", "/nope", { token: s.alice });
    expect(missing.status).toBe(404);
    expectPageHeaders(missing.headers, "404 page");
    expect(missing.headers.get("cache-control")).toBe("no-store");
    // Pages carry no inline style (CSP refuses it) and the icon is a file of this origin.
    expect(signedIn.html).not.toMatch(/ style=|<style|<script|data:,/);
    const css = await exports.default.fetch(new Request("http://localhost/static/app.css"));
    expect(css.headers.get("cache-control")).toBe("public, max-age=300");
    expect((await exports.default.fetch(new Request("http://localhost/static/icon.svg"))).headers.get("content-type")).toBe("image/svg+xml");
  });

  it("on the API's error envelopes, and on the oauth and slack-events workers' errors", async () => {
    for (const [what, res] of [
      ["401", await exports.default.fetch(new Request("http://localhost/v1/me"))],
      ["404", await exports.default.fetch(new Request("http://localhost/v1/nope", { headers: { authorization: `Bearer ${s.alice}` } }))],
      ["400", await exports.default.fetch(new Request("http://localhost/v1/credentials", { method: "POST", headers: { authorization: `Bearer ${s.alice}`, "content-type": "application/json" }, body: "{" }))],
    ] as const) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBeTypeOf("string");
      expect(res.headers.get("cache-control"), what).toBe("no-store");
      expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
    }
    const oauthPage = await oauthWorker.fetch(new Request(`${PUBLIC}/oauth/callback?state=nope`, { headers: { accept: "text/html" } }), { ...env, VAULT_DOOR: env.OAUTH_DOOR });
    expect(oauthPage.status).toBe(400);
    expectPageHeaders(oauthPage.headers, "oauth failure page");
    expect(oauthPage.headers.get("cache-control")).toBe("no-store");
    const oauthJson = await oauthWorker.fetch(new Request(`${PUBLIC}/oauth/nope`, { headers: { accept: "application/json" } }), { ...env, VAULT_DOOR: env.OAUTH_DOOR });
    expect(oauthJson.status).toBe(404);
    expect(oauthJson.headers.get("cache-control")).toBe("no-store");
    const slack = await slackWorker.fetch(new Request(`${PUBLIC}/slack/nope`), env as never);
    expect(slack.status).toBe(404);
    expect(slack.headers.get("cache-control")).toBe("no-store");
  });

  it("/oauth/start answers a page that moves on to the provider (form-action 'self' would block a 302 there)", async () => {
    const clients = JSON.stringify({ github: { id: "gh-client", secret: "gh-secret" } });
    const created = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "github" } });
    expect(created.status, created.text).toBe(201);
    await runInDurableObject(vaultOf(s.org.id), (instance) => {
      const vault = instance as unknown as { env: Record<string, unknown> };
      vault.env = { ...vault.env, OAUTH_CLIENTS: clients };
    });
    const body = new URLSearchParams({ csrf: await sessionCsrf(s.alice), session: created.body.id, target: "user" }).toString();
    const res = await oauthWorker.fetch(new Request(`${PUBLIC}/oauth/start`, { method: "POST", body, headers: { cookie: `ks_session=${s.alice}`, "content-type": "application/x-www-form-urlencoded" }, redirect: "manual" }), { ...env, VAULT_DOOR: env.OAUTH_DOOR });
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expectPageHeaders(res.headers, "/oauth/start");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const authorize = new URL(providerLink(html));
    expect(authorize.origin + authorize.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(html).toContain(`data-testid="authorize"`);
  });
});

describe("CSRF values are bound to the session (item 13a)", () => {
  it("refuses a value from another session, even when the CSRF cookie repeats it", async () => {
    const keys = async () => (await call("GET", "/v1/api-keys", { token: s.bob })).body.api_keys.length;
    const before = await keys();
    const alices = await sessionCsrf(s.alice);
    expect(alices).not.toBe(await sessionCsrf(s.bob));
    const crossed = await page("POST", "/api-keys", { cookie: `ks_session=${s.bob}; ks_csrf=${alices}`, csrf: alices, form: { name: `x-${uid()}` } });
    expect(crossed.status).toBe(403);
    expect(crossed.html).toContain("This form expired or did not come from this site");
    expect(await keys()).toBe(before);
    // The page renders the session's own value, and that one is accepted.
    const form = await page("GET", "/api-keys", { token: s.bob });
    expect(form.html).toContain(`name="csrf" value="${await sessionCsrf(s.bob)}"`);
    expect(form.html).not.toContain(alices);
    expect((await page("POST", "/api-keys", { token: s.bob, form: { name: `ok-${uid()}` } })).status).toBe(200);
    expect(await keys()).toBe(before + 1);
  });
});

describe("cookies over https carry the __Host- prefix (item 13b)", () => {
  it("sets and reads __Host-ks_session / __Host-ks_csrf over https, plain names over http", async () => {
    const secure = await page("GET", "/apps", { token: s.alice, origin: "https://keystroke.example" });
    expect(secure.status).toBe(200);
    const session = secure.cookies.find((c) => c.startsWith("__Host-ks_session="))!;
    expect(session).toMatch(/; Path=\//);
    expect(session).toMatch(/; Secure/);
    expect(session).not.toMatch(/Domain=/i);
    expect(secure.cookies.find((c) => c.startsWith("__Host-ks_csrf="))).toMatch(/; Secure/);
    expect(secure.cookies.some((c) => c.startsWith("ks_session=") || c.startsWith("ks_csrf="))).toBe(false);
    // Over https a plain-named cookie (say, planted by a sibling subdomain) is no session.
    const planted = await page("GET", "/apps", { origin: "https://keystroke.example", cookie: `ks_session=${s.alice}` });
    expect(planted.status).toBe(303);
    expect(planted.location).toMatch(/^\/signin/);
    const plain = await page("GET", "/apps", { token: s.alice });
    expect(plain.cookies.find((c) => c.startsWith("ks_session="))).not.toMatch(/Secure/);
    expect(plain.cookies.some((c) => c.startsWith("__Host-"))).toBe(false);
  });
});

describe("provision refuses pre-made tokens outside dev mode (item 13c)", () => {
  it("writes nothing for a spec with tokens, and still provisions one without", async () => {
    const org = await env.DIRECTORY.getByName("global").ensureOrg(`seedless-${uid(6)}`, "Seedless");
    const token = newToken("user", org.id);
    const spec = {
      org: { id: org.id, slug: org.slug, name: org.name },
      members: [{ email: "owner@seedless.test", name: "Owner", role: "owner" as const }],
      projects: [],
      tokens: [{ hash: await hashToken(token), preview: tokenPreview(token), kind: "user" as const, email: "owner@seedless.test", name: "pre-made", expires_at: null }],
    };
    // Called inside the object (not over RPC) so the refusal is this test's to catch, not an unhandled rejection.
    await expect(runInDurableObject(vaultOf(org.id), (instance) => (instance as OrgVault).provision(spec))).rejects.toThrow(/only in dev mode/);
    const tables = await runInDurableObject(vaultOf(org.id), (_i, state) => state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('org', 'members', 'tokens')`).toArray().map((r) => String(r.name)));
    for (const t of tables) expect(await vaultSql(org.id, `SELECT COUNT(*) AS n FROM ${t}`), t).toEqual([{ n: 0 }]);
    expect((await call("GET", "/v1/me", { token })).status).toBe(401);
    await vaultOf(org.id).provision({ ...spec, tokens: [] });
    expect(await vaultSql(org.id, `SELECT email FROM members`)).toEqual([{ email: "owner@seedless.test" }]);
    expect(await vaultSql(org.id, `SELECT COUNT(*) AS n FROM tokens`)).toEqual([{ n: 0 }]);
  });
});

describe("web sessions end 7 days after sign-in however active (item 13d)", () => {
  it("stops sliding at the absolute lifetime, then sends the browser to sign in", async () => {
    const minted = await vaultOf(s.org.id).startWebSession("carol@acme.test", "github");
    expect(minted.ok).toBe(true);
    const token = minted.ok ? minted.value.token : "";
    const hash = await hashToken(token);
    const week = 7 * 24 * 3600_000;
    // Signed in almost a week ago and active ever since: the next view may not extend it past the week.
    const signedInAt = Date.now() - week + 60_000;
    await vaultSql(s.org.id, `UPDATE tokens SET created_at = ?, expires_at = ? WHERE hash = ?`, signedInAt, Date.now() + 30_000, hash);
    expect((await page("GET", "/audit", { token })).status).toBe(200);
    const [row] = await vaultSql(s.org.id, `SELECT expires_at FROM tokens WHERE hash = ?`, hash);
    expect(Number(row!.expires_at)).toBe(signedInAt + week);
    await vaultSql(s.org.id, `UPDATE tokens SET created_at = ? WHERE hash = ?`, Date.now() - week - 1, hash);
    await vaultSql(s.org.id, `UPDATE tokens SET expires_at = created_at + ? WHERE hash = ?`, week, hash);
    const ended = await page("GET", "/audit", { token });
    expect(ended.status).toBe(303);
    expect(ended.location).toMatch(/^\/signin/);
  });
});

describe("a GET never starts a connect session (item 13e)", () => {
  const sessions = async () => Number((await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM connect_sessions`))[0]!.n);

  it("GET /connect?app= asks; the POST with the session's CSRF value starts it; the catalog posts too", async () => {
    const before = await sessions();
    const asked = await page("GET", "/connect?app=exa", { token: s.alice });
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('<form method="post" action="/connect"');
    expect(asked.html).toContain('name="app" value="exa"');
    expect(await sessions()).toBe(before);
    const forged = await page("POST", "/connect", { token: s.alice, csrf: null, form: { app: "exa" } });
    expect(forged.status).toBe(403);
    expect(await sessions()).toBe(before);
    const started = await page("POST", "/connect", { token: s.alice, form: { app: "exa" } });
    expect(started.status).toBe(303);
    expect(started.location).toMatch(/^\/connect\/cs_[a-z2-7]{20}$/);
    expect(await sessions()).toBe(before + 1);
    const unknown = await page("GET", "/connect?app=no-such-app", { token: s.alice });
    expect(unknown.status).toBe(404);
    const catalog = await page("GET", "/catalog?search=exa", { token: s.alice });
    expect(catalog.html).toContain('<form method="post" action="/connect"');
    expect(catalog.html).not.toContain('href="/connect?app=');
  });
});
