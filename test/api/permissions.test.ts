import { beforeAll, describe, expect, it } from "vitest";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";
import { addMember, call, credentialState, expectError, memberIds, setCred, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { seed } from "./helpers";

/**
 * SPEC section 3, "who may do what", as a table. Columns: set, see (list), get, rename,
 * default, rotate, revoke. ok = allowed; masked = visible with preview null; 403 = forbidden
 * (audited as denied, nothing written); 404 = invisible; "-" = cannot be expressed.
 */
const OPS = ["set", "see", "get", "rename", "default", "rotate", "revoke"] as const;
type Op = (typeof OPS)[number];
type Outcome = "ok" | "masked" | "403" | "404" | "-";
type ActorName = "alice" | "bob" | "carol" | "key";
type ScopeName = "org" | "own" | "other" | "support" | "growth";

const row = (s: string) => s.split(/\s+/) as Outcome[];
const ADMIN: Record<ScopeName, Outcome[]> = {
  org: row("ok ok ok ok ok ok ok"),
  own: row("ok ok ok ok ok ok ok"),
  other: row("- masked masked 403 403 403 ok"),
  support: row("ok ok ok ok ok ok ok"),
  growth: row("ok ok ok ok ok ok ok"),
};
const BUILDER: Record<ScopeName, Outcome[]> = {
  org: row("403 ok ok 403 403 403 403"),
  own: row("ok ok ok ok ok ok ok"),
  other: row("- 404 404 404 404 404 404"),
  support: row("403 ok ok 403 403 403 403"),
  growth: row("403 404 404 404 404 404 404"),
};
const TABLE: Record<ActorName, Record<ScopeName, Outcome[]>> = { alice: ADMIN, bob: ADMIN, carol: BUILDER, key: BUILDER };

let s: Seed;
let ids: Record<string, string>;
let key: string;
const token = (a: ActorName) => (a === "key" ? key : s[a]);
const memberOf = (a: ActorName) => ids[`${a === "key" ? "carol" : a}@acme.test`]!;
const enc = encodeURIComponent;

beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
  const created = await call("POST", "/v1/api-keys", { token: s.carol, body: { name: "carol's script" } });
  expect(created.status, created.text).toBe(201);
  key = created.body.key;
});

function targetOf(scope: ScopeName) {
  if (scope === "org") return { type: "org" };
  if (scope === "own") return { type: "user" };
  return { type: "project", project: scope };
}

/** A credential at the scope, made by someone allowed to make it. */
async function fixture(actor: ActorName, scope: ScopeName) {
  const creator = scope === "own" ? token(actor === "key" ? "carol" : actor) : scope === "other" ? (actor === "alice" || actor === "bob" ? s.carol : s.alice) : s.alice;
  const res = await setCred(creator, { app: "exa", slug: `f${uid()}`, targets: [scope === "other" ? { type: "user" } : targetOf(scope)] });
  expect(res.status, res.text).toBe(200);
  return res.body.credentials[0];
}

async function newestAuditSeq(): Promise<number> {
  const res = await call("GET", "/v1/audit?limit=1", { token: s.alice });
  expect(res.status, res.text).toBe(200);
  return res.body.entries[0]?.seq ?? 0;
}

const AUDIT_ACTION: Record<Op, string> = { set: "credential.set", see: "", get: "", rename: "credential.update", default: "credential.update", rotate: "credential.rotate", revoke: "credential.revoke" };

function run(op: Op, actor: ActorName, scope: ScopeName, cred: any, slug: string) {
  const t = token(actor);
  const path = cred ? `/v1/credentials/${enc(cred.id)}` : "";
  switch (op) {
    case "set": return setCred(t, { slug, targets: [targetOf(scope)] });
    case "see": return call("GET", "/v1/credentials?app=exa", { token: t });
    case "get": return call("GET", path, { token: t });
    case "rename": return call("PATCH", path, { token: t, body: { name: "Renamed" } });
    case "default": return call("PATCH", path, { token: t, body: { default: true } });
    case "rotate": return call("POST", `${path}/rotate`, { token: t, body: { fields: { apiKey: `exa-${uid(30)}` } } });
    case "revoke": return call("POST", `${path}/revoke`, { token: t });
  }
}

