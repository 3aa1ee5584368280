import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { openFields } from "../../durable-objects/vault/credentials";
import { credentialAad, open, parseKeyring, seal, type Keyring } from "../../lib/crypto";
import { call, openSecret, seed, setCred, uid, vaultOf, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ring: Keyring;
let oldRing: Keyring;
beforeAll(async () => {
  s = await seed();
  ring = parseKeyring(env.VAULT_KEYS);
  expect(ring.active).toBe("k2");
  expect([...ring.keys.keys()]).toEqual(["k2", "k1"]);
  oldRing = { active: "k1", keys: ring.keys };
});

type SealedRow = { credential_id: string; field: string; sealed: string };
const sealedRows = async (ids: string[]) =>
  (await vaultSql(s.org.id, `SELECT credential_id, field, sealed FROM secret_fields WHERE credential_id IN (${ids.map(() => "?").join(",")}) ORDER BY credential_id, field`, ...ids)) as unknown as SealedRow[];

/** Seals every field of these credentials again under k1, as if written before k2 existed. */
async function sealUnderK1(ids: string[]): Promise<void> {
  await runInDurableObject(vaultOf(s.org.id), async (_instance, state) => {
    const sql = state.storage.sql;
    for (const id of ids) {
      for (const r of sql.exec(`SELECT field, sealed FROM secret_fields WHERE credential_id = ?`, id).toArray()) {
        const aad = credentialAad(s.org.id, id, String(r.field));
        const plain = await open(ring, s.org.id, String(r.sealed), aad);
        sql.exec(`UPDATE secret_fields SET sealed = ? WHERE credential_id = ? AND field = ?`, await seal(oldRing, s.org.id, plain, aad), id, String(r.field));
      }
    }
  });
}

/** Opens a credential inside the vault through its own openFields, with a VaultContext built by hand. */
const openWith = (id: string, keyring: Keyring) =>
  runInDurableObject(vaultOf(s.org.id), async (_instance, state) =>
    openFields({ storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: keyring, now: Date.now() }, id));

describe("keyring rotation", () => {
  it("writes are sealed with the active key (k2), for set, re-set and rotate", async () => {
    const c = (await setCred(s.alice, { app: "twilio", slug: `w${uid()}`, fields: { accountSid: "AC" + uid(32), authToken: uid(32) } })).body.credentials[0];
    const rows = await sealedRows([c.id]);
    expect(rows.map((r) => r.field)).toEqual(["accountSid", "authToken"]);
    for (const r of rows) expect(r.sealed).toMatch(/^v1\.k2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    await sealUnderK1([c.id]);
    const rot = await call("POST", `/v1/credentials/${c.id}/rotate`, { token: s.alice, body: { fields: { authToken: uid(32) } } });
    expect(rot.status, rot.text).toBe(200);
    const after = Object.fromEntries((await sealedRows([c.id])).map((r) => [r.field, r.sealed]));
    expect(after.authToken).toMatch(/^v1\.k2\./);
    expect(after.accountSid).toMatch(/^v1\.k1\./); // untouched by a partial rotate; the sweep moves it
    const reset = await setCred(s.alice, { app: "twilio", slug: c.slug, fields: { accountSid: "AC" + uid(32), authToken: uid(32) } });
    expect(reset.body.credentials[0].id).toBe(c.id);
    for (const r of await sealedRows([c.id])) expect(r.sealed).toMatch(/^v1\.k2\./);
  });

  it("a value sealed under k1 still opens, and resealBatch moves every row to k2 with the same plaintext", async () => {
    const plain = { accountSid: `AC${uid(32)}`, authToken: `tok-${uid(32)}` };
    const twilio = (await setCred(s.alice, { app: "twilio", slug: `r${uid()}`, fields: plain })).body.credentials[0];
    const exaKey = `exa-${uid(32)}`;
    const exa = (await setCred(s.alice, { slug: `r${uid()}`, fields: { apiKey: exaKey }, targets: [{ type: "project", project: "support" }] })).body.credentials[0];
    const ids = [twilio.id, exa.id];
    const k2Before = await sealedRows(ids);
    await sealUnderK1(ids);
    const k1Rows = await sealedRows(ids);
    for (const r of k1Rows) expect(r.sealed).toMatch(/^v1\.k1\./);
    expect(k1Rows.map((r) => r.sealed)).not.toEqual(k2Before.map((r) => r.sealed));

    // Really sealed under k1: a ring with only k2 cannot open it, the live ring (k2 active, k1 kept) can.
    const onlyK2: Keyring = { active: "k2", keys: new Map([["k2", ring.keys.get("k2")!]]) };
    await expect(openWith(twilio.id, onlyK2)).rejects.toThrow();
    expect(await openWith(twilio.id, ring)).toEqual(plain);
    expect(await openSecret(s.org.id, exa.id)).toEqual({ apiKey: exaKey });
    expect((await call("GET", `/v1/credentials/${twilio.id}`, { token: s.alice })).status).toBe(200);

    const sweep = await vaultOf(s.org.id).resealBatch();
    expect(sweep.left).toBe(0);
    expect(sweep.moved).toBeGreaterThan(0);
    const resealed = await sealedRows(ids);
    for (const r of resealed) expect(r.sealed).toMatch(/^v1\.k2\./);
    expect(resealed.map((r) => r.sealed)).not.toEqual(k2Before.map((r) => r.sealed)); // fresh IVs
    expect(await openWith(twilio.id, onlyK2)).toEqual(plain);
    expect(await openWith(exa.id, onlyK2)).toEqual({ apiKey: exaKey });
    const all = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM secret_fields WHERE sealed NOT LIKE 'v1.k2.%'`);
    expect(all[0]!.n).toBe(0);
    expect(await vaultOf(s.org.id).resealBatch()).toEqual({ moved: 0, left: 0 });
  });

  it("the alarm sweeps in batches and re-arms itself until nothing is left", async () => {
    const app = `wide-${uid()}`;
    const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, `value-${i}-${uid(16)}`]));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields, slug: `b${i}` } });
      expect(res.status, res.text).toBe(200);
      ids.push(res.body.credentials[0].id);
    }
    await sealUnderK1(ids);
    const stale = async () => Number((await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM secret_fields WHERE sealed LIKE 'v1.k1.%'`))[0]!.n);
    expect(await stale()).toBe(250);

    const stub = vaultOf(s.org.id);
    await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(Date.now() + 3_600_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stale()).toBe(50); // one batch of 200
    const next = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stale()).toBe(0);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    for (const id of ids) expect(await openWith(id, { active: "k2", keys: new Map([["k2", ring.keys.get("k2")!]]) })).toEqual(fields);
  });

  it("a vault that starts with stale rows schedules the sweep itself", async () => {
    const c = (await setCred(s.alice, { slug: `e${uid()}`, fields: { apiKey: `exa-${uid(32)}` } })).body.credentials[0];
    const plain = await openSecret(s.org.id, c.id);
    await sealUnderK1([c.id]);
    const stub = vaultOf(s.org.id);
    await evictDurableObject(stub);
    expect((await call("GET", "/v1/me", { token: s.alice })).status).toBe(200);
    // The constructor armed an alarm for "now"; it may already have run. Either way it finishes the job.
    for (let i = 0; i < 50 && (await sealedRows([c.id]))[0]!.sealed.startsWith("v1.k1."); i++) {
      if (!(await runDurableObjectAlarm(stub))) await new Promise((r) => setTimeout(r, 20));
    }
    expect((await sealedRows([c.id]))[0]!.sealed).toMatch(/^v1\.k2\./);
    expect(await openSecret(s.org.id, c.id)).toEqual(plain);
  });
});

