import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../workers/api/src/index";
import { signPlatformUser } from "../../lib/platform-user";
import { parseToken } from "../../lib/tokens";
import { call, seed, uid, vaultSql } from "./helpers";

/**
 * The org switcher (SPEC section 12): GitHub sign-in no longer picks a member's first org, /orgs
 * lists the person's orgs from the Directory and switches, /orgs/new creates one where SIGNUP allows.
 */
const github = { ...env, PLATFORM_GITHUB_CLIENT_ID: "gh-client", PLATFORM_GITHUB_CLIENT_SECRET: "gh-secret" };
const CSRF = "0123456789abcdef0123456789abcdef";

async function run(method: string, path: string, opts: { cookie?: string; form?: Record<string, string>; e?: object } = {}) {
  const headers: Record<string, string> = { cookie: [opts.cookie ?? "", `ks_csrf=${CSRF}`].filter(Boolean).join("; "), accept: "text/html" };
  let body: string | undefined;
  if (opts.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams({ csrf: CSRF, ...opts.form }).toString();
    headers["content-length"] = String(body.length); // as browsers send it (the body limit keeps the request then)
  }
  const res = await app.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }), (opts.e ?? github) as never, createExecutionContext());
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), html: await res.text() };
}

const cookieValue = (cookies: string[], name: string) => {
  const c = cookies.find((x) => x.startsWith(`${name}=`));
  return c ? decodeURIComponent(c.split(";")[0]!.slice(name.length + 1)) : null;
};
const userCookie = async (emails: string[], now = Date.now()) => `ks_user=${await signPlatformUser(env.ORG_ID_KEY, { github_id: "42", login: "dave", emails }, now)}`;

/** A second org with `email` as its owner, the way /orgs/new makes one. */
async function orgWithOwner(email: string) {
  const slug = `o-${uid()}`;
  const org = await env.DIRECTORY.getByName("global").ensureOrg(slug, `Org ${slug}`);
  const r = await env.VAULT.get(env.VAULT.idFromName(org.id)).provisionNewOrg({ id: org.id, slug, name: org.name }, { email, name: "Owner" }, null, "http://localhost:8787");
  expect(r.ok).toBe(true);
  await env.DIRECTORY.getByName("global").addUser(email, org.id);
  return { id: org.id, slug };
}

function mockGitHub(emails: string[]) {
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (req.url === "https://github.com/login/oauth/access_token") return Response.json({ access_token: "gho_test", token_type: "bearer" });
    if (req.url === "https://api.github.com/user") return Response.json({ id: 4242, login: "octo" });
    if (req.url === "https://api.github.com/user/emails") return Response.json(emails.map((email, i) => ({ email, verified: true, primary: i === 0 })));
    return new Response("unexpected", { status: 599 });
  });
}

async function githubSignIn(emails: string[], next = "/audit") {
  mockGitHub(emails);
  const started = await run("GET", `/signin/github?next=${encodeURIComponent(next)}`);
  const state = new URL(started.location!).searchParams.get("state")!;
  const stateCookie = started.cookies.find((c) => c.startsWith("ks_gh_state="))!.split(";")[0]!;
  return run("GET", `/signin/github/callback?code=gh-code&state=${state}`, { cookie: stateCookie });
}

let acmeId: string;
beforeAll(async () => {
  acmeId = (await seed()).org.id;
});
afterEach(() => vi.restoreAllMocks());

