import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { NOT_FOUND_FIX, REF_FORMS_FIX } from "../../lib/refs";
import { AMBIGUOUS_FIX, missingFix, noContextFix, REASSIGN_FIX, reconnectFix, revokedFix, USER_ONLY_REASON } from "../../lib/resolve";
import { call, expectError, memberIds, seed, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ids: Record<string, string>;
let carol: string;
const secrets = new Map<string, string>();
const connectUrl = (app: string) => `http://localhost:8787/connect?app=${app}`;
const wf = (target = "wf", id = "s1") => ({ kind: "workflow", target, id });

beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
  carol = ids["carol@acme.test"]!;
});

/** A fresh custom app per test, so tests in this file never see each other's credentials. */
const newApp = () => `r${uid(10)}`;

/** Creates one credential and answers its record; remembers its secret. */
async function mk(app: string, target: Record<string, string>, slug: string, token = s.alice): Promise<any> {
  const secret = `sec-${uid(24)}`;
  const res = await call("POST", "/v1/credentials", { token, body: { app, slug, fields: { apiKey: secret }, targets: [target] } });
  expect(res.status, res.text).toBe(200);
  const c = res.body.credentials[0];
  secrets.set(c.id, secret);
  return c;
}
const ORG = { type: "org" };
const SUPPORT = { type: "project", project: "support" };
const USER = { type: "user" };

type Body = { project?: string; user?: string; consumer?: unknown; requirements: unknown[] };
const rt = (body: Body) => call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: wf(), ...body } });
const ex = (body: Body, token = s.alice) => call("POST", "/v1/resolve/explain", { token, body });

/** One requirement through runtime resolve: its result, checked against explain's decision. */
async function one(body: Body): Promise<any> {
  const r = await rt(body);
  expect(r.status, r.text).toBe(200);
  expect(r.body.results).toHaveLength(1);
  const e = await ex({ consumer: wf(), ...body });
  expect(e.status, e.text).toBe(200);
  const [a, b] = [r.body.results[0], e.body.results[0]];
  expect(b.ok).toBe(a.ok);
  expect(b).not.toHaveProperty("fields");
  if (a.ok) {
    expect(b.credential.id).toBe(a.credential.id);
    expect(b.rule).toBe(a.rule);
    expect(b.skipped).toEqual(a.skipped);
    expect(a.fields).toEqual({ apiKey: secrets.get(a.credential.id) });
    expect(e.text).not.toContain(secrets.get(a.credential.id));
  } else {
    expect(b.error).toEqual(a.error);
  }
  for (const v of secrets.values()) expect(e.text).not.toContain(v);
  expect(r.body.ok).toBe(a.ok);
  return a;
}

describe("step 1: explicit credential", () => {
  it("uses the credential the requirement names, in every reference form", async () => {
    const app = newApp();
    const a = await mk(app, ORG, "a");
    const b = await mk(app, ORG, "b");
    const p = await mk(app, SUPPORT, "b");
    for (const ref of ["a", "org/a", `${app}/a`, `${app}/org/a`, a.id]) {
      const r = await one({ project: "support", requirements: [{ app, credential: ref }] });
      expect(r).toMatchObject({ ok: true, app, rule: "explicit", credential: { id: a.id, ref: `${app}/org/a` } });
      expect(r.explanation).toBe(`Used ${app}/org/a because the run asked for \`${ref}\` explicitly.`);
      expect(r.skipped).toEqual([
        { credential: `${app}/org/b`, id: b.id, reason: "not the credential requested explicitly" },
        { credential: `${app}/project/support/b`, id: p.id, reason: "not the credential requested explicitly" },
      ]);
    }
    const q = await one({ project: "support", requirements: [{ app, credential: "project/support/b" }] });
    expect(q).toMatchObject({ ok: true, rule: "explicit", credential: { id: p.id } });
    // `b` names two visible credentials: an error listing both, never a guess.
    const amb = await one({ project: "support", requirements: [{ app, credential: "b" }] });
    expect(amb.error).toMatchObject({ code: "ambiguous_credentials", fix: `use a qualified reference such as ${app}/org/b` });
    expect(amb.error.details.candidates).toEqual([{ credential: `${app}/org/b`, id: b.id }, { credential: `${app}/project/support/b`, id: p.id }]);
  });

  it("an explicit reference the run cannot see is missing, with the tried scopes", async () => {
    const app = newApp();
    await mk(app, ORG, "a");
    const mine = await mk(app, USER, "mine"); // alice's
    const r = await one({ project: "support", user: "carol@acme.test", requirements: [{ app, credential: "user/mine" }] });
    expect(r.error).toEqual({
      code: "missing_credentials",
      message: `\`user/mine\` matches no ${app} credential available to this run`,
      fix: NOT_FOUND_FIX,
      details: { app, tried: ["org", "project:support", `user:${carol}`], connect_url: connectUrl(app) },
    });
    const byId = await one({ user: "carol@acme.test", requirements: [{ app, credential: mine.id }] });
    expect(byId.error.code).toBe("missing_credentials");
  });
});

