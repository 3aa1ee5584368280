import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { hashToken, newToken, tokenPreview } from "../../lib/tokens";
import { call, expectError, provisionWithTokens, seed, uid, vaultSql, type CallResult, type Seed } from "./helpers";

let s: Seed;
let apiKey: string;
let acmeCred: any;
const acmeSecret = `acme-${uid(24)}`;
const acmeApp = `acme${uid(6)}`;
/** The second org: its id, its runtime token and its owner's token. */
let other: { id: string; runtime: string; owner: string };

const consumer = { kind: "workflow", target: "wf", id: "s1" };
const runtimeCalls = (token: string, agent = "ag") => [
  call("POST", "/v1/runtime/resolve", { token, body: { consumer, requirements: [{ app: acmeApp }] } }),
  call("POST", "/v1/runtime/events", { token, body: { type: "step_completed", workflow: "wf-auth", step: "s1", run_id: "r1" } }),
  call("PUT", `/v1/runtime/agents/${agent}/tools`, { token, body: { tools: ["t1"] } }),
];
const memberCalls = (token: string) => [
  call("GET", "/v1/credentials", { token }),
  call("GET", `/v1/credentials/${acmeCred.id}`, { token }),
  call("POST", "/v1/credentials", { token, body: { app: acmeApp, slug: "rt", fields: { apiKey: "x-1234567890" } } }),
  call("POST", "/v1/resolve/explain", { token, body: { requirements: [{ app: acmeApp }] } }),
  call("GET", "/v1/assignments", { token }),
  call("PUT", "/v1/assignments", { token, body: { kind: "workflow", target: "wf-auth", credential: acmeCred.id } }),
  call("DELETE", "/v1/assignments", { token, body: { kind: "workflow", target: "wf", app: acmeApp } }),
  call("GET", "/v1/consumers?kind=workflow&target=wf-auth", { token }),
];

/** Provisions a second org as the dev seed does (test/api/helpers.ts), with a runtime token of its own. */
async function provisionOther(): Promise<{ id: string; runtime: string; owner: string }> {
  const org = await env.DIRECTORY.getByName("global").ensureOrg("other", "Other");
  const runtime = newToken("rt", org.id);
  const owner = newToken("user", org.id);
  await provisionWithTokens({
    org: { id: org.id, slug: org.slug, name: org.name },
    members: [{ email: "olga@other.test", name: "Olga", role: "owner" }],
    projects: [{ slug: "support", name: "Support", members: [] }],
    tokens: [
      { hash: await hashToken(runtime), preview: tokenPreview(runtime), kind: "rt", email: null, name: "runtime", expires_at: null },
      { hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "olga@other.test", name: "test", expires_at: null },
    ],
  });
  return { id: org.id, runtime, owner };
}

/** The same token with its org part swapped: well formed, so it routes to the other org's vault. */
const withOrg = (token: string, from: string, to: string) => token.replace(`_${from}_`, `_${to}_`);

beforeAll(async () => {
  s = await seed();
  const key = await call("POST", "/v1/api-keys", { token: s.alice, body: { name: "scripts" } });
  expect(key.status, key.text).toBe(201);
  apiKey = key.body.key;
  const c = await call("POST", "/v1/credentials", { token: s.alice, body: { app: acmeApp, slug: "work", fields: { apiKey: acmeSecret } } });
  expect(c.status, c.text).toBe(200);
  acmeCred = c.body.credentials[0];
  other = await provisionOther();
});

