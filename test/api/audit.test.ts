import { beforeAll, describe, expect, it } from "vitest";
import { call, memberIds, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ids: Record<string, string>;
let alice: string, bob: string, carol: string;
let cred: any;
let since = "";
let carolKey = "";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const audit = async (q: string, token = s.alice) => {
  const res = await call("GET", `/v1/audit${q ? `?${q}` : ""}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body as { entries: any[]; next_cursor: string | null };
};

/** Every entry of a query, following next_cursor. */
async function allPages(q: string, limit: number, token = s.alice) {
  const out: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await audit(`${q}${q ? "&" : ""}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, token);
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    out.push(...page.entries);
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < 200);
  return { entries: out, pages };
}

beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
  [alice, bob, carol] = [ids["alice@acme.test"]!, ids["bob@acme.test"]!, ids["carol@acme.test"]!];
  cred = (await setCred(s.alice, { slug: "audited" })).body.credentials[0];
  await setCred(s.bob, { app: "tavily", slug: "bobs" });
  await setCred(s.carol, { slug: "carols", targets: [{ type: "user" }] });
  expect((await setCred(s.carol, { slug: "nope", targets: [{ type: "org" }] })).status).toBe(403);
  await sleep(30);
  since = new Date().toISOString();
  await sleep(30);
  await call("POST", `/v1/credentials/${cred.id}/rotate`, { token: s.alice, body: { fields: { apiKey: `exa-${uid(30)}` } } });
  await call("PATCH", `/v1/credentials/${cred.id}`, { token: s.bob, body: { name: "Audited", default: true } });
  const key = await call("POST", "/v1/api-keys", { token: s.carol, body: { name: "carol ci" } });
  carolKey = key.body.key;
  await setCred(carolKey, { slug: "from-key", targets: [{ type: "user" }] });
  await call("PATCH", `/v1/credentials/${cred.id}`, { token: carolKey, body: { name: "hijack" } });
  await call("POST", `/v1/credentials/${cred.id}/revoke`, { token: s.alice });
});