describe("step 2: assignments", () => {
  it("the exact consumer's assignment beats the wildcard, which beats the scope rules", async () => {
    const app = newApp();
    const target = `wf${uid(6)}`;
    const a = await mk(app, ORG, "a");
    const b = await mk(app, ORG, "b");
    const p = await mk(app, SUPPORT, "p");
    const put = (consumer: string | undefined, credential: string) =>
      call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, ...(consumer ? { consumer } : {}), credential } });
    expect((await put(undefined, a.id)).status).toBe(200);
    expect((await put("s1", b.id)).status).toBe(200);

    const exact = await one({ project: "support", consumer: wf(target, "s1"), requirements: [{ app }] });
    expect(exact).toMatchObject({ ok: true, rule: "assignment", credential: { id: b.id } });
    expect(exact.explanation).toBe(`Used ${app}/org/b because it is assigned to workflow ${target}, consumer s1.`);
    expect(exact.skipped).toEqual([
      { credential: `${app}/org/a`, id: a.id, reason: "the wildcard (*) assignment is overridden by the consumer's own assignment" },
      { credential: `${app}/project/support/p`, id: p.id, reason: "an assignment takes precedence" },
    ]);
    const wild = await one({ project: "support", consumer: wf(target, "s2"), requirements: [{ app }] });
    expect(wild).toMatchObject({ ok: true, rule: "assignment_wildcard", credential: { id: a.id } });
    expect(wild.explanation).toBe(`Used ${app}/org/a because it is assigned to every consumer of workflow ${target} (*).`);
    const other = await one({ project: "support", consumer: wf(`x${target}`, "s1"), requirements: [{ app }] });
    expect(other).toMatchObject({ ok: true, rule: "project", credential: { id: p.id } });
    // An assignment beats even a pinned scope.
    const pinned = await one({ project: "support", consumer: wf(target, "s1"), requirements: [{ app, scope: "project" }] });
    expect(pinned).toMatchObject({ ok: true, rule: "assignment", credential: { id: b.id } });
  });

  it("an assignment to a credential revoked later is unavailable and never falls through", async () => {
    const app = newApp();
    const target = `wf${uid(6)}`;
    const gone = await mk(app, ORG, "gone");
    await mk(app, ORG, "live");
    expect((await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, consumer: "s1", credential: gone.id } })).status).toBe(200);
    expect((await call("POST", `/v1/credentials/${gone.id}/revoke`, { token: s.alice })).status).toBe(200);
    const r = await one({ consumer: wf(target, "s1"), requirements: [{ app }] });
    expect(r.error).toEqual({
      code: "credential_unavailable",
      // Issue 15: the refusal names the reason (status_reason) too.
      message: `${app}/org/gone (assigned to workflow ${target}, consumer s1) was revoked (revoked_by_member) and is never handed out`,
      fix: revokedFix(app),
      details: { app, credential: `${app}/org/gone`, id: gone.id, status: "revoked", status_reason: "revoked_by_member" },
    });
  });

  it("an assignment to another project's credential is refused for this run; another user's personal pin is skipped", async () => {
    const app = newApp();
    const target = `wf${uid(6)}`;
    const g = await mk(app, { type: "project", project: "growth" }, "g");
    const mine = await mk(app, USER, "mine"); // alice's
    await mk(app, ORG, "org");
    const put = (consumer: string, credential: string) => call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, consumer, credential } });
    expect((await put("s1", g.id)).status).toBe(200);
    expect((await put("s2", mine.id)).status).toBe(200);
    const r1 = await one({ project: "support", consumer: wf(target, "s1"), requirements: [{ app }] });
    expect(r1.error).toMatchObject({ code: "credential_unavailable", fix: REASSIGN_FIX, details: { app, id: g.id, credential: `${app}/project/growth/g` } });
    // alice's pin of her own credential is personal (issue 11): carol's run falls through to the org's.
    const r2 = await one({ user: "carol@acme.test", consumer: wf(target, "s2"), requirements: [{ app }] });
    expect(r2).toMatchObject({ ok: true, rule: "org" });
    expect(JSON.stringify(r2)).not.toContain(mine.id);
    // For alice's own run the same assignment is fine.
    const r3 = await one({ user: "alice@acme.test", consumer: wf(target, "s2"), requirements: [{ app }] });
    expect(r3).toMatchObject({ ok: true, rule: "assignment", credential: { id: mine.id } });
  });
});

