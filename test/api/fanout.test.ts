import { beforeAll, describe, expect, it } from "vitest";
import { call, credentialState, expectError, memberIds, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ids: Record<string, string>;
beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
});

const rowsWithSlug = (slug: string) => vaultSql(s.org.id, `SELECT id, scope_type, scope_id FROM credentials WHERE slug = ?`, slug);
const listed = async (token: string, slug: string) =>
  (await call("GET", "/v1/credentials", { token })).body.credentials.filter((c: any) => c.slug === slug);

describe("fan-out is all-or-nothing", () => {
  it("an unknown project in the third target is a 400 naming targets[2].project, and nothing is written", async () => {
    const slug = `fan${uid()}`;
    const before = await credentialState(s.org.id);
    const res = await setCred(s.alice, { slug, targets: [{ type: "org" }, { type: "project", project: "support" }, { type: "project", project: "nope" }] });
    expectError(res, 400, "invalid_request", "targets[2].project");
    expect(res.text).toContain("nope");
    expect(await rowsWithSlug(slug)).toEqual([]);
    expect(await listed(s.alice, slug)).toEqual([]);
    expect(await credentialState(s.org.id)).toBe(before);
    const n = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM credentials WHERE slug = ? AND (scope_type = 'org' OR scope_id = 'support')`, slug);
    expect(n[0]!.n).toBe(0);
  });

  it("a new custom app is not created when the fan-out fails", async () => {
    const app = `custom-${uid()}`;
    const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields: { token: "t-1234567890" }, targets: [{ type: "org" }, { type: "project", project: "nope" }] } });
    expectError(res, 400, "invalid_request", "targets[1].project");
    expect(await vaultSql(s.org.id, `SELECT * FROM custom_apps WHERE slug = ?`, app)).toEqual([]);
    const apps = await call("GET", `/v1/apps?search=${app}`, { token: s.alice });
    expect(apps.body.apps.map((a: any) => a.slug)).not.toContain(app);
  });

  it("carol (builder of support) targeting [user, project support] is a 403 and writes nothing, not even her own", async () => {
    const slug = `fan${uid()}`;
    const before = await credentialState(s.org.id);
    const res = await setCred(s.carol, { slug, targets: [{ type: "user" }, { type: "project", project: "support" }] });
    expectError(res, 403, "forbidden");
    expect(await rowsWithSlug(slug)).toEqual([]);
    expect(await listed(s.carol, slug)).toEqual([]);
    expect(await listed(s.alice, slug)).toEqual([]);
    expect(await credentialState(s.org.id)).toBe(before);
    const audit = await call("GET", "/v1/audit?limit=1", { token: s.alice });
    expect(audit.body.entries[0]).toMatchObject({ action: "credential.set", outcome: "denied", actor: ids["carol@acme.test"], target: "project:support" });
    // The user target alone is hers to write.
    const own = await setCred(s.carol, { slug, targets: [{ type: "user" }] });
    expect(own.status, own.text).toBe(200);
    expect(own.body.credentials[0].scope).toEqual({ type: "user", user: ids["carol@acme.test"] });
  });

  it("a builder naming a project that does not exist gets the same 403 as for one that does: names do not leak", async () => {
    const slug = `fan${uid()}`;
    const missing = await setCred(s.carol, { slug, targets: [{ type: "project", project: "no-such-project" }] });
    const existing = await setCred(s.carol, { slug, targets: [{ type: "project", project: "growth" }] });
    expectError(missing, 403, "forbidden");
    expectError(existing, 403, "forbidden");
    expect(missing.body.error.message.replace("no-such-project", "X")).toBe(existing.body.error.message.replace("growth", "X"));
    expect(await rowsWithSlug(slug)).toEqual([]);
  });

  it("a forbidden target after allowed ones also writes nothing (org admin rights are not partial)", async () => {
    const slug = `fan${uid()}`;
    const before = await credentialState(s.org.id);
    const res = await setCred(s.carol, { slug, targets: [{ type: "user" }, { type: "org" }] });
    expectError(res, 403, "forbidden");
    expect(await credentialState(s.org.id)).toBe(before);
  });

  it.each([
    ["org twice", [{ type: "org" }, { type: "org" }], "targets[1]"],
    ["user twice", [{ type: "user" }, { type: "org" }, { type: "user" }], "targets[2]"],
    ["same project twice", [{ type: "project", project: "support" }, { type: "project", project: "growth" }, { type: "project", project: "support" }], "targets[2]"],
  ])("duplicate targets (%s) are a 400 naming the repeat", async (_name, targets, field) => {
    const slug = `dup${uid()}`;
    const before = await credentialState(s.org.id);
    expectError(await setCred(s.alice, { slug, targets }), 400, "invalid_request", field);
    expect(await rowsWithSlug(slug)).toEqual([]);
    expect(await credentialState(s.org.id)).toBe(before);
  });

  it("a re-set fan-out over existing and new targets replaces and creates together", async () => {
    const slug = `mix${uid()}`;
    const first = await setCred(s.alice, { slug, targets: [{ type: "org" }] });
    const orgId = first.body.credentials[0].id;
    const both = await setCred(s.alice, { slug, targets: [{ type: "org" }, { type: "project", project: "growth" }] });
    expect(both.status, both.text).toBe(200);
    expect(both.body.credentials[0].id).toBe(orgId);
    expect(both.body.credentials[1].id).not.toBe(orgId);
    expect(await rowsWithSlug(slug)).toHaveLength(2);
    const actions = (await call("GET", `/v1/audit?action=credential.&limit=2`, { token: s.alice })).body.entries.map((e: any) => e.action);
    expect(actions.sort()).toEqual(["credential.create", "credential.replace"]);
  });

  it("more than 50 targets is a 400 naming targets", async () => {
    const targets = Array.from({ length: 51 }, () => ({ type: "org" }));
    expectError(await setCred(s.alice, { targets }), 400, "invalid_request", "targets");
    expectError(await setCred(s.alice, { targets: [] }), 400, "invalid_request", "targets");
  });
});
