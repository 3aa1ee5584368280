import { beforeAll, describe, expect, it } from "vitest";
import { call, openSecret, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
beforeAll(async () => {
  s = await seed();
});

describe("concurrency", () => {
  it("50 concurrent set-default calls on 5 credentials of one app + scope leave exactly one default", async () => {
    const app = "tavily";
    const creds: any[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await setCred(s.alice, { app, slug: `c${i}`, targets: [{ type: "project", project: "support" }] });
      expect(res.status, res.text).toBe(200);
      creds.push(res.body.credentials[0]);
    }
    // The same app at org is a different (app, scope target): its default must survive.
    const orgCred = (await setCred(s.alice, { app, slug: "c0" })).body.credentials[0];
    expect((await call("PATCH", `/v1/credentials/${orgCred.id}`, { token: s.alice, body: { default: true } })).status).toBe(200);

    const calls = Array.from({ length: 50 }, (_, i) =>
      call("PATCH", `/v1/credentials/${creds[i % 5].id}`, { token: i % 2 ? s.alice : s.bob, body: { default: true } }),
    );
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.status, r.text).toBe(200);
      expect(r.body.default).toBe(true);
    }

    const list = await call("GET", `/v1/credentials?app=${app}&scope=project:support`, { token: s.alice });
    expect(list.body.credentials).toHaveLength(5);
    const defaults = list.body.credentials.filter((c: any) => c.default);
    expect(defaults).toHaveLength(1);
    const raw = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM credentials WHERE is_default = 1 AND app = ? AND scope_type = 'project' AND scope_id = 'support'`, app);
    expect(raw[0]!.n).toBe(1);
    const all = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE is_default = 1 AND app = ? ORDER BY scope_type`, app);
    expect(all.map((r) => r.id).sort()).toEqual([defaults[0].id, orgCred.id].sort());
    // Every successful call was audited.
    const audit = await call("GET", `/v1/audit?action=credential.set_default&limit=200`, { token: s.alice });
    expect(audit.body.entries.filter((e: any) => creds.some((c) => c.id === e.credential))).toHaveLength(50);
  });

  it("20 concurrent identical sets of one app + slug + target end with exactly one live row", async () => {
    const slug = `same${uid()}`;
    const secret = `exa-${uid(32)}`;
    const body = { app: "exa", fields: { apiKey: secret }, slug, targets: [{ type: "org" }] };
    const results = await Promise.all(Array.from({ length: 20 }, () => call("POST", "/v1/credentials", { token: s.alice, body })));
    // Idempotent: every caller succeeds and gets the same credential back.
    for (const r of results) expect(r.status, r.text).toBe(200);
    const okIds = new Set(results.map((r) => r.body.credentials[0].id));
    expect(okIds.size).toBe(1);

    const live = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE app = 'exa' AND slug = ? AND status != 'revoked'`, slug);
    expect(live).toHaveLength(1);
    expect(live[0]!.id).toBe([...okIds][0]);
    const everything = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE app = 'exa' AND slug = ?`, slug);
    expect(everything).toHaveLength(1);
    expect(await vaultSql(s.org.id, `SELECT field FROM secret_fields WHERE credential_id = ?`, String(live[0]!.id))).toEqual([{ field: "apiKey" }]);
    expect(await openSecret(s.org.id, String(live[0]!.id))).toEqual({ apiKey: secret });
    const list = await call("GET", `/v1/credentials?app=exa&scope=org`, { token: s.alice });
    expect(list.body.credentials.filter((c: any) => c.slug === slug)).toHaveLength(1);
  });

  it("concurrent sets with different values at one target keep one row holding one of the values", async () => {
    const slug = `race${uid()}`;
    const secrets = Array.from({ length: 10 }, () => `exa-${uid(32)}`);
    const results = await Promise.all(secrets.map((secret) => setCred(s.alice, { fields: { apiKey: secret }, slug })));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.credentials[0].id)).size).toBe(1);
    const live = await vaultSql(s.org.id, `SELECT id, preview FROM credentials WHERE app = 'exa' AND slug = ? AND status != 'revoked'`, slug);
    expect(live).toHaveLength(1);
    const opened = await openSecret(s.org.id, String(live[0]!.id));
    expect(secrets).toContain(opened.apiKey);
    // The preview and the sealed value come from the same write.
    expect(live[0]!.preview).toBe(`exa-…${opened.apiKey!.slice(-4)}`);
  });
});