describe("step 3: pinned scope", () => {
  it("`user` means the run's user, given as email or member id", async () => {
    const app = newApp();
    await mk(app, ORG, "org");
    const c = await mk(app, USER, "mine", s.carol);
    for (const user of ["carol@acme.test", "CAROL@acme.test", carol]) {
      const r = await one({ project: "support", user, requirements: [{ app, scope: "user" }] });
      expect(r).toMatchObject({ ok: true, rule: "pinned_scope", credential: { id: c.id, scope: { type: "user", user: carol } } });
      expect(r.explanation).toBe(`Used ${app}/user/mine, the only ${app} credential at the pinned scope user:${carol}.`);
    }
    const none = await one({ user: "bob@acme.test", requirements: [{ app, scope: "user" }] });
    expect(none.error).toEqual({
      code: "missing_credentials",
      message: `No ${app} credential at the pinned scope user:${ids["bob@acme.test"]}`,
      fix: missingFix(app, connectUrl(app)),
      details: { app, tried: [`user:${ids["bob@acme.test"]}`], connect_url: connectUrl(app) },
    });
    const nobody = await one({ requirements: [{ app, scope: "user" }] });
    expect(nobody.error).toMatchObject({ code: "missing_credentials", fix: noContextFix("user"), details: { app, tried: ["user"] } });
  });

  it("`project` and `org` look only at that level", async () => {
    const app = newApp();
    const o = await mk(app, ORG, "org");
    const p = await mk(app, SUPPORT, "p");
    const r = await one({ project: "support", requirements: [{ app, scope: "org" }] });
    expect(r).toMatchObject({ ok: true, rule: "pinned_scope", credential: { id: o.id } });
    expect(r.skipped).toEqual([{ credential: `${app}/project/support/p`, id: p.id, reason: "outside the pinned scope org" }]);
    const q = await one({ project: "support", requirements: [{ app, scope: "project" }] });
    expect(q).toMatchObject({ ok: true, rule: "pinned_scope", credential: { id: p.id } });
    const growth = await one({ project: "growth", requirements: [{ app, scope: "project" }] });
    expect(growth.error).toMatchObject({ code: "missing_credentials", fix: missingFix(app, connectUrl(app)), details: { tried: ["project:growth"] } });
    const noProject = await one({ requirements: [{ app, scope: "project" }] });
    expect(noProject.error).toMatchObject({ code: "missing_credentials", fix: noContextFix("project"), details: { app, tried: ["project"] } });
  });
});

