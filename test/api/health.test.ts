import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { invalidFix } from "../../lib/resolve";
import { newId } from "../../lib/tokens";
import { sandboxProbe } from "../../workers/dev/src/sandbox/probe";
import { addMember, call, credentialState, expectError, setCred, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { seed } from "./helpers";
import { exports } from "cloudflare:workers";
import { sessionCsrf } from "../../workers/shared/session";

/**
 * Credential health (SPEC section 14, issue 15 items 1-2): probes on set, rotate, check and from
 * the alarm; status with a reason and the last error in the views; one audit row per transition.
 *
 * The api project runs with PROBES "off" and without DEV_MODE, so no test calls a real provider.
 * Here the vault runs as a dev vault (DEV_MODE on, the sandbox URL recorded as the seed does), so
 * every probe goes to the sandbox's URL, and a fetch spy hands those requests to the sandbox's
 * probe app in process (`fail` answers instead when set).
 */
let s: Seed;
const SANDBOX = "http://localhost:8787";
let hits: string[] = [];
let fail: ((url: string, signal: AbortSignal | null) => Response | Promise<Response | null> | null) | null = null;
let inFlight = 0;
let maxInFlight = 0;

const setVaultEnv = (extra: Record<string, string | undefined>) =>
  runInDurableObject(vaultOf(s.org.id), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, ...extra };
  });

beforeAll(async () => {
  s = await seed();
  await setVaultEnv({ PROBES: undefined, DEV_MODE: "true" });
  await vaultSql(s.org.id, `INSERT INTO settings (key, value, updated_at) VALUES ('sandbox_url', ?, 0) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, SANDBOX);
});
afterAll(async () => {
  await setVaultEnv({ PROBES: "off", DEV_MODE: "" });
  await vaultSql(s.org.id, `DELETE FROM settings WHERE key = 'sandbox_url'`);
});
beforeEach(() => {
  hits = [];
  fail = null;
  maxInFlight = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (!req.url.startsWith(`${SANDBOX}/_sandbox/probe/`)) return new Response("unexpected outbound call", { status: 599 });
    hits.push(new URL(req.url).pathname);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const failed = fail ? await fail(req.url, init?.signal ?? null) : null;
      return failed ?? (await sandboxProbe.fetch(new Request(req.url.replace(`${SANDBOX}/_sandbox/probe`, "http://sandbox.test"), req)));
    } finally {
      inFlight--;
    }
  });
});
afterEach(() => vi.restoreAllMocks());

const enc = encodeURIComponent;
const get = async (ref: string, token = s.alice) => {
  const res = await call("GET", `/v1/credentials/${enc(ref)}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
};
const check = (ref: string, token = s.alice) => call("POST", `/v1/credentials/${enc(ref)}/check`, { token });
const audit = async (action: string, credential: string) => (await call("GET", `/v1/audit?action=${action}&credential=${credential}`, { token: s.alice })).body.entries as { detail: Record<string, unknown>; outcome: string }[];
const resolveIn = (project: string, ref: string) =>
  call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { project, consumer: { kind: "workflow", target: project, id: "step" }, requirements: [{ app: ref.split("/")[0], credential: ref }] } });