describe("runtime endpoints take only the runtime token", () => {
  it("a member token or an API key is forbidden on each, with the envelope, and changes nothing", async () => {
    for (const [token, kind, name] of [[s.alice, "user", "a member token"], [s.carol, "user", "a member token"], [apiKey, "key", "an API key"]] as const) {
      for (const res of await Promise.all(runtimeCalls(token))) {
        expectError(res, 403, "forbidden");
        expect(res.body.error).toEqual({
          code: "forbidden",
          message: `This endpoint does not accept ${name}.`,
          fix: "Use a runtime token.",
          details: { token_kind: kind },
        });
        expect(res.text).not.toContain(acmeSecret);
      }
    }
    // Nothing was resolved, learned or registered.
    expect(await vaultSql(s.org.id, `SELECT * FROM consumers`)).toEqual([]);
    expect(await vaultSql(s.org.id, `SELECT * FROM audit WHERE action = 'credential.resolve'`)).toEqual([]);
    expect((await call("GET", `/v1/credentials/${acmeCred.id}`, { token: s.alice })).body.last_used_at).toBeNull();
  });

  it("the runtime token is forbidden on member endpoints", async () => {
    const before = await vaultSql(s.org.id, `SELECT id FROM credentials`);
    for (const res of await Promise.all(memberCalls(s.runtime))) {
      expectError(res, 403, "forbidden");
      expect(res.body.error).toEqual({
        code: "forbidden",
        message: "This endpoint does not accept a runtime token.",
        fix: "Use a member token or an API key.",
        details: { token_kind: "rt" },
      });
    }
    expect(await vaultSql(s.org.id, `SELECT id FROM credentials`)).toEqual(before);
    expect(await vaultSql(s.org.id, `SELECT * FROM assignments`)).toEqual([]);
  });

  it("the runtime token works on each runtime endpoint", async () => {
    const [resolve, event, tools] = (await Promise.all(runtimeCalls(s.runtime, `ag${uid(4)}`))) as [CallResult, CallResult, CallResult];
    expect(resolve.status, resolve.text).toBe(200);
    expect(resolve.body.results[0]).toMatchObject({ ok: true, credential: { id: acmeCred.id }, fields: { apiKey: acmeSecret } });
    expect(event.status, event.text).toBe(200);
    expect(tools.status, tools.text).toBe(200);
  });

  it("no token, a malformed one or an unknown one is unauthorized", async () => {
    const unknown = newToken("rt", s.org.id);
    for (const token of [undefined, "nope", `${s.runtime}x`, unknown]) {
      const res = await call("POST", "/v1/runtime/resolve", { token, body: { consumer, requirements: [{ app: acmeApp }] } });
      expectError(res, 401, "unauthorized");
      expect(res.text).not.toContain(acmeSecret);
    }
  });
});

describe("orgs are separate", () => {
  it("acme's runtime token pointed at another org is unauthorized there", async () => {
    const forged = withOrg(s.runtime, s.org.id, other.id);
    expect(forged).not.toBe(s.runtime);
    for (const res of await Promise.all(runtimeCalls(forged))) {
      expectError(res, 401, "unauthorized");
      expect(res.body.error.message).toBe("The token is not valid for this organization.");
    }
    // And the other way round: the other org's runtime token does not open acme.
    const back = withOrg(other.runtime, other.id, s.org.id);
    const res = await call("POST", "/v1/runtime/resolve", { token: back, body: { consumer, requirements: [{ app: acmeApp }] } });
    expectError(res, 401, "unauthorized");
    expect(res.text).not.toContain(acmeSecret);
    // A member token moved to another org fails the same way.
    expectError(await call("GET", "/v1/credentials", { token: withOrg(s.alice, s.org.id, other.id) }), 401, "unauthorized");
  });

  it("the other org's own runtime token sees none of acme's credentials", async () => {
    const body = (req: Record<string, string>) => ({ project: "support", consumer, requirements: [{ app: acmeApp, ...req }] });
    const res = await call("POST", "/v1/runtime/resolve", { token: other.runtime, body: body({}) });
    expect(res.status, res.text).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.results[0].error).toMatchObject({
      code: "missing_credentials",
      details: { app: acmeApp, tried: ["project:support", "org"], connect_url: `http://localhost:8787/connect?app=${acmeApp}` },
    });
    for (const credential of [acmeCred.id, "work", `${acmeApp}/org/work`]) {
      const r = await call("POST", "/v1/runtime/resolve", { token: other.runtime, body: body({ credential }) });
      expect(r.status, r.text).toBe(200);
      expect(r.body.results[0].error.code).toBe("missing_credentials");
      expect(r.text).not.toContain(acmeSecret);
    }
    // acme's members are not the other org's.
    const u = await call("POST", "/v1/runtime/resolve", { token: other.runtime, body: { ...body({}), user: "alice@acme.test" } });
    expectError(u, 400, "invalid_request", "user");
    const e = await call("POST", "/v1/resolve/explain", { token: other.owner, body: { requirements: [{ app: acmeApp }] } });
    expect(e.status, e.text).toBe(200);
    expect(e.body.results[0].error.code).toBe("missing_credentials");
    // The refused resolves were audited in the other org only.
    const audit = await vaultSql(other.id, `SELECT outcome FROM audit WHERE action = 'credential.resolve'`);
    expect(audit.length).toBe(4);
    expect(audit.every((r) => r.outcome === "failed")).toBe(true);
  });
});

it("POST /v1/ping (the benchmarks' floor for a POST) takes any body and authenticates like GET", async () => {
  const body = { consumer, requirements: [{ app: acmeApp }] };
  const ok = await call("POST", "/v1/ping", { token: s.runtime, body });
  expect(ok.status, ok.text).toBe(200);
  expect(ok.body).toEqual({ ok: true });
  expectError(await call("POST", "/v1/ping", { body }), 401, "unauthorized");
  expectError(await call("POST", "/v1/ping", { token: `${s.runtime}x`, body }), 401, "unauthorized");
});