describe("steps 4-6: project, org, nothing", () => {
  it("the project comes before the org; without a project, the org", async () => {
    const app = newApp();
    const o = await mk(app, ORG, "org");
    const p = await mk(app, SUPPORT, "p");
    const r = await one({ project: "support", requirements: [{ app }] });
    expect(r).toMatchObject({ ok: true, rule: "project", credential: { id: p.id } });
    expect(r.explanation).toBe(`Used ${app}/project/support/p, the only ${app} credential at project:support.`);
    expect(r.skipped).toEqual([{ credential: `${app}/org/org`, id: o.id, reason: "project credentials take precedence over the org's" }]);
    for (const project of ["growth", undefined]) {
      const q = await one({ project, requirements: [{ app }] });
      expect(q).toMatchObject({ ok: true, rule: "org", credential: { id: o.id } });
      expect(q.explanation).toBe(`Used ${app}/org/org, the only ${app} credential at org.`);
    }
  });

  it("several at a level: the default; no default is ambiguous and never falls through to the org", async () => {
    const app = newApp();
    await mk(app, ORG, "org");
    const p1 = await mk(app, SUPPORT, "one");
    const p2 = await mk(app, SUPPORT, "two");
    const amb = await one({ project: "support", requirements: [{ app }] });
    expect(amb.error).toEqual({
      code: "ambiguous_credentials",
      message: `2 ${app} credentials at project:support and none is the default: ${app}/project/support/one, ${app}/project/support/two`,
      fix: AMBIGUOUS_FIX,
      details: { app, candidates: [{ credential: `${app}/project/support/one`, id: p1.id }, { credential: `${app}/project/support/two`, id: p2.id }] },
    });
    expect((await call("PATCH", `/v1/credentials/${p2.id}`, { token: s.alice, body: { default: true } })).status).toBe(200);
    const r = await one({ project: "support", requirements: [{ app }] });
    expect(r).toMatchObject({ ok: true, rule: "project", credential: { id: p2.id, default: true } });
    expect(r.explanation).toBe(`Used ${app}/project/support/two, the default ${app} credential at project:support.`);
    expect(r.skipped).toContainEqual({ credential: `${app}/project/support/one`, id: p1.id, reason: "not the default" });
  });

  it("user credentials take part only through steps 1-3", async () => {
    const app = newApp();
    const c = await mk(app, USER, "mine", s.carol);
    const r = await one({ project: "support", user: "carol@acme.test", requirements: [{ app }] });
    expect(r.error).toEqual({
      code: "missing_credentials",
      message: `No ${app} credential is available to this run (tried project:support, org); ${app}/user/mine exists but ${USER_ONLY_REASON}`,
      fix: missingFix(app, connectUrl(app)),
      details: { app, tried: ["project:support", "org"], connect_url: connectUrl(app) },
    });
    const o = await mk(app, ORG, "org");
    const q = await one({ project: "support", user: carol, requirements: [{ app }] });
    expect(q).toMatchObject({ ok: true, rule: "org", credential: { id: o.id } });
    expect(q.skipped).toEqual([{ credential: `${app}/user/mine`, id: c.id, reason: USER_ONLY_REASON }]);
  });

  it("a needs_reauth credential is never handed out: reconnect fix", async () => {
    const app = newApp();
    const c = await mk(app, ORG, "work");
    await vaultSql(s.org.id, `UPDATE credentials SET status = 'needs_reauth' WHERE id = ?`, c.id);
    const r = await one({ requirements: [{ app }] });
    expect(r.error).toEqual({
      code: "credential_unavailable",
      message: `${app}/org/work (the only ${app} credential at org) needs to be reconnected before it can be used`,
      fix: reconnectFix(app, `${app}/org/work`),
      details: { app, credential: `${app}/org/work`, id: c.id, status: "needs_reauth" },
    });
  });

  it("nothing: missing_credentials with the scopes tried and the connect link", async () => {
    const app = newApp();
    const r = await one({ project: "growth", user: "bob@acme.test", requirements: [{ app }] });
    expect(r.error).toEqual({
      code: "missing_credentials",
      message: `No ${app} credential is available to this run (tried project:growth, org)`,
      fix: missingFix(app, connectUrl(app)),
      details: { app, tried: ["project:growth", "org"], connect_url: connectUrl(app) },
    });
    expect(r.error.fix).toBe(`Connect ${app}: open http://localhost:8787/connect?app=${app} or run \`keystroke connect ${app}\``);
  });
});

