import { env, exports } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../workers/api/src/index";
import { call, memberIds, seed, setCred, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { sessionCsrf } from "../../workers/shared/session";

/**
 * The web app's page handlers inside workerd (fast; the browser walk-through is
 * test/e2e/web.browser.test.ts): sessions and their sliding renewal, CSRF refusal, role-aware
 * rendering, errors rendered as pages, audit paging, and "Sign in with GitHub" with GitHub mocked.
 */
const CSRF = "0123456789abcdef0123456789abcdef";
let s: Seed;

interface PageAnswer {
  status: number;
  html: string;
  location: string | null;
  cookies: string[];
}

/** A browser's request: the session cookie (`__Host-` over https) and by default the CSRF value bound to it. */
async function page(method: string, path: string, opts: { token?: string; csrf?: string | null; form?: Record<string, string>; origin?: string; cookie?: string } = {}): Promise<PageAnswer> {
  const host = (opts.origin ?? "http://localhost").startsWith("https:") ? "__Host-" : "";
  const cookies = [opts.cookie ?? "", opts.token ? `${host}ks_session=${opts.token}` : "", `${host}ks_csrf=${CSRF}`].filter(Boolean).join("; ");
  const headers: Record<string, string> = { cookie: cookies, accept: "text/html" };
  let body: string | undefined;
  if (opts.form || method === "POST") {
    const f = new URLSearchParams(opts.form ?? {});
    if (opts.csrf !== null) f.set("csrf", opts.csrf ?? (opts.token ? await sessionCsrf(opts.token) : CSRF));
    body = f.toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const res = await exports.default.fetch(new Request(`${opts.origin ?? "http://localhost"}${path}`, { method, headers, body, redirect: "manual" }));
  return { status: res.status, html: await res.text(), location: res.headers.get("location"), cookies: res.headers.getSetCookie() };
}

beforeAll(async () => {
  s = await seed();
  const r = await setCred(s.alice, { slug: `org-${uid(4)}`, targets: [{ type: "org" }, { type: "project", project: "support" }] });
  expect(r.status, r.text).toBe(200);
});

afterEach(() => vi.restoreAllMocks());

describe("web sessions", () => {
  it("sends a browser without a session to sign-in and back", async () => {
    const r = await page("GET", "/apps?app=exa");
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/signin?next=${encodeURIComponent("/apps?app=exa")}`);
  });

  it("shows a banner only for a ?done= it knows: prototype names (__proto__, constructor) answer the page without one, never a 500", async () => {
    const known = await page("GET", "/members?done=removed", { token: s.alice });
    expect(known.status).toBe(200);
    expect(known.html).toContain("The member is removed");
    for (const path of ["/apps?done=__proto__&ref=x", "/apps?done=constructor&ref=x", "/members?done=__proto__", "/members?done=constructor", "/projects?done=__proto__", "/channels?done=constructor", "/apps/github/oauth-client?done=__proto__"]) {
      const r = await page("GET", path, { token: s.alice });
      expect(r.status, path).toBe(200);
      expect(r.html, path).not.toMatch(/\[object Object\]|function Object|class="banner ok"/);
    }
  });

  it("renews the session cookie on every page view: HttpOnly, SameSite=Lax; Secure and __Host- only over https", async () => {
    const r = await page("GET", "/apps", { token: s.alice });
    expect(r.status).toBe(200);
    const cookie = r.cookies.find((c) => c.startsWith("ks_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(cookie).not.toMatch(/Secure/);
    const secure = await page("GET", "/apps", { token: s.alice, origin: "https://keystroke.example" });
    expect(secure.cookies.find((c) => c.startsWith("__Host-ks_session="))).toMatch(/Secure/);
  });

  it("slides a web session token's expiry on use, and refuses an expired one", async () => {
    const minted = await vaultOf(s.org.id).startWebSession("bob@acme.test", "github");
    expect(minted.ok).toBe(true);
    const token = minted.ok ? minted.value.token : "";
    const soon = Date.now() + 30_000;
    await vaultSql(s.org.id, `UPDATE tokens SET expires_at = ? WHERE name = 'web session (github)'`, soon);
    expect((await page("GET", "/audit", { token })).status).toBe(200);
    const [row] = await vaultSql(s.org.id, `SELECT expires_at FROM tokens WHERE name = 'web session (github)'`);
    expect(Number(row!.expires_at)).toBeGreaterThan(Date.now() + 7.9 * 3600_000);
    await vaultSql(s.org.id, `UPDATE tokens SET expires_at = ? WHERE name = 'web session (github)'`, Date.now() - 1);
    const expired = await page("GET", "/audit", { token });
    expect(expired.status).toBe(303);
    expect(expired.location).toMatch(/^\/signin/);
  });

  it("never extends tokens that are not web sessions", async () => {
    const key = await call("POST", "/v1/api-keys", { token: s.alice, body: { name: `k-${uid()}` } });
    const [before] = await vaultSql(s.org.id, `SELECT expires_at FROM tokens WHERE id = ?`, key.body.id);
    await call("GET", "/v1/me", { token: key.body.key });
    const [after] = await vaultSql(s.org.id, `SELECT expires_at FROM tokens WHERE id = ?`, key.body.id);
    expect(after!.expires_at).toBe(before!.expires_at);
  });
});

describe("CSRF", () => {
  it("refuses every form post without the token (403) and changes nothing", async () => {
    const keys = async () => (await call("GET", "/v1/api-keys", { token: s.alice })).body.api_keys.length;
    const before = await keys();
    const missing = await page("POST", "/api-keys", { token: s.alice, csrf: null, form: { name: "x" } });
    expect(missing.status).toBe(403);
    expect(missing.html).toContain("This form expired or did not come from this site");
    expect(missing.html).toContain("Reload the page");
    const wrong = await page("POST", "/api-keys", { token: s.alice, csrf: "f".repeat(32), form: { name: "x" } });
    expect(wrong.status).toBe(403);
    expect(await keys()).toBe(before);
    const cred = (await call("GET", "/v1/credentials?scope=org", { token: s.alice })).body.credentials[0];
    for (const [path, form] of [
      [`/apps/${cred.id}/revoke`, {}],
      [`/apps/${cred.id}/default`, {}],
      [`/apps/${cred.id}/rename`, { name: "x", slug: "x" }],
      ["/assignments/assign", { kind: "poll", target: "p", credential: cred.id }],
      ["/channels/bind", { agent: "a", channel: "dm" }],
      ["/channels/unbind", { agent: "a", channel: "dm" }],
      ["/api-keys/key_x/revoke", {}],
    ] as const) {
      expect((await page("POST", path, { token: s.alice, csrf: null, form })).status, path).toBe(403);
    }
    expect((await call("GET", `/v1/credentials/${cred.id}`, { token: s.alice })).body).toMatchObject({ status: "active", name: cred.name });
  });

  it("accepts the same post with the token: the API key is shown once, never cached", async () => {
    const name = `web key ${uid()}`;
    const res = await exports.default.fetch(
      new Request("http://localhost/api-keys", { method: "POST", headers: { cookie: `ks_session=${s.alice}; ks_csrf=${CSRF}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ name, csrf: await sessionCsrf(s.alice) }).toString() }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const key = /ks_key_[a-z0-9_]+/.exec(html)![0];
    const again = await page("GET", "/api-keys", { token: s.alice });
    expect(again.html).toContain(name);
    expect(again.html).not.toContain(key);
  });
});

