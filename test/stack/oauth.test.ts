import { beforeAll, describe, expect, inject, it } from "vitest";
import { api, consent, dance, Jar, newSession, resolveRuntime, sandbox, signIn, start } from "./oauth-helpers";

/**
 * The OAuth connect flow and token lifecycle over real HTTP against `npm run dev` and its sandbox
 * provider (issue 4). One file on purpose: the sandbox's stats and its one-shot token lifetime are
 * global to the stack, so these tests must not run in parallel with each other.
 */
const { baseUrl, seed } = inject("stack");
const tokenOf = (email: string) => seed.users.find((u) => u.email === email)!.token;
const alice = tokenOf("alice@acme.test");
const carol = tokenOf("carol@acme.test");
const runtime = seed.runtime_token;

let aliceWeb: Jar;
let carolWeb: Jar;
beforeAll(async () => {
  aliceWeb = await signIn(baseUrl, "alice@acme.test");
  carolWeb = await signIn(baseUrl, "carol@acme.test");
});

const enc = encodeURIComponent;
const session = async (id: string, token = alice) => (await api(baseUrl, "GET", `/v1/connect-sessions/${id}`, token)).body;
const credential = async (ref: string) => api(baseUrl, "GET", `/v1/credentials/${enc(ref)}`, alice);
/** Every credential row of the org (alice is the owner: she sees them all), to prove nothing was stored. */
const allCredentials = async () => JSON.stringify((await api(baseUrl, "GET", "/v1/credentials", alice)).body.credentials);
const audit = async (action: string, credentialId?: string) =>
  (await api(baseUrl, "GET", `/v1/audit?action=${enc(action)}${credentialId ? `&credential=${credentialId}` : ""}`, alice)).body.entries as any[];

