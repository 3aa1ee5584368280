import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, seed, uid, vaultSql, type Seed } from "./helpers";

/**
 * Consumer ids as SPEC section 4 defines them: the execution plane's own names, any printable
 * ASCII without whitespace, 1-200 characters. Keystroke's step ids carry `#` (`step:send#0`).
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

const IDS: [kind: string, id: string][] = [
  ["workflow", "step:send#0"],
  ["workflow", "step:research-signup#12"],
  ["workflow", "step:a/b?c=%41&d#1"],
  ["agent", "search_web"],
  ["poll", "new-issue"],
];

async function orgCred(app: string): Promise<{ id: string; ref: string }> {
  const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app, slug: `k${uid(6)}`, fields: { apiKey: `sec-${uid(24)}` }, targets: [{ type: "org" }] } });
  expect(res.status, res.text).toBe(200);
  return res.body.credentials[0];
}

describe("consumer ids with #, /, ?, % and &", () => {
  it.each(IDS)("%s consumer %s: events, assign, consumers, explain, runtime resolve, unassign", async (kind, id) => {
    const target = `t-${uid(6)}`;
    const app = `a${uid(6)}`;
    // Two org credentials and no default: only an assignment can decide, so `rule` proves the id matched.
    const [one] = [await orgCred(app), await orgCred(app)];
    if (kind === "workflow") {
      const ev = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step: id, run_id: "r1" } });
      expect(ev.status, ev.text).toBe(200);
      expect(ev.body).toEqual({ consumer: { kind, target, id } });
    }
    const put = await call("PUT", "/v1/assignments", { token: s.alice, body: { kind, target, consumer: id, credential: one!.id } });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ kind, target, consumer: id, app });

    const listed = await call("GET", `/v1/assignments?${new URLSearchParams({ kind, target })}`, { token: s.alice });
    expect(listed.body.assignments.map((a: { consumer: string }) => a.consumer)).toEqual([id]);
    const consumers = await call("GET", `/v1/consumers?${new URLSearchParams({ kind, target })}`, { token: s.alice });
    expect(consumers.status, consumers.text).toBe(200);
    expect(consumers.body.consumers).toEqual([expect.objectContaining({ id, assignments: [{ app, credential: one!.ref, wildcard: false }] })]);

    const consumer = { kind, target, id };
    const explain = await call("POST", "/v1/resolve/explain", { token: s.alice, body: { consumer, requirements: [{ app }] } });
    expect(explain.body.results[0], explain.text).toMatchObject({ ok: true, rule: "assignment", credential: { id: one!.id } });
    const resolved = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer, requirements: [{ app }] } });
    expect(resolved.body.results[0], resolved.text).toMatchObject({ ok: true, rule: "assignment", credential: { id: one!.id } });

    const del = await call("DELETE", "/v1/assignments", { token: s.alice, body: { kind, target, consumer: id, app } });
    expect(del.status, del.text).toBe(200);
    expect(del.body.deleted).toMatchObject({ consumer: id, app });
    expect(await vaultSql(s.org.id, `SELECT * FROM assignments WHERE target = ?`, target)).toEqual([]);
  });

  it("a 200-character id is accepted; 201 characters, whitespace, non-ASCII and empty are refused naming the field", async () => {
    const target = `t-${uid(6)}`;
    const ok = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step: "s".repeat(200), run_id: "r1" } });
    expect(ok.status, ok.text).toBe(200);
    for (const step of ["s".repeat(201), "step:a b#0", "step:a\t#0", "step:é#0", "step:\u001b#0", ""]) {
      expectError(await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step, run_id: "r1" } }), 400, "invalid_request", "step");
      const consumer = { kind: "workflow", target, id: step };
      expectError(await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer, requirements: [{ app: "exa" }] } }), 400, "invalid_request", "consumer.id");
      expectError(await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, consumer: step, credential: "exa/org/x" } }), 400, "invalid_request", "consumer");
    }
    expect(await vaultSql(s.org.id, `SELECT consumer FROM consumers WHERE target = ?`, target)).toEqual([{ consumer: "s".repeat(200) }]);
  });

  it("`*` is never a consumer id in runtime calls; in assignments it is the wildcard", async () => {
    const target = `t-${uid(6)}`;
    const consumer = { kind: "workflow", target, id: "*" };
    expectError(await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step: "*", run_id: "r1" } }), 400, "invalid_request", "step");
    expectError(await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer, requirements: [{ app: "exa" }] } }), 400, "invalid_request", "consumer.id");
    expectError(await call("POST", "/v1/resolve/explain", { token: s.alice, body: { consumer, requirements: [{ app: "exa" }] } }), 400, "invalid_request", "consumer.id");
    expectError(await call("PUT", `/v1/runtime/agents/${target}/tools`, { token: s.runtime, body: { tools: ["search_web", "*"] } }), 400, "invalid_request", "tools[1]");
    const app = `a${uid(6)}`;
    const c = await orgCred(app);
    const put = await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, consumer: "*", credential: c.id } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.consumer).toBe("*");
    expect((await call("DELETE", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, app } })).status).toBe(200);
  });
});
