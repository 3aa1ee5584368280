import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import oauthWorker from "../../workers/oauth/src/index";
import { sandboxOAuth } from "../../workers/dev/src/sandbox/oauth";
import { addMember, call, expectError, providerLink, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { sessionCsrf } from "../../workers/shared/session";
import { unsafeCharIn } from "../../lib/schemas/common";

/**
 * Org OAuth clients (issue 14 items 1-2, SPEC section 13): who may manage them, bad input, the
 * precedence org client > platform client > refusal, a credential refreshing and revoking through
 * its own client, a self-hosted GitLab through endpoints an admin saved, and a custom OAuth app.
 *
 * As in connect.test.ts, the vault runs as in production (DEV_MODE off, so the URL rules are the
 * production ones), and a global fetch spy routes the providers' public URLs to the sandbox
 * provider's Hono app, recording the client id each token request carried.
 */
let s: Seed;
let CSRF = "";
let dave: string; // builder of the org, admin of growth
const ORIGIN = "http://localhost:8787";
const PLATFORM = { github: { id: "platform-gh", secret: "platform-gh-secret" }, gitlab: { id: "platform-gl", secret: "platform-gl-secret" } };

/** Public URL -> sandbox path: github.com, a self-hosted GitLab (GitLab's own paths), a custom identity provider. */
const UPSTREAM: Record<string, string> = {
  "https://github.com/login/oauth/access_token": "/github/token",
  "https://api.github.com/user": "/github/userinfo",
  "https://gitlab.com/oauth/token": "/gitlab/token",
  "https://gitlab.com/api/v4/user": "/gitlab/userinfo",
  "https://gitlab.com/oauth/revoke": "/gitlab/revoke",
  "https://gitlab.acme.example/oauth/token": "/gitlab-acme/token",
  "https://gitlab.acme.example/api/v4/user": "/gitlab-acme/userinfo",
  "https://gitlab.acme.example/oauth/revoke": "/gitlab-acme/revoke",
  "https://idp.acme.example/oauth2/token": "/acme-idp/token",
  "https://idp.acme.example/oauth2/userinfo": "/acme-idp/userinfo",
};
/** Token and revoke requests that reached a provider: where, which grant, which client id. */
let calls: { path: string; grant: string | null; client: string | null }[] = [];

async function setPlatformClients(clients: object) {
  await runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, OUTBOUND_TIMEOUT_MS: undefined, OAUTH_CLIENTS: JSON.stringify(clients) };
  });
}

beforeAll(async () => {
  s = await seed();
  CSRF = await sessionCsrf(s.alice);
  dave = (await addMember(s.org.id, `dave-${uid(4)}@acme.test`, "builder", { growth: "admin" })).token;
});
beforeEach(async () => {
  calls = [];
  await setPlatformClients(PLATFORM);
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const path = UPSTREAM[req.url.split("?")[0]!];
    if (!path) return new Response("unexpected upstream call", { status: 599 });
    if (req.method === "POST") {
      const form = new URLSearchParams(await req.clone().text());
      const basic = req.headers.get("authorization")?.match(/^Basic (.+)$/)?.[1];
      calls.push({ path, grant: form.get("grant_type"), client: basic ? atob(basic).split(":")[0]! : form.get("client_id") });
    }
    return sandboxOAuth.fetch(new Request(`http://sandbox.test${path}`, req));
  });
});
afterEach(() => vi.restoreAllMocks());

const oauth = (path: string, init: RequestInit = {}) =>
  oauthWorker.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: `ks_session=${s.alice}; ks_csrf=${CSRF}`, ...init.headers } }), { ...env, VAULT_DOOR: env.OAUTH_DOOR });
const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
const client = (token: string, method: string, app: string, body?: unknown) => call(method, `/v1/apps/${app}/oauth-client`, { token, body });
const clientRows = () => vaultSql(s.org.id, `SELECT app, id, client_id, secret, endpoints, updated_at FROM oauth_clients ORDER BY app`);

async function newProject(): Promise<string> {
  const slug = `oc-${uid(6)}`;
  expect((await call("POST", "/v1/projects", { token: s.alice, body: { slug, name: "OAuth clients" } })).status).toBe(201);
  return slug;
}

