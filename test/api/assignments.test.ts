import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, memberIds, seed, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ids: Record<string, string>;

beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
});

/** Fresh names per test: storage is shared by every test of this file. */
const fresh = (p: string) => `${p}${uid(8)}`;
const ORG = { type: "org" };
const SUPPORT = { type: "project", project: "support" };

async function mk(app: string, target: Record<string, string>, slug: string, token = s.alice): Promise<any> {
  const res = await call("POST", "/v1/credentials", { token, body: { app, slug, fields: { apiKey: `sec-${uid(24)}` }, targets: [target] } });
  expect(res.status, res.text).toBe(200);
  return res.body.credentials[0];
}
type Put = { kind?: string; target: string; consumer?: string; credential: string };
const put = (b: Put, token = s.alice) => call("PUT", "/v1/assignments", { token, body: { kind: "workflow", ...b } });
const del = (b: { kind?: string; target: string; consumer?: string; app: string }, token = s.alice) =>
  call("DELETE", "/v1/assignments", { token, body: { kind: "workflow", ...b } });
async function list(query = "", token = s.alice): Promise<any[]> {
  const res = await call("GET", `/v1/assignments${query}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body.assignments;
}
async function consumers(kind: string, target: string): Promise<any[]> {
  const res = await call("GET", `/v1/consumers?kind=${kind}&target=${target}`, { token: s.carol });
  expect(res.status, res.text).toBe(200);
  return res.body.consumers;
}
const rowsFor = (target: string) => vaultSql(s.org.id, `SELECT * FROM assignments WHERE target = ?`, target);

describe("PUT /v1/assignments", () => {
  it("accepts every reference form; no consumer means `*`", async () => {
    const app = fresh("a");
    const slug = fresh("w");
    const o = await mk(app, ORG, slug);
    const p = await mk(app, SUPPORT, fresh("p"));
    const target = fresh("wf");
    const forms: [string | undefined, string, any][] = [
      ["c1", slug, o],
      ["c2", `org/${slug}`, o],
      ["c3", `project/support/${p.slug}`, p],
      ["c4", `${app}/${slug}`, o],
      ["c5", `${app}/project/support/${p.slug}`, p],
      ["c6", p.id, p],
      [undefined, `${app}/org/${slug}`, o],
    ];
    for (const [consumer, credential, want] of forms) {
      const res = await put({ target, ...(consumer ? { consumer } : {}), credential });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({
        kind: "workflow", target, consumer: consumer ?? "*", app,
        credential: { id: want.id, ref: want.ref, status: "active" },
        created_by: ids["alice@acme.test"], created_at: expect.any(String),
      });
    }
    const all = await list(`?kind=workflow&target=${target}`);
    expect(all.map((a) => [a.consumer, a.credential.id])).toEqual([["*", o.id], ["c1", o.id], ["c2", o.id], ["c3", p.id], ["c4", o.id], ["c5", p.id], ["c6", p.id]]);
    expect(await rowsFor(target)).toHaveLength(7);
  });

  it("a reference that names several credentials is refused, listing them; nothing is written", async () => {
    const app = fresh("a");
    const slug = fresh("s");
    await mk(app, ORG, slug);
    await mk(app, SUPPORT, slug);
    const target = fresh("wf");
    const res = await put({ target, credential: slug });
    expectError(res, 400, "invalid_request", "credential");
    expect(res.body.error.details.candidates).toEqual([`${app}/org/${slug}`, `${app}/project/support/${slug}`]);
    expect(res.body.error.fix).toBe(`use a qualified reference such as ${app}/org/${slug}`);
    expect(await rowsFor(target)).toEqual([]);
    expect((await put({ target, credential: `project/support/${slug}` })).status).toBe(200);
  });

  it("a revoked credential is not assignable; a live one reusing its slug is", async () => {
    const app = fresh("a");
    const gone = await mk(app, ORG, "work");
    expect((await call("POST", `/v1/credentials/${gone.id}/revoke`, { token: s.alice })).status).toBe(200);
    const target = fresh("wf");
    for (const credential of [gone.id, `${app}/org/work`]) {
      const res = await put({ target, credential });
      expectError(res, 400, "invalid_request", "credential");
      expect(res.body.error.message).toBe(`${app}/org/work is revoked and cannot be assigned.`);
    }
    expect(await rowsFor(target)).toEqual([]);
    const live = await mk(app, ORG, "work");
    const res = await put({ target, credential: `${app}/work` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.credential).toEqual({ id: live.id, ref: `${app}/org/work`, status: "active" });
  });

  it("another user's credential is not assignable: not found, nothing written", async () => {
    const app = fresh("a");
    const theirs = await mk(app, { type: "user" }, "mine", s.carol);
    const target = fresh("wf");
    for (const credential of [theirs.id, "user/mine", `${app}/user/mine`, "mine"]) {
      const res = await put({ target, credential });
      expectError(res, 404, "not_found");
      expect(res.body.error.details).toEqual({ field: "credential" });
      if (credential !== theirs.id) expect(res.text).not.toContain(theirs.id);
    }
    expect(await rowsFor(target)).toEqual([]);
    // Its owner may pin it.
    const own = await put({ target, credential: "user/mine" }, s.carol);
    expect(own.status, own.text).toBe(200);
    expect(own.body).toMatchObject({ credential: { id: theirs.id }, created_by: ids["carol@acme.test"] });
  });

  it("a second PUT for the same consumer and app replaces the pin", async () => {
    const app = fresh("a");
    const a = await mk(app, ORG, "one");
    const b = await mk(app, ORG, "two");
    const target = fresh("wf");
    expect((await put({ target, consumer: "c1", credential: a.id })).status).toBe(200);
    const again = await put({ target, consumer: "c1", credential: b.id }, s.bob);
    expect(again.status, again.text).toBe(200);
    const rows = await list(`?target=${target}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ consumer: "c1", app, credential: { id: b.id }, created_by: ids["bob@acme.test"] });
    const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: { kind: "workflow", target, id: "c1" }, requirements: [{ app }] } });
    expect(r.body.results[0]).toMatchObject({ ok: true, rule: "assignment", credential: { id: b.id } });
  });
});