describe("probes on set and rotate (SPEC section 14)", () => {
  it("an invalid key set through the API is reported invalid at once and never handed out", async () => {
    const slug = `bad-${uid(6)}`;
    const secret = `exa-invalid-${uid(16)}`;
    const res = await setCred(s.alice, { slug, fields: { apiKey: secret }, targets: [{ type: "project", project: "support" }] });
    expect(res.status, res.text).toBe(200);
    expect(hits).toEqual(["/_sandbox/probe/exa/websets/v0/websets"]);
    const [cred] = res.body.credentials;
    expect(cred).toMatchObject({ status: "invalid", status_reason: "probe_unauthorized", last_error: { code: "unauthorized" } });
    expect(cred.checked_at).not.toBeNull();
    expect(res.body.checks).toEqual([{ id: cred.id, ref: cred.ref, result: "refused", message: expect.stringContaining("401") }]);
    expect(await get(cred.ref)).toMatchObject({ status: "invalid", status_reason: "probe_unauthorized" });

    const resolved = await resolveIn("support", cred.ref);
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body.results[0]).toMatchObject({
      ok: false,
      error: { code: "credential_unavailable", fix: invalidFix(cred.ref), details: { id: cred.id, status: "invalid", status_reason: "probe_unauthorized" } },
    });
    expect(resolved.body.results[0].error.message).toContain("probe_unauthorized");
    expect(resolved.text).not.toContain(secret);

    const events = await audit("credential.invalid", cred.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toEqual({ app: "exa", slug, ref: cred.ref, from: "active", to: "invalid", reason: "probe_unauthorized" });
    expect(JSON.stringify(await vaultSql(s.org.id, `SELECT * FROM audit WHERE credential_id = ?`, cred.id))).not.toContain(secret);

    // The same invalid value set again: still invalid, and no second event while the state holds.
    expect((await setCred(s.alice, { slug, fields: { apiKey: secret }, targets: [{ type: "project", project: "support" }] })).body.credentials[0].status).toBe("invalid");
    expect(await audit("credential.invalid", cred.id)).toHaveLength(1);

    // A working key rotated in: active again, handed out, and exactly one credential.recovered.
    const rotated = await call("POST", `/v1/credentials/${enc(cred.ref)}/rotate`, { token: s.alice, body: { fields: { apiKey: `exa-good-${uid(16)}` } } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body).toMatchObject({ status: "active", status_reason: null, last_error: null, check: { result: "works" } });
    expect((await resolveIn("support", cred.ref)).body.results[0]).toMatchObject({ ok: true, credential: { id: cred.id, status: "active" } });
    const recovered = await audit("credential.recovered", cred.id);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.detail).toMatchObject({ from: "invalid", to: "active", reason: "probe_unauthorized" });
  });

  it("a key outside Latin-1 in a Basic-auth probe, or an answer cut off mid-body, is judged or 'unknown', never a 500", async () => {
    // RFC 7617 Basic is UTF-8: the provider sees the key and refuses it.
    fail = (url) => (url.includes("/twilio/") ? new Response("{}", { status: 401 }) : null);
    const twilio = await setCred(s.alice, { app: "twilio", slug: `tw-${uid(6)}`, fields: { accountSid: "AC1", authToken: "tok€n-☃" } });
    expect(twilio.status, twilio.text).toBe(200);
    expect(twilio.body.credentials[0]).toMatchObject({ status: "invalid", status_reason: "probe_unauthorized" });
    expect(hits.some((h) => h.includes("/twilio/"))).toBe(true);
    // The connection resets while the answer's body is read.
    fail = () => new Response(new ReadableStream({ start: (c) => c.error(new TypeError("connection reset")) }), { status: 200 });
    const cut = await setCred(s.alice, { slug: `cut-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } });
    expect(cut.status, cut.text).toBe(200);
    expect(cut.body.credentials[0]).toMatchObject({ status: "active", last_error: { code: "unreachable" } });
    expect(cut.body.checks[0].result).toBe("unknown");
  });

  it("a member removed from the project while the probe runs writes nothing: set and rotate check the role again at the write", async () => {
    const pa = await addMember(s.org.id, `pa-${uid(6)}@acme.test`, "builder", { growth: "admin" });
    const made = await setCred(pa.token, { slug: `pa-${uid(6)}`, targets: [{ type: "project", project: "growth" }], fields: { apiKey: `exa-good-${uid(8)}` } });
    expect(made.status, made.text).toBe(200);
    const ref = made.body.credentials[0].ref as string;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fail = async () => (await gate, null);
    const setting = setCred(pa.token, { slug: `pa2-${uid(6)}`, targets: [{ type: "project", project: "growth" }], fields: { apiKey: `exa-good-${uid(8)}` } });
    const rotating = call("POST", `/v1/credentials/${enc(ref)}/rotate`, { token: pa.token, body: { fields: { apiKey: `exa-good-${uid(8)}` } } });
    await new Promise((r) => setTimeout(r, 50));
    await vaultSql(s.org.id, `DELETE FROM project_members WHERE member_id = ? AND project = 'growth'`, pa.id);
    release();
    expectError(await setting, 403, "forbidden");
    expectError(await rotating, 403, "forbidden");
    expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM credentials WHERE created_by = ?`, pa.id)).toEqual([{ n: 1 }]);
    expect(await vaultSql(s.org.id, `SELECT rotated_at FROM credentials WHERE id = ?`, made.body.credentials[0].id)).toEqual([{ rotated_at: null }]);
  });

  it("a project deleted while the probe runs gets no credential (a project made again later inherits nothing)", async () => {
    const slug = `gone-${uid(6)}`;
    expect((await call("POST", "/v1/projects", { token: s.alice, body: { slug, name: "Gone" } })).status).toBe(201);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fail = async () => (await gate, null);
    const setting = setCred(s.alice, { slug: `g-${uid(6)}`, targets: [{ type: "project", project: slug }], fields: { apiKey: `exa-good-${uid(8)}` } });
    await new Promise((r) => setTimeout(r, 50));
    expect((await call("DELETE", `/v1/projects/${slug}?force=true`, { token: s.alice })).status).toBe(200);
    release();
    expectError(await setting, 400, "invalid_request", "targets[0].project");
    expect(await vaultSql(s.org.id, `SELECT id FROM credentials WHERE scope_type = 'project' AND scope_id = ?`, slug)).toEqual([]);
  });

  it("verify: false stores the key unchecked; a probe of a 200-with-error-body app refuses it (serpapi)", async () => {
    const unchecked = await setCred(s.alice, { slug: `nv-${uid(6)}`, fields: { apiKey: `exa-invalid-${uid(8)}` }, verify: false } as never);
    expect(unchecked.status, unchecked.text).toBe(200);
    expect(hits).toEqual([]);
    expect(unchecked.body.credentials[0]).toMatchObject({ status: "active", checked_at: null, last_error: null });
    expect(unchecked.body.checks[0]).toMatchObject({ result: "skipped" });

    const serp = await setCred(s.alice, { app: "serpapi", slug: `sp-${uid(6)}`, fields: { apiKey: `serp-invalid-${uid(8)}` } });
    expect(serp.body.credentials[0]).toMatchObject({ status: "invalid", last_error: { code: "refused" } });
    expect(serp.body.checks[0].message).toContain("`error`");
  });

  it("a probe that times out or gets a 5xx only records last_error; the credential stays active and in the 'needs attention' list", async () => {
    await setVaultEnv({ OUTBOUND_TIMEOUT_MS: "100" });
    try {
      // A provider that answers too late: the vault's deadline (AbortSignal) gives up first.
      fail = (_url, signal) => new Promise((r, reject) => {
        const t = setTimeout(() => r(new Response("late")), 400);
        signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)));
      });
      const slow = await setCred(s.alice, { slug: `slow-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } });
      expect(slow.body.credentials[0]).toMatchObject({ status: "active", last_error: { code: "timeout" } });
      expect(slow.body.checks[0].result).toBe("unknown");
    } finally {
      await setVaultEnv({ OUTBOUND_TIMEOUT_MS: undefined });
    }
    fail = () => new Response("bad gateway", { status: 502 });
    const cred = (await setCred(s.alice, { slug: `down-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } })).body.credentials[0];
    expect(cred).toMatchObject({ status: "active", status_reason: null, last_error: { code: "server_error" } });
    expect(JSON.stringify(cred)).not.toContain("bad gateway");
    const attention = await call("GET", "/v1/credentials?app=exa&attention=true&limit=100", { token: s.alice });
    expect(attention.body.credentials.map((c: { id: string }) => c.id)).toContain(cred.id);
    expect(attention.body.credentials.every((c: { status: string; last_error: unknown }) => c.status !== "active" || c.last_error !== null)).toBe(true);
    // It still resolves: an outage is not a verdict.
    expect((await resolveIn("support", cred.ref)).body.results[0].ok).toBe(true);

    fail = null;
    const again = await check(cred.ref);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ credential: { status: "active", last_error: null }, check: { result: "works" } });
    expect(await audit("credential.recovered", cred.id)).toEqual([]);
    expect((await call("GET", "/v1/credentials?app=exa&attention=true&limit=100", { token: s.alice })).body.credentials.map((c: { id: string }) => c.id)).not.toContain(cred.id);
  });
});

