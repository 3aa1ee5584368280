import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { findRefMatches, matchRef, parseRef } from "../../lib/refs";
import { encodeCursor } from "../../lib/paging";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";
import type { CandidateCredential } from "../../lib/resolve";
import { credentialsQuery } from "../../durable-objects/vault/credential-rows";
import { refWhere } from "../../durable-objects/vault/credentials";
import { addMember, call, expectError, provisionWithTokens, uid, vaultOf, vaultSql } from "./helpers";

/** A fresh org (so counts are exact): an owner, projects p1 and p2, a builder of p1. */
let org: { id: string; owner: string; builder: string; builderId: string };
const APPS = ["exa", "openai", "resend"];

/** Credential rows written straight into the vault (listing needs no secret). */
async function insertCredentials(n: number, tag: string, scopes: [string, string][] = [["org", ""], ["project", "p1"], ["project", "p2"]]): Promise<string[]> {
  return runInDurableObject(vaultOf(org.id), (_i, state) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = newId("cred");
      const [type, scopeId] = scopes[i % scopes.length]!;
      state.storage.sql.exec(
        `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'api_key', 'active', '…', 'test', ?, ?)`,
        id, APPS[i % APPS.length]!, `${tag}-${i}`, `${tag} ${i}`, type, scopeId, Date.now(), Date.now(),
      );
      ids.push(id);
    }
    return ids;
  });
}

/** Every page of `path` (a `?` query or none), `limit` per page; `between` runs after each page. */
async function walk(path: string, key: string, token: string, limit: number, between?: (page: number) => Promise<void>): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await call("GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body[key].length).toBeLessThanOrEqual(limit);
    out.push(...res.body[key]);
    cursor = res.body.next_cursor;
    if (cursor === null) return out;
    expect(res.body[key]).toHaveLength(limit);
    if (between) await between(page);
  }
  throw new Error("too many pages");
}

const refOrder = (a: { ref: string; id: string }, b: { ref: string; id: string }) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : a.id < b.id ? -1 : 1);

beforeAll(async () => {
  const o = await env.DIRECTORY.getByName("global").ensureOrg(`pg${uid(6)}`, "Paging");
  const owner = newToken("user", o.id);
  await provisionWithTokens({
    org: { id: o.id, slug: o.slug, name: o.name },
    members: [{ email: "owner@paging.test", name: "Owner", role: "owner" }],
    projects: [{ slug: "p1", name: "P1", members: [] }, { slug: "p2", name: "P2", members: [] }],
    tokens: [{ hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "owner@paging.test", name: "test", expires_at: null }],
  });
  org = { id: o.id, owner, builder: "", builderId: "" };
  const b = await addMember(o.id, "builder@paging.test", "builder", { p1: "builder" });
  org.builder = b.token;
  org.builderId = b.id;
  await insertCredentials(230, "c");
  await insertCredentials(6, "mine", [["user", b.id]]);
});

