import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import oauthWorker from "../../workers/oauth/src/index";
import { provider, sandboxOAuth } from "../../workers/dev/src/sandbox/oauth";
import { call, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";

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
const CSRF = "0123456789abcdef0123456789abcdef";
const ORIGIN = "http://localhost:8787";

const UPSTREAM: Record<string, string> = {
  "https://github.com/login/oauth/access_token": "/github/token",
  "https://api.github.com/user": "/github/userinfo",
};
/** Calls that reached the fake provider, by sandbox path; `fail` answers instead of the sandbox. */
let hits: string[] = [];
let fail: ((path: string) => Response | Promise<Response> | null) | null = null;

beforeAll(async () => {
  s = await seed();
});
beforeEach(async () => {
  hits = [];
  fail = null;
  await runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, OAUTH_CLIENTS: JSON.stringify({ github: { id: "keystroke-dev", secret: "keystroke-dev-secret" } }) };
  });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const path = UPSTREAM[req.url.split("?")[0]!];
    if (!path) return new Response("unexpected upstream call", { status: 599 });
    hits.push(path);
    const failed = fail ? await fail(path) : null;
    return failed ?? sandboxOAuth.fetch(new Request(`http://sandbox.test${path}`, req));
  });
});
afterEach(() => vi.restoreAllMocks());

const cookie = (token = s.alice) => `ks_session=${token}; ks_csrf=${CSRF}`;
const oauth = (path: string, init: RequestInit = {}) => oauthWorker.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: cookie(), ...init.headers } }), env);
const page = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(ORIGIN + path, { ...init, headers: { cookie: cookie(), ...init.headers } }));
const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });

const newSession = async (app: string) => {
  const res = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app } });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
};
const getSession = async (id: string) => (await call("GET", `/v1/connect-sessions/${id}`, { token: s.alice })).body;
const credentialRows = () => vaultSql(s.org.id, `SELECT id, status, expires_at FROM credentials ORDER BY id`);
const stateRows = (session: string) => vaultSql(s.org.id, `SELECT state_hash, consumed_at FROM oauth_states WHERE session_id = ?`, session);

/** /oauth/start then the sandbox's consent page (approve as `login`): the callback path. */
async function toCallback(session: string, login: string, target = "project:support"): Promise<string> {
  const started = await oauth("/oauth/start", form({ csrf: CSRF, session, target }));
  expect(started.status, await started.clone().text()).toBe(302);
  const authorize = new URL(started.headers.get("location")!);
  expect(authorize.origin + authorize.pathname).toBe("https://github.com/login/oauth/authorize");
  const consent = await sandboxOAuth.fetch(new Request("http://sandbox.test/github/authorize", form({ ...Object.fromEntries(authorize.searchParams), decision: "approve", login })));
  const back = new URL(consent.headers.get("location")!);
  expect(back.origin + back.pathname).toBe(`${ORIGIN}/oauth/callback`);
  return back.pathname + back.search;
}

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
    fail = (p) => (p.endsWith("/token") ? Response.json({ error: "invalid_grant", error_description: "revoked" }, { status: 400 }) : null);
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
  });
});
