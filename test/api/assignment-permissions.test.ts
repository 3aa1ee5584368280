import { beforeAll, describe, expect, it } from "vitest";
import { addMember, call, expectError, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

/**
 * Who may pin what (issue 11 item 3; README "Resolution", "Assignments"): writing a pin needs
 * `manage` on the new credential's scope; replacing or deleting one needs `manage` on the scope of
 * the credential it points at now (org owners and admins always). One table: roles x operations x
 * the scope of the old and the new credential. ok = 200; 403 = forbidden; 404 = the new credential
 * is invisible to the caller. A refused call leaves the pin as it was.
 */
type Role = "owner" | "admin" | "projectAdmin" | "builderIn" | "builderOut";
const SCOPES = ["org", "growth", "support", "own", "other"] as const;
type ScopeName = (typeof SCOPES)[number];
type Outcome = "ok" | "403" | "404";
const row = (s: string) => Object.fromEntries(s.split(/\s+/).map((o, i) => [SCOPES[i], o])) as Record<ScopeName, Outcome>;

// Columns: org, growth, support, own user, other user.
const PIN: Record<Role, Record<ScopeName, Outcome>> = {
  owner: row("ok ok ok ok 404"),
  admin: row("ok ok ok ok 404"),
  projectAdmin: row("403 ok 404 ok 404"), // admin of growth, not in support
  builderIn: row("403 403 404 ok 404"), // builder of growth
  builderOut: row("403 404 403 ok 404"), // carol: builder of support, not in growth
};
const UNPIN: Record<Role, Record<ScopeName, Outcome>> = {
  owner: row("ok ok ok ok ok"),
  admin: row("ok ok ok ok ok"),
  projectAdmin: row("403 ok 403 ok 403"),
  builderIn: row("403 403 403 ok 403"),
  builderOut: row("403 403 403 ok 403"),
};
const ROLES = Object.keys(PIN) as Role[];

type Case = [Role, "put" | "replace" | "delete", ScopeName | "-", ScopeName | "-", Outcome];
const CASES: Case[] = [
  ...ROLES.flatMap((r) => SCOPES.map((n): Case => [r, "put", "-", n, PIN[r][n]])),
  ...ROLES.flatMap((r) => SCOPES.flatMap((o) => SCOPES.map((n): Case => [r, "replace", o, n, PIN[r][n] !== "ok" ? PIN[r][n] : UNPIN[r][o]]))),
  ...ROLES.flatMap((r) => SCOPES.map((o): Case => [r, "delete", o, "-", UNPIN[r][o]])),
];

let s: Seed;
const tokens = {} as Record<Role | "olga", string>;
/** Two live exa credentials (a, b) per scope; `own` per role, `other` is olga's (a member with no project). */
const creds = {} as Record<string, { a: any; b: any }>;

async function pair(token: string, target: Record<string, string>) {
  const make = async () => {
    const res = await setCred(token, { slug: `c${uid(6)}`, targets: [target] });
    expect(res.status, res.text).toBe(200);
    return res.body.credentials[0];
  };
  return { a: await make(), b: await make() };
}

beforeAll(async () => {
  s = await seed();
  Object.assign(tokens, {
    owner: s.alice,
    admin: s.bob,
    builderOut: s.carol,
    projectAdmin: (await addMember(s.org.id, "dave@acme.test", "builder", { growth: "admin" })).token,
    builderIn: (await addMember(s.org.id, "erin@acme.test", "builder", { growth: "builder" })).token,
    olga: (await addMember(s.org.id, "olga@acme.test", "builder")).token,
  });
  for (const sc of ["org", "growth", "support"] as const) creds[sc] = await pair(s.alice, sc === "org" ? { type: "org" } : { type: "project", project: sc });
  for (const r of ROLES) creds[`own:${r}`] = await pair(tokens[r], { type: "user" });
  creds.other = await pair(tokens.olga, { type: "user" });
});

const credOf = (role: Role, scope: ScopeName) => creds[scope === "own" ? `own:${role}` : scope]!;
/** Who may make the old pin: alice for org and project credentials, else the credential's owner. */
const ownerOf = (role: Role, scope: ScopeName) => (scope === "own" ? tokens[role] : scope === "other" ? tokens.olga : s.alice);
const pins = (target: string) => vaultSql(s.org.id, `SELECT consumer, app, credential_id, created_by FROM assignments WHERE target = ?`, target);

describe("assignment permissions: roles x put/replace/delete x old and new credential scope", () => {
  it.each(CASES)("%s %s (old %s, new %s) -> %s", async (role, op, oldScope, newScope, outcome) => {
    const target = `wf${uid(8)}`;
    const body = { kind: "workflow", target, consumer: "step:send#0" };
    const old = oldScope === "-" ? null : credOf(role, oldScope).a;
    if (old) {
      const made = await call("PUT", "/v1/assignments", { token: ownerOf(role, oldScope as ScopeName), body: { ...body, credential: old.id } });
      expect(made.status, made.text).toBe(200);
    }
    const fresh = newScope === "-" ? null : credOf(role, newScope).b;
    const before = await pins(target);
    const res = op === "delete"
      ? await call("DELETE", "/v1/assignments", { token: tokens[role], body: { ...body, app: "exa" } })
      : await call("PUT", "/v1/assignments", { token: tokens[role], body: { ...body, credential: fresh!.id } });
    if (outcome === "ok") {
      expect(res.status, res.text).toBe(200);
      const after = await pins(target);
      expect(after.map((p) => p.credential_id)).toEqual(op === "delete" ? [] : [fresh!.id]);
    } else {
      expectError(res, Number(outcome), outcome === "403" ? "forbidden" : "not_found");
      expect(await pins(target)).toEqual(before);
      // A refusal never names the credential the pin points at.
      if (old) expect(res.text).not.toContain(old.id);
    }
  });
});

describe("masked rows and personal pins", () => {
  const get = async (path: string, role: Role | "olga") => {
    const res = await call("GET", path, { token: tokens[role] });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  it("lists show every pin, but hide what it points at from whoever cannot see that credential", async () => {
    const target = `wf${uid(8)}`;
    const put = (consumer: string, credential: string, token: string) => call("PUT", "/v1/assignments", { token, body: { kind: "workflow", target, consumer, credential } });
    const growth = creds.growth!.a;
    const olgas = creds.other!.a;
    const org = creds.org!.a;
    expect((await put("s1", growth.id, s.alice)).status).toBe(200);
    expect((await put("s2", olgas.id, tokens.olga)).status).toBe(200);
    expect((await put("*", org.id, s.alice)).status).toBe(200);
    const seen = async (role: Role | "olga") => {
      const body = await get(`/v1/assignments?kind=workflow&target=${target}`, role);
      return Object.fromEntries(body.assignments.map((a: any) => [a.consumer, a.credential?.id ?? null]));
    };
    expect(await seen("builderOut")).toEqual({ "*": org.id, s1: null, s2: null });
    expect(await seen("builderIn")).toEqual({ "*": org.id, s1: growth.id, s2: null });
    expect(await seen("olga")).toEqual({ "*": org.id, s1: null, s2: olgas.id });
    expect(await seen("admin")).toEqual({ "*": org.id, s1: growth.id, s2: olgas.id });
    const carolView = await call("GET", `/v1/assignments?kind=workflow&target=${target}`, { token: s.carol });
    for (const hidden of [growth.id, growth.ref, olgas.id, olgas.ref]) expect(carolView.text).not.toContain(hidden);
    // The consumer view masks the same way.
    const consumers = await get(`/v1/consumers?kind=workflow&target=${target}`, "builderOut");
    expect(consumers.consumers.map((c: any) => [c.id, c.assignments])).toEqual([
      ["s1", [{ app: "exa", credential: org.ref, wildcard: true }, { app: "exa", credential: null, wildcard: false }]],
      ["s2", [{ app: "exa", credential: org.ref, wildcard: true }, { app: "exa", credential: null, wildcard: false }]],
    ]);
    const page = await call("GET", `/assignments?kind=workflow&target=${target}`, { headers: { cookie: `ks_session=${s.carol}`, accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="hidden-credential"');
    expect(page.text).not.toContain(growth.ref);
    expect(page.text).not.toContain("project growth");
    // Explain of the pinned consumer: refused, without naming the credential or its project.
    const explain = async (token: string) => (await call("POST", "/v1/resolve/explain", { token, body: { consumer: { kind: "workflow", target, id: "s1" }, requirements: [{ app: "exa" }] } })).body.results[0];
    const outsider = await explain(s.carol);
    expect(outsider).toMatchObject({ ok: false, error: { code: "credential_unavailable", details: { app: "exa", status: "hidden" } } });
    for (const hidden of [growth.id, growth.ref, "growth"]) expect(JSON.stringify(outsider)).not.toContain(hidden);
    // Who can see it is told which one it is.
    expect((await explain(s.alice)).error.details).toMatchObject({ id: growth.id, credential: growth.ref });
  });

  it("a pin to a user credential, even with *, applies only to its owner's runs; others fall through", async () => {
    const app = `r${uid(8)}`;
    const mk = async (token: string, target: object) => (await call("POST", "/v1/credentials", { token, body: { app, slug: `k${uid(4)}`, fields: { apiKey: `sec-${uid(24)}` }, targets: [target] } })).body.credentials[0];
    const org = await mk(s.alice, { type: "org" });
    const olgas = await mk(tokens.olga, { type: "user" });
    const wildcardWf = `wf${uid(8)}`;
    const put = (target: string, consumer: string, credential: string, token: string) => call("PUT", "/v1/assignments", { token, body: { kind: "workflow", target, consumer, credential } });
    expect((await put(wildcardWf, "*", olgas.id, tokens.olga)).status).toBe(200);
    const resolve = async (target: string, user?: string) => {
      const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { ...(user ? { user } : {}), consumer: { kind: "workflow", target, id: "step:send#0" }, requirements: [{ app }] } });
      expect(r.status, r.text).toBe(200);
      return r.body.results[0];
    };
    expect(await resolve(wildcardWf, "olga@acme.test")).toMatchObject({ ok: true, rule: "assignment_wildcard", credential: { id: olgas.id } });
    for (const user of ["carol@acme.test", "alice@acme.test", undefined]) {
      const r = await resolve(wildcardWf, user);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true, rule: "org", credential: { id: org.id } });
      expect(JSON.stringify(r)).not.toContain(olgas.id);
    }
    // A personal exact pin skipped for another user's run falls through to the target's wildcard.
    const exactWf = `wf${uid(8)}`;
    const org2 = await mk(s.alice, { type: "org" });
    expect((await put(exactWf, "step:send#0", olgas.id, tokens.olga)).status).toBe(200);
    expect((await put(exactWf, "*", org2.id, s.alice)).status).toBe(200);
    expect(await resolve(exactWf, "carol@acme.test")).toMatchObject({ ok: true, rule: "assignment_wildcard", credential: { id: org2.id } });
    expect(await resolve(exactWf, "olga@acme.test")).toMatchObject({ ok: true, rule: "assignment", credential: { id: olgas.id } });
  });

  it("a builder outside growth cannot re-point growth's pin: growth's run keeps the growth secret", async () => {
    const target = `growth-wf${uid(6)}`;
    const body = { kind: "workflow", target, consumer: "step:send-welcome#0" };
    const growth = creds.growth!.a;
    expect((await call("PUT", "/v1/assignments", { token: s.alice, body: { ...body, credential: growth.id } })).status).toBe(200);
    expectError(await call("PUT", "/v1/assignments", { token: s.carol, body: { ...body, credential: creds.org!.a.ref } }), 403, "forbidden");
    expectError(await call("PUT", "/v1/assignments", { token: s.carol, body: { ...body, credential: creds["own:builderOut"]!.a.id } }), 403, "forbidden");
    expectError(await call("DELETE", "/v1/assignments", { token: s.carol, body: { ...body, app: "exa" } }), 403, "forbidden");
    const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { project: "growth", consumer: { kind: "workflow", target, id: body.consumer }, requirements: [{ app: "exa" }] } });
    expect(r.body.results[0]).toMatchObject({ ok: true, rule: "assignment", credential: { id: growth.id } });
    const denied = await vaultSql(s.org.id, `SELECT action FROM audit WHERE outcome = 'denied' AND target = ?`, `workflow:${target}/${body.consumer}`);
    expect(denied.map((d) => d.action)).toEqual(["assignment.set", "assignment.set", "assignment.delete"]);
  });
});