describe("GET /v1/audit", () => {
  it("answers well-formed entries, newest first", async () => {
    const { entries, next_cursor } = await audit("limit=200");
    expect(next_cursor).toBeNull();
    const count = (await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit`))[0]!.n;
    expect(entries).toHaveLength(Number(count));
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i].seq).toBeLessThan(entries[i - 1].seq);
      expect(Date.parse(entries[i].at)).toBeLessThanOrEqual(Date.parse(entries[i - 1].at));
    }
    expect(entries[0]).toMatchObject({ action: "credential.revoke", actor: alice, actor_kind: "user", outcome: "ok", credential: cred.id, target: "org" });
    expect(entries[0].detail).toEqual({ app: "exa", slug: "audited" });
    expect(new Date(entries[0].at).toISOString()).toBe(entries[0].at);
  });

  it("filters by exact action", async () => {
    const { entries } = await audit("action=credential.create&limit=200");
    expect(entries.map((e) => e.action)).toEqual(["credential.create", "credential.create", "credential.create", "credential.create"]);
    expect((await audit("action=credential.rotate")).entries.map((e) => e.credential)).toEqual([cred.id]);
    // Without the trailing dot a prefix is not a family.
    expect((await audit("action=credential")).entries).toEqual([]);
    expect((await audit("action=credential.re")).entries).toEqual([]);
  });

  it("filters by action family with a trailing dot", async () => {
    const { entries } = await audit("action=credential.&limit=200");
    const raw = await vaultSql(s.org.id, `SELECT seq FROM audit WHERE action LIKE 'credential.%' ORDER BY seq DESC`);
    expect(entries.map((e) => e.seq)).toEqual(raw.map((r) => r.seq));
    expect(entries.every((e) => e.action.startsWith("credential."))).toBe(true);
    expect(new Set(entries.map((e) => e.action))).toEqual(new Set(["credential.create", "credential.set", "credential.rotate", "credential.rename", "credential.set_default", "credential.update", "credential.revoke"]));
    const keys = await audit("action=api_key.");
    expect(keys.entries.map((e) => e.action)).toEqual(["api_key.create"]);
  });

  it("filters by actor, including what an API key did as its member", async () => {
    const bobs = (await audit(`actor=${bob}&limit=200`)).entries;
    // The seed's own rows come first: bob accepted alice's invitation, which signed him in (SPEC 12).
    expect(bobs.map((e) => e.action)).toEqual(["credential.set_default", "credential.rename", "credential.create", "auth.sign_in", "invitation.accept"]);
    const carols = (await audit(`actor=${carol}&limit=200`)).entries;
    expect(carols.map((e) => [e.action, e.outcome, e.actor_kind])).toEqual([
      ["credential.update", "denied", "key"],
      ["credential.create", "ok", "key"],
      ["api_key.create", "ok", "user"],
      ["credential.set", "denied", "user"],
      ["credential.create", "ok", "user"],
      ["auth.sign_in", "ok", "user"],
      ["invitation.accept", "ok", "user"],
    ]);
    expect((await audit("actor=mem_nobody")).entries).toEqual([]);
  });

  it("filters by credential, and combines filters", async () => {
    const mine = (await audit(`credential=${cred.id}`)).entries;
    expect(mine.map((e) => e.action)).toEqual(["credential.revoke", "credential.update", "credential.set_default", "credential.rename", "credential.rotate", "credential.create"]);
    expect(mine.every((e) => e.credential === cred.id)).toBe(true);
    const both = (await audit(`credential=${cred.id}&actor=${bob}`)).entries;
    expect(both.map((e) => e.action)).toEqual(["credential.set_default", "credential.rename"]);
    const denied = (await audit(`credential=${cred.id}&action=credential.update`)).entries;
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ outcome: "denied", actor: carol });
  });

  it("filters by since", async () => {
    const later = (await audit(`since=${encodeURIComponent(since)}&limit=200`)).entries;
    expect(later.map((e) => e.action)).toEqual([
      "credential.revoke", "credential.update", "credential.create", "api_key.create", "credential.set_default", "credential.rename", "credential.rotate",
    ]);
    expect(later.every((e) => Date.parse(e.at) >= Date.parse(since))).toBe(true);
    // An offset form of the same instant means the same thing.
    const offset = new Date(Date.parse(since)).toISOString().replace("Z", "+00:00");
    expect((await audit(`since=${encodeURIComponent(offset)}&limit=200`)).entries).toEqual(later);
    expect((await audit(`since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).entries).toEqual([]);
    const family = (await audit(`since=${encodeURIComponent(since)}&action=credential.&actor=${alice}`)).entries;
    expect(family.map((e) => e.action)).toEqual(["credential.revoke", "credential.rotate"]);
  });

  it("pages with limit + next_cursor over every row, without duplicates, newest first", async () => {
    const full = (await audit("limit=200")).entries;
    for (const limit of [1, 3, 4, full.length, full.length + 1]) {
      const { entries, pages } = await allPages("", limit);
      expect(entries.map((e) => e.seq)).toEqual(full.map((e) => e.seq));
      expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
      expect(pages).toBe(Math.max(1, Math.ceil(full.length / limit)));
    }
    const first = await audit("limit=3");
    expect(first.next_cursor).toBe(String(first.entries[2].seq));
    const filtered = await allPages("action=credential.", 2);
    expect(filtered.entries).toEqual((await audit("action=credential.&limit=200")).entries);
  });

  it("a builder sees only their own rows; admins see everyone's", async () => {
    const asCarol = (await audit("limit=200", s.carol)).entries;
    expect(asCarol.length).toBe(7);
    expect(asCarol.every((e) => e.actor === carol)).toBe(true);
    expect(asCarol.some((e) => e.outcome === "denied")).toBe(true);
    expect((await audit(`actor=${alice}`, s.carol)).entries).toEqual([]);
    expect((await audit(`credential=${cred.id}`, s.carol)).entries.map((e) => e.actor)).toEqual([carol]);
    expect((await audit("limit=200", carolKey)).entries).toEqual(asCarol);
    const paged = await allPages("", 2, s.carol);
    expect(paged.entries).toEqual(asCarol);
    const asBob = (await audit("limit=200", s.bob)).entries;
    // null: the operator's rows of the seed's org creation (org.created, alice's owner invitation).
    expect(new Set(asBob.map((e) => e.actor))).toEqual(new Set([alice, bob, carol, null]));
  });
});