describe("GET and DELETE /v1/assignments", () => {
  it("filters by kind and target", async () => {
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    const t1 = fresh("t");
    const t2 = fresh("t");
    for (const [kind, target] of [["workflow", t1], ["agent", t1], ["poll", t2], ["workflow", t2]]) {
      expect((await put({ kind, target: target!, consumer: "c", credential: c.id })).status).toBe(200);
    }
    const mine = (rows: any[]) => rows.filter((r) => r.app === app).map((r) => `${r.kind}:${r.target}`);
    expect(mine(await list(`?target=${t1}`))).toEqual([`agent:${t1}`, `workflow:${t1}`]);
    expect(mine(await list(`?kind=workflow&target=${t2}`))).toEqual([`workflow:${t2}`]);
    expect(mine(await list(`?kind=poll`))).toEqual([`poll:${t2}`]);
    expect(mine(await list())).toHaveLength(4);
    expect(await list(`?kind=agent&target=${t2}`)).toEqual([]);
  });

  it("reports a credential revoked after it was assigned", async () => {
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    const target = fresh("wf");
    expect((await put({ target, credential: c.id })).status).toBe(200);
    expect((await call("POST", `/v1/credentials/${c.id}/revoke`, { token: s.alice })).status).toBe(200);
    const rows = await list(`?target=${target}`);
    expect(rows).toHaveLength(1);
    expect(rows[0].credential).toEqual({ id: c.id, ref: `${app}/org/x`, status: "revoked" });
  });

  it("deletes one assignment; a missing one is 404", async () => {
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    const target = fresh("wf");
    expect((await put({ target, credential: c.id })).status).toBe(200);
    expect((await put({ target, consumer: "c1", credential: c.id })).status).toBe(200);
    expectError(await del({ target, consumer: "c2", app }), 404, "not_found");
    expectError(await del({ target, app: fresh("other") }), 404, "not_found");
    expectError(await del({ kind: "agent", target, app }), 404, "not_found");
    const res = await del({ target, app });
    expect(res.status, res.text).toBe(200);
    expect(res.body.deleted).toMatchObject({ kind: "workflow", target, consumer: "*", app, credential: { id: c.id } });
    expect((await list(`?target=${target}`)).map((a) => a.consumer)).toEqual(["c1"]);
    expectError(await del({ target, app }), 404, "not_found");
  });

  it("audits every change", async () => {
    const app = fresh("a");
    const a = await mk(app, ORG, "one");
    const b = await mk(app, ORG, "two");
    const target = fresh("wf");
    await put({ target, consumer: "c1", credential: a.id });
    await put({ target, consumer: "c1", credential: b.id }, s.bob);
    await del({ target, consumer: "c1", app });
    const log = await call("GET", `/v1/audit?action=assignment.`, { token: s.alice });
    expect(log.status, log.text).toBe(200);
    const mine = log.body.entries.filter((e: any) => e.target === `workflow:${target}/c1`);
    expect(mine.map((e: any) => [e.action, e.actor, e.credential, e.outcome])).toEqual([
      ["assignment.delete", ids["alice@acme.test"], b.id, "ok"],
      ["assignment.set", ids["bob@acme.test"], b.id, "ok"],
      ["assignment.set", ids["alice@acme.test"], a.id, "ok"],
    ]);
    expect(mine[1].detail).toEqual({ app, credential: `${app}/org/two` });
    expect(mine[0].detail).toEqual({ app });
  });
});

