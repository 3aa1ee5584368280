import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { NOT_FOUND_FIX } from "../../lib/refs";
import {
  AMBIGUOUS_FIX,
  type Assignment,
  type CandidateCredential,
  type Decision,
  missingFix,
  noContextFix,
  REASSIGN_FIX,
  reconnectFix,
  type Requirement,
  resolve,
  resolveAll,
  type ResolveFailure,
  type ResolveResult,
  revokedFix,
  type RunContext,
  type Scope,
  USER_ONLY_REASON,
} from "../../lib/resolve";

let n = 0;
function cred(scope: Scope, slug: string, extra: Partial<CandidateCredential> = {}): CandidateCredential {
  n += 1;
  const id = `cred_${String.fromCharCode(97 + (n % 26)).repeat(19)}${String.fromCharCode(97 + Math.floor(n / 26))}`;
  return { id, app: "linear", slug, name: slug, scope, default: false, status: "active", ...extra };
}
const ORG: Scope = { type: "org" };
const SUPPORT: Scope = { type: "project", project: "support" };
const GROWTH: Scope = { type: "project", project: "growth" };
const ALICE: Scope = { type: "user", user: "alice" };
const CAROL: Scope = { type: "user", user: "carol" };

const consumer = { kind: "workflow" as const, target: "triage", id: "step-1" };
const ctx: RunContext = { project: "support", user: "alice", consumer };
const assign = (c: CandidateCredential, who = "step-1", extra: Partial<Assignment> = {}): Assignment => ({
  kind: "workflow",
  target: "triage",
  consumer: who,
  app: c.app,
  credentialId: c.id,
  ...extra,
});

function run(credentials: CandidateCredential[], opts: { assignments?: Assignment[]; context?: RunContext; req?: Partial<Requirement> } = {}): ResolveResult {
  return resolve({
    credentials,
    assignments: opts.assignments ?? [],
    context: opts.context ?? ctx,
    requirement: { app: "linear", ...opts.req },
    connectUrl: (app) => `https://ks.test/connect?app=${app}`,
  });
}
function ok(r: ResolveResult): Decision {
  if (!r.ok) throw new Error(`expected a decision, got ${r.error.code}: ${r.error.message}`);
  return r;
}
function err(r: ResolveResult): ResolveFailure["error"] {
  if (r.ok) throw new Error(`expected a failure, got ${r.rule} ${r.credential.id}`);
  return r.error;
}

describe("step 1: explicit credential", () => {
  const org = cred(ORG, "work");
  const proj = cred(SUPPORT, "work");
  const other = cred(ORG, "bot", { default: true });

  it("uses the referenced credential and lists the rest as skipped", () => {
    const d = ok(run([org, proj, other], { req: { credential: "org/work" } }));
    expect(d).toMatchObject({ rule: "explicit", credential: org });
    expect(d.explanation).toBe("Used linear/org/work because the run asked for `org/work` explicitly.");
    expect(d.skipped).toEqual([
      { credential: "linear/org/bot", id: other.id, reason: "not the credential requested explicitly" },
      { credential: "linear/project/support/work", id: proj.id, reason: "not the credential requested explicitly" },
    ]);
  });

  it("beats an assignment", () => {
    expect(ok(run([org, proj], { req: { credential: org.id }, assignments: [assign(proj)] })).credential).toBe(org);
  });

  it("an ambiguous slug is an error listing the candidates, with a qualified example", () => {
    const e = err(run([org, proj], { req: { credential: "work" } }));
    expect(e.code).toBe("ambiguous_credentials");
    expect(e.message).toBe("`work` matches 2 credentials: linear/org/work, linear/project/support/work");
    expect(e.fix).toBe("use a qualified reference such as linear/org/work");
    expect(e.details.candidates).toEqual([
      { credential: "linear/org/work", id: org.id },
      { credential: "linear/project/support/work", id: proj.id },
    ]);
  });

  it("another user's, another project's or another app's credential is not visible", () => {
    const carols = cred(CAROL, "mine");
    const growth = cred(GROWTH, "g");
    for (const ref of [carols.id, "user/mine", growth.id, "project/growth/g", "github/org/work"]) {
      const e = err(run([org, carols, growth], { req: { credential: ref } }));
      expect(e.code).toBe("missing_credentials");
      expect(e.fix).toBe(NOT_FOUND_FIX);
      expect(e.details.tried).toEqual(["org", "project:support", "user:alice"]);
    }
  });

  it("revoked and needs_reauth are unavailable, with the fix for each", () => {
    const gone = cred(ORG, "gone", { status: "revoked" });
    const stale = cred(ORG, "stale", { status: "needs_reauth" });
    const e1 = err(run([gone, org], { req: { credential: "gone" } }));
    expect(e1).toMatchObject({ code: "credential_unavailable", fix: revokedFix("linear") });
    expect(e1.details).toEqual({ app: "linear", credential: "linear/org/gone", id: gone.id, status: "revoked" });
    expect(e1.message).toBe("linear/org/gone (requested explicitly as `gone`) was revoked and is never handed out");
    const e2 = err(run([stale, org], { req: { credential: "stale" } }));
    expect(e2).toMatchObject({ code: "credential_unavailable", fix: "Reconnect it: `keystroke connect linear --reconnect linear/org/stale`" });
    expect(e2.details.status).toBe("needs_reauth");
  });

  it("a malformed reference throws invalid_request naming the field", () => {
    const f = () => run([org], { req: { credential: "project/work" } });
    expect(f).toThrow(AppError);
    expect(f).toThrow(/without a project/);
  });
});