describe("the demo seed (issue 13, build 6)", () => {
  it("is built by the production operations, whose audit rows are the org's first, and a later seed call writes none", async () => {
    const rows = await vaultSql(s.org.id, `SELECT actor, actor_kind, action, outcome, target, detail FROM audit ORDER BY seq LIMIT 13`);
    const project = (slug: string) => ({ actor: alice, action: "project.create", target: `project:${slug}` });
    expect(rows.map((r) => ({ ...r, detail: JSON.parse(String(r.detail)) }))).toMatchObject([
      // The operator's POST /v1/orgs: the org and alice's owner invitation, which she accepts (signed in by it).
      { actor: null, actor_kind: "system", action: "org.created", target: "acme", detail: { by: "operator" } },
      { actor: null, actor_kind: "system", action: "invitation.created", detail: { email: "alice@acme.test", role: "owner", by: "operator" } },
      { actor: alice, actor_kind: "user", action: "invitation.accept", detail: { email: "alice@acme.test", role: "owner", member: alice } },
      { actor: alice, action: "auth.sign_in", target: alice },
      project("support"),
      project("growth"),
      // alice invites bob and carol (carol as a builder of support); each accepts.
      { actor: alice, action: "invitation.created", detail: { email: "bob@acme.test", role: "admin", by: "member" } },
      { actor: bob, action: "invitation.accept", detail: { email: "bob@acme.test", role: "admin", member: bob } },
      { actor: bob, action: "auth.sign_in", target: bob },
      { actor: alice, action: "invitation.created", detail: { email: "carol@acme.test", role: "builder", by: "member" } },
      { actor: carol, action: "invitation.accept", detail: { email: "carol@acme.test", role: "builder", member: carol } },
      { actor: carol, action: "auth.sign_in", target: carol },
      { actor: alice, action: "runtime_token.create" },
    ]);
    expect(rows.every((r) => r.outcome === "ok")).toBe(true);
    // The names the accepting persons gave, carol's project role from her invitation, and each
    // member's one live token: the session that signed them in, pinned to the seed's value.
    expect(await vaultSql(s.org.id, `SELECT email, name, role FROM members ORDER BY created_at, email`)).toEqual([
      { email: "alice@acme.test", name: "Alice", role: "owner" },
      { email: "bob@acme.test", name: "Bob", role: "admin" },
      { email: "carol@acme.test", name: "Carol", role: "builder" },
    ]);
    expect(await vaultSql(s.org.id, `SELECT project, role FROM project_members WHERE member_id = ?`, carol)).toEqual([{ project: "support", role: "builder" }]);
    const live = await vaultSql(s.org.id, `SELECT member_id, name, expires_at FROM tokens WHERE kind = 'user' AND revoked_at IS NULL ORDER BY member_id`);
    expect(live).toEqual([alice, bob, carol].sort().map((member_id) => ({ member_id, name: "dev seed", expires_at: null })));
    const count = async () => Number((await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit`))[0]!.n);
    const before = await count();
    expect((await seed()).users.map((u) => u.token)).toEqual(s.users.map((u) => u.token));
    expect(await count()).toBe(before);
  });
});