const CASES = (Object.keys(TABLE) as ActorName[]).flatMap((actor) =>
  (Object.keys(TABLE[actor]) as ScopeName[]).flatMap((scope) =>
    OPS.map((op, i) => ({ actor, scope, op, want: TABLE[actor][scope][i]! })).filter((c) => c.want !== "-"),
  ),
);

describe("credential permissions (SPEC section 3)", () => {
  it.each(CASES)("$actor $op at $scope -> $want", async ({ actor, scope, op, want }) => {
    const cred = op === "set" ? null : await fixture(actor, scope);
    const slug = `n${uid()}`;
    const before = await credentialState(s.org.id);
    const seqBefore = await newestAuditSeq();
    const res = await run(op, actor, scope, cred, slug);

    if (want === "403") {
      expectError(res, 403, "forbidden");
      expect(await credentialState(s.org.id)).toBe(before);
      const audit = await call("GET", "/v1/audit?limit=10", { token: s.alice });
      const fresh = audit.body.entries.filter((e: any) => e.seq > seqBefore);
      expect(fresh, JSON.stringify(fresh)).toHaveLength(1);
      expect(fresh[0]).toMatchObject({
        action: AUDIT_ACTION[op], outcome: "denied", actor: memberOf(actor), actor_kind: actor === "key" ? "key" : "user",
        credential: cred ? cred.id : null, target: scope === "org" ? "org" : scope === "own" || scope === "other" ? `user:${cred.scope.user}` : `project:${scope}`,
      });
      return;
    }
    if (want === "404") {
      if (op === "see") {
        expect(res.status).toBe(200);
        expect(res.body.credentials.map((c: any) => c.id)).not.toContain(cred.id);
      } else {
        expectError(res, 404, "not_found");
      }
      expect(await credentialState(s.org.id)).toBe(before);
      expect(await newestAuditSeq()).toBe(seqBefore);
      return;
    }

    expect(res.status, res.text).toBe(200);
    const preview = want === "masked" ? null : expect.stringMatching(/^exa-…[a-z0-9]{4}$/);
    switch (op) {
      case "set": {
        const c = res.body.credentials[0];
        expect(c).toMatchObject({ slug, status: "active", preview, created_by: memberOf(actor) });
        expect(c.scope).toEqual(scope === "own" ? { type: "user", user: memberOf(actor) } : targetOf(scope));
        const rows = await vaultSql(s.org.id, `SELECT id FROM credentials WHERE slug = ?`, slug);
        expect(rows.map((r) => r.id)).toEqual([c.id]);
        break;
      }
      case "see": {
        const seen = res.body.credentials.find((c: any) => c.id === cred.id);
        expect(seen).toMatchObject({ id: cred.id, preview });
        break;
      }
      case "get":
        expect(res.body).toMatchObject({ id: cred.id, preview });
        break;
      case "rename":
        expect(res.body).toMatchObject({ id: cred.id, name: "Renamed" });
        break;
      case "default":
        expect(res.body).toMatchObject({ id: cred.id, default: true });
        break;
      case "rotate":
        expect(res.body.id).toBe(cred.id);
        expect(res.body.preview).not.toBe(cred.preview);
        break;
      case "revoke":
        expect(res.body).toMatchObject({ id: cred.id, status: "revoked", preview: null });
        expect(await vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, cred.id)).toEqual([]);
        break;
    }
  });

  it("a user never sees another user's preview, even an org owner", async () => {
    const c = await fixture("alice", "other"); // carol's own credential
    for (const t of [s.alice, s.bob]) {
      const list = await call("GET", "/v1/credentials?scope=user:" + c.scope.user, { token: t });
      expect(list.body.credentials.map((x: any) => [x.id, x.preview])).toContainEqual([c.id, null]);
      expect((await call("GET", `/v1/credentials/${c.id}`, { token: t })).body.preview).toBeNull();
    }
    expect((await call("GET", `/v1/credentials/${c.id}`, { token: s.carol })).body.preview).not.toBeNull();
  });
});