/** Alice connects `app` at project `project` through the oauth worker and the sandbox (sandbox slug `at`): the authorize URL and the credential id. */
async function connect(app: string, project: string, at = app, again?: { reconnect: string; login: string }): Promise<{ authorize: URL; id: string; login: string }> {
  const login = again?.login ?? `u${uid(5)}`;
  const res = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app, ...(again ? { reconnect: again.reconnect } : {}) } });
  expect(res.status, res.text).toBe(201);
  const started = await oauth("/oauth/start", form({ csrf: CSRF, session: res.body.id, target: `project:${project}` }));
  expect(started.status, await started.clone().text()).toBe(200);
  const authorize = new URL(providerLink(await started.text()));
  const consent = await sandboxOAuth.fetch(new Request(`http://sandbox.test/${at}/authorize`, form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login })));
  const back = new URL(consent.headers.get("location")!);
  const done = await oauth(back.pathname + back.search);
  expect(done.status, await done.clone().text()).toBeLessThan(400);
  const [row] = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE app = ? AND scope_type = 'project' AND scope_id = ? AND status != 'revoked'`, app, project);
  return { authorize, id: String(row!.id), login };
}

/** The runtime resolves `app` at `project`, refreshing first when the token is about to expire. */
async function resolve(app: string, project: string) {
  return call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { project, consumer: { kind: "workflow", target: project, id: "oc" }, requirements: [{ app }] } });
}
const expireSoon = (id: string) => vaultSql(s.org.id, `UPDATE credentials SET expires_at = ? WHERE id = ?`, Date.now() + 60_000, id);

describe("who manages an app's OAuth client", () => {
  it("owners and admins put, get and delete; builders and project admins are refused, audited, nothing written", async () => {
    const body = { client_id: `perm-${uid(6)}`, client_secret: `sec-${uid(20)}` };
    const table: [string, string, string, number][] = [];
    for (const [who, token, allowed] of [["owner", s.alice, true], ["admin", s.bob, true], ["builder", s.carol, false], ["project admin", dave, false]] as const) {
      const before = await clientRows();
      const put = await client(token, "PUT", "bitbucket", body);
      const get = await client(token, "GET", "bitbucket");
      const del = await client(token, "DELETE", "bitbucket");
      table.push([who, "put", put.body?.error?.code ?? "ok", put.status], [who, "get", get.body?.error?.code ?? "ok", get.status], [who, "delete", del.body?.error?.code ?? "ok", del.status]);
      if (!allowed) expect(await clientRows()).toEqual(before);
    }
    expect(table).toEqual([
      ["owner", "put", "ok", 200], ["owner", "get", "ok", 200], ["owner", "delete", "ok", 200],
      ["admin", "put", "ok", 200], ["admin", "get", "ok", 200], ["admin", "delete", "ok", 200],
      ["builder", "put", "forbidden", 403], ["builder", "get", "forbidden", 403], ["builder", "delete", "forbidden", 403],
      ["project admin", "put", "forbidden", 403], ["project admin", "get", "forbidden", 403], ["project admin", "delete", "forbidden", 403],
    ]);
    const denied = await vaultSql(s.org.id, `SELECT action FROM audit WHERE target = 'app:bitbucket' AND outcome = 'denied' ORDER BY seq`);
    expect(denied.map((d) => d.action)).toEqual(["oauth_client.put", "oauth_client.delete", "oauth_client.put", "oauth_client.delete"]);
    // A runtime token is not a member's.
    expect((await client(s.runtime, "GET", "bitbucket")).status).toBeGreaterThanOrEqual(401);
  });

  it("GET shows the client id and the redirect URI, never the secret; the secret is sealed at rest", async () => {
    const secret = `sec-${uid(24)}`;
    const put = await client(s.alice, "PUT", "linear", { client_id: "acme-linear", client_secret: secret });
    expect(put.status, put.text).toBe(200);
    const got = await client(s.bob, "GET", "linear");
    expect(got.body).toMatchObject({ app: "linear", client: { client_id: "acme-linear", has_secret: true, endpoints: {} }, connects_with: "org", redirect_uri: expect.stringMatching(/^https?:\/\/[^/]+\/oauth\/callback$/) });
    expect(put.text + got.text).not.toContain(secret);
    const [row] = await vaultSql(s.org.id, `SELECT secret FROM oauth_clients WHERE app = 'linear'`);
    expect(String(row!.secret)).toMatch(/^v1\./);
    expect(String(row!.secret)).not.toContain(secret);
    const audit = await vaultSql(s.org.id, `SELECT detail FROM audit WHERE action = 'oauth_client.put' AND target = 'app:linear'`);
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect((await client(s.alice, "DELETE", "linear")).body).toMatchObject({ client: null, connects_with: "none" });
    expectError(await client(s.alice, "DELETE", "linear"), 404, "not_found", "path.slug");
  });
});

describe("bad input: a 400 naming the field, nothing written", () => {
  it("refuses a secret on an API-key app, non-https or private endpoints, bad scopes, a new client without a secret", async () => {
    const before = await clientRows();
    const ok = { client_id: "acme", client_secret: "s3cret" };
    const cases: [string, unknown, string, number?][] = [
      ["exa", ok, "client_secret"],
      ["slack", ok, "path.slug"],
      ["nope-app", ok, "path.slug", 404],
      ["gitlab", { ...ok, endpoints: { authorize_url: "http://gitlab.acme.example/oauth/authorize", token_url: "https://gitlab.acme.example/oauth/token", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.authorize_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://localhost/oauth/authorize", token_url: "https://gitlab.acme.example/oauth/token", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.authorize_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/authorize", token_url: "https://10.0.0.7/oauth/token", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.token_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/authorize", token_url: "https://gitlab.acme.example/oauth/token", userinfo_url: "https://169.254.169.254/latest" } }, "endpoints.userinfo_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/authorize", token_url: "https://gitlab.acme.example/oauth/token", revoke_url: "https://[::1]/revoke", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.revoke_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/authorize" } }, "endpoints.token_url"],
      ["oauth2", ok, "endpoints.authorize_url"],
      ["github", { ...ok, scopes: ["repo read:user"] }, "scopes[0]"],
      // Control and bidi characters reach every member's connect form and the CLI: refused like in any label.
      ["github", { ...ok, scopes: ["repo", "read\u001b[31m"] }, "scopes[1]"],
      ["github", { ...ok, scopes: ["repo\u202e"] }, "scopes[0]"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/authorize", token_url: "https://gitlab.acme.example/oauth/token\nclient_secret x", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.token_url"],
      ["gitlab", { ...ok, endpoints: { authorize_url: "https://gitlab.acme.example/oauth/\u202eauthorize", token_url: "https://gitlab.acme.example/oauth/token", userinfo_url: "https://gitlab.acme.example/api/v4/user" } }, "endpoints.authorize_url"],
      ["github", { client_id: "acme" }, "client_secret"],
      ["github", { ...ok, client_id: "has space" }, "client_id"],
      ["github", { ...ok, extra: true }, "extra"],
    ];
    for (const [app, body, field, status] of cases) {
      const res = await client(s.alice, "PUT", app, body);
      expectError(res, status ?? 400, status === 404 ? "not_found" : "invalid_request", field);
    }
    expect(await clientRows()).toEqual(before);
  });
});

describe("precedence and the client a credential remembers", () => {
  it("the org's client connects and refreshes; replaced, its credential needs a reconnect, never another client", async () => {
    const project = await newProject();
    const put = await client(s.bob, "PUT", "github", { client_id: "acme-gh", client_secret: "acme-gh-secret" });
    expect(put.body).toMatchObject({ connects_with: "org", platform_client: true });
    const { authorize, id, login } = await connect("github", project);
    expect(authorize.searchParams.get("client_id")).toBe("acme-gh");
    expect(calls.filter((c) => c.path === "/github/token").map((c) => [c.grant, c.client])).toEqual([["authorization_code", "acme-gh"]]);
    const [row] = await vaultSql(s.org.id, `SELECT oauth_client FROM credentials WHERE id = ?`, id);
    expect(row!.oauth_client).toBe(put.body.client.id);

    // A new secret for the same client id keeps the client: the credential refreshes through it.
    const rotated = await client(s.bob, "PUT", "github", { client_id: "acme-gh", client_secret: "acme-gh-secret-2" });
    expect(rotated.body.client.id).toBe(put.body.client.id);
    await expireSoon(id);
    calls = [];
    const fresh = await resolve("github", project);
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.body.results[0]).toMatchObject({ ok: true, credential: { id } });
    expect(calls.map((c) => [c.grant, c.client])).toEqual([["refresh_token", "acme-gh"]]);

    // Another client id: the old credential is not refreshed through it (nor the platform's).
    const other = await client(s.bob, "PUT", "github", { client_id: "acme-gh-new", client_secret: "x-secret" });
    expect(other.body.client.id).not.toBe(put.body.client.id);
    expect(other.body.credentials).toEqual({ org_client: 0, other_client: expect.any(Number) });
    await expireSoon(id);
    calls = [];
    await resolve("github", project);
    expect(calls).toEqual([]);
    const [after] = await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, id);
    expect(after!.status).toBe("needs_reauth");
    // The credential says why (lib/schemas/credentials: its last error), for the Apps page and the resolve answer's fix.
    const [why] = await vaultSql(s.org.id, `SELECT last_error_message FROM credentials WHERE id = ?`, id);
    expect(String(why!.last_error_message)).toContain("removed or replaced");

    // A reconnect moves the same credential to the current client, which then refreshes it.
    const again = await connect("github", project, "github", { reconnect: id, login });
    expect(again.id).toBe(id);
    expect(again.authorize.searchParams.get("client_id")).toBe("acme-gh-new");
    expect(await vaultSql(s.org.id, `SELECT status, oauth_client FROM credentials WHERE id = ?`, id)).toEqual([{ status: "active", oauth_client: other.body.client.id }]);
    await expireSoon(id);
    calls = [];
    expect((await resolve("github", project)).body.results[0]).toMatchObject({ ok: true, credential: { id } });
    expect(calls.map((c) => [c.grant, c.client])).toEqual([["refresh_token", "acme-gh-new"]]);
  });

  it("without the org client the platform's connects; with neither, connecting is refused naming who adds one and where", async () => {
    const project = await newProject();
    await client(s.alice, "DELETE", "github");
    const { authorize, id } = await connect("github", project);
    expect(authorize.searchParams.get("client_id")).toBe("platform-gh");
    const [row] = await vaultSql(s.org.id, `SELECT oauth_client FROM credentials WHERE id = ?`, id);
    expect(row!.oauth_client).toBeNull();

    await setPlatformClients({});
    expect((await client(s.alice, "GET", "github")).body).toMatchObject({ client: null, platform_client: false, connects_with: "none" });
    const session = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "github" } });
    const states = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM oauth_states`);
    const started = await oauth("/oauth/start", form({ csrf: CSRF, session: session.body.id, target: `project:${project}` }));
    expect(started.status).toBe(400);
    const page = await started.text();
    expect(page).toContain("GitHub has no OAuth client in this organization");
    expect(page).toContain("An org owner or admin must add");
    expect(page).toContain("/apps/github/oauth-client");
    expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM oauth_states`)).toEqual(states);

    // The platform-made credential's own client is gone too: needs a reconnect, nothing is sent anywhere.
    await expireSoon(id);
    calls = [];
    await resolve("github", project);
    expect(calls).toEqual([]);
    const [after] = await vaultSql(s.org.id, `SELECT status, last_error_message FROM credentials WHERE id = ?`, id);
    expect(after).toMatchObject({ status: "needs_reauth", last_error_message: expect.stringContaining("platform's OAuth client") });
  });
});

describe("a self-hosted GitLab and a custom OAuth app", () => {
  const gitlab = {
    authorize_url: "https://gitlab.acme.example/oauth/authorize",
    token_url: "https://gitlab.acme.example/oauth/token",
    userinfo_url: "https://gitlab.acme.example/api/v4/user",
    revoke_url: "https://gitlab.acme.example/oauth/revoke",
  };

  it("connects, refreshes and revokes through the endpoints an admin saved, never gitlab.com", async () => {
    const project = await newProject();
    const put = await client(s.bob, "PUT", "gitlab", { client_id: "acme-gl", client_secret: "acme-gl-secret", endpoints: gitlab, scopes: ["read_api", "read_user"] });
    expect(put.status, put.text).toBe(200);
    expect(put.body.client.endpoints).toEqual(gitlab);
    const { authorize, id } = await connect("gitlab", project, "gitlab-acme");
    expect(authorize.origin + authorize.pathname).toBe(gitlab.authorize_url);
    // The org client's default scopes replace the app's.
    expect(authorize.searchParams.get("scope")).toBe("read_api read_user");
    await expireSoon(id);
    expect((await resolve("gitlab", project)).body.results[0]).toMatchObject({ ok: true, credential: { id } });
    const revoked = await call("POST", `/v1/credentials/${id}/revoke`, { token: s.alice });
    expect(revoked.status, revoked.text).toBe(200);
    expect(calls.map((c) => [c.path, c.grant, c.client])).toEqual([
      ["/gitlab-acme/token", "authorization_code", "acme-gl"],
      ["/gitlab-acme/token", "refresh_token", "acme-gl"],
      ["/gitlab-acme/revoke", null, "acme-gl"],
    ]);
    await client(s.bob, "DELETE", "gitlab");
  });

  it("POST /v1/apps makes a custom OAuth app (admins only) that connects and resolves once its client is saved", async () => {
    const slug = `acme-idp`;
    const body = { slug, name: "Acme IdP", kind: "oauth", scopes: ["openid", "email"] };
    expectError(await call("POST", "/v1/apps", { token: s.carol, body }), 403, "forbidden");
    expectError(await call("POST", "/v1/apps", { token: s.bob, body: { ...body, slug: "github" } }), 400, "invalid_request", "slug");
    expectError(await call("POST", "/v1/apps", { token: s.bob, body: { ...body, name: "bad\u001b[31m" } }), 400, "invalid_request", "name");
    expectError(await call("POST", "/v1/apps", { token: s.bob, body: { ...body, kind: "api_key" } }), 400, "invalid_request", "kind");
    const made = await call("POST", "/v1/apps", { token: s.bob, body });
    expect(made.status, made.text).toBe(201);
    expect(made.body).toMatchObject({ slug, name: "Acme IdP", kind: "oauth", custom: true, fields: null });
    expectError(await call("POST", "/v1/apps", { token: s.bob, body }), 409, "conflict", "slug");
    expect((await call("GET", `/v1/apps?search=${slug}`, { token: s.carol })).body.apps).toMatchObject([{ slug, kind: "oauth", custom: true }]);

    // No platform client ever serves a custom app: refused until an admin saves the org's.
    const project = await newProject();
    const early = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: slug } });
    expect(early.status, early.text).toBe(201);
    const refused = await oauth("/oauth/start", form({ csrf: CSRF, session: early.body.id, target: `project:${project}` }));
    expect(await refused.text()).toContain("Acme IdP has no OAuth client in this organization");
    const endpoints = { authorize_url: "https://idp.acme.example/oauth2/authorize", token_url: "https://idp.acme.example/oauth2/token" };
    expectError(await client(s.bob, "PUT", slug, { client_id: "idp", client_secret: "idp-secret", endpoints }), 400, "invalid_request", "endpoints.userinfo_url");
    const put = await client(s.bob, "PUT", slug, { client_id: "idp", client_secret: "idp-secret", endpoints: { ...endpoints, userinfo_url: "https://idp.acme.example/oauth2/userinfo" } });
    expect(put.status, put.text).toBe(200);

    const { authorize, id } = await connect(slug, project, "acme-idp");
    expect(authorize.origin + authorize.pathname).toBe("https://idp.acme.example/oauth2/authorize");
    expect(authorize.searchParams.get("scope")).toBe("openid email");
    expect(authorize.searchParams.get("code_challenge")).toBeTruthy();
    const res = await resolve(slug, project);
    expect(res.body.results[0]).toMatchObject({ ok: true, credential: { id, ref: expect.stringMatching(new RegExp(`^${slug}/project/${project}/`)) } });
    expect(res.body.results[0].fields.accessToken).toMatch(/^sbx_at_/);
    // PATCH of fields means nothing for it; delete is refused while its credential is live.
    expectError(await call("PATCH", `/v1/apps/${slug}`, { token: s.bob, body: { fields: ["apiKey"] } }), 400, "invalid_request", "fields");
    expectError(await call("DELETE", `/v1/apps/${slug}`, { token: s.bob }), 409, "conflict");
  });
});

describe("what a provider says of the account", () => {
  it("is made safe before it names the credential: no control or bidi character, at most 200 characters", async () => {
    const hostile = `evil\u001b]0;owned\u0007\u202e\n${"a".repeat(5000)}`;
    const sandbox = vi.mocked(globalThis.fetch).getMockImplementation()!;
    vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
      // The URL only: a Request made from `input` would take its body from the sandbox's handler.
      const url = input instanceof Request ? input.url : String(input);
      if (url === "https://api.github.com/user") return Response.json({ id: 4242, login: hostile, email: `bob\u202e@acme.test` });
      return sandbox(input, init);
    });
    const { id } = await connect("github", await newProject());
    const [row] = await vaultSql(s.org.id, `SELECT name, account FROM credentials WHERE id = ?`, id);
    const account = JSON.parse(String(row!.account)) as { id: string; name: string; email: string };
    for (const text of [String(row!.name), account.name, account.email]) {
      expect(unsafeCharIn(text), text.slice(0, 40)).toBeNull();
      expect(Array.from(text).length).toBeLessThanOrEqual(200);
    }
    expect(String(row!.name).startsWith("evil\\u001b]0;owned")).toBe(true);
  });
});

describe("the app's OAuth client page (web)", () => {
  const page = async (path: string, token: string, init: RequestInit = {}) => {
    const csrf = await sessionCsrf(token);
    const res = await exports.default.fetch(new Request(ORIGIN + path, { ...init, redirect: "manual", headers: { cookie: `ks_session=${token}; ks_csrf=${csrf}`, ...init.headers } }));
    return { status: res.status, location: res.headers.get("location"), html: await res.text(), csrf };
  };

  it("an admin registers and removes the client; the redirect URI is shown, the secret never; a builder sees the refusal", async () => {
    const secret = `web-${uid(24)}`;
    const shown = await page("/apps/bitbucket/oauth-client", s.bob);
    expect(shown.status).toBe(200);
    expect(shown.html).toMatch(/data-testid="redirect-uri">https?:\/\/[^<]+\/oauth\/callback</);
    const saved = await page("/apps/bitbucket/oauth-client", s.bob, form({ csrf: shown.csrf, client_id: "web-bb", client_secret: secret, scopes: "repository account", pkce: "" }));
    expect(saved.status, saved.html).toBe(303);
    const after = await page(saved.location!, s.bob);
    expect(after.html).toContain("The OAuth client is saved.");
    expect(after.html).toContain(`data-testid="client-id">web-bb<`);
    expect(after.html).not.toContain(secret);
    expect((await client(s.bob, "GET", "bitbucket")).body.client).toMatchObject({ client_id: "web-bb", scopes: ["repository", "account"] });
    const bad = await page("/apps/bitbucket/oauth-client", s.bob, form({ csrf: shown.csrf, client_id: "web-bb", token_url: "http://10.0.0.1/token", authorize_url: "https://bb.example/a" }));
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("endpoints.token_url");

    const builder = await page("/apps/bitbucket/oauth-client", s.carol);
    expect(builder.html).toContain("Only org owners and admins manage an app&#39;s OAuth client.");
    expect(builder.html).not.toContain("web-bb");
    const refused = await page("/apps/bitbucket/oauth-client/remove", s.carol, form({ csrf: builder.csrf }));
    expect(refused.status).toBe(403);
    expect((await client(s.bob, "GET", "bitbucket")).body.client).not.toBeNull();

    const removed = await page("/apps/bitbucket/oauth-client/remove", s.bob, form({ csrf: shown.csrf }));
    expect(removed.status).toBe(303);
    expect((await client(s.bob, "GET", "bitbucket")).body.client).toBeNull();
  });
});