describe("GET /v1/credentials pages", () => {
  it("answers every row exactly once across pages, in reference order, for an owner and for a builder (only what each may see)", async () => {
    const all = await vaultSql(org.id, `SELECT id, scope_type, scope_id FROM credentials`);
    const admin = await addMember(org.id, `admin${uid(4)}@paging.test`, "admin");
    const p2Admin = await addMember(org.id, `p2a${uid(4)}@paging.test`, "builder", { p2: "admin" });
    const loner = await addMember(org.id, `lone${uid(4)}@paging.test`, "builder");
    // Roles x scopes: org admins see every row (others' user rows too, masked), project members their projects', everyone the org's.
    for (const [token, visible] of [
      [org.owner, all],
      [admin.token, all],
      [org.builder, all.filter((r) => r.scope_type === "org" || r.scope_id === "p1" || r.scope_id === org.builderId)],
      [p2Admin.token, all.filter((r) => r.scope_type === "org" || r.scope_id === "p2")],
      [loner.token, all.filter((r) => r.scope_type === "org")],
    ] as const) {
      const rows = await walk("/v1/credentials", "credentials", token, 17);
      expect(rows.map((r) => r.id).sort()).toEqual(visible.map((r) => String(r.id)).sort());
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      expect(rows).toEqual([...rows].sort(refOrder));
    }
  });

  it("stays complete while rows are added between page fetches: every row that was there at the start exactly once, nothing twice", async () => {
    const before = (await vaultSql(org.id, `SELECT id FROM credentials`)).map((r) => String(r.id));
    const added: string[] = [];
    // After each page: rows that sort before the cursor (app "anthropic"), after it ("zz…") and among the rest.
    const rows = await walk("/v1/credentials", "credentials", org.owner, 25, async (page) => {
      added.push(...(await insertCredentials(3, `add${page}`)));
      await runInDurableObject(vaultOf(org.id), (_i, state) => {
        for (const app of ["anthropic", "zzapp"]) {
          const id = newId("cred");
          state.storage.sql.exec(
            `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, created_by, created_at, updated_at) VALUES (?, ?, ?, 'x', 'org', '', 'api_key', 'active', 'test', 0, 0)`,
            id, app, `late-${page}`,
          );
          added.push(id);
        }
      });
    });
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of before) expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(ids.every((id) => before.includes(id) || added.includes(id))).toBe(true);
    // The rows added after the cursor's place (zzapp) are seen; those before it (anthropic) are not.
    const late = await vaultSql(org.id, `SELECT id, app FROM credentials WHERE slug LIKE 'late-%'`);
    for (const r of late) expect(ids.includes(String(r.id))).toBe(r.app === "zzapp");
  });

  it("keeps filters across pages and gives 100 rows by default, with next_cursor (clients that never page still work)", async () => {
    const first = await call("GET", "/v1/credentials", { token: org.owner });
    expect(first.status).toBe(200);
    expect(first.body.credentials).toHaveLength(100);
    expect(typeof first.body.next_cursor).toBe("string");
    const some = await walk("/v1/credentials?app=openai&scope=project:p1", "credentials", org.owner, 7);
    expect(some.length).toBeGreaterThan(7);
    expect(some.every((c) => c.app === "openai" && c.scope.project === "p1")).toBe(true);
    const last = await call("GET", "/v1/credentials?app=exa&limit=500", { token: org.owner });
    expect(last.body.next_cursor).toBeNull();
  });

  it("refuses a bad cursor or limit with a 400 naming the field, never a 500", async () => {
    const bad = async (q: string, field: string) => expectError(await call("GET", `/v1/credentials?${q}`, { token: org.owner }), 400, "invalid_request", field);
    await bad("cursor=not-a-cursor", "query.cursor");
    await bad("cursor=%3D%3D", "query.cursor");
    await bad(`cursor=${encodeCursor("members", [1, "x"])}`, "query.cursor");
    await bad(`cursor=${encodeCursor("credentials", ["a", "b", "c", "d", 5])}`, "query.cursor");
    await bad(`cursor=${encodeCursor("credentials", ["a", "b"])}`, "query.cursor");
    await bad("limit=0", "query.limit");
    await bad("limit=501", "query.limit");
    await bad("limit=ten", "query.limit");
    await bad("limit=1.5", "query.limit");
  });

  it("reads a page through the index, not a scan of the org (query plan)", async () => {
    const plan = await vaultSql(org.id, `EXPLAIN QUERY PLAN SELECT * FROM credentials WHERE (app, scope_type, scope_id, slug, id) > (?, ?, ?, ?, ?) ORDER BY app, scope_type, scope_id, slug, id LIMIT 101`, "exa", "org", "", "c-0", "cred_x");
    const text = plan.map((r) => String(r.detail)).join("\n");
    expect(text).toContain("credentials_page");
    expect(text).not.toContain("TEMP B-TREE");
  });

  it("looks a reference up through its slug's index, not every credential of its app (the statement the vault runs)", async () => {
    const admin = { member: "mem_a", role: "owner" as const, projects: {} };
    const builder = { member: "mem_b", role: "builder" as const, projects: { p1: "builder" as const, p2: "admin" as const } };
    for (const p of [admin, builder]) {
      for (const raw of ["openai/org/c-1", "openai/c-1", "c-1"]) {
        const { sql, args } = refWhere(p, parseRef(raw, "ref"));
        const plan = (await vaultSql(org.id, `EXPLAIN QUERY PLAN ${credentialsQuery(sql)}`, ...args)).map((r) => String(r.detail)).join("\n");
        expect(plan, raw).toContain("USING INDEX credentials_by_slug");
      }
    }
  });
});