describe("GitHub sign-in with several orgs", () => {
  it("lands on /orgs to choose (no session picked), then switching signs in to the chosen org", async () => {
    const other = await orgWithOwner("bob@acme.test");
    const r = await githubSignIn(["bob@acme.test"], "/audit");
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/orgs?next=${encodeURIComponent("/audit")}`);
    expect(cookieValue(r.cookies, "ks_session")).toBeNull();
    const user = `ks_user=${cookieValue(r.cookies, "ks_user")}`;
    expect(r.cookies.find((c) => c.startsWith("ks_user="))).toMatch(/HttpOnly/);

    const list = await run("GET", "/orgs?next=%2Faudit", { cookie: user });
    expect(list.status).toBe(200);
    expect(list.html).toContain(`data-org="acme"`);
    expect(list.html).toContain(`data-org="${other.slug}"`);
    expect(list.html).toContain("octo");

    const sw = await run("POST", "/orgs/switch", { cookie: user, form: { org: other.slug, next: "/audit" } });
    expect(sw.status).toBe(303);
    expect(sw.location).toBe("/audit");
    const token = cookieValue(sw.cookies, "ks_session")!;
    expect(parseToken(token)?.orgId).toBe(other.id);
    const me = await call("GET", "/v1/me", { token });
    expect(me.body).toMatchObject({ org: { slug: other.slug }, member: { email: "bob@acme.test", role: "owner" } });
  });

  it("with one org signs in to it directly", async () => {
    const r = await githubSignIn(["carol@acme.test"], "/apps");
    expect(r.status).toBe(303);
    expect(r.location).toBe("/apps");
    expect(parseToken(cookieValue(r.cookies, "ks_session")!)?.orgId).toBe(acmeId);
  });

  it("refuses to switch into an org that is not the person's, and /orgs without a valid platform user", async () => {
    const other = await orgWithOwner(`someone-${uid()}@elsewhere.test`);
    const sw = await run("POST", "/orgs/switch", { cookie: await userCookie(["carol@acme.test"]), form: { org: other.slug } });
    expect(sw.status).toBe(404);
    expect(cookieValue(sw.cookies, "ks_session")).toBeNull();
    // Forged (signed with another key), expired, or absent: back to sign-in.
    const forged = `ks_user=${await signPlatformUser("another-key-0123456789abcdef0123456789", { github_id: "1", login: "x", emails: ["bob@acme.test"] }, Date.now())}`;
    for (const cookie of [forged, await userCookie(["bob@acme.test"], Date.now() - 2 * 3600_000), ""]) {
      const r = await run("GET", "/orgs", { cookie });
      expect(r.status).toBe(303);
      expect(r.location).toBe("/signin?next=%2Forgs");
      const s = await run("POST", "/orgs/switch", { cookie, form: { org: "acme" } });
      expect(cookieValue(s.cookies, "ks_session")).toBeNull();
    }
  });

  it("refuses a switch without the CSRF value", async () => {
    const r = await run("POST", "/orgs/switch", { cookie: await userCookie(["bob@acme.test"]), form: { org: "acme", csrf: "f".repeat(32) } });
    expect(r.status).toBe(403);
    expect(cookieValue(r.cookies, "ks_session")).toBeNull();
  });
});

describe("pending invitations on /orgs", () => {
  const invite = (token: string, email: string, role = "builder") => call("POST", "/v1/invitations", { token, body: { email, role } });

  it("lists the person's own pending invitations (org, role, also an operator's owner invitation); Accept there makes them a member and it is gone", async () => {
    const s = await seed();
    const email = `inv-${uid()}@acme.test`;
    const inv = await invite(s.alice, email, "admin");
    expect(inv.status, inv.text).toBe(201);
    // An operator-made org's owner invitation (provisionNewOrg) is indexed too.
    const slug = `o-${uid()}`;
    const org = await env.DIRECTORY.getByName("global").ensureOrg(slug, `Org ${slug}`);
    expect((await env.VAULT.get(env.VAULT.idFromName(org.id)).provisionNewOrg({ id: org.id, slug, name: org.name }, null, email, "http://localhost:8787")).ok).toBe(true);

    const mine = await userCookie([email]);
    const list = await run("GET", "/orgs", { cookie: mine });
    expect(list.status).toBe(200);
    const row = list.html.match(new RegExp(`<tr data-invitation="${inv.body.id}">.*?</tr>`))?.[0] ?? "";
    expect(row).toContain("(acme)");
    expect(row).toContain("<td>admin</td>");
    expect(list.html).toMatch(new RegExp(`\\(${slug}\\)</span></td><td>owner</td>`));
    expect(list.html).not.toContain("secret");
    // Someone with another email does not see it, and may not accept it by id.
    const other = await userCookie([`other-${uid()}@acme.test`]);
    expect((await run("GET", "/orgs", { cookie: other })).html).not.toContain(inv.body.id);
    const refused = await run("POST", `/orgs/invitations/${inv.body.id}/accept`, { cookie: other, form: {} });
    expect(refused.status).toBe(404);
    expect(cookieValue(refused.cookies, "ks_session")).toBeNull();
    expect(await vaultSql(acmeId, `SELECT accepted_at FROM invitations WHERE id = ?`, inv.body.id)).toEqual([{ accepted_at: null }]);

    const accepted = await run("POST", `/orgs/invitations/${inv.body.id}/accept`, { cookie: mine, form: {} });
    expect(accepted.status).toBe(303);
    const token = cookieValue(accepted.cookies, "ks_session")!;
    expect((await call("GET", "/v1/me", { token })).body).toMatchObject({ org: { slug: "acme" }, member: { email, role: "admin" } });
    const after = await run("GET", "/orgs", { cookie: mine });
    expect(after.html).not.toContain(inv.body.id);
    expect(after.html).toContain(`data-org="acme"`);
    expect((await run("POST", `/orgs/invitations/${inv.body.id}/accept`, { cookie: mine, form: {} })).status).toBe(404);
  });

  it("a revoked or expired invitation is not listed", async () => {
    const s = await seed();
    const email = `rev-${uid()}@acme.test`;
    const inv = await invite(s.alice, email);
    expect((await run("GET", "/orgs", { cookie: await userCookie([email]) })).html).toContain(inv.body.id);
    expect((await call("DELETE", `/v1/invitations/${inv.body.id}`, { token: s.alice })).status).toBe(200);
    expect((await run("GET", "/orgs", { cookie: await userCookie([email]) })).html).not.toContain(inv.body.id);
    await env.DIRECTORY.getByName("global").indexInvitation({ id: "inv_expiredone", orgId: acmeId, email, role: "builder", expiresAt: Date.now() - 1000 });
    const list = await run("GET", "/orgs", { cookie: await userCookie([email]) });
    expect(list.html).not.toContain("inv_expiredone");
    expect(list.html).not.toContain("Pending invitations");
  });
});

describe("/orgs/new under SIGNUP", () => {
  const create = (signup: string | undefined, emails: string[], form: Record<string, string>) =>
    userCookie(emails).then((cookie) => run("POST", "/orgs/new", { cookie, form, e: { ...github, SIGNUP: signup } }));
  const exists = async (slug: string) => (await env.DIRECTORY.getByName("global").orgBySlug(slug)) !== null;

  it.each([[undefined], ["closed"], ["other.test"]])("SIGNUP=%s refuses (403) and creates nothing", async (signup) => {
    const slug = `n-${uid()}`;
    const cookie = await userCookie(["dave@acme.test"]);
    expect((await run("GET", "/orgs/new", { cookie, e: { ...github, SIGNUP: signup } })).status).toBe(403);
    expect((await run("GET", "/orgs", { cookie, e: { ...github, SIGNUP: signup } })).html).not.toContain('href="/orgs/new"');
    const r = await create(signup, ["dave@acme.test"], { slug, name: "Dave Co" });
    expect(r.status).toBe(403);
    expect(await exists(slug)).toBe(false);
  });

  it.each([["open", ["dave@else.test"]], ["acme.test", ["dave@else.test", "dave@acme.test"]]])("SIGNUP=%s: the user creates an org, becomes its owner and is signed in to it", async (signup, emails) => {
    const slug = `n-${uid()}`;
    expect((await run("GET", "/orgs", { cookie: await userCookie(emails), e: { ...github, SIGNUP: signup } })).html).toContain('href="/orgs/new"');
    const r = await create(signup, emails, { slug, name: "Dave Co" });
    expect(r.status, r.html).toBe(303);
    expect(r.location).toBe("/apps");
    const token = cookieValue(r.cookies, "ks_session")!;
    const me = await call("GET", "/v1/me", { token });
    const owner = signup === "open" ? "dave@else.test" : "dave@acme.test";
    expect(me.body).toMatchObject({ org: { slug, name: "Dave Co" }, member: { email: owner, role: "owner" } });
    expect((await env.DIRECTORY.getByName("global").orgsOfEmails([owner])).map((m) => m.org.slug)).toContain(slug);
    expect(await vaultSql(me.body.org.id, `SELECT action FROM audit WHERE action = 'org.created'`)).toHaveLength(1);
  });

  it("answers the form again naming the field for a bad slug (400) or a taken one (409), nothing written", async () => {
    const bad = await create("open", ["dave@else.test"], { slug: "Not A Slug", name: "X" });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/name="slug"[^>]*aria-invalid="true"/);
    expect(await exists("Not A Slug")).toBe(false);
    const taken = await create("open", ["dave@else.test"], { slug: "acme", name: "Mine now" });
    expect(taken.status).toBe(409);
    expect(taken.html).toContain("taken");
    expect(cookieValue(taken.cookies, "ks_session")).toBeNull();
    expect((await env.DIRECTORY.getByName("global").orgBySlug("acme"))?.name).toBe("Acme");
  });
});

describe("dev: the sandbox plays GitHub for sign-in", () => {
  const dev = { ...env, DEV_MODE: "true" };
  /** The api worker's outbound calls to the sandbox go to the dev worker's sandbox app, in process. */
  async function routeToSandbox() {
    const { sandboxGitHubSignIn } = await import("../../workers/dev/src/sandbox/github-signin");
    const real = globalThis.fetch;
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      const url = new URL(req.url);
      if (url.origin === "http://localhost:8787" && url.pathname.startsWith("/_sandbox/github-signin/")) {
        return sandboxGitHubSignIn.fetch(new Request(req.url.replace("/_sandbox/github-signin", ""), req));
      }
      return real(input as RequestInfo, init);
    });
  }
  async function signInAs(login: string, email: string, next: string) {
    const { sandboxGitHubSignIn } = await import("../../workers/dev/src/sandbox/github-signin");
    await routeToSandbox();
    const started = await run("GET", `/signin/github?next=${encodeURIComponent(next)}`, { e: dev });
    expect(started.status).toBe(302);
    const authorize = new URL(started.location!);
    expect(authorize.origin + authorize.pathname).toBe("http://localhost:8787/_sandbox/github-signin/login/oauth/authorize");
    const stateCookie = started.cookies.find((c) => c.startsWith("ks_gh_state="))!.split(";")[0]!;
    // The person types a login and an email on the sandbox's page and authorizes.
    const page = await sandboxGitHubSignIn.fetch(new Request(`http://x/login/oauth/authorize${authorize.search}`));
    expect(await page.text()).toContain('name="email"');
    const form = new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login, email, decision: "approve" });
    const back = await sandboxGitHubSignIn.fetch(new Request("http://x/login/oauth/authorize", { method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } }));
    const callback = new URL(back.headers.get("location")!);
    expect(callback.pathname).toBe("/signin/github/callback");
    return run("GET", callback.pathname + callback.search, { cookie: stateCookie, e: dev });
  }

  it("any login and email: back to the invitation link as that platform user, offline", async () => {
    const r = await signInAs("dave-gh", "dave@acme.test", "/invitations/some-link");
    expect(r.status, r.html).toBe(303);
    expect(r.location).toBe("/invitations/some-link");
    expect(cookieValue(r.cookies, "ks_session")).toBeNull();
    const list = await run("GET", "/orgs", { cookie: `ks_user=${cookieValue(r.cookies, "ks_user")}`, e: dev });
    expect(list.html).toContain("dave-gh");
    expect(list.html).toContain("dave@acme.test");
  });

  it("a member's email signs in to their org; the seeded-user picker is still there", async () => {
    const r = await signInAs("carol-gh", "Carol@Acme.test", "/apps");
    expect(r.status, r.html).toBe(303);
    expect(parseToken(cookieValue(r.cookies, "ks_session")!)?.orgId).toBe(acmeId);
    const signin = await run("GET", "/signin", { e: dev });
    expect(signin.html).toContain("Sign in with GitHub");
    expect(signin.html).toContain("pick a seeded user");
    // (Picking one signs in through the vault's dev tools, which this project's vault, DEV_MODE off, refuses: the stack tests cover it.)
  });

  it("the sandbox's code is single use and bound to its client", async () => {
    const { sandboxGitHubSignIn } = await import("../../workers/dev/src/sandbox/github-signin");
    const form = new URLSearchParams({ client_id: "c1", redirect_uri: "http://localhost:8787/signin/github/callback", state: "s", login: "x", email: "x@x.test", decision: "approve" });
    const back = await sandboxGitHubSignIn.fetch(new Request("http://x/login/oauth/authorize", { method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } }));
    const code = new URL(back.headers.get("location")!).searchParams.get("code")!;
    const exchange = (client: string) => sandboxGitHubSignIn.fetch(new Request("http://x/login/oauth/access_token", { method: "POST", headers: { authorization: `Basic ${btoa(`${client}:dev`)}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: "http://localhost:8787/signin/github/callback" }) }));
    // GitHub's shape: refusals are HTTP 200 with an `error` (what arctic's GitHub class reads).
    expect(await (await exchange("other")).json()).toMatchObject({ error: "incorrect_client_credentials" });
    expect(await (await exchange("c1")).json()).toMatchObject({ error: "bad_verification_code" }); // the failed try used it up
  });
});