describe("the answer", () => {
  it("several requirements: one result each, in order; ok is false if any failed", async () => {
    const app = newApp();
    const c = await mk(app, ORG, "work");
    const missing = newApp();
    const r = await rt({ requirements: [{ app }, { app: missing }, { app, credential: "work" }] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.results.map((x: any) => [x.app, x.ok])).toEqual([[app, true], [missing, false], [app, true]]);
    expect(r.body.results[0]).toMatchObject({ rule: "org", credential: { id: c.id }, fields: { apiKey: secrets.get(c.id) } });
    expect(r.body.results[1]).not.toHaveProperty("fields");
    expect(r.body.results[1].error.code).toBe("missing_credentials");
    expect(r.body.results[2]).toMatchObject({ rule: "explicit", credential: { id: c.id } });
    const all = await rt({ requirements: [{ app }] });
    expect(all.body.ok).toBe(true);
    const e = await ex({ requirements: [{ app }, { app: missing }] });
    expect(e.body.ok).toBe(false);
    expect(e.text).not.toContain(secrets.get(c.id));
    expect(e.body.results[0]).not.toHaveProperty("fields");
  });

  it("is never cached", async () => {
    const res = await exports.default.fetch(
      new Request("http://localhost/v1/runtime/resolve", {
        method: "POST",
        headers: { authorization: `Bearer ${s.runtime}`, "content-type": "application/json" },
        body: JSON.stringify({ consumer: wf(), requirements: [{ app: newApp() }] }),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("every runtime resolve is audited, without the secret, and stamps last_used_at", async () => {
    const app = newApp();
    const c = await mk(app, ORG, "work");
    expect(c.last_used_at).toBeNull();
    await ex({ requirements: [{ app }] });
    expect((await call("GET", `/v1/credentials/${c.id}`, { token: s.alice })).body.last_used_at).toBeNull();
    const r = await rt({ project: "support", user: "carol@acme.test", consumer: wf("audited", "s9"), requirements: [{ app }] });
    expect(r.body.ok).toBe(true);
    const got = await call("GET", `/v1/credentials/${c.id}`, { token: s.alice });
    expect(got.body.last_used_at).not.toBeNull();
    expect(got.body.last_used_at).toBe(r.body.results[0].credential.last_used_at);
    const log = await call("GET", `/v1/audit?action=credential.resolve&credential=${c.id}`, { token: s.alice });
    expect(log.status, log.text).toBe(200);
    expect(log.body.entries).toHaveLength(1);
    expect(log.body.entries[0]).toMatchObject({
      action: "credential.resolve", outcome: "ok", actor_kind: "rt", credential: c.id, target: "workflow:audited/s9",
      detail: { app, rule: "org", consumer: "workflow:audited/s9", project: "support", user: carol },
    });
    expect(log.text).not.toContain(secrets.get(c.id));

    // A failure is audited too, naming the credential it refused.
    await vaultSql(s.org.id, `UPDATE credentials SET status = 'needs_reauth' WHERE id = ?`, c.id);
    await rt({ consumer: wf("audited", "s9"), requirements: [{ app }] });
    const after = await call("GET", `/v1/audit?action=credential.resolve&credential=${c.id}`, { token: s.alice });
    expect(after.body.entries[0]).toMatchObject({ outcome: "failed", credential: c.id, target: "workflow:audited/s9", detail: { app, code: "credential_unavailable" } });
    const missing = newApp();
    await rt({ consumer: wf("audited", "s10"), requirements: [{ app: missing }] });
    const all = await call("GET", `/v1/audit?action=credential.resolve&limit=5`, { token: s.alice });
    expect(all.body.entries[0]).toMatchObject({ outcome: "failed", credential: null, target: "workflow:audited/s10", detail: { app: missing, code: "missing_credentials" } });
  });
});

describe("explain is a member's dry run", () => {
  it("shows only what the member may see: their projects, and another member's run only to admins", async () => {
    const app = newApp();
    const g = await mk(app, { type: "project", project: "growth" }, "g");
    const mine = await mk(app, USER, "mine", s.carol);
    const forbidden = await ex({ project: "growth", requirements: [{ app }] }, s.carol);
    expectError(forbidden, 403, "forbidden", "project");
    expect(forbidden.text).not.toContain(g.id);
    expectError(await ex({ user: "alice@acme.test", requirements: [{ app, scope: "user" }] }, s.carol), 403, "forbidden", "user");
    const own = await ex({ project: "support", user: "carol@acme.test", requirements: [{ app, scope: "user" }] }, s.carol);
    expect(own.status, own.text).toBe(200);
    expect(own.body.results[0]).toMatchObject({ ok: true, rule: "pinned_scope", credential: { id: mine.id, preview: mine.preview } });
    // An admin may explain carol's run, and sees that her credential exists, never its preview.
    const admin = await ex({ project: "growth", user: carol, requirements: [{ app, scope: "user" }, { app }] }, s.bob);
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.results[0]).toMatchObject({ ok: true, credential: { id: mine.id, preview: null } });
    expect(admin.body.results[1]).toMatchObject({ ok: true, rule: "project", credential: { id: g.id } });
    expect(admin.text).not.toContain(secrets.get(mine.id));
  });
});

describe("bad input", () => {
  it("an unknown project, an unknown user or a malformed reference is a 400 naming the field", async () => {
    for (const fn of [rt, (b: Body) => ex(b)]) {
      expectError(await fn({ project: "nope", requirements: [{ app: "exa" }] }), 400, "invalid_request", "project");
      expectError(await fn({ user: "dave@acme.test", requirements: [{ app: "exa" }] }), 400, "invalid_request", "user");
      expectError(await fn({ user: "mem_nobody", requirements: [{ app: "exa" }] }), 400, "invalid_request", "user");
      const bad = await fn({ requirements: [{ app: "exa", credential: "a//b" }] });
      expectError(bad, 400, "invalid_request", "requirements[0].credential");
      expect(bad.body.error.fix).toBe(REF_FORMS_FIX);
      expectError(await fn({ requirements: [{ app: "exa" }, { app: "exa", credential: "exa/team/x" }] }), 400, "invalid_request", "requirements[1].credential");
    }
  });
});