describe("role-aware pages", () => {
  it("shows an owner the row actions and a builder none", async () => {
    const owner = await page("GET", "/apps", { token: s.alice });
    for (const a of [">Rename<", ">Set default<", ">Rotate<", ">Revoke<"]) expect(owner.html).toContain(a);
    const builder = await page("GET", "/apps", { token: s.carol });
    expect(builder.status).toBe(200);
    expect(builder.html).toContain("<tbody>");
    for (const a of [">Rename<", ">Set default<", ">Rotate<", ">Revoke<", ">Reconnect<"]) expect(builder.html).not.toContain(a);
    // Her own credential is hers to manage.
    const mine = await setCred(s.carol, { slug: `mine-${uid(4)}`, targets: [{ type: "user" }] });
    const after = await page("GET", `/apps?scope=user`, { token: s.carol });
    expect(after.html).toContain(`data-ref="${mine.body.credentials[0].ref}"`);
    expect(after.html).toContain(">Rename<");
  });

  it("refuses a builder's forced post with the vault's reason and fix, as a page", async () => {
    const cred = (await call("GET", "/v1/credentials?scope=org", { token: s.alice })).body.credentials[0];
    const r = await page("POST", `/apps/${cred.id}/revoke`, { token: s.carol });
    expect(r.status).toBe(403);
    expect(r.html).toContain("You may not revoke credentials at org");
    expect(r.html).toContain("Ask an org owner or admin.");
    const confirm = await page("GET", `/apps/${cred.id}/revoke`, { token: s.carol });
    expect(confirm.status).toBe(403);
    expect(confirm.html).not.toContain('action="/apps/');
  });

  it("offers builders no actor filter in the audit log and only their own rows", async () => {
    const ids = await memberIds(s.alice);
    const r = await page("GET", "/audit", { token: s.carol });
    expect(r.html).not.toContain('name="actor"');
    expect(r.html).toContain("Your own actions");
    expect(r.html).not.toContain(">alice@acme.test<");
    const admin = await page("GET", `/audit?actor=${ids["carol@acme.test"]}`, { token: s.alice });
    expect(admin.html).toContain('name="actor"');
  });
});

