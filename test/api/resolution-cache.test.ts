import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DECIDING_CREDENTIAL_COLUMNS } from "../../durable-objects/vault/resolution-epoch-migration";
import { credentialAad, parseKeyring, seal } from "../../lib/crypto";
import { hashToken, newToken, tokenPreview } from "../../lib/tokens";
import { addMember, call, provisionWithTokens, uid, vaultOf, vaultSql } from "./helpers";

/**
 * The vault caches what resolves read (vault/resolution-cache.ts) and groups their audit writes
 * into shared commits (vault/group-commit.ts), issue 16. Every test here warms the cache with two
 * resolves, changes what a resolve reads one way, and expects the very next resolve to see it.
 */
let org: { id: string; owner: string; runtime: string };

beforeAll(async () => {
  const o = await env.DIRECTORY.getByName("global").ensureOrg(`rc${uid(6)}`, "Resolution cache");
  const owner = newToken("user", o.id);
  const runtime = newToken("rt", o.id);
  await provisionWithTokens({
    org: { id: o.id, slug: o.slug, name: o.name },
    members: [{ email: "owner@rc.test", name: "Owner", role: "owner" }],
    projects: [{ slug: "p1", name: "P1", members: [] }],
    tokens: [
      { hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "owner@rc.test", name: "test", expires_at: null },
      { hash: await hashToken(runtime), preview: tokenPreview(runtime), kind: "rt", email: null, name: "runtime", expires_at: null },
    ],
  });
  org = { id: o.id, owner, runtime };
});

/** An exa key at org scope (every test first revokes the earlier ones: clearExa). */
async function orgKey(slug: string, value = `exa-${uid(24)}`): Promise<{ id: string; ref: string; value: string }> {
  const res = await call("POST", "/v1/credentials", { token: org.owner, body: { app: "exa", slug, fields: { apiKey: value }, verify: false } });
  expect(res.status, res.text).toBe(200);
  return { id: res.body.credentials[0].id, ref: res.body.credentials[0].ref, value };
}

/** Resolves with one fixed consumer twice (the second from the cache) and answers that consumer's resolve function. */
async function warmed(body: Record<string, unknown> = {}) {
  const consumer = { kind: "workflow", target: `wf${uid(6)}`, id: "step" };
  const again = () => call("POST", "/v1/runtime/resolve", { token: org.runtime, body: { consumer, requirements: [{ app: "exa" }], ...body } });
  for (let i = 0; i < 2; i++) {
    const r = await again();
    expect(r.status, r.text).toBe(200);
  }
  return { consumer, again };
}

async function clearExa(): Promise<void> {
  await vaultSql(org.id, `UPDATE credentials SET status = 'revoked', is_default = 0, revoked_at = ? WHERE app = 'exa' AND status != 'revoked'`, Date.now());
}