describe("step 2: assignments", () => {
  const org = cred(ORG, "work", { default: true });
  const a = cred(SUPPORT, "a");
  const b = cred(SUPPORT, "b");

  it("the exact consumer's assignment beats the wildcard, which is reported as overridden", () => {
    const d = ok(run([org, a, b], { assignments: [assign(b, "*"), assign(a, "step-1")] }));
    expect(d.rule).toBe("assignment");
    expect(d.credential).toBe(a);
    expect(d.explanation).toBe("Used linear/project/support/a because it is assigned to workflow triage, consumer step-1.");
    expect(d.skipped).toEqual([
      { credential: "linear/org/work", id: org.id, reason: "an assignment takes precedence" },
      { credential: "linear/project/support/b", id: b.id, reason: "the wildcard (*) assignment is overridden by the consumer's own assignment" },
    ]);
  });

  it("the wildcard applies to consumers without their own assignment, and beats scope rules", () => {
    const d = ok(run([org, a, b], { assignments: [assign(b, "*"), assign(a, "step-2")] }));
    expect(d).toMatchObject({ rule: "assignment_wildcard", credential: b });
    expect(d.explanation).toBe("Used linear/project/support/b because it is assigned to every consumer of workflow triage (*).");
  });

  it("ignores assignments of another target, kind or app, and works only with a consumer in context", () => {
    const rows = [assign(a, "step-1", { target: "other" }), assign(a, "step-1", { kind: "agent" }), assign(a, "step-1", { app: "github" })];
    expect(ok(run([org, a], { assignments: rows })).credential).toBe(a); // the only project credential, by step 4
    expect(ok(run([org, a], { assignments: rows })).rule).toBe("project");
    const noConsumer = run([org, a], { assignments: [assign(org)], context: { project: "support", user: "alice" } });
    expect(ok(noConsumer)).toMatchObject({ rule: "project", credential: a });
  });

  it("an assignment to a revoked credential is unavailable and does not fall through", () => {
    const gone = cred(ORG, "gone", { status: "revoked" });
    const e = err(run([org, gone], { assignments: [assign(gone)] }));
    expect(e.code).toBe("credential_unavailable");
    expect(e.message).toBe("linear/org/gone (assigned to workflow triage, consumer step-1) was revoked and is never handed out");
    expect(e.fix).toBe(revokedFix("linear"));
    expect(e.fix).toBe("Connect a new one (`keystroke connect linear`) or assign another credential (`keystroke credentials assign ... --credential <ref>`)");
  });

  it("an assignment to a needs_reauth credential asks for a reconnect", () => {
    const stale = cred(SUPPORT, "stale", { status: "needs_reauth" });
    const e = err(run([org, stale], { assignments: [assign(stale, "*")] }));
    expect(e).toMatchObject({ code: "credential_unavailable", fix: reconnectFix("linear", "linear/project/support/stale") });
  });

  it("a pin to another user's credential is personal: skipped for this run, never an error", () => {
    const carols = cred(CAROL, "mine");
    // Exact and wildcard pins of carol's own credential do not apply to alice's run: it falls through.
    for (const who of ["step-1", "*"]) {
      const d = ok(run([org, carols], { assignments: [assign(carols, who)] }));
      expect(d).toMatchObject({ rule: "org", credential: org });
      expect(JSON.stringify(d)).not.toContain(carols.id);
    }
    // A skipped personal exact pin leaves the target's wildcard in charge.
    expect(ok(run([org, carols, a], { assignments: [assign(carols), assign(a, "*")] }))).toMatchObject({ rule: "assignment_wildcard", credential: a });
    // For carol's own run the same pin applies.
    expect(ok(run([org, carols], { assignments: [assign(carols)], context: { user: "carol", consumer } }))).toMatchObject({ rule: "assignment", credential: carols });
  });

  it("an assignment to another project's credential is refused", () => {
    const g = cred(GROWTH, "g");
    const e = err(run([org, g], { assignments: [assign(g)] }));
    expect(e.code).toBe("credential_unavailable");
    expect(e.message).toBe("The assigned credential belongs to project growth, which is not this run's project (assigned to workflow triage, consumer step-1)");
    expect(e.fix).toBe(REASSIGN_FIX);
  });

  it("the run's own user credential can be assigned", () => {
    const mine = cred(ALICE, "mine");
    expect(ok(run([org, mine], { assignments: [assign(mine)] })).credential).toBe(mine);
  });

  it("another project's credential, or a vanished one, is refused", () => {
    const growth = cred(GROWTH, "g");
    expect(err(run([org, growth], { assignments: [assign(growth)] })).message).toContain("belongs to project growth");
    const e = err(run([org], { assignments: [assign(a)] }));
    expect(e).toMatchObject({ code: "credential_unavailable", fix: REASSIGN_FIX });
    expect(e.details).toEqual({ app: "linear", id: a.id, status: "deleted" });
  });

  it("two different credentials for one consumer (a broken invariant) are ambiguous, not guessed", () => {
    const e = err(run([org, a, b], { assignments: [assign(a), assign(b)] }));
    expect(e.code).toBe("ambiguous_credentials");
    expect(e.details.candidates?.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
  });
});

describe("step 3: pinned scope", () => {
  const org = cred(ORG, "work");
  const proj = cred(SUPPORT, "p");
  const mine = cred(ALICE, "mine");

  it("user means the run's user: its credential, others reported outside the pinned scope", () => {
    const d = ok(run([org, proj, mine, cred(CAROL, "theirs")], { req: { scope: "user" } }));
    expect(d).toMatchObject({ rule: "pinned_scope", credential: mine });
    expect(d.explanation).toBe("Used linear/user/mine, the only linear credential at the pinned scope user:alice.");
    expect(d.skipped.map((s) => s.reason)).toEqual(["outside the pinned scope user:alice", "outside the pinned scope user:alice"]);
    expect(d.skipped.map((s) => s.id)).not.toContain(mine.id);
  });

  it("user pinned without a user in context is missing", () => {
    const e = err(run([org, mine], { req: { scope: "user" }, context: { project: "support" } }));
    expect(e).toMatchObject({ code: "missing_credentials", fix: noContextFix("user") });
    expect(e.fix).toBe("Run it on behalf of a user, or stop pinning scope `user`");
    expect(e.details.tried).toEqual(["user"]);
  });

  it("project pinned without a project in context is missing", () => {
    const e = err(run([org, proj], { req: { scope: "project" }, context: { user: "alice" } }));
    expect(e).toMatchObject({ code: "missing_credentials", fix: "Run it inside a project, or stop pinning scope `project`" });
  });

  it("only the pinned level is looked at: org pinned skips the project, empty pinned level does not fall through", () => {
    expect(ok(run([org, proj], { req: { scope: "org" } })).credential).toBe(org);
    const e = err(run([org, proj], { req: { scope: "user" } }));
    expect(e.code).toBe("missing_credentials");
    expect(e.message).toBe("No linear credential at the pinned scope user:alice");
    expect(e.fix).toBe(missingFix("linear", "https://ks.test/connect?app=linear"));
    expect(e.details).toEqual({ app: "linear", tried: ["user:alice"], connect_url: "https://ks.test/connect?app=linear" });
  });

  it("several at the pinned level without a default are ambiguous", () => {
    const e = err(run([cred(ALICE, "a"), cred(ALICE, "b"), org], { req: { scope: "user" } }));
    expect(e).toMatchObject({ code: "ambiguous_credentials", fix: AMBIGUOUS_FIX });
  });
});

describe("steps 4-5: project, then org", () => {
  it("the project comes before the org, and the org is reported as passed over", () => {
    const org = cred(ORG, "work", { default: true });
    const proj = cred(SUPPORT, "p");
    const d = ok(run([org, proj]));
    expect(d).toMatchObject({ rule: "project", credential: proj });
    expect(d.explanation).toBe("Used linear/project/support/p, the only linear credential at project:support.");
    expect(d.skipped).toEqual([{ credential: "linear/org/work", id: org.id, reason: "project credentials take precedence over the org's" }]);
  });

  it("a default decides among several at one level", () => {
    const a = cred(ORG, "a");
    const b = cred(ORG, "b", { default: true });
    const d = ok(run([a, b], { context: {} }));
    expect(d).toMatchObject({ rule: "org", credential: b });
    expect(d.explanation).toBe("Used linear/org/b, the default linear credential at org.");
    expect(d.skipped).toEqual([{ credential: "linear/org/a", id: a.id, reason: "not the default" }]);
  });

  it("ambiguity at project level does not fall through to the org", () => {
    const a = cred(SUPPORT, "a");
    const b = cred(SUPPORT, "b");
    const org = cred(ORG, "work");
    const e = err(run([a, b, org]));
    expect(e.code).toBe("ambiguous_credentials");
    expect(e.message).toBe("2 linear credentials at project:support and none is the default: linear/project/support/a, linear/project/support/b");
    expect(e.fix).toBe(AMBIGUOUS_FIX);
    expect(e.fix).toBe("Set a default (`keystroke credentials update <ref> --default`) or assign one (`keystroke credentials assign ...`)");
    expect(e.details).toEqual({
      app: "linear",
      candidates: [
        { credential: "linear/project/support/a", id: a.id },
        { credential: "linear/project/support/b", id: b.id },
      ],
    });
  });

  it("two defaults (a broken invariant) are ambiguous too", () => {
    const e = err(run([cred(ORG, "a", { default: true }), cred(ORG, "b", { default: true })], { context: {} }));
    expect(e.message).toContain("2 are marked default");
  });

  it("a revoked default does not count: two active non-defaults are ambiguous", () => {
    const rows = [cred(ORG, "a"), cred(ORG, "b"), cred(ORG, "c", { default: true, status: "revoked" })];
    expect(err(run(rows, { context: {} })).code).toBe("ambiguous_credentials");
  });

  it("revoked credentials are left out of the level: all revoked -> next level", () => {
    const gone = cred(SUPPORT, "gone", { status: "revoked", default: true });
    const org = cred(ORG, "work");
    const d = ok(run([gone, org]));
    expect(d).toMatchObject({ rule: "org", credential: org });
    expect(d.skipped).toEqual([{ credential: "linear/project/support/gone", id: gone.id, reason: "revoked" }]);
  });

  it("a single needs_reauth candidate is unavailable, and does not fall through", () => {
    const stale = cred(SUPPORT, "stale", { status: "needs_reauth" });
    const e = err(run([stale, cred(ORG, "work")]));
    expect(e.code).toBe("credential_unavailable");
    expect(e.message).toBe("linear/project/support/stale (the only linear credential at project:support) needs to be reconnected before it can be used");
    expect(e.fix).toBe("Reconnect it: `keystroke connect linear --reconnect linear/project/support/stale`");
    expect(e.details).toEqual({ app: "linear", credential: "linear/project/support/stale", id: stale.id, status: "needs_reauth" });
  });

  it("needs_reauth still counts toward ambiguity, and a needs_reauth default is unavailable", () => {
    const a = cred(ORG, "a");
    expect(err(run([a, cred(ORG, "b", { status: "needs_reauth" })], { context: {} })).code).toBe("ambiguous_credentials");
    expect(err(run([a, cred(ORG, "b", { status: "needs_reauth", default: true })], { context: {} })).code).toBe("credential_unavailable");
  });

  it("without a project in context only the org is tried", () => {
    const proj = cred(SUPPORT, "p");
    const e = err(run([proj], { context: { user: "alice" } }));
    expect(e.details.tried).toEqual(["org"]);
  });
});

describe("user credentials only through steps 1-3", () => {
  const mine = cred(ALICE, "mine", { default: true });

  it("are passed over at steps 4-5, with the reason", () => {
    const org = cred(ORG, "work");
    const d = ok(run([mine, org]));
    expect(d).toMatchObject({ rule: "org", credential: org });
    expect(d.skipped).toEqual([{ credential: "linear/user/mine", id: mine.id, reason: USER_ONLY_REASON }]);
  });

  it("alone they leave the requirement missing, and the message says why", () => {
    const e = err(run([mine]));
    expect(e.code).toBe("missing_credentials");
    expect(e.message).toBe(
      "No linear credential is available to this run (tried project:support, org); linear/user/mine exists but user credentials are used only when pinned or assigned",
    );
    expect(e.fix).toBe("Connect linear: open https://ks.test/connect?app=linear or run `keystroke connect linear`");
    expect(e.details).toEqual({ app: "linear", tried: ["project:support", "org"], connect_url: "https://ks.test/connect?app=linear" });
  });

  it("are used when pinned, assigned or referenced", () => {
    expect(ok(run([mine], { req: { scope: "user" } })).rule).toBe("pinned_scope");
    expect(ok(run([mine], { assignments: [assign(mine)] })).rule).toBe("assignment");
    expect(ok(run([mine], { req: { credential: "user/mine" } })).rule).toBe("explicit");
  });
});

describe("step 6 and resolveAll", () => {
  it("missing without a connect link says how to connect", () => {
    const r = resolve({ credentials: [], assignments: [], context: {}, requirement: { app: "exa" } });
    expect(err(r)).toEqual({
      code: "missing_credentials",
      message: "No exa credential is available to this run (tried org)",
      fix: "Connect exa: run `keystroke connect exa`",
      details: { app: "exa", tried: ["org"] },
    });
  });

  it("answers one result per requirement, in order", () => {
    const lin = cred(ORG, "work");
    const gh = { ...cred(ORG, "work"), app: "github" };
    const out = resolveAll([lin, gh], [], {}, [{ app: "github" }, { app: "exa" }, { app: "linear" }]);
    expect(out.map((r) => (r.ok ? r.credential.id : r.error.code))).toEqual([gh.id, "missing_credentials", lin.id]);
  });
});

describe("explicit reference after a slug was reused", () => {
  it("prefers the live credential over the revoked one with the same slug", async () => {
    const { resolve } = await import("../../lib/resolve");
    const revoked = { id: "cred_aaaaaaaaaaaaaaaaaaaa", app: "exa", slug: "work", name: "work", scope: { type: "org" as const }, default: false, status: "revoked" as const };
    const live = { ...revoked, id: "cred_bbbbbbbbbbbbbbbbbbbb", status: "active" as const };
    const r = resolve({ credentials: [revoked, live], assignments: [], context: {}, requirement: { app: "exa", credential: "work" } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.credential.id).toBe(live.id);
  });
});