describe("a sealed value that cannot be opened", () => {
  it("is skipped by the sweep, which then stops instead of re-arming forever", async () => {
    const s = await seed();
    const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", slug: `stuck-${uid()}`, fields: { apiKey: "exa-stuck-value-1234567890" } } });
    const id = res.body.credentials[0].id as string;
    await runInDurableObject(vaultOf(s.org.id), async (_i, state) => {
      state.storage.sql.exec(`UPDATE secret_fields SET sealed = 'v1.k9.AAAA.BBBB' WHERE credential_id = ?`, id);
    });
    expect(await vaultOf(s.org.id).resealBatch()).toEqual({ moved: 0, left: 1 });
    await runDurableObjectAlarm(vaultOf(s.org.id));
    const alarm = await runInDurableObject(vaultOf(s.org.id), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeNull();
  });
});

describe("an org's OAuth client secret (issue 14)", () => {
  it("is counted by the sweep and resealed under the active key, opening to the same secret", async () => {
    const secret = `ocs-${uid(32)}`;
    const put = await call("PUT", "/v1/apps/dropbox/oauth-client", { token: s.alice, body: { client_id: "acme-dbx", client_secret: secret } });
    expect(put.status, put.text).toBe(200);
    const id = put.body.client.id as string;
    const aad = credentialAad(s.org.id, id, "client_secret");
    await runInDurableObject(vaultOf(s.org.id), async (_instance, state) => {
      state.storage.sql.exec(`UPDATE oauth_clients SET secret = ? WHERE id = ?`, await seal(oldRing, s.org.id, secret, aad), id);
    });
    // Counted as stale (the earlier test leaves one unopenable field behind, which stays).
    const stale = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM secret_fields WHERE sealed NOT LIKE 'v1.k2.%'`);
    const sweep = await vaultOf(s.org.id).resealBatch();
    expect(sweep).toEqual({ moved: 1, left: Number(stale[0]!.n) });
    const [row] = await vaultSql(s.org.id, `SELECT secret FROM oauth_clients WHERE id = ?`, id);
    expect(String(row!.secret)).toMatch(/^v1\.k2\./);
    const onlyK2: Keyring = { active: "k2", keys: new Map([["k2", ring.keys.get("k2")!]]) };
    expect(await open(onlyK2, s.org.id, String(row!.secret), aad)).toBe(secret);
  });
});