describe("consumers", () => {
  it("workflow consumers appear once a run reports the step", async () => {
    const target = fresh("wf");
    expect(await consumers("workflow", target)).toEqual([]);
    const ev = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step: "fetch.issues", run_id: "run_1" } });
    expect(ev.status, ev.text).toBe(200);
    expect(ev.body).toEqual({ consumer: { kind: "workflow", target, id: "fetch.issues" } });
    await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step: "fetch.issues", run_id: "run_2" } });
    const list1 = await consumers("workflow", target);
    expect(list1).toEqual([{ kind: "workflow", target, id: "fetch.issues", sources: ["event"], last_seen_at: expect.any(String), assignments: [] }]);
    expect(await consumers("workflow", fresh("wf"))).toEqual([]);
    expect(await consumers("agent", target)).toEqual([]);

    // Assignments show on the consumer; a named one adds the source, a wildcard applies to all.
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    await put({ target, consumer: "fetch.issues", credential: c.id });
    await put({ target, consumer: "notify", credential: c.id });
    const list2 = await consumers("workflow", target);
    expect(list2.map((v) => [v.id, v.sources])).toEqual([["fetch.issues", ["assignment", "event"]], ["notify", ["assignment"]]]);
    expect(list2[0].assignments).toEqual([{ app, credential: `${app}/org/x`, wildcard: false }]);
    expect(list2[1].last_seen_at).toBeNull();
  });

  it("agent consumers are the registered tools; a new list replaces the old", async () => {
    const agent = fresh("ag");
    const r1 = await call("PUT", `/v1/runtime/agents/${agent}/tools`, { token: s.runtime, body: { tools: ["search", "linear.create_issue", "search"] } });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body).toEqual({ agent, tools: ["linear.create_issue", "search"] });
    expect((await consumers("agent", agent)).map((v) => [v.id, v.sources])).toEqual([["linear.create_issue", ["agent_tools"]], ["search", ["agent_tools"]]]);
    const r2 = await call("PUT", `/v1/runtime/agents/${agent}/tools`, { token: s.runtime, body: { tools: ["search", "slack.post"] } });
    expect(r2.status, r2.text).toBe(200);
    expect((await consumers("agent", agent)).map((v) => v.id)).toEqual(["search", "slack.post"]);
    // A tool named in an assignment stays a consumer even when the agent stops listing it.
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    await put({ kind: "agent", target: agent, consumer: "legacy", credential: c.id });
    await call("PUT", `/v1/runtime/agents/${agent}/tools`, { token: s.runtime, body: { tools: [] } });
    expect((await consumers("agent", agent)).map((v) => [v.id, v.sources])).toEqual([["legacy", ["assignment"]]]);
  });

  it("poll consumers exist only through assignments", async () => {
    const poll = fresh("poll");
    expect(await consumers("poll", poll)).toEqual([]);
    const app = fresh("a");
    const c = await mk(app, ORG, "x");
    await put({ kind: "poll", target: poll, credential: c.id });
    // A wildcard pin names no consumer.
    expect(await consumers("poll", poll)).toEqual([]);
    await put({ kind: "poll", target: poll, consumer: "fetch_new", credential: c.id });
    expect(await consumers("poll", poll)).toEqual([
      {
        kind: "poll", target: poll, id: "fetch_new", sources: ["assignment"], last_seen_at: null,
        assignments: [{ app, credential: `${app}/org/x`, wildcard: true }, { app, credential: `${app}/org/x`, wildcard: false }],
      },
    ]);
    expect((await del({ kind: "poll", target: poll, consumer: "fetch_new", app })).status).toBe(200);
    expect(await consumers("poll", poll)).toEqual([]);
  });
});
