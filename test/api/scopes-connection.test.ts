import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import oauthWorker from "../../workers/oauth/src/index";
import { sandboxOAuth } from "../../workers/dev/src/sandbox/oauth";
import { SANDBOX_CONNECTION } from "../../workers/dev/src/sandbox/oauth-provider";
import { sessionCsrf } from "../../workers/shared/session";
import { getApp, type OAuthApp } from "../../lib/catalog";
import { scopesFix } from "../../lib/resolve";
import { addMember, call, expectError, providerLink, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";

/**
 * Scopes and connection data (issue 14, SPEC section 13) through the production connect path:
 * the vault has OAUTH_CLIENTS for each app (real provider endpoints), and a fetch spy routes those
 * endpoints to the sandbox provider's Hono app, as test/api/connect.test.ts does. So the sandbox's
 * Salesforce token answer (instance_url), Intuit callback (realmId), Atlassian accessible
 * resources (cloud_id) and the Zendesk endpoints built from the form's subdomain are exercised
 * exactly as a deployment reaches the real ones.
 */
let s: Seed;
let CSRF = "";
const ORIGIN = "http://localhost:8787";
const CLIENT = { id: "keystroke-dev", secret: "keystroke-dev-secret" };
const APPS = ["github", "salesforce", "quickbooks", "jira", "zendesk"];

const UPSTREAM: Record<string, string> = {
  "https://github.com/login/oauth/access_token": "/github/token",
  "https://api.github.com/user": "/github/userinfo",
  "https://login.salesforce.com/services/oauth2/token": "/salesforce/token",
  "https://login.salesforce.com/services/oauth2/userinfo": "/salesforce/userinfo",
  "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer": "/quickbooks/token",
  "https://accounts.platform.intuit.com/v1/openid_connect/userinfo": "/quickbooks/userinfo",
  "https://auth.atlassian.com/oauth/token": "/jira/token",
  "https://api.atlassian.com/me": "/jira/userinfo",
  "https://api.atlassian.com/oauth/token/accessible-resources": "/jira/accessible-resources",
  "https://acme-help.zendesk.com/oauth/tokens": "/zendesk/token",
  "https://acme-help.zendesk.com/api/v2/users/me.json": "/zendesk/userinfo",
};
let hits: string[] = [];
/** Rewrites the callback query before the oauth worker sees it (a forged realmId). */
let tamper: ((q: URLSearchParams) => void) | null = null;

beforeAll(async () => {
  s = await seed();
  CSRF = await sessionCsrf(s.alice);
});
beforeEach(async () => {
  hits = [];
  tamper = null;
  await runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, OUTBOUND_TIMEOUT_MS: undefined, OAUTH_CLIENTS: JSON.stringify(Object.fromEntries(APPS.map((a) => [a, CLIENT]))) };
  });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const url = req.url.split("?")[0]!;
    // The dev override (below): the vault points every provider at the sandbox under the stack's origin.
    const path = UPSTREAM[url] ?? (url.startsWith(`${ORIGIN}/_sandbox/oauth/`) ? url.slice(`${ORIGIN}/_sandbox/oauth`.length) : undefined);
    if (!path) return new Response(`unexpected upstream call ${req.url}`, { status: 599 });
    hits.push(path);
    return sandboxOAuth.fetch(new Request(`http://sandbox.test${path}`, req));
  });
});
afterEach(() => vi.restoreAllMocks());

const cookie = (token = s.alice) => `ks_session=${token}; ks_csrf=${CSRF}`;
const oauth = (path: string, init: RequestInit = {}) =>
  oauthWorker.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: cookie(), ...init.headers } }), { ...env, VAULT_DOOR: env.OAUTH_DOOR as never });
const page = (path: string) => exports.default.fetch(new Request(ORIGIN + path, { headers: { cookie: cookie() } }));
const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });

const newSession = async (app: string, extra: Record<string, unknown> = {}, token = s.alice) => {
  const res = await call("POST", "/v1/connect-sessions", { token, body: { app, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
};
const getSession = async (id: string) => (await call("GET", `/v1/connect-sessions/${id}`, { token: s.alice })).body;
const credentialCount = async () => Number((await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM credentials`))[0]!.n);

/** /oauth/start, the sandbox's consent page (approve as `login`), then the callback: the finished session. */
async function connect(app: string, session: string, login: string, fields: Record<string, string> = {}): Promise<{ started: Response; authorize: URL | null; callback: Response | null }> {
  const started = await oauth("/oauth/start", form({ csrf: CSRF, session, target: "org", name: `${app}-${login}`, ...fields }));
  if (started.status !== 200) return { started, authorize: null, callback: null };
  const authorize = new URL(providerLink(await started.clone().text()));
  const consent = await sandboxOAuth.fetch(new Request(`http://sandbox.test/${app}/authorize`, form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login })));
  expect(consent.status, await consent.clone().text()).toBe(302);
  const back = new URL(consent.headers.get("location")!);
  tamper?.(back.searchParams);
  const callback = await oauth(back.pathname + back.search);
  return { started, authorize, callback };
}

const resolveOne = (requirement: Record<string, unknown>) =>
  call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: { kind: "workflow", target: "scopes-wf", id: "step:call#0" }, requirements: [requirement] } });

describe("connection data captured at connect, shown in get, list and every resolve answer", () => {
  it("Salesforce: the token answer's instance_url", async () => {
    const id = await newSession("salesforce");
    const { callback } = await connect("salesforce", id, `sf${uid(4)}`);
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    const done = await getSession(id);
    expect(done.status).toBe("completed");
    const cred = done.credentials[0];
    expect(cred.connection).toEqual({ instance_url: SANDBOX_CONNECTION.instance_url });
    expect(cred.requested_scopes).toEqual((getApp("salesforce") as OAuthApp).provider.scopes);

    const got = await call("GET", `/v1/credentials/${cred.id}`, { token: s.alice });
    expect(got.body.connection).toEqual({ instance_url: SANDBOX_CONNECTION.instance_url });
    const listed = await call("GET", "/v1/credentials?app=salesforce", { token: s.alice });
    expect(listed.body.credentials.find((c: { id: string }) => c.id === cred.id).connection).toEqual({ instance_url: SANDBOX_CONNECTION.instance_url });

    const r = await resolveOne({ app: "salesforce", credential: cred.id });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[0]).toMatchObject({ ok: true, connection: { instance_url: SANDBOX_CONNECTION.instance_url }, credential: { id: cred.id, connection: { instance_url: SANDBOX_CONNECTION.instance_url } } });
    const explained = await call("POST", "/v1/resolve/explain", { token: s.alice, body: { requirements: [{ app: "salesforce", credential: cred.id }] } });
    expect(explained.body.results[0].connection).toEqual({ instance_url: SANDBOX_CONNECTION.instance_url });

    // The Apps page shows it with the row.
    const apps = await (await page("/apps?app=salesforce")).text();
    expect(apps).toContain(SANDBOX_CONNECTION.instance_url);
  });

  it("QuickBooks: the callback's realmId passes through the oauth worker to the vault; a malformed one stores nothing", async () => {
    const id = await newSession("quickbooks");
    const { callback } = await connect("quickbooks", id, `qb${uid(4)}`);
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    expect(cred.connection).toEqual({ realmId: SANDBOX_CONNECTION.realmId });
    const r = await resolveOne({ app: "quickbooks", credential: cred.id });
    expect(r.body.results[0]).toMatchObject({ ok: true, connection: { realmId: SANDBOX_CONNECTION.realmId } });

    const before = await credentialCount();
    tamper = (q) => q.set("realmId", "<script>");
    const bad = await newSession("quickbooks");
    const failed = await connect("quickbooks", bad, `qb${uid(4)}`);
    expect(failed.callback!.status).toBe(502);
    expect(await getSession(bad)).toMatchObject({ status: "failed", error: expect.stringContaining("had no valid realmId") });
    expect(await credentialCount()).toBe(before);
  });

  it("Jira (Atlassian): cloud_id from the accessible-resources lookup made with the new token", async () => {
    const id = await newSession("jira");
    const { callback } = await connect("jira", id, `ji${uid(4)}`);
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    expect(hits).toContain("/jira/accessible-resources");
    const cred = (await getSession(id)).credentials[0];
    expect(cred.connection).toEqual({ cloud_id: SANDBOX_CONNECTION.cloud_id });
  });
});