describe("errors are pages, never stack traces", () => {
  it("renders a bad filter as a 400 page with the fix", async () => {
    const r = await page("GET", "/apps?status=bogus", { token: s.alice });
    expect(r.status).toBe(400);
    expect(r.html).toContain('role="alert"');
    expect(r.html).toContain("The status filter is not one of the listed values.");
    expect(r.html).toContain('<div class="fix">Pick a value from the lists, or clear the filters.</div>');
    const audit = await page("GET", "/audit?since=yesterday", { token: s.alice });
    expect(audit.status).toBe(400);
    expect(audit.html).toContain("The time filter is not a date and time.");
  });

  it("answers an unknown page with an HTML 404, the API with the JSON envelope", async () => {
    const r = await page("GET", "/nope", { token: s.alice });
    expect(r.status).toBe(404);
    expect(r.html).toContain("There is no page /nope.");
    expect(r.html).not.toMatch(/at .*\.(ts|js):\d+/);
    const apiMiss = await call("GET", "/v1/nope", { token: s.alice });
    expect(apiMiss.body.error.code).toBe("not_found");
  });

  it("shows a missing credential as not found", async () => {
    const r = await page("GET", "/apps/cred_doesnotexist/rename", { token: s.alice });
    expect(r.status).toBe(404);
    expect(r.html).toContain("No credential matches");
  });
});

describe("the audit log pages with next_cursor", () => {
  it("links to older entries and keeps the filters", async () => {
    for (let i = 0; i < 27; i++) await call("POST", "/v1/api-keys", { token: s.bob, body: { name: `page-${i}` } });
    const first = await page("GET", "/audit?action=api_key.create", { token: s.bob });
    const seqs = (html: string) => [...html.matchAll(/data-seq="(\d+)"/g)].map((m) => Number(m[1]));
    expect(seqs(first.html)).toHaveLength(25);
    const next = /href="(\/audit\?[^"]*cursor=\d+[^"]*)" rel="next"/.exec(first.html)![1]!.replace(/&amp;/g, "&");
    expect(next).toContain("action=api_key.create");
    const second = await page("GET", next, { token: s.bob });
    expect(seqs(second.html).length).toBeGreaterThan(0);
    expect(Math.max(...seqs(second.html))).toBeLessThan(Math.min(...seqs(first.html)));
  });
});

