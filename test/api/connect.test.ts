import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import oauthWorker from "../../workers/oauth/src/index";
import { provider, sandboxOAuth } from "../../workers/dev/src/sandbox/oauth";
import { addMember, call, expectError, openSecret, providerLink, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { sessionCsrf } from "../../workers/shared/session";
import { credentialAad, open, parseKeyring, seal } from "../../lib/crypto";
import { revokeCredential } from "../../durable-objects/vault/credentials";
import { loadPrincipal } from "../../durable-objects/vault/auth";
import { completeWithFields, consumeState } from "../../durable-objects/vault/connect";
import { storeConnection } from "../../durable-objects/vault/oauth-credentials";
import { Webhook } from "standardwebhooks";
import { hookUrl, RECEIVER, settleWebhooks, type Received } from "./webhook-receiver";

/**
 * The connect flow in workerd, for what the stack cannot reach: expiry (the clock is moved by
 * writing expires_at), a token endpoint that is down, a userinfo failure, and the alarm's refresh.
 *
 * How the provider is faked: this project runs with DEV_MODE "" and no OAUTH_CLIENTS, so the
 * vault has no provider configuration. Each test gives the vault instance an env with
 * OAUTH_CLIENTS for github (the production path: real github.com endpoints), and a global fetch
 * spy (the vault and the oauth worker, imported here, run in this isolate) routes those
 * endpoints to the sandbox provider's Hono app. The oauth worker is called directly with the
 * test env; its pages read the same session and CSRF cookies as in production.
 */
let s: Seed;
/** Alice's session-bound CSRF value (workers/shared/session.ts), set once she is seeded. */
let CSRF = "";
const ORIGIN = "http://localhost:8787";

const UPSTREAM: Record<string, string> = {
  "https://github.com/login/oauth/access_token": "/github/token",
  "https://api.github.com/user": "/github/userinfo",
  // gitlab: a provider with a revoke endpoint.
  "https://gitlab.com/oauth/token": "/gitlab/token",
  "https://gitlab.com/api/v4/user": "/gitlab/userinfo",
  "https://gitlab.com/oauth/revoke": "/gitlab/revoke",
};
const AUTHORIZE: Record<string, string> = { github: "https://github.com/login/oauth/authorize", gitlab: "https://gitlab.com/oauth/authorize" };
/** Calls that reached the fake provider, by sandbox path; `fail` answers instead of the sandbox. */
let hits: string[] = [];
/** Webhook deliveries to the test receiver (RECEIVER), answered 200. */
let received: Received[] = [];
let fail: ((path: string, req: Request) => Response | Promise<Response | null> | null) | null = null;

beforeAll(async () => {
  s = await seed();
  CSRF = await sessionCsrf(s.alice);
});
beforeEach(async () => {
  hits = [];
  received = [];
  fail = null;
  await runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, OUTBOUND_TIMEOUT_MS: undefined, OAUTH_CLIENTS: JSON.stringify({ github: { id: "keystroke-dev", secret: "keystroke-dev-secret" }, gitlab: { id: "keystroke-dev", secret: "keystroke-dev-secret" } }) };
  });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (req.url.startsWith(RECEIVER)) {
      received.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text(), answered: 200 });
      return new Response("ok");
    }
    const path = UPSTREAM[req.url.split("?")[0]!];
    if (!path) return new Response("unexpected upstream call", { status: 599 });
    hits.push(path);
    const failed = fail ? await fail(path, req.clone()) : null;
    return failed ?? sandboxOAuth.fetch(new Request(`http://sandbox.test${path}`, req));
  });
});
afterEach(() => vi.restoreAllMocks());

const cookie = (token = s.alice) => `ks_session=${token}; ks_csrf=${CSRF}`;
/** The oauth worker as deployed: its one binding is the api worker's OAuthDoor (here: this test worker's own). */
const oauth = (path: string, init: RequestInit = {}, door: object = env.OAUTH_DOOR) =>
  oauthWorker.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: cookie(), ...init.headers } }), { ...env, VAULT_DOOR: door as typeof env.OAUTH_DOOR });
const page = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: cookie(), ...init.headers } }));
const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });

const newSession = async (app: string, extra: Record<string, unknown> = {}) => {
  const res = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
};
const getSession = async (id: string) => (await call("GET", `/v1/connect-sessions/${id}`, { token: s.alice })).body;
const credentialRows = () => vaultSql(s.org.id, `SELECT id, status, expires_at FROM credentials ORDER BY id`);
const stateRows = (session: string) => vaultSql(s.org.id, `SELECT state_hash, consumed_at FROM oauth_states WHERE session_id = ?`, session);

/** /oauth/start then the sandbox's consent page (approve as `login`): the callback path. */
async function toCallback(session: string, login: string, target = "project:support", opts: { app?: string; name?: string } = {}): Promise<string> {
  const app = opts.app ?? "github";
  const started = await oauth("/oauth/start", form({ csrf: CSRF, session, target, ...(opts.name ? { name: opts.name } : {}) }));
  // A page that moves on to the provider, not a 302 (CSP form-action; workers/oauth/src/index.tsx).
  expect(started.status, await started.clone().text()).toBe(200);
  const authorize = new URL(providerLink(await started.text()));
  expect(authorize.origin + authorize.pathname).toBe(AUTHORIZE[app]);
  const consent = await sandboxOAuth.fetch(new Request(`http://sandbox.test/${app}/authorize`, form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login })));
  const back = new URL(consent.headers.get("location")!);
  expect(back.origin + back.pathname).toBe(`${ORIGIN}/oauth/callback`);
  return back.pathname + back.search;
}

describe("a project deleted mid-connect (issue 13)", () => {
  it("the callback stores nothing for a project deleted while the member was at the provider, and fails the session", async () => {
    const slug = `mid-${uid(6)}`;
    expect((await call("POST", "/v1/projects", { token: s.alice, body: { slug, name: "Mid" } })).status).toBe(201);
    const id = await newSession("github");
    const callback = await toCallback(id, `mid-${uid(4)}`, `project:${slug}`);
    expect((await call("DELETE", `/v1/projects/${slug}`, { token: s.alice })).status).toBe(200);
    const before = await credentialRows();
    const res = await oauth(callback);
    expect(res.status).toBe(404);
    expect(await credentialRows()).toEqual(before);
    expect(await vaultSql(s.org.id, `SELECT id FROM credentials WHERE scope_type = 'project' AND scope_id = ?`, slug)).toEqual([]);
    expect(await getSession(id)).toMatchObject({ status: "failed", error: expect.stringContaining(`The project ${slug} was deleted`) });
  });
});