describe("POST /v1/credentials/{ref}/check", () => {
  it("checks now: a key the provider starts refusing becomes invalid once, with one event; status filters see it", async () => {
    const cred = (await setCred(s.alice, { slug: `chk-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } })).body.credentials[0];
    expect(cred.status).toBe("active");
    fail = () => new Response("{}", { status: 403 });
    for (let i = 0; i < 2; i++) {
      const res = await check(cred.ref);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ credential: { id: cred.id, status: "invalid", status_reason: "probe_unauthorized" }, check: { result: "refused" } });
    }
    expect(await audit("credential.invalid", cred.id)).toHaveLength(1);
    expect(await audit("credential.check", cred.id)).toHaveLength(2);
    const invalid = await call("GET", "/v1/credentials?status=invalid&limit=100", { token: s.alice });
    expect(invalid.body.credentials.map((c: { id: string }) => c.id)).toContain(cred.id);
    expect(invalid.body.credentials.every((c: { status: string }) => c.status === "invalid")).toBe(true);
    expect((await call("GET", "/v1/credentials?status=active&limit=100", { token: s.alice })).body.credentials.map((c: { id: string }) => c.id)).not.toContain(cred.id);
  });

  it("bad input: a custom app has no probe (check and verify: true are refused, nothing written); revoked is a conflict", async () => {
    const app = `custom-${uid(6)}`;
    const custom = await setCred(s.alice, { app, fields: { token: "abc" } });
    expect(custom.status, custom.text).toBe(200);
    expect(custom.body.checks[0]).toMatchObject({ result: "skipped" });
    const before = await credentialState(s.org.id);
    const checked = await check(custom.body.credentials[0].ref);
    expectError(checked, 400, "invalid_request", "ref");
    expectError(await setCred(s.alice, { app, fields: { token: "def" }, verify: true } as never), 400, "invalid_request", "verify");
    expectError(await setCred(s.alice, { app: `other-${uid(6)}`, fields: { token: "x" }, verify: true } as never), 400, "invalid_request", "verify");
    expectError(await call("POST", `/v1/credentials/${enc(custom.body.credentials[0].ref)}/rotate`, { token: s.alice, body: { fields: { token: "y" }, verify: true } }), 400, "invalid_request", "verify");
    expect(await credentialState(s.org.id)).toBe(before);
    expect(hits).toEqual([]);

    expectError(await call("POST", "/v1/credentials/a%2Fb%2Fc%2Fd%2Fe%2Ff/check", { token: s.alice }), 400, "invalid_request", "ref");
    const gone = (await setCred(s.alice, { slug: `gone-${uid(6)}` })).body.credentials[0];
    expect((await call("POST", `/v1/credentials/${gone.id}/revoke`, { token: s.alice })).status).toBe(200);
    expectError(await check(gone.id), 409, "conflict", "ref");
    expect(await get(gone.id)).toMatchObject({ status: "revoked", status_reason: "revoked_by_member" });
  });

  it("who may check which credential: whoever may see it, except another member's own (roles x scopes)", async () => {
    const dave = await addMember(s.org.id, `dave-${uid(4)}@acme.test`, "builder");
    const make = async (token: string, target: Record<string, string>) => (await setCred(token, { slug: `p${uid(6)}`, targets: [target] })).body.credentials[0].id as string;
    const creds = {
      org: await make(s.alice, { type: "org" }),
      support: await make(s.alice, { type: "project", project: "support" }),
      growth: await make(s.alice, { type: "project", project: "growth" }),
      alice: await make(s.alice, { type: "user" }),
      carol: await make(s.carol, { type: "user" }),
    };
    // Columns: org, support, growth, alice's own, carol's own.
    const TABLE: Record<string, [string, number[]]> = {
      alice: [s.alice, [200, 200, 200, 200, 403]],
      bob: [s.bob, [200, 200, 200, 403, 403]],
      carol: [s.carol, [200, 200, 404, 404, 200]],
      dave: [dave.token, [200, 404, 404, 404, 404]],
    };
    for (const [who, [token, want]] of Object.entries(TABLE)) {
      const got = [];
      for (const id of Object.values(creds)) got.push((await check(id, token)).status);
      expect(got, who).toEqual(want);
    }
    const denied = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit WHERE action = 'credential.check' AND outcome = 'denied' AND credential_id = ?`, creds.carol);
    expect(Number(denied[0]!.n)).toBe(2);
    const rt = await check(creds.org, s.runtime);
    expect([401, 403]).toContain(rt.status);
  });
});

describe("the daily probe from the alarm", () => {
  it("probes what is due, a few at a time; a key that stopped working becomes invalid with one event", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await setCred(s.alice, { slug: `daily-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } })).body.credentials[0]);
    // Due: checked two days ago. Everything else of the org's keys is pushed into the future.
    await vaultSql(s.org.id, `UPDATE credentials SET checked_at = ? WHERE kind = 'api_key'`, Date.now());
    for (const c of made) await vaultSql(s.org.id, `UPDATE credentials SET checked_at = ? WHERE id = ?`, Date.now() - 3 * 86_400_000, c.id);
    // The first probe is refused; each answer takes a moment, so the lanes overlap.
    fail = async () => {
      const first = hits.length === 1;
      await new Promise((r) => setTimeout(r, 20));
      return first ? new Response("{}", { status: 401 }) : null;
    };
    hits = [];
    await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(vaultOf(s.org.id))).toBe(true);
    expect(hits).toHaveLength(5);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    const rows = await vaultSql(s.org.id, `SELECT id, checked_at FROM credentials WHERE id IN (${made.map(() => "?").join(",")})`, ...made.map((c) => c.id));
    for (const r of rows) expect(Number(r.checked_at)).toBeGreaterThan(Date.now() - 60_000);
    const invalid = (await Promise.all(made.map((c) => get(c.id)))).filter((c) => c.status === "invalid");
    expect(invalid).toHaveLength(1);
    const events = await audit("credential.invalid", invalid[0].id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: "failed" });
    // Nothing is due any more: the next alarm probes nothing, and the alarm is set for the next day's.
    hits = [];
    await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    await runDurableObjectAlarm(vaultOf(s.org.id));
    expect(hits).toEqual([]);
    const alarm = await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });
});

describe("expiring (OAuth without a refresh token)", () => {
  it("a token that expires within 3 days and cannot be refreshed is `expiring` once, still handed out", async () => {
    const id = newId("cred");
    const slug = `exp-${uid(6)}`;
    await vaultSql(
      s.org.id,
      `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, account, scopes, expires_at, created_by, created_at, updated_at)
       VALUES (?, 'github', ?, ?, 'org', '', 'oauth', 'active', '{"id":"x"}', '[]', ?, 'system', ?, ?)`,
      id, slug, slug, Date.now() + 2 * 86_400_000, Date.now(), Date.now(),
    );
    for (let i = 0; i < 2; i++) {
      await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
      await runDurableObjectAlarm(vaultOf(s.org.id));
    }
    expect(await get(id)).toMatchObject({ status: "expiring", status_reason: "expires_soon" });
    const events = await audit("credential.expiring", id);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ from: "active", to: "expiring", reason: "expires_soon" });
    expect((await call("GET", "/v1/credentials?status=expiring&limit=100", { token: s.alice })).body.credentials.map((c: { id: string }) => c.id)).toContain(id);
    const resolved = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: { kind: "workflow", target: "x", id: "step" }, requirements: [{ app: "github", credential: `github/org/${slug}` }] } });
    expect(resolved.body.results[0]).toMatchObject({ ok: true, credential: { id, status: "expiring" } });
  });
});

describe("the Apps page (web)", () => {
  it("rotating in a refused key says so, and the row shows the reason and the last error", async () => {
    const cred = (await setCred(s.alice, { slug: `web-${uid(6)}`, fields: { apiKey: `exa-good-${uid(8)}` } })).body.credentials[0];
    const csrf = await sessionCsrf(s.alice);
    const cookie = `ks_session=${s.alice}; ks_csrf=${csrf}`;
    const form = new URLSearchParams({ csrf, "field.apiKey": `exa-invalid-${uid(12)}` });
    const posted = await exports.default.fetch(new Request(`http://localhost:8787/apps/${cred.id}/rotate`, { method: "POST", body: form, headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, redirect: "manual" }));
    expect(posted.status).toBe(303);
    const to = posted.headers.get("location")!;
    expect(to).toContain("done=rotated_refused");
    const page = await (await exports.default.fetch(new Request(`http://localhost:8787${to}`, { headers: { cookie } }))).text();
    expect(page).toContain(`Rotated ${cred.ref}, but the provider refused the new key`);
    expect(page).toMatch(new RegExp(`data-ref="${cred.ref}"[\\s\\S]*?data-status="invalid"`));
    expect(page).toContain("the provider refused the key");
    expect(page).toContain("The provider refused the key (HTTP 401).");
    const attention = await (await exports.default.fetch(new Request("http://localhost:8787/apps?attention=true&app=exa", { headers: { cookie } }))).text();
    expect(attention).toContain(`data-ref="${cred.ref}"`);
    expect(attention).not.toContain('data-status="revoked"');
  });
});