describe("a warm resolution cache never answers what storage no longer says", () => {
  it("the triggers name every credentials column but last_used_at (a new column must be named too)", async () => {
    const columns = (await vaultSql(org.id, `SELECT name FROM pragma_table_info('credentials')`)).map((r) => String(r.name));
    expect([...DECIDING_CREDENTIAL_COLUMNS].sort()).toEqual(columns.filter((c) => c !== "last_used_at").sort());
    const triggers = (await vaultSql(org.id, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'resolution_epoch_%'`)).map((r) => String(r.name));
    for (const table of ["credentials", "secret_fields", "assignments", "projects", "members"]) {
      for (const on of ["added", "changed", "deleted"]) expect(triggers).toContain(`resolution_epoch_${table}_${on}`);
    }
  });

  it("a rotation: the next resolve hands out the new value", async () => {
    await clearExa();
    const key = await orgKey(`rot${uid(4)}`);
    const { again } = await warmed();
    expect((await again()).body.results[0].fields).toEqual({ apiKey: key.value });
    const next = `exa-${uid(24)}`;
    const rot = await call("POST", `/v1/credentials/${encodeURIComponent(key.ref)}/rotate`, { token: org.owner, body: { fields: { apiKey: next }, verify: false } });
    expect(rot.status, rot.text).toBe(200);
    const r = await again();
    expect(r.body.results[0]).toMatchObject({ ok: true, fields: { apiKey: next }, credential: { id: key.id } });
  });

  it("a revoke: the next resolve is refused", async () => {
    await clearExa();
    const key = await orgKey(`rev${uid(4)}`);
    const { again } = await warmed();
    expect((await call("POST", `/v1/credentials/${encodeURIComponent(key.ref)}/revoke`, { token: org.owner })).status).toBe(200);
    const r = await again();
    expect(r.body.ok).toBe(false);
    expect(r.body.results[0]).toMatchObject({ ok: false, error: { code: "missing_credentials" } });
  });

  it("a status changed by any code path (a bare SQL update): the next resolve is refused", async () => {
    await clearExa();
    const key = await orgKey(`sql${uid(4)}`);
    const { again } = await warmed();
    await vaultSql(org.id, `UPDATE credentials SET status = 'needs_reauth', status_reason = 'refresh_failed' WHERE id = ?`, key.id);
    const r = await again();
    expect(r.body.results[0]).toMatchObject({ ok: false, error: { code: "credential_unavailable" } });
  });

  it("a sealed field changed underneath (a bare SQL update, as the keyring sweep makes): the next resolve opens it again", async () => {
    await clearExa();
    const key = await orgKey(`fld${uid(4)}`);
    const { again } = await warmed();
    const next = `exa-${uid(24)}`;
    await runInDurableObject(vaultOf(org.id), async (_instance, state) => {
      const sealed = await seal(parseKeyring(env.VAULT_KEYS), org.id, next, credentialAad(org.id, key.id, "apiKey"));
      state.storage.sql.exec(`UPDATE secret_fields SET sealed = ? WHERE credential_id = ? AND field = 'apiKey'`, sealed, key.id);
    });
    expect((await again()).body.results[0]).toMatchObject({ ok: true, credential: { id: key.id }, fields: { apiKey: next } });
  });

  it("a new default and then a pin: each next resolve follows", async () => {
    await clearExa();
    const one = await orgKey(`one${uid(4)}`);
    const two = await orgKey(`two${uid(4)}`);
    expect((await call("PATCH", `/v1/credentials/${encodeURIComponent(one.ref)}`, { token: org.owner, body: { default: true } })).status).toBe(200);
    const { consumer, again } = await warmed();
    expect((await again()).body.results[0].credential.id).toBe(one.id);
    expect((await call("PATCH", `/v1/credentials/${encodeURIComponent(two.ref)}`, { token: org.owner, body: { default: true } })).status).toBe(200);
    expect((await again()).body.results[0]).toMatchObject({ credential: { id: two.id }, fields: { apiKey: two.value } });
    const pin = await call("PUT", "/v1/assignments", { token: org.owner, body: { kind: consumer.kind, target: consumer.target, consumer: consumer.id, credential: one.ref } });
    expect(pin.status, pin.text).toBe(200);
    expect((await again()).body.results[0]).toMatchObject({ rule: "assignment", credential: { id: one.id }, fields: { apiKey: one.value } });
    const unpin = await call("DELETE", "/v1/assignments", { token: org.owner, body: { kind: consumer.kind, target: consumer.target, consumer: consumer.id, app: "exa" } });
    expect(unpin.status, unpin.text).toBe(200);
    expect((await again()).body.results[0]).toMatchObject({ rule: "org", credential: { id: two.id } });
  });

  it("explain reads through the same cache: a new default shows at once", async () => {
    await clearExa();
    const one = await orgKey(`ex1${uid(4)}`);
    const two = await orgKey(`ex2${uid(4)}`);
    const body = { consumer: { kind: "workflow", target: `ex${uid(6)}`, id: "s" }, requirements: [{ app: "exa" }] };
    const explain = () => call("POST", "/v1/resolve/explain", { token: org.owner, body });
    expect((await call("PATCH", `/v1/credentials/${encodeURIComponent(one.ref)}`, { token: org.owner, body: { default: true } })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await explain()).body.results[0].credential.id).toBe(one.id);
    expect((await call("PATCH", `/v1/credentials/${encodeURIComponent(two.ref)}`, { token: org.owner, body: { default: true } })).status).toBe(200);
    expect((await explain()).body.results[0].credential.id).toBe(two.id);
  });

  it("a deleted project: the next resolve for it is bad input", async () => {
    await clearExa();
    await orgKey(`prj${uid(4)}`);
    const slug = `pj${uid(5)}`;
    expect((await call("POST", "/v1/projects", { token: org.owner, body: { slug, name: "Doomed" } })).status).toBe(201);
    const { again } = await warmed({ project: slug });
    expect((await call("DELETE", `/v1/projects/${slug}`, { token: org.owner })).status).toBe(200);
    const r = await again();
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.field).toBe("project");
  });

  it("a removed member: the next resolve on their behalf is bad input", async () => {
    await clearExa();
    await orgKey(`mem${uid(4)}`);
    const m = await addMember(org.id, `m${uid(4)}@rc.test`, "builder");
    const { again } = await warmed({ user: m.id });
    expect((await call("DELETE", `/v1/members/${m.id}`, { token: org.owner })).status).toBe(200);
    const r = await again();
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.field).toBe("user");
  });
});

describe("group commit: concurrent resolves share commits, each with its own audit row", () => {
  it("30 resolves at once, one of them for a revoked credential: 29 answered with the secret, each audited once", async () => {
    await clearExa();
    const key = await orgKey(`gc${uid(4)}`);
    const before = Number((await vaultSql(org.id, `SELECT COUNT(*) AS n FROM audit WHERE action = 'credential.resolve'`))[0]!.n);
    const targets = Array.from({ length: 30 }, (_, i) => `gc-${uid(4)}-${i}`);
    const revokedRef = (await orgKey(`gcr${uid(4)}`)).ref;
    expect((await call("POST", `/v1/credentials/${encodeURIComponent(revokedRef)}/revoke`, { token: org.owner })).status).toBe(200);
    const answers = await Promise.all(targets.map((target, i) => call("POST", "/v1/runtime/resolve", {
      token: org.runtime,
      body: { consumer: { kind: "workflow", target, id: "s" }, requirements: [i === 7 ? { app: "exa", credential: revokedRef } : { app: "exa" }] },
    })));
    for (const [i, r] of answers.entries()) {
      expect(r.status, r.text).toBe(200);
      if (i === 7) expect(r.body.results[0]).toMatchObject({ ok: false });
      else expect(r.body.results[0]).toMatchObject({ ok: true, credential: { id: key.id }, fields: { apiKey: key.value } });
    }
    const rows = await vaultSql(org.id, `SELECT target, outcome FROM audit WHERE action = 'credential.resolve' AND seq > (SELECT MAX(seq) - 30 FROM audit WHERE action = 'credential.resolve')`);
    expect(Number((await vaultSql(org.id, `SELECT COUNT(*) AS n FROM audit WHERE action = 'credential.resolve'`))[0]!.n)).toBe(before + 30);
    expect(rows.map((r) => String(r.target)).sort()).toEqual(targets.map((t) => `workflow:${t}/s`).sort());
    expect(rows.filter((r) => r.outcome === "failed")).toEqual([{ target: `workflow:${targets[7]}/s`, outcome: "failed" }]);
  });

  it("a revoke landing between a warm resolve's decision and its commit: that resolve is refused, never handed the secret", async () => {
    await clearExa();
    const key = await orgKey(`race${uid(4)}`);
    const { again } = await warmed();
    const targets = Array.from({ length: 40 }, (_, i) => `race-${uid(4)}-${i}`);
    const one = (target: string) => call("POST", "/v1/runtime/resolve", { token: org.runtime, body: { consumer: { kind: "workflow", target, id: "s" }, requirements: [{ app: "exa" }] } });
    // The revoke is sent amid the resolves: the vault interleaves them at the resolves' awaits.
    const first = targets.slice(0, 20).map(one);
    const revoke = call("POST", `/v1/credentials/${encodeURIComponent(key.ref)}/revoke`, { token: org.owner });
    const answers = await Promise.all([...first, ...targets.slice(20).map(one)]);
    expect((await revoke).status).toBe(200);
    const revokedAt = Number((await vaultSql(org.id, `SELECT seq FROM audit WHERE action = 'credential.revoke' AND credential_id = ?`, key.id))[0]!.seq);
    for (const [i, r] of answers.entries()) {
      const row = (await vaultSql(org.id, `SELECT seq, outcome FROM audit WHERE action = 'credential.resolve' AND target = ?`, `workflow:${targets[i]}/s`))[0]!;
      // Handed out only if committed before the revoke; after it, refused (and audited as failed).
      if (r.body.results[0].ok) expect(Number(row.seq)).toBeLessThan(revokedAt);
      else expect(row.outcome).toBe("failed");
    }
    expect((await again()).body.results[0].ok).toBe(false);
  });

  it("a write that throws rolls back only its own rows; the others of its group commit", async () => {
    const { GroupCommit } = await import("../../durable-objects/vault/group-commit");
    await runInDurableObject(vaultOf(org.id), async (_instance, state) => {
      state.storage.sql.exec(`CREATE TABLE IF NOT EXISTS gc_probe (n INTEGER)`);
      const group = new GroupCommit(state.storage);
      const results = await Promise.allSettled([
        group.run(() => state.storage.sql.exec(`INSERT INTO gc_probe VALUES (1)`)),
        group.run(() => { state.storage.sql.exec(`INSERT INTO gc_probe VALUES (2)`); throw new Error("boom"); }),
        group.run(() => { state.storage.sql.exec(`INSERT INTO gc_probe VALUES (3)`); return "three"; }),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((results[2] as PromiseFulfilledResult<string>).value).toBe("three");
      expect(state.storage.sql.exec(`SELECT n FROM gc_probe ORDER BY n`).toArray()).toEqual([{ n: 1 }, { n: 3 }]);
      state.storage.sql.exec(`DROP TABLE gc_probe`);
    });
  });
});