describe("project admins manage their project's credentials", () => {
  let dave: string;
  beforeAll(async () => {
    // Seed has no project admin: add dave, a builder of the org who is admin of `growth`.
    dave = newToken("user", s.org.id);
    const hash = await hashToken(dave);
    const memberId = newId("mem");
    await vaultSql(s.org.id, `INSERT INTO members (id, email, name, role, created_at) VALUES (?, 'dave@acme.test', 'Dave', 'builder', ?)`, memberId, Date.now());
    await vaultSql(s.org.id, `INSERT INTO project_members (project, member_id, role) VALUES ('growth', ?, 'admin')`, memberId);
    await vaultSql(s.org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at) VALUES (?, ?, 'user', ?, 'test', ?, ?)`, newId("tok"), hash, memberId, tokenPreview(dave), Date.now());
  });

  it("dave (admin of growth) sets, renames, rotates and revokes there, but not at org or in support", async () => {
    const set = await setCred(dave, { slug: `d${uid()}`, targets: [{ type: "project", project: "growth" }] });
    expect(set.status, set.text).toBe(200);
    const id = set.body.credentials[0].id;
    expect((await call("PATCH", `/v1/credentials/${id}`, { token: dave, body: { name: "D", default: true } })).body).toMatchObject({ name: "D", default: true });
    expect((await call("POST", `/v1/credentials/${id}/rotate`, { token: dave, body: { fields: { apiKey: `exa-${uid(30)}` } } })).status).toBe(200);
    expect((await call("POST", `/v1/credentials/${id}/revoke`, { token: dave })).body.status).toBe("revoked");
    expectError(await setCred(dave, { targets: [{ type: "org" }] }), 403, "forbidden");
    expectError(await setCred(dave, { targets: [{ type: "project", project: "support" }] }), 403, "forbidden");
    const org = await fixture("alice", "org");
    expectError(await call("PATCH", `/v1/credentials/${org.id}`, { token: dave, body: { name: "x" } }), 403, "forbidden");
    const sup = await fixture("alice", "support");
    expectError(await call("GET", `/v1/credentials/${sup.id}`, { token: dave }), 404, "not_found");
  });
});

describe("a member of many projects", () => {
  it("in 120 projects still lists and reads credentials (one bound value for the projects, not one each: a statement takes at most 100)", async () => {
    const prefix = `mp${uid(4)}`;
    const projects = Array.from({ length: 120 }, (_, i) => `${prefix}-${i}`);
    for (const slug of projects) await vaultSql(s.org.id, `INSERT INTO projects (slug, name, created_at) VALUES (?, ?, ?)`, slug, slug, Date.now());
    const many = await addMember(s.org.id, `many-${uid(6)}@acme.test`, "builder", Object.fromEntries(projects.map((p) => [p, "builder" as const])));
    const last = await setCred(s.alice, { slug: `mp-${uid(5)}`, targets: [{ type: "project", project: projects.at(-1)! }] });
    expect(last.status, last.text).toBe(200);
    const listed = await call("GET", `/v1/credentials?app=exa&limit=100`, { token: many.token });
    expect(listed.status, listed.text).toBe(200);
    const ref = last.body.credentials[0].ref as string;
    const got = await call("GET", `/v1/credentials/${encodeURIComponent(ref)}`, { token: many.token });
    expect(got.status, got.text).toBe(200);
    const sessions = await call("GET", "/v1/channels/sessions", { token: many.token });
    expect(sessions.status, sessions.text).toBe(200);
  });
});

describe("authentication", () => {
  it("a runtime token is refused on member endpoints with 403", async () => {
    const before = await credentialState(s.org.id);
    for (const [method, path, body] of [
      ["GET", "/v1/credentials", undefined], ["POST", "/v1/credentials", { app: "exa", fields: { apiKey: "exa-abcdefghijklmnopqrstu" } }],
      ["GET", "/v1/credentials/work", undefined], ["GET", "/v1/members", undefined], ["GET", "/v1/projects", undefined],
      ["GET", "/v1/audit", undefined], ["GET", "/v1/apps", undefined], ["POST", "/v1/api-keys", { name: "rt" }], ["GET", "/v1/api-keys", undefined],
    ] as const) {
      const res = await call(method, path, { token: s.runtime, body });
      expectError(res, 403, "forbidden");
    }
    expect(await credentialState(s.org.id)).toBe(before);
    expect((await call("GET", "/v1/me", { token: s.runtime })).body.token.kind).toBe("rt");
  });

  it("a member token whose org id is swapped for another org's is 401", async () => {
    const otherId = "o" + uid(15);
    await vaultOf(otherId).provision({ org: { id: otherId, slug: `other-${uid()}`, name: "Other" }, members: [], projects: [], tokens: [] });
    const swapped = s.alice.replace(`_${s.org.id}_`, `_${otherId}_`);
    expect(swapped).not.toBe(s.alice);
    expectError(await call("GET", "/v1/credentials", { token: swapped }), 401, "unauthorized");
    const nowhere = s.alice.replace(`_${s.org.id}_`, `_o${uid(15)}_`);
    expectError(await call("GET", "/v1/credentials", { token: nowhere }), 401, "unauthorized");
  });

  it("a revoked API key is 401", async () => {
    const created = await call("POST", "/v1/api-keys", { token: s.carol, body: { name: "short-lived" } });
    expect((await call("GET", "/v1/credentials", { token: created.body.key })).status).toBe(200);
    const del = await call("DELETE", `/v1/api-keys/${created.body.id}`, { token: s.carol });
    expect(del.status, del.text).toBe(200);
    expect(del.body.revoked_at).not.toBeNull();
    expectError(await call("GET", "/v1/credentials", { token: created.body.key }), 401, "unauthorized");
    expectError(await setCred(created.body.key, { targets: [{ type: "user" }] }), 401, "unauthorized");
  });

  it("an API key cannot mint another API key, and a builder cannot revoke someone else's key", async () => {
    expectError(await call("POST", "/v1/api-keys", { token: key, body: { name: "child" } }), 403, "forbidden");
    const bobs = await call("POST", "/v1/api-keys", { token: s.bob, body: { name: "bob's" } });
    expectError(await call("DELETE", `/v1/api-keys/${bobs.body.id}`, { token: s.carol }), 403, "forbidden");
    expect((await call("GET", "/v1/credentials", { token: bobs.body.key })).status).toBe(200);
  });

  it("an expired member token is 401; the same row unexpired works", async () => {
    const alice = ids["alice@acme.test"]!;
    const insert = async (expiresAt: number) => {
      const t = newToken("user", s.org.id);
      await vaultSql(s.org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, 'test', ?, ?, ?)`,
        newId("tok"), await hashToken(t), alice, tokenPreview(t), Date.now() - 120_000, expiresAt);
      return t;
    };
    expectError(await call("GET", "/v1/credentials", { token: await insert(Date.now() - 60_000) }), 401, "unauthorized");
    expect((await call("GET", "/v1/credentials", { token: await insert(Date.now() + 3_600_000) })).status).toBe(200);
  });

  it.each([
    ["no header", undefined],
    ["empty", ""],
    ["Basic scheme", `Basic ${btoa("alice:pw")}`],
    ["Bearer without a token", "Bearer "],
    ["Bearer junk", "Bearer not-a-token"],
    ["two tokens", "Bearer a b"],
    ["token-shaped but unknown", () => `Bearer ${newToken("user", s.org.id)}`],
    ["wrong kind prefix", () => `Bearer ${s.alice.replace("ks_user_", "ks_nope_")}`],
  ])("Authorization %s is 401", async (_name, header) => {
    const value = typeof header === "function" ? header() : header;
    const res = await call("GET", "/v1/credentials", { headers: value === undefined ? {} : { authorization: value } });
    expectError(res, 401, "unauthorized");
  });
});