/** Resolves one explicit credential for a run of project `project`; answers the result row. */
async function resolveRef(ref: string, project = "support") {
  const res = await api(baseUrl, "POST", "/v1/runtime/resolve", runtime, {
    project,
    consumer: { kind: "workflow", target: project, id: "step" },
    requirements: [{ app: ref.split("/")[0], credential: ref }],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.results[0];
}

/** A completed connection: a new session for `app`, approved as `login`, stored at `targets`. */
async function connect(app: string, login: string, name: string, targets: string[], jar = aliceWeb, token = alice) {
  const id = await newSession(baseUrl, token, { app });
  const d = await dance(jar, id, { targets, login, name });
  expect(d.callback.status, d.text).toBe(303);
  expect(d.callback.headers.get("location")).toBe(`/apps?connected=${id}`);
  const s = await session(id, token);
  expect(s.status).toBe("completed");
  return { id, credential: s.credentials[0], dance: d };
}

describe("token refresh: single-flight", () => {
  it("100 concurrent resolves of an expired token cause exactly one refresh; all get the same working token", async () => {
    await sandbox.nextTtl(baseUrl, 1);
    const { credential: c } = await connect("github", "burst", "burst", ["project:support"]);
    expect(c.ref).toBe("github/project/support/burst");
    await new Promise((r) => setTimeout(r, 1_200)); // the access token has now expired
    expect(Date.parse((await credential(c.ref)).body.expires_at)).toBeLessThan(Date.now());

    const before = await sandbox.stats(baseUrl);
    const results = await Promise.all(Array.from({ length: 100 }, () => resolveRef(c.ref)));
    const after = await sandbox.stats(baseUrl);

    expect(after.refresh_token - before.refresh_token).toBe(1);
    expect(after.reuse_detected - before.reuse_detected).toBe(0);
    expect(results.every((r) => r.ok === true && r.credential.id === c.id)).toBe(true);
    const tokens = new Set(results.map((r) => r.fields.accessToken));
    expect(tokens.size).toBe(1);
    const [fresh] = tokens;
    expect(fresh).toMatch(/^sbx_at_/);

    // The family is alive: the fresh token works upstream, and the credential now lives an hour.
    const who = await sandbox.userinfo(baseUrl, "github", fresh!);
    expect(who.status).toBe(200);
    expect(who.body.login).toBe("burst");
    const row = (await credential(c.ref)).body;
    expect(row.status).toBe("active");
    expect(Date.parse(row.expires_at)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect((await audit("credential.refresh", c.id)).length).toBe(1);

    // A later resolve needs no refresh and hands out the same token.
    expect((await resolveRef(c.ref)).fields.accessToken).toBe(fresh);
    expect((await sandbox.stats(baseUrl)).refresh_token).toBe(after.refresh_token);
  });
});

describe("failure paths: rejected, nothing stored", () => {
  it("denied consent: the session fails with a readable reason", async () => {
    const before = await allCredentials();
    const id = await newSession(baseUrl, alice, { app: "github" });
    const d = await dance(aliceWeb, id, { decision: "deny", login: "nobody" });
    expect(d.callbackUrl.searchParams.get("error")).toBe("access_denied");
    expect(d.callback.status).toBe(400);
    expect(d.text).toContain("You declined access at github; nothing was stored.");
    const s = await session(id);
    expect(s).toMatchObject({ status: "failed", error: "You declined access at github; nothing was stored." });
    expect(s.credentials).toBeUndefined();
    expect(await allCredentials()).toBe(before);
    // The form refuses a finished session.
    const page = await aliceWeb.fetch(`/connect/${id}`);
    expect(await page.text()).toContain("You declined access");
    const again = await aliceWeb.post("/oauth/start", { csrf: aliceWeb.csrf, session: id, target: "project:support" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("This connect session failed: You declined access");
  });

  it("a tampered state is rejected and stores nothing", async () => {
    const before = await allCredentials();
    const id = await newSession(baseUrl, alice, { app: "github" });
    const callback = await consent(aliceWeb, await start(aliceWeb, id, ["project:support"]), "approve", "tamper");
    const state = callback.searchParams.get("state")!;
    const forged = new URL(callback);
    forged.searchParams.set("state", state.slice(0, -4) + (state.endsWith("AAAA") ? "BBBB" : "AAAA"));
    const res = await aliceWeb.fetch(forged.pathname + forged.search);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("This sign-in link is unknown or was already used.");
    const malformed = await aliceWeb.fetch(`/oauth/callback?state=nodot&code=x`);
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain("malformed");
    expect((await session(id)).status).not.toBe("completed");
    expect(await allCredentials()).toBe(before);
  });

  it("a reused state: the replay after success is rejected and the session stays completed", async () => {
    const { id, dance: d } = await connect("github", "replay", "replay", ["project:growth"]);
    const before = await allCredentials();
    const replay = await aliceWeb.fetch(d.callbackUrl.pathname + d.callbackUrl.search);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("This sign-in link is unknown or was already used.");
    const s = await session(id);
    expect(s.status).toBe("completed");
    expect(s.credentials.map((c: any) => c.ref)).toEqual(["github/project/growth/replay"]);
    expect(await allCredentials()).toBe(before);
  });

  it("a code the token endpoint refuses (invalid_grant): the session fails, nothing stored", async () => {
    const before = await allCredentials();
    const id = await newSession(baseUrl, alice, { app: "github" });
    const callback = await consent(aliceWeb, await start(aliceWeb, id, ["project:support"]), "approve", "badcode");
    callback.searchParams.set("code", callback.searchParams.get("code") + "x");
    const res = await aliceWeb.fetch(callback.pathname + callback.search);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("The provider refused the code exchange: invalid_grant.");
    const s = await session(id);
    expect(s.status).toBe("failed");
    expect(s.error).toBe("The provider refused the code exchange: invalid_grant. Nothing was stored.");
    expect(await allCredentials()).toBe(before);
  });

  it("a callback without the session cookie, or as another member, is rejected", async () => {
    const before = await allCredentials();
    const id = await newSession(baseUrl, alice, { app: "github" });
    const callback = await consent(aliceWeb, await start(aliceWeb, id, ["project:support"]), "approve", "stolen");
    const path = callback.pathname + callback.search;

    const anonymous = await new Jar(baseUrl).fetch(path);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain("Sign in as the member who started this connection");

    const asCarol = await carolWeb.fetch(path);
    expect(asCarol.status).toBe(403);
    expect(await asCarol.text()).toContain("This connection was started by someone else.");
    // The link has been seen by another member: it is spent, and the session says so.
    const s = await session(id);
    expect(s.status).toBe("failed");
    expect(s.error).toMatch(/another member/);
    const late = await aliceWeb.fetch(path);
    expect(late.status).toBe(400);
    expect(await allCredentials()).toBe(before);
    // Carol cannot even see alice's session.
    expect((await api(baseUrl, "GET", `/v1/connect-sessions/${id}`, carol)).status).toBe(404);
  });
});

describe("connect names and failures after consent (issue 11 item 9)", () => {
  it("a name taken at the target is refused on the form (409) and the session stays open; a refused account's new grant is revoked upstream", async () => {
    const { credential: c } = await connect("google", "named", "taken-name", ["project:support"]);
    expect(c.ref).toBe("google/project/support/taken-name");
    const id = await newSession(baseUrl, alice, { app: "google" });
    expect((await aliceWeb.fetch(`/connect/${id}`)).status).toBe(200);
    const refused = await aliceWeb.post("/oauth/start", { csrf: aliceWeb.csrf, session: id, target: "project:support", name: "Taken name" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("google/project/support/taken-name");
    expect((await session(id)).status).toBe("pending");
    const other = await dance(aliceWeb, id, { targets: ["project:support"], login: "named2", name: "other-name" });
    expect(other.callback.status, other.text).toBe(303);
    expect((await session(id)).credentials[0].ref).toBe("google/project/support/other-name");

    // A reconnect signed in as another account: refused, and that account's new tokens do not stay live upstream.
    const before = await sandbox.stats(baseUrl);
    const wrong = await newSession(baseUrl, alice, { app: "google", reconnect: c.ref });
    const d = await dance(aliceWeb, wrong, { targets: ["project:support"], login: "interloper" });
    expect(d.callback.status).toBe(409);
    expect((await session(wrong)).status).toBe("failed");
    expect((await sandbox.stats(baseUrl)).revoked).toBe(before.revoked + 1);
    expect((await audit("connect.revoke_upstream")).find((e) => e.target === wrong)).toMatchObject({ outcome: "ok" });
  });
});

describe("reconnect", () => {
  it("keeps the id, default flag and assignments, with new tokens; another account is refused unless an admin allows it", async () => {
    const { credential: c } = await connect("gitlab", "recon", "main", ["org"]);
    expect(c.ref).toBe("gitlab/org/main");
    expect((await api(baseUrl, "PATCH", `/v1/credentials/${enc(c.ref)}`, alice, { default: true })).body.default).toBe(true);
    const put = await api(baseUrl, "PUT", "/v1/assignments", alice, { kind: "workflow", target: "growth", consumer: "deploy", credential: c.ref });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const assignments = async () => (await api(baseUrl, "GET", "/v1/assignments?kind=workflow&target=growth", alice)).body.assignments;
    const pinned = JSON.stringify(await assignments());
    const oldToken = (await resolveRef(c.ref, "growth")).fields.accessToken;

    // Same account: same credential, new tokens.
    const same = await newSession(baseUrl, alice, { app: "gitlab", reconnect: c.ref });
    expect((await session(same)).reconnect).toBe(c.ref);
    const page = await (await aliceWeb.fetch(`/connect/${same}`)).text();
    expect(page).toContain("New tokens go into the same credential");
    const d = await dance(aliceWeb, same, { targets: ["org"], login: "recon" });
    expect(d.callback.status, d.text).toBe(303);
    const done = await session(same);
    expect(done.status).toBe("completed");
    expect(done.credentials.map((x: any) => x.id)).toEqual([c.id]);
    const after = (await credential(c.ref)).body;
    expect(after).toMatchObject({ id: c.id, default: true, status: "active", account: { id: "sbx-recon" } });
    expect(after.rotated_at).not.toBeNull();
    expect(JSON.stringify(await assignments())).toBe(pinned);
    const newToken = (await resolveRef(c.ref, "growth")).fields.accessToken;
    expect(newToken).not.toBe(oldToken);
    expect((await sandbox.userinfo(baseUrl, "gitlab", newToken)).status).toBe(200);
    expect((await audit("credential.reconnect", c.id)).length).toBe(1);
    expect((await api(baseUrl, "GET", `/v1/credentials?app=gitlab`, alice)).body.credentials).toHaveLength(1);

    // Another account: refused, the credential unchanged.
    const unchanged = JSON.stringify((await credential(c.ref)).body);
    const other = await newSession(baseUrl, alice, { app: "gitlab", reconnect: c.ref });
    const refused = await dance(aliceWeb, other, { targets: ["org"], login: "intruder" });
    expect(refused.callback.status).toBe(409);
    const failed = await session(other);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("You signed in as intruder, but this credential belongs to recon.");
    expect(JSON.stringify((await credential(c.ref)).body)).toBe(unchanged);
    expect((await resolveRef(c.ref, "growth")).fields.accessToken).toBe(newToken);

    // An owner/admin may allow the switch.
    const allowed = await newSession(baseUrl, alice, { app: "gitlab", reconnect: c.ref, allow_account_change: true });
    const switched = await dance(aliceWeb, allowed, { targets: ["org"], login: "newowner" });
    expect(switched.callback.status, switched.text).toBe(303);
    expect((await credential(c.ref)).body).toMatchObject({ id: c.id, default: true, account: { id: "sbx-newowner" } });
    expect(JSON.stringify(await assignments())).toBe(pinned);
  });

  it("a builder may not allow an account change, nor reconnect what she cannot manage", async () => {
    const { credential: mine } = await connect("github", "carol-gh", "carol", ["user"], carolWeb, carol);
    expect(mine.scope.type).toBe("user");
    const ask = await api(baseUrl, "POST", "/v1/connect-sessions", carol, { app: "github", reconnect: mine.id, allow_account_change: true });
    expect(ask.status).toBe(403);
    expect(ask.body.error).toMatchObject({ code: "forbidden", details: { field: "allow_account_change" } });
    // Her own credential she may reconnect (same account).
    expect((await api(baseUrl, "POST", "/v1/connect-sessions", carol, { app: "github", reconnect: mine.id })).status).toBe(201);
    const org = await api(baseUrl, "POST", "/v1/connect-sessions", carol, { app: "gitlab", reconnect: "gitlab/org/main" });
    expect(org.status).toBe(403);
    expect(org.body.error.code).toBe("forbidden");
  });
});

describe("token lifecycle failures and revoke", () => {
  it("invalid_grant on refresh marks the credential needs_reauth, with an audit row; a reconnect heals it", async () => {
    await sandbox.nextTtl(baseUrl, 60);
    const { credential: c } = await connect("github", "doomed", "doomed", ["project:growth"]);
    // Expiring within 5 minutes: the first resolve refreshes (and gets another 60 s token).
    await sandbox.nextTtl(baseUrl, 60);
    const first = await resolveRef(c.ref, "growth");
    expect(first.ok).toBe(true);
    // The provider revokes the whole token family (an admin removed the app upstream).
    const before = await sandbox.stats(baseUrl);
    await fetch(`${baseUrl}/_sandbox/oauth/github/revoke`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${first.fields.accessToken}` });
    expect((await sandbox.stats(baseUrl)).revoked).toBe(before.revoked + 1);

    const second = await resolveRef(c.ref, "growth");
    expect(second.ok).toBe(false);
    expect(second.error).toMatchObject({ code: "credential_unavailable" });
    expect(JSON.stringify(second)).not.toContain("sbx_at_");
    expect((await credential(c.ref)).body.status).toBe("needs_reauth");
    const rows = await audit("credential.needs_reauth", c.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: "failed", credential: c.id });
    expect(String(rows[0].detail.reason)).toContain("invalid_grant");
    // Never handed out again, and no further refresh is attempted.
    const third = await resolveRef(c.ref, "growth");
    expect(third).toMatchObject({ ok: false, error: { code: "credential_unavailable" } });
    expect((await sandbox.stats(baseUrl)).refresh_token).toBe(before.refresh_token + 1);

    const heal = await newSession(baseUrl, alice, { app: "github", reconnect: c.ref });
    expect((await dance(aliceWeb, heal, { targets: ["project:growth"], login: "doomed" })).callback.status).toBe(303);
    expect((await credential(c.ref)).body.status).toBe("active");
    const healed = await resolveRef(c.ref, "growth");
    expect((await sandbox.userinfo(baseUrl, "github", healed.fields.accessToken)).status).toBe(200);
  });

  it("revoking a connection of a provider with a revoke endpoint revokes it upstream too", async () => {
    // google in the sandbox: PKCE, and a revoke endpoint.
    const { credential: c, dance: d } = await connect("google", "gg", "gg", ["project:support"]);
    expect(d.authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(c.account).toMatchObject({ id: "sbx-gg", email: "gg@sandbox.test" });
    const token = (await resolveRef(c.ref)).fields.accessToken;
    expect((await sandbox.userinfo(baseUrl, "google", token)).status).toBe(200);

    const before = await sandbox.stats(baseUrl);
    const res = await api(baseUrl, "POST", `/v1/credentials/${enc(c.ref)}/revoke`, alice);
    expect(res.body).toMatchObject({ id: c.id, status: "revoked" });
    expect((await sandbox.stats(baseUrl)).revoked).toBe(before.revoked + 1);
    expect((await sandbox.userinfo(baseUrl, "google", token)).status).toBe(401);
    const rows = await audit("credential.revoke_upstream", c.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].outcome).toBe("ok");
    // A revoked credential cannot be reconnected.
    expect((await api(baseUrl, "POST", "/v1/connect-sessions", alice, { app: "google", reconnect: c.id })).status).toBe(400);
  });

  it("the default runtime resolve by app finds the project's connection", async () => {
    const r = await resolveRuntime(baseUrl, runtime, "github", "support");
    expect(r.status).toBe(200);
    // Project support's only github connection (carol's user connection is not used by a project run).
    expect(r.body.results[0]).toMatchObject({ ok: true, rule: "project", credential: { ref: "github/project/support/burst" } });
  });
});