describe("expiry", () => {
  it("an expired connect session reads as failed 'expired', and the forms refuse it", async () => {
    const id = await newSession("github");
    const keyApp = await newSession("exa");
    await vaultSql(s.org.id, `UPDATE connect_sessions SET expires_at = ? WHERE id IN (?, ?)`, Date.now() - 1, id, keyApp);
    const before = await credentialRows();

    expect(await getSession(id)).toMatchObject({ status: "failed", error: "The connect session expired." });
    const shown = await (await page(`/connect/${id}`)).text();
    expect(shown).toContain("The connect session expired.");
    expect(shown).not.toContain(`action="/oauth/start"`);
    const started = await oauth("/oauth/start", form({ csrf: CSRF, session: id, target: "project:support" }));
    expect(started.status).toBe(409);
    expect(await started.text()).toContain("This connect session failed: The connect session expired.");
    expect(await stateRows(id)).toEqual([]);

    // The API-key form (no GET first: the post alone settles the expiry and refuses).
    const saved = await page(`/connect/${keyApp}`, form({ csrf: CSRF, target: "project:support", "field.apiKey": `exa-${uid(24)}` }));
    expect(saved.status).toBe(400);
    expect(await saved.text()).toContain("The connect session expired.");
    expect(await getSession(keyApp)).toMatchObject({ status: "failed", error: "The connect session expired." });
    expect(await credentialRows()).toEqual(before);
    expect(hits).toEqual([]);
  });

  it("a sign-in link (OAuth state) past its 15 minutes fails the session; the code is never exchanged", async () => {
    const id = await newSession("github");
    const callback = await toCallback(id, "slowpoke");
    await vaultSql(s.org.id, `UPDATE oauth_states SET expires_at = ? WHERE session_id = ?`, Date.now() - 1, id);
    const before = await credentialRows();
    const res = await oauth(callback);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("The sign-in link expired.");
    expect(await getSession(id)).toMatchObject({ status: "failed", error: "The connection took too long; the sign-in link expired." });
    expect(hits).toEqual([]);
    expect(await credentialRows()).toEqual(before);
    expect(await stateRows(id)).toEqual([]);
  });

  it("a session that expires while the member is at the provider fails; the code is never exchanged", async () => {
    const id = await newSession("github");
    const callback = await toCallback(id, "lingerer");
    await vaultSql(s.org.id, `UPDATE connect_sessions SET expires_at = ? WHERE id = ?`, Date.now() - 1, id);
    const before = await credentialRows();
    const res = await oauth(callback);
    expect(res.status).toBe(409);
    expect(await getSession(id)).toMatchObject({ status: "failed", error: "The connect session expired." });
    expect(hits).toEqual([]);
    expect(await credentialRows()).toEqual(before);
  });
});

describe("the provider fails", () => {
  const cases: [string, (path: string) => Response | null, string][] = [
    ["the token endpoint answers 503", (p) => (p.endsWith("/token") ? new Response("down for maintenance", { status: 503 }) : null), "The provider answered the code exchange with HTTP 503. Nothing was stored."],
    ["the token endpoint cannot be reached", (p) => { if (p.endsWith("/token")) throw new TypeError("network down"); return null; }, "The provider could not be reached for the code exchange. Nothing was stored."],
    ["the token answer has no access token", (p) => (p.endsWith("/token") ? Response.json({ token_type: "bearer" }) : null), "The provider's token answer had no access token. Nothing was stored."],
    ["userinfo answers 401", (p) => (p.endsWith("/userinfo") ? Response.json({ message: "Bad credentials" }, { status: 401 }) : null), "The provider's userinfo endpoint answered HTTP 401. Nothing was stored."],
  ];
  for (const [what, answer, reason] of cases) {
    it(`${what}: the session fails with a readable reason and nothing is stored`, async () => {
      const id = await newSession("github");
      const callback = await toCallback(id, `fail-${uid(6)}`);
      const before = await credentialRows();
      fail = answer;
      const res = await oauth(callback);
      expect(res.status).toBe(502);
      const html = await res.text();
      expect(html).toContain("The connection did not complete");
      expect(html).not.toMatch(/sbx_(at|rt)_/);
      expect(await getSession(id)).toMatchObject({ status: "failed", error: reason });
      expect(await credentialRows()).toEqual(before);
      expect(await stateRows(id)).toEqual([]);
      expect(hits[0]).toBe("/github/token");
    });
  }
});