describe("the web Apps page follows pages", () => {
  const apps = async (path: string) => {
    const res = await exports.default.fetch(new Request(`http://localhost${path}`, { headers: { cookie: `ks_session=${org.owner}`, accept: "text/html" } }));
    return { status: res.status, html: await res.text() };
  };
  const refsOn = (html: string) => [...html.matchAll(/aria-label="Revoke ([^"]+)"/g)].map((m) => m[1]!);

  it("shows 100 rows with a Next page link that keeps the filters; the next page shows the rows after them, and First page goes back", async () => {
    const first = await apps("/apps?status=active");
    expect(first.status).toBe(200);
    const shown = refsOn(first.html);
    expect(shown).toHaveLength(100);
    const next = /href="([^"]+)" rel="next"/.exec(first.html)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toMatch(/^\/apps\?status=active&cursor=[A-Za-z0-9_-]+$/);
    const second = await apps(next!);
    expect(second.status).toBe(200);
    const more = refsOn(second.html);
    expect(more.length).toBeGreaterThan(0);
    expect(more.filter((r) => shown.includes(r))).toEqual([]);
    expect(second.html).toContain('href="/apps?status=active">First page');
    // The App filter still lists every app, though only one page of rows was read.
    for (const app of APPS) expect(first.html).toContain(`<option value="${app}"`);
  });

  it("answers a forged cursor with a 400 page naming the problem, not a 500", async () => {
    const res = await apps("/apps?cursor=bm9wZQ");
    expect(res.status).toBeLessThan(500);
    expect(res.html).toContain("cursor");
  });
});