describe("Sign in with GitHub", () => {
  const github = { ...env, PLATFORM_GITHUB_CLIENT_ID: "gh-client", PLATFORM_GITHUB_CLIENT_SECRET: "gh-secret" };
  const run = async (path: string, cookie = "") => {
    const res = await app.fetch(new Request(`http://localhost${path}`, { headers: { cookie, accept: "text/html" }, redirect: "manual" }), github, createExecutionContext());
    return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), html: await res.text() };
  };
  const mockGitHub = (emails: unknown) =>
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (req.url === "https://github.com/login/oauth/access_token") {
        const form = await req.formData();
        expect(form.get("code")).toBe("gh-code");
        expect(req.headers.get("authorization")).toBe("Basic " + btoa("gh-client:gh-secret"));
        return Response.json({ access_token: "gho_test", token_type: "bearer", scope: "read:user,user:email" });
      }
      if (req.url === "https://api.github.com/user/emails") {
        expect(req.headers.get("authorization")).toBe("Bearer gho_test");
        return Response.json(emails);
      }
      return new Response("unexpected", { status: 599 });
    });

  async function start(next = "/audit") {
    const r = await run(`/signin/github?next=${encodeURIComponent(next)}`);
    expect(r.status).toBe(302);
    const url = new URL(r.location!);
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(url.searchParams.get("client_id")).toBe("gh-client");
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:8787/signin/github/callback");
    expect(url.searchParams.get("scope")).toBe("read:user user:email");
    const cookie = r.cookies.find((c) => c.startsWith("ks_gh_state="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/signin\/github/);
    return { state: url.searchParams.get("state")!, cookie: cookie.split(";")[0]! };
  }

  it("offers the button only when configured", async () => {
    expect((await page("GET", "/signin")).html).toContain("not configured");
    expect((await run("/signin")).html).toContain("Sign in with GitHub");
    expect((await page("GET", "/signin/github")).status).toBe(404);
  });

  it("signs in the member with a verified email (unverified ones never match)", async () => {
    mockGitHub([
      { email: "alice@acme.test", verified: false, primary: false },
      { email: "someone@elsewhere.test", verified: true, primary: true },
      { email: "Bob@Acme.test", verified: true, primary: false },
    ]);
    const { state, cookie } = await start("/audit?action=credential.");
    const r = await run(`/signin/github/callback?code=gh-code&state=${state}`, cookie);
    expect(r.status).toBe(303);
    expect(r.location).toBe("/audit?action=credential.");
    const session = r.cookies.find((c) => c.startsWith("ks_session="))!;
    expect(session).toMatch(/HttpOnly/);
    const token = decodeURIComponent(session.split(";")[0]!.slice("ks_session=".length));
    const me = await call("GET", "/v1/me", { token });
    expect(me.body.member.email).toBe("bob@acme.test");
    expect(Date.parse(me.body.token.expires_at)).toBeLessThan(Date.now() + 8.1 * 3600_000);
  });

  it("an account with more verified emails than the platform-user cookie keeps (20) still signs in by its primary one", async () => {
    mockGitHub([
      ...Array.from({ length: 30 }, (_, i) => ({ email: `extra-${i}@elsewhere.test`, verified: true, primary: false })),
      { email: "Bob@Acme.test", verified: true, primary: true },
    ]);
    const { state, cookie } = await start("/apps");
    const r = await run(`/signin/github/callback?code=gh-code&state=${state}`, cookie);
    expect(r.status, r.html.slice(0, 200)).toBe(303);
    const session = r.cookies.find((c) => c.startsWith("ks_session="))!;
    const token = decodeURIComponent(session.split(";")[0]!.slice("ks_session=".length));
    expect((await call("GET", "/v1/me", { token })).body.member.email).toBe("bob@acme.test");
  });

  it("refuses a callback whose state is not this browser's, without calling GitHub", async () => {
    const spy = mockGitHub([]);
    const { cookie } = await start();
    const r = await run(`/signin/github/callback?code=gh-code&state=forged`, cookie);
    expect(r.status).toBe(400);
    expect(r.html).toContain("not started in this browser");
    expect((await run(`/signin/github/callback?code=gh-code&state=x`)).status).toBe(400);
    expect(spy).not.toHaveBeenCalled();
  });

  it("explains when no member has the account's verified emails", async () => {
    mockGitHub([{ email: "stranger@nowhere.test", verified: true, primary: true }]);
    const { state, cookie } = await start();
    const r = await run(`/signin/github/callback?code=gh-code&state=${state}`, cookie);
    expect(r.status).toBe(403);
    expect(r.html).toContain("stranger@nowhere.test");
    expect(r.html).toContain('class="fix"');
    expect(r.cookies.some((c) => c.startsWith("ks_session="))).toBe(false);
  });

  it("ends a declined sign-in with a readable page", async () => {
    const { state, cookie } = await start();
    const r = await run(`/signin/github/callback?error=access_denied&state=${state}`, cookie);
    expect(r.status).toBe(400);
    expect(r.html).toContain("You declined the sign-in at GitHub.");
  });
});