describe("through the dev sandbox flow (DEV_MODE: every provider, and the Atlassian lookup, at the sandbox)", () => {
  let devMode: unknown;
  beforeEach(async () => {
    await runInDurableObject(vaultOf(s.org.id), (instance, state) => {
      const vault = instance as unknown as { env: Record<string, unknown> };
      devMode = vault.env.DEV_MODE;
      vault.env = { ...vault.env, DEV_MODE: "true", OAUTH_CLIENTS: undefined };
      state.storage.sql.exec(`INSERT INTO settings (key, value, updated_at) VALUES ('sandbox_url', ?, 0) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, ORIGIN);
    });
  });
  afterEach(async () => {
    await runInDurableObject(vaultOf(s.org.id), (instance, state) => {
      const vault = instance as unknown as { env: Record<string, unknown> };
      vault.env = { ...vault.env, DEV_MODE: devMode };
      state.storage.sql.exec(`DELETE FROM settings WHERE key = 'sandbox_url'`);
    });
  });

  it.each([
    ["salesforce", { instance_url: SANDBOX_CONNECTION.instance_url }],
    ["quickbooks", { realmId: SANDBOX_CONNECTION.realmId }],
    ["jira", { cloud_id: SANDBOX_CONNECTION.cloud_id }],
    ["microsoft", { tenant: SANDBOX_CONNECTION.tenant }],
  ])("%s: the resolve answer carries its connection", async (app, connection) => {
    const id = await newSession(app);
    const { authorize, callback } = await connect(app, id, `dv${uid(4)}`);
    expect(authorize!.href.startsWith(`${ORIGIN}/_sandbox/oauth/${app}/authorize`)).toBe(true);
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    const r = await resolveOne({ app, credential: cred.id });
    expect(r.body.results[0], r.text).toMatchObject({ ok: true, connection, credential: { id: cred.id, connection } });
    if (app === "jira") expect(hits).toContain("/jira/accessible-resources");
  });

  it("shopify: the store typed in the form is the connection and the account (a grant is the store's)", async () => {
    const store = `shop-${uid(5)}`;
    const id = await newSession("shopify");
    const { authorize, callback } = await connect("shopify", id, `dv${uid(4)}`, { "connection.subdomain": store });
    expect(authorize!.searchParams.get("scope")).toBe("read_products,read_orders");
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    expect(cred).toMatchObject({ connection: { subdomain: store }, account: { id: store } });
  });
});

describe("a subdomain asked before the redirect builds the endpoints (Zendesk)", () => {
  it("the form asks for it; the authorize, token and userinfo calls go to <subdomain>.zendesk.com; it is kept as connection data", async () => {
    const id = await newSession("zendesk");
    const shown = await (await page(`/connect/${id}`)).text();
    expect(shown).toContain(`name="connection.subdomain"`);
    expect(shown).toContain(".zendesk.com");
    const { authorize, callback } = await connect("zendesk", id, `zd${uid(4)}`, { "connection.subdomain": "Acme-Help" });
    expect(authorize!.origin + authorize!.pathname).toBe("https://acme-help.zendesk.com/oauth/authorizations/new");
    expect(callback!.status, await callback!.clone().text()).toBe(303);
    expect(hits).toEqual(["/zendesk/token", "/zendesk/userinfo"]);
    const cred = (await getSession(id)).credentials[0];
    expect(cred.connection).toEqual({ subdomain: "acme-help" });
  });

  it.each([
    ["a dot", "acme.evil.com"],
    ["a slash", "acme/evil"],
    ["a space", "acme help"],
  ])("a subdomain with %s is refused naming connection.subdomain, and no sign-in state is written", async (_what, value) => {
    const id = await newSession("zendesk");
    const { started } = await connect("zendesk", id, "zd", { "connection.subdomain": value });
    expect(started.status).toBe(400);
    const html = await started.text();
    expect(html).toContain("single DNS label");
    expect(html).toContain(`name="connection.subdomain"`); // the form again, to fix it
    expect(await vaultSql(s.org.id, `SELECT 1 FROM oauth_states WHERE session_id = ?`, id)).toEqual([]);
    expect(hits).toEqual([]);
  });

  it("a missing subdomain is refused by the vault before the redirect", async () => {
    const id = await newSession("zendesk");
    const { started } = await connect("zendesk", id, "zd");
    expect(started.status).toBe(400);
    expect(await started.text()).toContain("needs its zendesk subdomain");
    expect(await vaultSql(s.org.id, `SELECT 1 FROM oauth_states WHERE session_id = ?`, id)).toEqual([]);
  });
});

describe("an API-key app whose subdomain is one of its fields (Freshdesk)", () => {
  it("set keeps the subdomain as connection data (lowercased) in the view and the resolve answer; rotate keeps it current", async () => {
    const slug = `fd-${uid(5)}`;
    const set = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "freshdesk", slug, fields: { apiKey: `fd-${uid(20)}`, subdomain: "Acme" } } });
    expect(set.status, set.text).toBe(200);
    const cred = set.body.credentials[0];
    expect(cred.connection).toEqual({ subdomain: "acme" });
    const r = await resolveOne({ app: "freshdesk", credential: cred.id });
    expect(r.body.results[0]).toMatchObject({ ok: true, connection: { subdomain: "acme" }, fields: { subdomain: "acme" } });
    const rotated = await call("POST", `/v1/credentials/${cred.id}/rotate`, { token: s.alice, body: { fields: { subdomain: "acme-eu" } } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.connection).toEqual({ subdomain: "acme-eu" });
  });

  it.each(["acme.freshdesk.com", "acme/x", "https://acme"])("a subdomain field %j is refused naming fields.subdomain, nothing written", async (value) => {
    const before = await credentialCount();
    expectError(await call("POST", "/v1/credentials", { token: s.alice, body: { app: "freshdesk", slug: `fd-${uid(5)}`, fields: { apiKey: `fd-${uid(20)}`, subdomain: value } } }), 400, "invalid_request", "fields.subdomain");
    expect(await credentialCount()).toBe(before);
  });
});

describe("scopes: asked, granted, step-up and requirements", () => {
  it("the form offers the defaults and the catalog's optional scopes; ticked and typed ones are asked for and recorded", async () => {
    const id = await newSession("github");
    const shown = await (await page(`/connect/${id}`)).text();
    for (const x of ["repo", "read:user"]) expect(shown).toContain(`<code>${x}</code>`);
    expect(shown).toContain(`name="scope" value="workflow"`);
    expect(shown).toContain(`name="extra_scopes"`);
    const { authorize, callback } = await connect("github", id, `gh${uid(4)}`, { scope_form: "1", scope: "workflow", extra_scopes: "admin:org, read:project" });
    expect(authorize!.searchParams.get("scope")!.split(" ")).toEqual(["repo", "read:user", "user:email", "workflow", "admin:org", "read:project"]);
    expect(callback!.status).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    expect(cred.requested_scopes).toEqual(["repo", "read:user", "user:email", "workflow", "admin:org", "read:project"]);
    // The sandbox grants what was asked: the token answer's `scope` is what is recorded as granted.
    expect(cred.scopes).toEqual(["repo", "read:user", "user:email", "workflow", "admin:org", "read:project"]);
  });

  it("a requirement naming a scope the credential lacks is credential_unavailable with a reconnect for exactly the missing ones; step-up keeps the id", async () => {
    const login = `st${uid(4)}`;
    const id = await newSession("github");
    await connect("github", id, login);
    const cred = (await getSession(id)).credentials[0];
    expect(cred.scopes).not.toContain("workflow");

    const refused = await resolveOne({ app: "github", credential: cred.id, scopes: ["repo", "workflow", "gist"] });
    expect(refused.status).toBe(200);
    const error = refused.body.results[0].error;
    expect(error).toMatchObject({ code: "credential_unavailable", details: { id: cred.id, credential: cred.ref, missing_scopes: ["workflow", "gist"] } });
    expect(error.fix).toBe(scopesFix("github", cred.ref, ["workflow", "gist"]));
    const link = new URL(error.details.connect_url);
    expect(Object.fromEntries(link.searchParams)).toEqual({ app: "github", reconnect: cred.ref, scopes: "workflow gist" });
    expect(JSON.stringify(refused.body)).not.toContain("sbx_at_");

    // The link's page offers the reconnect; its button starts a session asking for exactly those scopes.
    const offered = await (await page(link.pathname + link.search)).text();
    expect(offered).toContain(`name="reconnect" value="${cred.ref}"`);
    const posted = await exports.default.fetch(new Request(`${ORIGIN}/connect`, { ...form({ csrf: CSRF, app: "github", reconnect: cred.ref, scopes: "workflow gist" }), redirect: "manual", headers: { cookie: cookie(), "content-type": "application/x-www-form-urlencoded" } }));
    expect(posted.status, await posted.clone().text()).toBe(303);
    const stepUp = /\/connect\/(cs_[a-z2-7]{20})/.exec(posted.headers.get("location")!)![1]!;
    expect(await getSession(stepUp)).toMatchObject({ reconnect: cred.ref, scopes: ["workflow", "gist"] });

    const { authorize, callback } = await connect("github", stepUp, login);
    expect(authorize!.searchParams.get("scope")!.split(" ")).toEqual(["repo", "read:user", "user:email", "workflow", "gist"]);
    expect(callback!.status).toBe(303);
    const after = (await getSession(stepUp)).credentials[0];
    expect(after.id).toBe(cred.id);
    expect(after.requested_scopes).toEqual(["repo", "read:user", "user:email", "workflow", "gist"]);

    const ok = await resolveOne({ app: "github", credential: cred.id, scopes: ["repo", "workflow", "gist"] });
    expect(ok.body.results[0]).toMatchObject({ ok: true, credential: { id: cred.id } });
  });

  it("the assigned credential lacking a scope is refused; resolution does not fall through to another org credential that has it", async () => {
    const target = `ft-${uid(6)}`;
    const a = await newSession("github");
    await connect("github", a, `fa${uid(4)}`);
    const plain = (await getSession(a)).credentials[0];
    const b = await newSession("github");
    await connect("github", b, `fb${uid(4)}`, { scope_form: "1", scope: "workflow" });
    const wide = (await getSession(b)).credentials[0];
    expect(wide.scopes).toContain("workflow");
    // Pin the plain one for this consumer: the assignment decides, the scopes only check it.
    expect((await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, credential: plain.id } })).status).toBe(200);
    const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: { kind: "workflow", target, id: "step:x#0" }, requirements: [{ app: "github", scopes: ["workflow"] }] } });
    expect(r.body.results[0]).toMatchObject({ ok: false, error: { code: "credential_unavailable", details: { id: plain.id, missing_scopes: ["workflow"] } } });
  });

  it("step-up permissions are the reconnect's: a builder may not step up an org credential, an admin may", async () => {
    const id = await newSession("github");
    await connect("github", id, `pp${uid(4)}`);
    const cred = (await getSession(id)).credentials[0];
    const builder = await addMember(s.org.id, `b-${uid(5)}@acme.test`, "builder");
    const admin = await addMember(s.org.id, `a-${uid(5)}@acme.test`, "admin");
    const table: [string, string, number][] = [["builder", builder.token, 403], ["admin", admin.token, 201], ["owner", s.alice, 201]];
    for (const [who, token, status] of table) {
      const res = await call("POST", "/v1/connect-sessions", { token, body: { app: "github", reconnect: cred.ref, scopes: ["workflow"] } });
      expect(res.status, `${who}: ${res.text}`).toBe(status);
    }
  });
});

describe("bad input: 4xx naming the field, nothing written", () => {
  it.each([
    ["a scope with a space inside", { app: "github", scopes: ["repo admin:org"] }, "scopes[0]"],
    ["a scope with a comma inside", { app: "github", scopes: ["repo,gist"] }, "scopes[0]"],
    ["an empty scope", { app: "github", scopes: [""] }, "scopes[0]"],
    ["scopes for an API-key app", { app: "exa", scopes: ["read"] }, "scopes"],
  ])("connect session: %s", async (_what, body, field) => {
    const before = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM connect_sessions`);
    expectError(await call("POST", "/v1/connect-sessions", { token: s.alice, body }), 400, "invalid_request", field);
    expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM connect_sessions`)).toEqual(before);
  });

  it.each([
    ["a scope with a space inside", { app: "github", scopes: ["repo admin:org"] }, "requirements[0].scopes[0]"],
    ["an empty scope list", { app: "github", scopes: [] }, "requirements[0].scopes"],
    ["scopes for an API-key app", { app: "exa", scopes: ["read"] }, "requirements[0].scopes"],
  ])("runtime resolve: %s", async (_what, requirement, field) => {
    expectError(await resolveOne(requirement), 400, "invalid_request", field);
  });

  it("a typed extra scope cannot smuggle a space: the form splits typed text into separate scopes", async () => {
    const id = await newSession("github");
    const { authorize } = await connect("github", id, `sp${uid(4)}`, { scope_form: "1", extra_scopes: "a  b" });
    expect(authorize!.searchParams.get("scope")!.split(" ").slice(-2)).toEqual(["a", "b"]);
  });
});