describe("the alarm keeps tokens alive", () => {
  it("refreshes a token expiring within 10 minutes, once; invalid_grant marks it needs_reauth with an audit row", async () => {
    const id = await newSession("github");
    provider.nextAccessTtl = 8 * 60; // expires in 8 minutes: not yet due for a resolve, due for the alarm
    const done = await oauth(await toCallback(id, `alarm-${uid(6)}`));
    expect(done.status, await done.clone().text()).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    const expiresBefore = Date.parse(cred.expires_at);
    expect(expiresBefore).toBeLessThan(Date.now() + 9 * 60_000);
    const vault = vaultOf(s.org.id);
    expect(await runInDurableObject(vault, (_i, state) => state.storage.getAlarm())).not.toBeNull();

    hits = [];
    expect(await runDurableObjectAlarm(vault)).toBe(true);
    expect(hits).toEqual(["/github/token"]);
    const [row] = await vaultSql(s.org.id, `SELECT status, expires_at FROM credentials WHERE id = ?`, cred.id);
    expect(row!.status).toBe("active");
    expect(Number(row!.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const refreshes = await call("GET", `/v1/audit?action=credential.refresh&credential=${cred.id}`, { token: s.alice });
    expect(refreshes.body.entries).toHaveLength(1);
    expect(refreshes.body.entries[0].detail).toMatchObject({ app: "github", rotated: true });

    // The provider now refuses the refresh token: the next due refresh marks it needs_reauth.
    await vaultSql(s.org.id, `UPDATE credentials SET expires_at = ? WHERE id = ?`, Date.now() + 60_000, cred.id);
    await runInDurableObject(vault, (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    hits = [];
    // GitHub's refusal: HTTP 200 with its own code (arctic's GitHub class reads it; providers maps it to invalid_grant).
    fail = (p) => (p.endsWith("/token") ? Response.json({ error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." }) : null);
    expect(await runDurableObjectAlarm(vault)).toBe(true);
    expect(hits).toEqual(["/github/token"]);
    const [after] = await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, cred.id);
    expect(after!.status).toBe("needs_reauth");
    const audit = await call("GET", `/v1/audit?action=credential.needs_reauth&credential=${cred.id}`, { token: s.alice });
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0]).toMatchObject({ outcome: "failed", actor_kind: "system" });
    // Once marked, nothing refreshes it again.
    await runInDurableObject(vault, (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    hits = [];
    await runDurableObjectAlarm(vault);
    expect(hits).toEqual([]);
  });

  it("a provider outage during the alarm marks nothing; the credential stays active", async () => {
    const id = await newSession("github");
    provider.nextAccessTtl = 8 * 60;
    expect((await oauth(await toCallback(id, `outage-${uid(6)}`))).status).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    fail = (p) => (p.endsWith("/token") ? new Response("bad gateway", { status: 502 }) : null);
    hits = [];
    expect(await runDurableObjectAlarm(vaultOf(s.org.id))).toBe(true);
    expect(hits).toContain("/github/token");
    const [row] = await vaultSql(s.org.id, `SELECT status, expires_at FROM credentials WHERE id = ?`, cred.id);
    expect(row).toMatchObject({ status: "active", expires_at: Date.parse(cred.expires_at) });
    // Issue 15: an outage is only the last error (our words, not the provider's body), never a status or an event.
    const shown = (await call("GET", `/v1/credentials/${cred.id}`, { token: s.alice })).body;
    expect(shown).toMatchObject({ status: "active", status_reason: null, last_error: { code: "server_error" } });
    expect(JSON.stringify(shown)).not.toContain("bad gateway");
    expect((await call("GET", `/v1/audit?action=credential.needs_reauth&credential=${cred.id}`, { token: s.alice })).body.entries).toEqual([]);
  });

  it("issue 15: a refresh that starts failing -> needs_reauth with invalid_grant and exactly one credential.needs_reauth; a reconnect -> credential.recovered", async () => {
    // A customer's receiver (this file's fetch spy records it), subscribed to the two health events.
    const url = hookUrl();
    const hook = await call("POST", "/v1/webhooks", { token: s.alice, body: { url, events: ["credential.needs_reauth", "credential.recovered"] } });
    expect(hook.status, hook.text).toBe(201);
    const delivered = async () => {
      await settleWebhooks(s.org.id);
      return received.filter((d) => d.url === url).map((d) => new Webhook(hook.body.secret).verify(d.body, d.headers) as { type: string; data: { credential: { id: string } } });
    };
    const id = await newSession("github");
    provider.nextAccessTtl = 8 * 60;
    const login = `health-${uid(6)}`;
    expect((await oauth(await toCallback(id, login))).status).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    const vault = vaultOf(s.org.id);
    // The refresh works once, then the provider starts refusing the refresh token (GitHub's way: 200 with an error).
    expect(await runDurableObjectAlarm(vault)).toBe(true);
    expect((await call("GET", `/v1/audit?action=credential.refresh&credential=${cred.id}`, { token: s.alice })).body.entries).toHaveLength(1);
    fail = (p) => (p.endsWith("/token") ? Response.json({ error: "bad_refresh_token", error_description: "revoked" }) : null);
    // Three alarms while the provider refuses: the first marks it, the others find nothing to refresh.
    for (let i = 0; i < 3; i++) {
      await vaultSql(s.org.id, `UPDATE credentials SET expires_at = ? WHERE id = ?`, Date.now() + 60_000, cred.id);
      await runInDurableObject(vault, (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
      await runDurableObjectAlarm(vault);
    }
    const shown = (await call("GET", `/v1/credentials/${cred.id}`, { token: s.alice })).body;
    expect(shown).toMatchObject({ status: "needs_reauth", status_reason: "invalid_grant", last_error: { code: "invalid_grant" } });
    expect(JSON.stringify(shown)).not.toContain("revoked\"");
    const marked = (await call("GET", `/v1/audit?action=credential.needs_reauth&credential=${cred.id}`, { token: s.alice })).body.entries;
    expect(marked).toHaveLength(1);
    expect(marked[0].detail).toMatchObject({ from: "active", to: "needs_reauth", reason: "invalid_grant", ref: cred.ref });
    // Never handed out, and the refusal says why.
    const refused = await resolveRef(cred.ref);
    expect(refused).toMatchObject({ ok: false, error: { code: "credential_unavailable", details: { status: "needs_reauth", status_reason: "invalid_grant" } } });
    const attention = await call("GET", "/v1/credentials?attention=true&limit=100", { token: s.alice });
    expect(attention.body.credentials.map((c: { id: string }) => c.id)).toContain(cred.id);
    // Exactly one signed delivery, although three alarms saw the refusal.
    const marks = await delivered();
    expect(marks.map((e) => [e.type, e.data.credential.id])).toEqual([["credential.needs_reauth", cred.id]]);

    fail = null;
    const again = await newSession("github", { reconnect: cred.ref });
    expect((await oauth(await toCallback(again, login))).status).toBe(303);
    expect((await call("GET", `/v1/credentials/${cred.id}`, { token: s.alice })).body).toMatchObject({ status: "active", status_reason: null, last_error: null });
    const recovered = (await call("GET", `/v1/audit?action=credential.recovered&credential=${cred.id}`, { token: s.alice })).body.entries;
    expect(recovered).toHaveLength(1);
    expect(recovered[0].detail).toMatchObject({ from: "needs_reauth", to: "active", reason: "invalid_grant" });
    expect((await resolveRef(cred.ref)).ok).toBe(true);
    expect((await call("GET", `/v1/audit?action=credential.needs_reauth&credential=${cred.id}`, { token: s.alice })).body.entries).toHaveLength(1);
    expect((await delivered()).map((e) => e.type)).toEqual(["credential.needs_reauth", "credential.recovered"]);
  });
});

describe("issue 15: checking an OAuth connection (its userinfo endpoint)", () => {
  it("works; a 502 only sets last_error; a 401 -> needs_reauth (probe_unauthorized) once", async () => {
    await setVaultEnv({ PROBES: undefined });
    try {
      const id = await newSession("github");
      expect((await oauth(await toCallback(id, `chk-${uid(6)}`))).status).toBe(303);
      const cred = (await getSession(id)).credentials[0];
      const check = () => call("POST", `/v1/credentials/${cred.id}/check`, { token: s.alice });
      hits = [];
      expect((await check()).body).toMatchObject({ credential: { status: "active", last_error: null }, check: { result: "works" } });
      expect(hits).toEqual(["/github/userinfo"]);

      fail = (p) => (p.endsWith("/userinfo") ? new Response("upstream trouble", { status: 502 }) : null);
      const down = await check();
      expect(down.body).toMatchObject({ credential: { status: "active", last_error: { code: "server_error" } }, check: { result: "unknown" } });
      expect(down.text).not.toContain("upstream trouble");

      fail = (p) => (p.endsWith("/userinfo") ? new Response("{}", { status: 401 }) : null);
      const refused = await check();
      expect(refused.body).toMatchObject({ credential: { status: "needs_reauth", status_reason: "probe_unauthorized", last_error: { code: "unauthorized" } }, check: { result: "refused" } });
      hits = [];
      expect((await check()).body.check.result).toBe("refused");
      expect(hits).toEqual([]);
      const marked = (await call("GET", `/v1/audit?action=credential.needs_reauth&credential=${cred.id}`, { token: s.alice })).body.entries;
      expect(marked).toHaveLength(1);
      expect(marked[0].detail).toMatchObject({ reason: "probe_unauthorized", to: "needs_reauth" });
    } finally {
      await setVaultEnv({ PROBES: "off" });
    }
  });
});

// ---- issue 11: a provider that hangs (item 6), token generation (13a), names (9), pruning (13c) ----

const setVaultEnv = (extra: Record<string, string | undefined>) =>
  runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, ...extra };
  });
/**
 * The sandbox's fault switch: refresh_token grants park unanswered while on (answered after
 * `answerAfterMs`, from the vault's own request: a promise resolved from the test's context would
 * not resume the vault's fetch).
 */
const hangRefresh = async (on: boolean, answerAfterMs?: number) =>
  (await sandboxOAuth.fetch(new Request("http://sandbox.test/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hang_refresh: on, answer_after_ms: answerAfterMs }) }))).json() as Promise<{ parked: number }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const resolveRef = async (ref: string) => {
  const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { project: "support", consumer: { kind: "workflow", target: "support", id: "step" }, requirements: [{ app: ref.split("/")[0], credential: ref }] } });
  expect(r.status, r.text).toBe(200);
  return r.body.results[0];
};
describe("the resolution cache and a token that falls due with no write (vault/resolution-cache.ts)", () => {
  it("a resolve that refreshes hands out the new access token, not the one cached by the resolves before", async () => {
    const id = await newSession("github");
    provider.nextAccessTtl = 5 * 60 + 2; // two seconds outside the refresh window
    const done = await oauth(await toCallback(id, `due-${uid(6)}`));
    expect(done.status, await done.clone().text()).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    const before = (await openSecret(s.org.id, cred.id)).accessToken;
    // Two resolves while not due: the second answers from the cache.
    for (let i = 0; i < 2; i++) expect(await resolveRef(cred.ref)).toMatchObject({ ok: true, fields: { accessToken: before } });
    await sleep(2_200); // due now, and nothing was written meanwhile
    const after = await resolveRef(cred.ref);
    const stored = (await openSecret(s.org.id, cred.id)).accessToken;
    expect(stored).not.toBe(before);
    expect(after).toMatchObject({ ok: true, fields: { accessToken: stored } });
  });
});

/** A completed connection expiring in a minute (inside the 5-minute refresh window). */
async function expiringConnection(app = "github", login = `slow-${uid(6)}`) {
  const id = await newSession(app);
  provider.nextAccessTtl = 60;
  const done = await oauth(await toCallback(id, login, "project:support", { app }));
  expect(done.status, await done.clone().text()).toBe(303);
  return { login, cred: (await getSession(id)).credentials[0] };
}

describe("a token endpoint that never answers (issue 11 item 6)", () => {
  afterEach(async () => { await hangRefresh(false); });

  it("a resolve answers upstream_error within the timeout, marks nothing and starts one refresh; the late answer is kept", async () => {
    await setVaultEnv({ OUTBOUND_TIMEOUT_MS: "300" });
    const { cred } = await expiringConnection();
    await hangRefresh(true, 1_200);
    hits = [];
    const started = Date.now();
    const first = await resolveRef(cred.ref);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(first).toMatchObject({ ok: false, error: { code: "upstream_error", details: { id: cred.id } } });
    expect(JSON.stringify(first)).not.toMatch(/sbx_(at|rt)_/);
    // Still single-flight: a second resolve waits on the same parked request, it sends no other.
    expect((await resolveRef(cred.ref)).error.code).toBe("upstream_error");
    expect(hits).toEqual(["/github/token"]);
    expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, cred.id)).toEqual([{ status: "active" }]);

    // The provider answers at last: the rotated tokens are stored (the old refresh token is spent).
    await sleep(1_500);
    const ok = await resolveRef(cred.ref);
    expect(ok).toMatchObject({ ok: true, credential: { id: cred.id } });
    expect(hits).toEqual(["/github/token"]);
    const [row] = await vaultSql(s.org.id, `SELECT status, expires_at FROM credentials WHERE id = ?`, cred.id);
    expect(row!.status).toBe("active");
    expect(Number(row!.expires_at)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect((await call("GET", `/v1/audit?action=credential.refresh&credential=${cred.id}`, { token: s.alice })).body.entries).toHaveLength(1);
  });

  it("a refresh answer that lands after a reconnect is dropped: the reconnect's tokens stay (token generation)", async () => {
    await setVaultEnv({ OUTBOUND_TIMEOUT_MS: "300" });
    const { cred, login } = await expiringConnection();
    const refreshesBefore = provider.stats.refresh_token;
    await hangRefresh(true, 1_200);
    expect((await resolveRef(cred.ref)).error.code).toBe("upstream_error"); // the refresh is now in flight

    const again = await newSession("github", { reconnect: cred.ref });
    expect((await oauth(await toCallback(again, login))).status).toBe(303);
    const reconnected = (await openSecret(s.org.id, cred.id)).accessToken;
    expect(reconnected).toMatch(/^sbx_at_/);

    // The refresh's answer lands now, after the reconnect.
    await sleep(1_500);
    const after = await resolveRef(cred.ref);
    expect(provider.stats.refresh_token).toBe(refreshesBefore + 1);
    expect(after).toMatchObject({ ok: true, fields: { accessToken: reconnected } });
    expect((await openSecret(s.org.id, cred.id)).accessToken).toBe(reconnected);
    const refreshes = await call("GET", `/v1/audit?action=credential.refresh&credential=${cred.id}`, { token: s.alice });
    expect(refreshes.body.entries).toEqual([]);
  });
});

describe("a code exchange that never answers (issue 11 item 6)", () => {
  it("the callback answers 502 within the timeout and fails the session; nothing is stored", async () => {
    const id = await newSession("github");
    const callback = await toCallback(id, `hang-${uid(6)}`);
    const before = await credentialRows();
    fail = (p) => (p.endsWith("/token") ? new Promise<Response>(() => undefined) : null);
    // The exchange runs in the vault, under the vault's timeout.
    await setVaultEnv({ OUTBOUND_TIMEOUT_MS: "300" });
    const started = Date.now();
    const res = await oauth(callback);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(502);
    expect(await getSession(id)).toMatchObject({ status: "failed", error: "The provider's token endpoint did not answer within 0.3 s. Nothing was stored." });
    expect(await credentialRows()).toEqual(before);
  });
});

describe("the alarm with a provider that hangs (issue 11 item 6)", () => {
  it("one credential's refresh that never answers delays neither the alarm nor the other credentials' refreshes", async () => {
    await setVaultEnv({ OUTBOUND_TIMEOUT_MS: "300" });
    const connectDue = async (ttl: number) => {
      const id = await newSession("github");
      provider.nextAccessTtl = ttl;
      expect((await oauth(await toCallback(id, `due-${uid(6)}`))).status).toBe(303);
      return (await getSession(id)).credentials[0];
    };
    const stuck = await connectDue(7 * 60); // soonest expiry: refreshed first
    const other = await connectDue(8 * 60);
    const stuckToken = (await openSecret(s.org.id, stuck.id)).refreshToken!;
    fail = async (p, req) => {
      if (!p.endsWith("/token") || new URLSearchParams(await req.text()).get("refresh_token") !== stuckToken) return null;
      return new Promise<Response>(() => undefined); // never answers
    };
    const started = Date.now();
    expect(await runDurableObjectAlarm(vaultOf(s.org.id))).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    const rows = Object.fromEntries((await vaultSql(s.org.id, `SELECT id, status, expires_at FROM credentials WHERE id IN (?, ?)`, stuck.id, other.id)).map((r) => [r.id, r]));
    expect(rows[stuck.id]).toMatchObject({ status: "active", expires_at: Date.parse(stuck.expires_at) });
    expect(rows[other.id]!.status).toBe("active");
    expect(Number(rows[other.id]!.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);
    // The stuck one is looked at again soon, not forgotten.
    const next = await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(next!).toBeLessThan(Date.now() + 60_000);
  });
});

describe("connect names and failures after the state is spent (issue 11 item 9)", () => {
  it("a name already taken at a target is refused at the form with 409 naming `name`; the session stays open", async () => {
    const name = `work-${uid(6)}`;
    const first = await newSession("github");
    expect((await oauth(await toCallback(first, `n1-${uid(6)}`, "project:support", { name }))).status).toBe(303);
    const id = await newSession("github");
    hits = [];
    const refused = await oauth("/oauth/start", form({ csrf: CSRF, session: id, target: "project:support", name }));
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain(`github/project/support/${name}`);
    const rpc = await vaultOf(s.org.id).beginConnect(s.alice, id, { targets: [{ type: "project", project: "support" }], name }, `${ORIGIN}/oauth/callback`);
    expect(rpc).toMatchObject({ ok: false, status: 409, error: { code: "conflict", details: { field: "name" } } });
    expect(await stateRows(id)).toEqual([]);
    expect(hits).toEqual([]);
    expect(await getSession(id)).toMatchObject({ status: "pending" });
    // Another name goes through, in the same session.
    expect((await oauth(await toCallback(id, `n2-${uid(6)}`, "project:support", { name: `${name}-b` }))).status).toBe(303);
  });

  it("a name taken while the member was at the provider gets the next free slug; nothing answers 500", async () => {
    const name = `race-${uid(6)}`;
    const id = await newSession("github");
    const callback = await toCallback(id, `r1-${uid(6)}`, "project:support", { name });
    // Meanwhile another connection took the slug at the same target.
    await vaultSql(s.org.id,
      `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, account, created_by, created_at, updated_at) VALUES (?, 'github', ?, ?, 'project', 'support', 'oauth', 'active', ?, 'system', ?, ?)`,
      `cred_${uid(20)}`, name, name, JSON.stringify({ id: "someone-else" }), Date.now(), Date.now());
    const res = await oauth(callback);
    expect(res.status, await res.clone().text()).toBe(303);
    const done = await getSession(id);
    expect(done.status).toBe("completed");
    expect(done.credentials[0]).toMatchObject({ ref: `github/project/support/${name}-2`, name });
  });

  it("a failure after the code exchange fails the session and revokes the new grant, unless its account is connected here", async () => {
    const owner = `own-${uid(6)}`;
    const other = `oth-${uid(6)}`;
    const a = await newSession("gitlab");
    expect((await oauth(await toCallback(a, owner, "project:support", { app: "gitlab" }))).status).toBe(303);
    const cred = (await getSession(a)).credentials[0];
    const b = await newSession("gitlab");
    expect((await oauth(await toCallback(b, other, "project:growth", { app: "gitlab" }))).status).toBe(303);
    const audit = async () => (await call("GET", `/v1/audit?action=connect.revoke_upstream`, { token: s.alice })).body.entries as { outcome: string; target: string; detail: Record<string, unknown> }[];

    // A reconnect signed in as a stranger: refused, and the stranger's new grant is revoked upstream.
    const stranger = await newSession("gitlab", { reconnect: cred.ref });
    const revokedBefore = provider.stats.revoked;
    hits = [];
    const refused = await oauth(await toCallback(stranger, `str-${uid(6)}`, "project:support", { app: "gitlab" }));
    expect(refused.status).toBe(409);
    expect(await getSession(stranger)).toMatchObject({ status: "failed" });
    expect(hits).toContain("/gitlab/revoke");
    expect(provider.stats.revoked).toBe(revokedBefore + 1);
    expect((await audit()).find((e) => e.target === stranger)).toMatchObject({ outcome: "ok", detail: { app: "gitlab" } });

    // Signed in as an account connected elsewhere in the org: revoking would cut that credential off.
    const known = await newSession("gitlab", { reconnect: cred.ref });
    hits = [];
    expect((await oauth(await toCallback(known, other, "project:support", { app: "gitlab" }))).status).toBe(409);
    expect(hits).not.toContain("/gitlab/revoke");
    expect(provider.stats.revoked).toBe(revokedBefore + 1);
    expect((await audit()).find((e) => e.target === known)).toMatchObject({ outcome: "failed", detail: { skipped: "account_in_use" } });
    expect((await getSession(known)).status).toBe("failed");
  });
});

describe("a connect that finishes after the world changed (audit, 2026-12-01)", () => {
  it("a reconnect whose credential was revoked meanwhile stores nothing: the session fails and the credential stays revoked", async () => {
    const login = `rv-${uid(6)}`;
    const first = await newSession("github");
    expect((await oauth(await toCallback(first, login))).status).toBe(303);
    const cred = (await getSession(first)).credentials[0];
    const again = await newSession("github", { reconnect: cred.ref });
    const callback = await toCallback(again, login);
    const revoked = await call("POST", `/v1/credentials/${encodeURIComponent(cred.ref)}/revoke`, { token: s.alice });
    expect(revoked.status, revoked.text).toBe(200);
    const res = await oauth(callback);
    expect(res.status).toBe(409);
    expect(await getSession(again)).toMatchObject({ status: "failed" });
    expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, cred.id)).toEqual([{ status: "revoked" }]);
    expect(await resolveRef(cred.ref)).toMatchObject({ ok: false, error: { code: "credential_unavailable", details: { status: "revoked" } } });
  });

  it("a member demoted while at the provider's consent page gets no org credential from the callback (403, session failed)", async () => {
    const dan = await addMember(s.org.id, `dan-${uid(6)}@acme.test`, "admin");
    const csrf = await sessionCsrf(dan.token);
    const asDan = { cookie: `ks_session=${dan.token}; ks_csrf=${csrf}` };
    const made = await call("POST", "/v1/connect-sessions", { token: dan.token, body: { app: "github" } });
    expect(made.status, made.text).toBe(201);
    const started = await oauth("/oauth/start", { ...form({ csrf, session: made.body.id, target: "org" }), headers: { ...form({}).headers, ...asDan } });
    expect(started.status, await started.clone().text()).toBe(200);
    const authorize = new URL(providerLink(await started.text()));
    const login = `dem-${uid(6)}`;
    const consent = await sandboxOAuth.fetch(new Request("http://sandbox.test/github/authorize", form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login })));
    const back = new URL(consent.headers.get("location")!);
    expect((await call("PATCH", `/v1/members/${dan.id}`, { token: s.alice, body: { role: "builder" } })).status).toBe(200);
    const res = await oauth(back.pathname + back.search, { headers: asDan });
    expect(res.status).toBe(403);
    expect(await vaultSql(s.org.id, `SELECT id FROM credentials WHERE json_extract(account, '$.id') = ?`, `sbx-${login}`)).toEqual([]);
    expect((await call("GET", `/v1/connect-sessions/${made.body.id}`, { token: dan.token })).body).toMatchObject({ status: "failed" });
  });

  it("a refused reconnect or account change is audited as a denied connect.start", async () => {
    const denied = async () => (await vaultSql(s.org.id, `SELECT detail FROM audit WHERE action = 'connect.start' AND outcome = 'denied'`)).length;
    const before = await denied();
    const dan = await addMember(s.org.id, `dan2-${uid(6)}@acme.test`, "builder");
    const login = `acct-${uid(6)}`;
    const first = await newSession("github");
    expect((await oauth(await toCallback(first, login, "org"))).status).toBe(303);
    const orgCred = (await getSession(first)).credentials[0];
    expectError(await call("POST", "/v1/connect-sessions", { token: dan.token, body: { app: "github", reconnect: orgCred.ref } }), 403, "forbidden");
    expectError(await call("POST", "/v1/connect-sessions", { token: dan.token, body: { app: "github", allow_account_change: true } }), 403, "forbidden", "allow_account_change");
    expect(await denied()).toBe(before + 2);
  });

  it("two callbacks of one session storing at once (two tabs) store one credential, named in the session", async () => {
    const id = await newSession("github");
    await toCallback(id, `tabs-${uid(6)}`); // the state the callbacks consume
    const account = { id: `sbx-tabs-${uid(6)}`, name: "Tabs" };
    const outcomes = await runInDurableObject(vaultOf(s.org.id), async (_i, state) => {
      const ctx = { storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: parseKeyring(env.VAULT_KEYS), now: Date.now() };
      const p = loadPrincipal(ctx, String(state.storage.sql.exec(`SELECT member_id FROM connect_sessions WHERE id = ?`, id).one().member_id));
      const actor = { kind: "user" as const, tokenId: "test", principal: p };
      const stateHash = String(state.storage.sql.exec(`SELECT state_hash FROM oauth_states WHERE session_id = ?`, id).one().state_hash);
      const st = await consumeState(ctx, p, stateHash);
      const tokens = { accessToken: `at-${uid(8)}`, refreshToken: null, expiresAt: null, scopes: [] };
      // Both plan before either writes: each seals its tokens (an await) before its transaction.
      return Promise.allSettled([storeConnection(ctx, actor, p, st, tokens, account), storeConnection(ctx, actor, p, { ...st }, tokens, account)]);
    });
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const live = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE app = 'github' AND status != 'revoked' AND json_extract(account, '$.id') = ?`, account.id);
    expect(live).toHaveLength(1);
    expect(await getSession(id)).toMatchObject({ status: "completed", credentials: [{ id: live[0]!.id }] });
  });

  it("an API-key connect form submitted twice at once stores the winner's key only; the other is refused and writes nothing", async () => {
    const id = await newSession("exa");
    const choice = { targets: [{ type: "project" as const, project: "support" }], name: `twice-${uid(6)}` };
    const keys = [`exa-one-${uid(12)}`, `exa-two-${uid(12)}`];
    // Both submits pass the session check before either writes (sealing awaits in between).
    const answers = await runInDurableObject(vaultOf(s.org.id), async (_i, state) => {
      const ctx = { storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: parseKeyring(env.VAULT_KEYS), now: Date.now() };
      const p = loadPrincipal(ctx, String(state.storage.sql.exec(`SELECT member_id FROM connect_sessions WHERE id = ?`, id).one().member_id));
      const actor = { kind: "user" as const, tokenId: "test", principal: p };
      const settled = await Promise.allSettled(keys.map((apiKey) => completeWithFields(ctx, actor, p, id, choice, { apiKey })));
      return settled.map((o) => (o.status === "fulfilled" ? { ok: true as const } : { ok: false as const, code: (o.reason as { code?: string }).code }));
    });
    expect(answers.map((a) => a.ok).sort()).toEqual([false, true]);
    const won = answers.findIndex((a) => a.ok);
    expect(answers[1 - won]).toMatchObject({ ok: false, code: "conflict" });
    const session = await getSession(id);
    expect(session).toMatchObject({ status: "completed", credentials: [{ id: expect.any(String) }] });
    expect((await openSecret(s.org.id, session.credentials[0].id)).apiKey).toBe(keys[won]);
    expect(await vaultSql(s.org.id, `SELECT action FROM audit WHERE credential_id = ? AND action LIKE 'credential.%'`, session.credentials[0].id)).toEqual([{ action: "credential.create" }]);
  });

  it("a revoke tells the provider the newest refresh token when a refresh rotated it while the old one was being read", async () => {
    const id = await newSession("github");
    expect((await oauth(await toCallback(id, `rot-${uid(6)}`))).status).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    expect((await openSecret(s.org.id, cred.id)).refreshToken).toBeTruthy();
    const newest = `rt-newest-${uid(8)}`;
    const told = await runInDurableObject(vaultOf(s.org.id), async (_i, state) => {
      const ctx = { storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: parseKeyring(env.VAULT_KEYS), now: Date.now() };
      const p = loadPrincipal(ctx, String(state.storage.sql.exec(`SELECT member_id FROM connect_sessions WHERE id = ?`, id).one().member_id));
      const sealed = await seal(ctx.ring, s.org.id, newest, credentialAad(s.org.id, cred.id, "refreshToken"));
      let seen: Record<string, string> | null = null;
      const revoking = revokeCredential(ctx, { kind: "user", tokenId: "test", principal: p }, p, cred.ref, async (_app, tokens) => ((seen = tokens), true));
      // A rotating refresh commits while the revoke is still opening the old tokens.
      state.storage.sql.exec(`UPDATE secret_fields SET sealed = ? WHERE credential_id = ? AND field = 'refreshToken'`, sealed, cred.id);
      state.storage.sql.exec(`UPDATE credentials SET token_generation = token_generation + 1 WHERE id = ?`, cred.id);
      await revoking;
      return seen as Record<string, string> | null;
    });
    expect(told?.refreshToken).toBe(newest);
  });

  it("a resolve whose own refresh finds the grant revoked gives the reconnect fix, not 'run it again'", async () => {
    const id = await newSession("github");
    provider.nextAccessTtl = 60; // inside the refresh window: the resolve refreshes
    const done = await oauth(await toCallback(id, `ig-${uid(6)}`));
    expect(done.status).toBe(303);
    const cred = (await getSession(id)).credentials[0];
    fail = (p) => (p.endsWith("/token") ? Response.json({ error: "bad_refresh_token", error_description: "revoked" }) : null);
    const refused = await resolveRef(cred.ref);
    expect(refused).toMatchObject({ ok: false, error: { code: "credential_unavailable", details: { id: cred.id, status: "needs_reauth", status_reason: "invalid_grant" } } });
    expect(refused.error.fix).toContain(`--reconnect ${cred.ref}`);
  });
});

describe("the connect flow runs in the vault (issue 12 build 3)", () => {
  /** The oauth worker's door, recording each call it makes and the answer it gets back. */
  const recordingDoor = () => {
    const calls: { method: string; answer: unknown }[] = [];
    const real = env.OAUTH_DOOR as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const door = new Proxy({}, {
      get(_t, method) {
        if (typeof method !== "string" || method === "then") return undefined;
        return async (...args: unknown[]) => {
          const answer = await real[method]!(...args);
          calls.push({ method, answer });
          return answer;
        };
      },
    });
    return { door, calls };
  };
  /** The sealed PKCE verifier of the session's state, opened as the vault would. */
  const verifierOf = (session: string) =>
    runInDurableObject(vaultOf(s.org.id), async (_i, state) => {
      const row = state.storage.sql.exec(`SELECT state_hash, verifier FROM oauth_states WHERE session_id = ?`, session).one();
      return open(parseKeyring(env.VAULT_KEYS), s.org.id, String(row.verifier), `${s.org.id}|oauth_state|${String(row.state_hash)}`);
    });
  const SECRET = "keystroke-dev-secret";

  it("/oauth/start and /oauth/callback make one vault call each; no answer holds the client secret, the verifier or the tokens", async () => {
    const id = await newSession("github");
    const start = recordingDoor();
    const started = await oauth("/oauth/start", form({ csrf: CSRF, session: id, target: "project:support" }), start.door);
    expect(started.status, await started.clone().text()).toBe(200);
    expect(start.calls.map((c) => c.method)).toEqual(["beginConnect"]);
    const verifier = await verifierOf(id);
    expect(verifier.length).toBeGreaterThanOrEqual(43);
    const authorize = new URL(providerLink(await started.text()));
    const consent = await sandboxOAuth.fetch(new Request("http://sandbox.test/github/authorize", form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login: `one-${uid(6)}` })));
    const back = new URL(consent.headers.get("location")!);

    const finish = recordingDoor();
    const done = await oauth(back.pathname + back.search, {}, finish.door);
    expect(done.status, await done.clone().text()).toBe(303);
    expect(finish.calls.map((c) => c.method)).toEqual(["finishConnect"]);
    const tokens = await openSecret(s.org.id, (await getSession(id)).credentials[0].id);
    for (const said of [JSON.stringify(start.calls), JSON.stringify(finish.calls)]) {
      expect(said).not.toContain(SECRET);
      expect(said).not.toContain(verifier);
      expect(said).not.toContain(tokens.accessToken!);
    }
  });

  it("a declined consent is one call too: the failure page's header comes with the answer", async () => {
    const id = await newSession("github");
    const callback = new URL(ORIGIN + (await toCallback(id, `no-${uid(6)}`)));
    callback.searchParams.delete("code");
    callback.searchParams.set("error", "access_denied");
    const rec = recordingDoor();
    const res = await oauth(callback.pathname + callback.search, {}, rec.door);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("You declined access at github; nothing was stored.");
    expect(html).toContain("alice@acme.test");
    expect(rec.calls.map((c) => c.method)).toEqual(["finishConnect"]);
    expect(await getSession(id)).toMatchObject({ status: "failed", error: "You declined access at github; nothing was stored." });
  });
  it("a refused choice at /oauth/start shows the form again from one call", async () => {
    const id = await newSession("github");
    const rec = recordingDoor();
    const res = await oauth("/oauth/start", form({ csrf: CSRF, session: id, name: "Typed" }), rec.door);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('action="/oauth/start"');
    expect(html).toContain("alice@acme.test");
    expect(html).toContain("Choose where the connection will be available.");
    // The vault checks the choice (the worker bundles no zod) and answers the form with the refusal.
    expect(rec.calls.map((c) => c.method)).toEqual(["beginConnect"]);
    const named = await oauth("/oauth/start", form({ csrf: CSRF, session: id, target: "org", name: "bad\u001b[31mname" }), rec.door);
    expect(named.status).toBe(400);
    const namedHtml = await named.text();
    expect(namedHtml).toContain("Check the name:");
    expect(namedHtml).toContain('action="/oauth/start"');
    expect(rec.calls.map((c) => c.method)).toEqual(["beginConnect", "beginConnect"]);
    expect(await stateRows(id)).toEqual([]);
  });

  it("beginConnect checks the choice itself: a call that skips the worker's form gets the same refusals and stores no state", async () => {
    const id = await newSession("github");
    const vault = vaultOf(s.org.id);
    const none = await vault.beginConnect(s.alice, id, { targets: [] }, `${ORIGIN}/oauth/callback`);
    expect(none).toMatchObject({ ok: false, status: 400, error: { code: "invalid_request", message: "Choose where the connection will be available.", details: { field: "target" } }, viewer: { member: { email: "alice@acme.test" } }, form: { ok: true, value: { session: { id } } } });
    const badName = await vault.beginConnect(s.alice, id, { targets: [{ type: "org" }], name: "x\u202ey" }, `${ORIGIN}/oauth/callback`);
    expect(badName).toMatchObject({ ok: false, status: 400, error: { code: "invalid_request", details: { field: "name" } } });
    expect((badName as { error: { message: string } }).error.message).toMatch(/^Check the name: /);
    const unknownKey = await vault.beginConnect(s.alice, id, { targets: [{ type: "org" }], extra: 1 } as never, `${ORIGIN}/oauth/callback`);
    expect(unknownKey).toMatchObject({ ok: false, status: 400, error: { details: { field: "target" } } });
    expect(await stateRows(id)).toEqual([]);
    expect(await getSession(id)).toMatchObject({ status: "pending" });
  });
});

describe("retention of connect sessions and OAuth states (issue 11 item 13)", () => {
  it("sessions 7 days and states 1 day past expiry are deleted when a session starts; recent ones stay", async () => {
    const old = await newSession("github");
    await toCallback(old, `old-${uid(6)}`);
    const recent = await newSession("github");
    await toCallback(recent, `rec-${uid(6)}`);
    const day = 24 * 60 * 60_000;
    await vaultSql(s.org.id, `UPDATE connect_sessions SET expires_at = ? WHERE id = ?`, Date.now() - 8 * day, old);
    await vaultSql(s.org.id, `UPDATE oauth_states SET expires_at = ? WHERE session_id = ?`, Date.now() - 8 * day, old);
    await vaultSql(s.org.id, `UPDATE connect_sessions SET expires_at = ? WHERE id = ?`, Date.now() - 6 * day, recent);
    await vaultSql(s.org.id, `UPDATE oauth_states SET expires_at = ? WHERE session_id = ?`, Date.now() - 2 * day, recent);

    await newSession("exa");
    expect(await vaultSql(s.org.id, `SELECT id FROM connect_sessions WHERE id IN (?, ?)`, old, recent)).toEqual([{ id: recent }]);
    expect(await vaultSql(s.org.id, `SELECT session_id FROM oauth_states WHERE session_id IN (?, ?)`, old, recent)).toEqual([]);
    expect((await call("GET", `/v1/connect-sessions/${old}`, { token: s.alice })).status).toBe(404);
    expect(await getSession(recent)).toMatchObject({ status: "failed", error: "The connect session expired." });
  });
});

describe("offboarding (issue 13 build 2)", () => {
  it("removing a member revokes their OAuth user credential at the provider, after the transaction, audited", async () => {
    // A builder made through the production path: invited, accepted (which answers a web session).
    const email = `off-${uid(6)}@acme.test`;
    const inv = await call("POST", "/v1/invitations", { token: s.alice, body: { email, role: "builder" } });
    expect(inv.status, inv.text).toBe(201);
    const accepted = await vaultOf(s.org.id).acceptInvitation(String(inv.body.url).split("/").pop()!.split(".").slice(1).join("."), [email]);
    if (!accepted.ok) throw new Error(JSON.stringify(accepted.error));
    const token = accepted.value.session.token;
    const csrf = await sessionCsrf(token);
    const theirs = { cookie: `ks_session=${token}; ks_csrf=${csrf}` };
    const cs = await call("POST", "/v1/connect-sessions", { token, body: { app: "gitlab" } });
    expect(cs.status, cs.text).toBe(201);
    const f = form({ csrf, session: cs.body.id, target: "user" });
    const started = await oauth("/oauth/start", { ...f, headers: { ...f.headers, ...theirs } });
    expect(started.status, await started.clone().text()).toBe(200);
    const authorize = new URL(providerLink(await started.text()));
    const consent = await sandboxOAuth.fetch(new Request("http://sandbox.test/gitlab/authorize", form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login: `off-${uid(4)}` })));
    const back = new URL(consent.headers.get("location")!);
    const done = await oauth(back.pathname + back.search, { headers: theirs });
    expect(done.status, await done.clone().text()).toBeLessThan(400);
    const [cred] = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE scope_type = 'user' AND scope_id = ? AND app = 'gitlab' AND status = 'active'`, accepted.value.member.id);
    expect(cred).toBeDefined();

    const revokedBefore = provider.stats.revoked;
    hits = [];
    const removed = await call("DELETE", `/v1/members/${accepted.value.member.id}`, { token: s.alice });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body.credentials_revoked).toBe(1);
    expect(hits).toContain("/gitlab/revoke");
    expect(provider.stats.revoked).toBe(revokedBefore + 1);
    expect((await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, String(cred!.id)))[0]!.status).toBe("revoked");
    const audit = await vaultSql(s.org.id, `SELECT outcome FROM audit WHERE action = 'credential.revoke_upstream' AND credential_id = ?`, String(cred!.id));
    expect(audit).toEqual([{ outcome: "ok" }]);
  });
});