describe("assignments and channels pages", () => {
  it("shows each consumer's resolution with the rule, before and after an assignment", async () => {
    const workflow = `wf-${uid(6)}`;
    const ev = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow, step: "fetch", run_id: "r1" } });
    expect(ev.status, ev.text).toBe(200);
    const view = `/assignments?kind=workflow&target=${workflow}&app=exa`;
    const before = await page("GET", view, { token: s.carol });
    expect(before.status).toBe(200);
    expect(before.html).toMatch(/data-consumer="fetch" data-app="exa">.*<code data-testid="rule">org<\/code>/s);
    const support = (await call("GET", "/v1/credentials?scope=project:support", { token: s.alice })).body.credentials[0];
    // carol (a builder of support) may not pin support's credential (issue 11); alice may, and carol sees the result.
    const refused = await page("POST", "/assignments/assign", { token: s.carol, form: { kind: "workflow", target: workflow, consumer: "fetch", credential: support.id, project: "support", explain: "exa" } });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain("You may not pin credentials at project:support.");
    const assigned = await page("POST", "/assignments/assign", { token: s.alice, form: { kind: "workflow", target: workflow, consumer: "fetch", credential: support.id, project: "support", explain: "exa" } });
    expect(assigned.status, assigned.html).toBe(303);
    expect(assigned.location).toBe(`/assignments?kind=workflow&target=${workflow}&project=support&app=exa&done=assigned`);
    const after = await page("GET", assigned.location!, { token: s.carol });
    expect(after.html).toMatch(/<code data-testid="rule">assignment<\/code>/);
    expect(after.html).toContain(support.ref);
  });

  it("lists, assigns and unassigns consumers whose ids carry #, ?, & and % (Keystroke step ids); links stay intact", async () => {
    const workflow = `wf-${uid(6)}`;
    const ids = ["step:send#0", "step:a/b?c=%41&d#1"];
    for (const step of ids) expect((await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow, step, run_id: "r1" } })).status).toBe(200);
    const org = (await call("GET", "/v1/credentials?scope=org", { token: s.alice })).body.credentials.find((c: { app: string }) => c.app === "exa");
    for (const consumer of ids) {
      const assigned = await page("POST", "/assignments/assign", { token: s.alice, form: { kind: "workflow", target: workflow, consumer, credential: org.id, explain: "exa" } });
      expect(assigned.status, assigned.html).toBe(303);
    }
    const shown = await page("GET", `/assignments?kind=workflow&target=${workflow}&app=exa`, { token: s.alice });
    expect(shown.status).toBe(200);
    expect(shown.html).toMatch(/data-consumer="step:send#0" data-app="exa">.*<code data-testid="rule">assignment<\/code>/s);
    expect(shown.html).toContain('data-consumer="step:a/b?c=%41&amp;d#1"');
    // No link carries a raw `#` or space (it would cut the link short); in-page anchors aside.
    for (const [, href] of shown.html.matchAll(/href="([^"]*)"/g)) expect(href, href).toMatch(/^(#[\w-]+|[^#\s]*)$/);
    const unassigned = await page("POST", "/assignments/unassign", { token: s.alice, form: { kind: "workflow", target: workflow, consumer: ids[1]!, app: "exa", explain: "exa" } });
    expect(unassigned.status, unassigned.html).toBe(303);
    expect(new URL(unassigned.location!, "http://localhost").searchParams.get("target")).toBe(workflow);
    const left = (await call("GET", `/v1/assignments?kind=workflow&target=${workflow}`, { token: s.alice })).body.assignments;
    expect(left.map((a: { consumer: string }) => a.consumer)).toEqual(["step:send#0"]);
    const after = await page("GET", unassigned.location!, { token: s.alice });
    expect(after.html).toContain('<input type="hidden" name="consumer" value="step:send#0"/>');
  });

  it("renders a bad assignment as the page with the vault's reason", async () => {
    const r = await page("POST", "/assignments/assign", { token: s.alice, form: { kind: "poll", target: "p1", consumer: "*", credential: "nothing/like/this" } });
    expect(r.status).toBe(400);
    expect(r.html).toContain('role="alert"');
  });

  it("tells the member that Slack is not connected, with the way to connect it", async () => {
    const r = await page("GET", "/channels?agent=helper", { token: s.alice });
    expect(r.status).toBe(200);
    expect(r.html).toContain("Slack is not connected to this organization");
    expect(r.html).toContain('href="/connect?app=slack"');
    const builder = await page("GET", "/channels", { token: s.carol });
    expect(builder.html).not.toContain('href="/connect?app=slack"');
  });
});