describe("ref lookups through indexed queries", () => {
  it("answers what matching over every visible row answered before (ids, slugs, app/slug, scopes, ambiguity, not found)", async () => {
    // Two live credentials named `twin` (org and p1), a revoked and a live `again` at the org.
    await runInDurableObject(vaultOf(org.id), (_i, state) => {
      const put = (app: string, slug: string, type: string, scopeId: string, status: string) =>
        state.storage.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, created_by, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?, 'api_key', ?, 'test', 0, 0)`,
          newId("cred"), app, slug, type, scopeId, status,
        );
      put("exa", "twin", "org", "", "active");
      put("exa", "twin", "project", "p1", "active");
      put("openai", "again", "org", "", "revoked");
      put("openai", "again", "org", "", "active");
      put("exa", "hidden", "project", "p2", "active");
    });
    for (const [token, member] of [[org.owner, null], [org.builder, org.builderId]] as const) {
      const visible: any[] = await walk("/v1/credentials", "credentials", token, 500);
      const someId = visible.find((c) => c.slug === "c-4")!.id;
      const refs = ["c-1", "exa/c-0", "openai/org/c-1", "project/p1/c-2", "exa/project/p1/c-3", someId, "twin", "exa/twin", "exa/org/twin", "again", "openai/again", "hidden", "nothing", "mine-0", "user/mine-1"];
      for (const ref of refs) {
        const res = await call("GET", `/v1/credentials/${encodeURIComponent(ref)}`, { token });
        // The rule of before: among the visible rows, live ones first; revoked ones only when no live one matches.
        const cands: CandidateCredential[] = visible.map((c) => ({ id: c.id, app: c.app, slug: c.slug, name: c.name, scope: c.scope, default: c.default, status: c.status }));
        const parsed = parseRef(ref, "ref");
        const live = cands.filter((c) => c.status !== "revoked");
        const pool = "id" in parsed ? cands : findRefMatches(parsed, live, { user: member ?? undefined }).length ? live : cands;
        let expected: { status: number; id?: string };
        try {
          expected = { status: 200, id: "id" in parsed ? pool.find((c) => c.id === parsed.id)!.id : matchRef(parsed, pool, { user: member ?? undefined, field: "ref" }).id };
        } catch (e: any) {
          expected = { status: e.httpStatus ?? 404 };
        }
        expect({ ref, status: res.status, id: res.body?.id }).toEqual({ ref, status: expected.status, id: expected.id });
      }
    }
  });
});

describe("the other management lists page the same way", () => {
  beforeAll(async () => {
    for (let i = 0; i < 4; i++) {
      expect((await call("POST", "/v1/api-keys", { token: org.owner, body: { name: `k${i}` } })).status).toBe(201);
      expect((await call("POST", "/v1/runtime-tokens", { token: org.owner, body: { name: `rt${i}` } })).status).toBe(201);
      expect((await call("POST", "/v1/invitations", { token: org.owner, body: { email: `inv${i}@paging.test`, role: "builder" } })).status).toBe(201);
      await addMember(org.id, `m${i}@paging.test`, "builder");
    }
    const cred = (await call("GET", "/v1/credentials?app=exa&scope=org&limit=1", { token: org.owner })).body.credentials[0];
    for (let i = 0; i < 5; i++) {
      const pin = await call("PUT", "/v1/assignments", { token: org.owner, body: { kind: "workflow", target: "wf", consumer: `s${i}`, credential: cred.id } });
      expect(pin.status, pin.text).toBe(200);
    }
    await vaultSql(org.id, `INSERT INTO consumers (kind, target, consumer, source, first_seen_at, last_seen_at) VALUES ('workflow', 'wf', 'seen', 'event', 0, 0)`);
  });

  it.each([
    ["/v1/members", "members"],
    ["/v1/projects", "projects"],
    ["/v1/api-keys", "api_keys"],
    ["/v1/runtime-tokens", "runtime_tokens"],
    ["/v1/invitations", "invitations"],
    ["/v1/me/tokens", "tokens"],
    ["/v1/assignments", "assignments"],
    ["/v1/assignments?kind=workflow&target=wf", "assignments"],
    ["/v1/consumers?kind=workflow&target=wf", "consumers"],
  ])("%s: pages of 1 add up to the whole list, in its order, each row once", async (path, key) => {
    const whole = await call("GET", `${path}${path.includes("?") ? "&" : "?"}limit=500`, { token: org.owner });
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body.next_cursor).toBeNull();
    expect(whole.body[key].length).toBeGreaterThan(1);
    expect(await walk(path, key, org.owner, 1)).toEqual(whole.body[key]);
    expectError(await call("GET", `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeCursor("credentials", ["a", "b", "c", "d", "e"])}`, { token: org.owner }), 400, "invalid_request", "query.cursor");
  });

  it("GET /v1/members/{id}/tokens pages too", async () => {
    for (let i = 0; i < 2; i++) await vaultSql(org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at) VALUES (?, ?, 'user', ?, 'extra', 'p', ?)`, newId("tok"), `h${uid(12)}`, org.builderId, Date.now() + i);
    const path = `/v1/members/${org.builderId}/tokens`;
    const whole = await call("GET", `${path}?limit=500`, { token: org.owner });
    expect(whole.body.tokens.length).toBe(3);
    expect(await walk(path, "tokens", org.owner, 1)).toEqual(whole.body.tokens);
  });
});
