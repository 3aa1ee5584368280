import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { formatRef, matchRef, parseRef, refToString } from "../../lib/refs";
import {
  type Assignment,
  type CandidateCredential,
  type Requirement,
  resolve,
  type ResolveResult,
  type RunContext,
  type Scope,
} from "../../lib/resolve";

// Small alphabets on purpose: collisions (same slug, same level, same consumer) are where the rules bite.
const APPS = ["linear", "github"] as const;
const PROJECTS = ["support", "growth"] as const;
const USERS = ["alice", "carol"] as const;
const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const idFor = (i: number) => `cred_${"q".repeat(18)}${B32[Math.floor(i / 32) % 32]}${B32[i % 32]}`;
const DANGLING = "cred_zzzzzzzzzzzzzzzzzzzz";

const scopeArb: fc.Arbitrary<Scope> = fc.oneof(
  fc.constant({ type: "org" as const }),
  fc.constantFrom(...PROJECTS).map((project) => ({ type: "project" as const, project })),
  fc.constantFrom(...USERS).map((user) => ({ type: "user" as const, user })),
);
const credsArb: fc.Arbitrary<CandidateCredential[]> = fc
  .array(
    fc.record({
      app: fc.constantFrom(...APPS),
      slug: fc.constantFrom("work", "home", "ci"),
      scope: scopeArb,
      default: fc.boolean(),
      status: fc.constantFrom("active" as const, "active" as const, "needs_reauth" as const, "revoked" as const),
    }),
    { maxLength: 10 },
  )
  .map((rows) => rows.map((r, i) => ({ ...r, id: idFor(i), name: r.slug })));

const kindArb = fc.constantFrom("workflow" as const, "agent" as const);
const targetArb = fc.constantFrom("t1", "t2");
const contextArb: fc.Arbitrary<RunContext> = fc.record(
  {
    project: fc.constantFrom(...PROJECTS),
    user: fc.constantFrom(...USERS),
    consumer: fc.record({ kind: kindArb, target: targetArb, id: fc.constantFrom("c1", "c2") }),
  },
  { requiredKeys: [] },
);

interface Scenario {
  credentials: CandidateCredential[];
  assignments: Assignment[];
  context: RunContext;
  requirement: Requirement;
}
function scenarioArb(opts: { explicit?: boolean; pinned?: boolean } = {}): fc.Arbitrary<Scenario> {
  return credsArb.chain((credentials) => {
    const ids = [...credentials.map((c) => c.id), DANGLING];
    const refs = [...credentials.flatMap((c) => [c.id, formatRef(c), c.slug, `${c.app}/${c.slug}`]), "user/work", "org/work", "work"];
    const assignmentArb = fc.record({
      kind: kindArb,
      target: targetArb,
      consumer: fc.constantFrom("c1", "c2", "*"),
      app: fc.constantFrom(...APPS),
      credentialId: fc.constantFrom(...ids),
    });
    const reqKeys = {
      app: fc.constantFrom(...APPS),
      ...(opts.pinned !== false ? { scope: fc.constantFrom("org" as const, "project" as const, "user" as const) } : {}),
      ...(opts.explicit !== false ? { credential: fc.constantFrom(...refs) } : {}),
    };
    return fc.record({
      credentials: fc.constant(credentials),
      assignments: fc.array(assignmentArb, { maxLength: 6 }),
      context: contextArb,
      requirement: fc.record(reqKeys, { requiredKeys: ["app"] }) as fc.Arbitrary<Requirement>,
    });
  });
}

/** Biased towards step 2: the run has a consumer, and some rows target it exactly or by `*`. */
const assignedArb: fc.Arbitrary<Scenario> = scenarioArb({ explicit: false }).chain((s) =>
  fc
    .record({
      consumer: fc.record({ kind: kindArb, target: targetArb, id: fc.constantFrom("c1", "c2") }),
      picks: fc.array(fc.record({ exact: fc.boolean(), i: fc.nat() }), { minLength: 1, maxLength: 2 }),
    })
    .map(({ consumer, picks }) => {
      const ids = [...s.credentials.map((c) => c.id), DANGLING];
      const rows = picks.map(({ exact, i }): Assignment => ({
        kind: consumer.kind,
        target: consumer.target,
        consumer: exact ? consumer.id : "*",
        app: s.requirement.app,
        credentialId: ids[i % ids.length] as string,
      }));
      return { ...s, context: { ...s.context, consumer }, assignments: [...s.assignments, ...rows] };
    }),
);

const run = (s: Scenario): ResolveResult => resolve({ ...s, connectUrl: (app) => `https://ks.test/c/${app}` });

function visibleToRun(c: CandidateCredential, ctx: RunContext): boolean {
  if (c.scope.type === "org") return true;
  if (c.scope.type === "project") return c.scope.project === ctx.project;
  return c.scope.user === ctx.user;
}
const sameLevel = (a: Scope, b: Scope) => JSON.stringify(a) === JSON.stringify(b);
const live = (creds: CandidateCredential[], app: string, level: Scope) =>
  creds.filter((c) => c.app === app && sameLevel(c.scope, level) && c.status !== "revoked");

/** Assignments that apply to this run and requirement, exact consumer first. */
function applicable(s: Scenario): { rule: "assignment" | "assignment_wildcard"; ids: Set<string> } | undefined {
  const k = s.context.consumer;
  if (k === undefined) return undefined;
  // A pin to a user credential is personal: it applies only to runs acting for that user.
  const personalOfOther = (id: string) => s.credentials.some((c) => c.id === id && c.scope.type === "user" && c.scope.user !== s.context.user);
  const rows = s.assignments.filter((a) => a.kind === k.kind && a.target === k.target && a.app === s.requirement.app && !personalOfOther(a.credentialId));
  const exact = rows.filter((a) => a.consumer === k.id);
  const wild = rows.filter((a) => a.consumer === "*");
  if (exact.length > 0) return { rule: "assignment", ids: new Set(exact.map((a) => a.credentialId)) };
  if (wild.length > 0) return { rule: "assignment_wildcard", ids: new Set(wild.map((a) => a.credentialId)) };
  return undefined;
}

const RUNS = { numRuns: 400 };

describe("resolver properties", () => {
  it("never hands out a revoked, needs_reauth, other user's or other project's credential, nor another app's", () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb(), assignedArb), (s) => {
        const r = run(s);
        if (!r.ok) return;
        expect(r.credential.status).toBe("active");
        expect(r.credential.app).toBe(s.requirement.app);
        expect(visibleToRun(r.credential, s.context)).toBe(true);
        if (r.rule === "project" || r.rule === "org") expect(r.credential.scope.type).toBe(r.rule);
      }),
      RUNS,
    );
  });

  it("at a level, picks the only live credential or the single default, never one of several", () => {
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const r = run(s);
        if (!r.ok || !["pinned_scope", "project", "org"].includes(r.rule)) return;
        const level = live(s.credentials, s.requirement.app, r.credential.scope);
        const defaults = level.filter((c) => c.default);
        expect(level.length === 1 || (r.credential.default && defaults.length === 1)).toBe(true);
      }),
      RUNS,
    );
  });

  it("steps 4-6 follow the levels exactly; ambiguity never falls through", () => {
    fc.assert(
      fc.property(scenarioArb({ explicit: false, pinned: false }), (s) => {
        fc.pre(applicable(s) === undefined);
        const r = run(s);
        const levels: Scope[] = s.context.project !== undefined ? [{ type: "project", project: s.context.project }, { type: "org" }] : [{ type: "org" }];
        for (const level of levels) {
          const l = live(s.credentials, s.requirement.app, level);
          if (l.length === 0) continue;
          const defaults = l.filter((c) => c.default);
          const [only] = l.length === 1 ? l : defaults.length === 1 ? defaults : [];
          if (only === undefined) {
            expect(r.ok ? r.rule : r.error.code).toBe("ambiguous_credentials");
            if (!r.ok) expect(r.error.details.candidates?.map((c) => c.id).sort()).toEqual(l.map((c) => c.id).sort());
          } else if (only.status === "active") {
            expect(r.ok && r.credential.id).toBe(only.id);
            expect(r.ok && r.rule).toBe(level.type);
          } else {
            expect(r.ok ? r.rule : [r.error.code, r.error.details.id]).toEqual(["credential_unavailable", only.id]);
          }
          return;
        }
        expect(r.ok ? r.rule : r.error.code).toBe("missing_credentials");
      }),
      RUNS,
    );
  });

  it("an exact assignment beats the wildcard, which beats pinned and scope rules", () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb({ explicit: false }), assignedArb), (s) => {
        const a = applicable(s);
        const r = run(s);
        if (a === undefined) {
          if (r.ok) expect(["pinned_scope", "project", "org"]).toContain(r.rule);
          return;
        }
        const [id, ...more] = [...a.ids];
        if (more.length > 0) {
          expect(r.ok ? r.rule : r.error.code).toBe("ambiguous_credentials");
        } else if (r.ok) {
          expect([r.rule, r.credential.id]).toEqual([a.rule, id]);
        } else {
          expect([r.error.code, r.error.details.id]).toEqual(["credential_unavailable", id]);
        }
      }),
      RUNS,
    );
  });

  it("an explicit reference beats everything, and only ever names a visible credential", () => {
    fc.assert(
      fc.property(scenarioArb({ pinned: true }), (s) => {
        fc.pre(s.requirement.credential !== undefined);
        const r = run(s);
        if (r.ok) expect(r.rule).toBe("explicit");
        else if (r.error.code === "credential_unavailable") {
          const c = s.credentials.find((x) => x.id === r.error.details.id);
          expect(c !== undefined && visibleToRun(c, s.context) && c.status !== "active").toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("the answer does not depend on the order of rows", () => {
    const withShuffles = fc.oneof(scenarioArb(), assignedArb).chain((s) =>
      fc.record({
        s: fc.constant(s),
        creds: fc.shuffledSubarray(s.credentials, { minLength: s.credentials.length }),
        rows: fc.shuffledSubarray(s.assignments, { minLength: s.assignments.length }),
      }),
    );
    fc.assert(
      fc.property(withShuffles, ({ s, creds, rows }) => {
        expect(run({ ...s, credentials: creds, assignments: rows })).toEqual(run(s));
      }),
      RUNS,
    );
  });

  it("throws nothing but an invalid_request AppError, whatever the explicit reference", () => {
    fc.assert(
      fc.property(scenarioArb({ explicit: false }), fc.string(), (s, credential) => {
        try {
          run({ ...s, requirement: { ...s.requirement, credential } });
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe("invalid_request");
        }
      }),
      RUNS,
    );
  });
});

const slugArb = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/);
const anyCredArb = fc.record({
  id: fc.stringMatching(/^cred_[a-z2-7]{20}$/),
  app: slugArb,
  slug: slugArb,
  name: fc.string(),
  scope: fc.oneof(
    fc.constant({ type: "org" as const }),
    slugArb.map((project) => ({ type: "project" as const, project })),
    fc.string({ minLength: 1 }).map((user) => ({ type: "user" as const, user })),
  ),
  default: fc.boolean(),
  status: fc.constantFrom("active" as const, "needs_reauth" as const, "revoked" as const),
});

describe("reference properties", () => {
  it("parseRef(formatRef(c)) names c back, among any other credentials", () => {
    fc.assert(
      fc.property(anyCredArb, fc.array(anyCredArb, { maxLength: 6 }), (c, others) => {
        const user = c.scope.type === "user" ? c.scope.user : undefined;
        const rest = others.filter((o) => formatRef(o) !== formatRef(c) || (o.scope.type === "user" && o.scope.user !== user));
        const ref = parseRef(formatRef(c));
        expect(ref).toEqual({
          app: c.app,
          scope: c.scope.type === "project" ? { project: c.scope.project } : c.scope.type,
          slug: c.slug,
        });
        expect(matchRef(ref, [...rest, c], { user })).toBe(c);
        expect(matchRef(parseRef(c.id), [...rest.filter((o) => o.id !== c.id), c], { user })).toBe(c);
      }),
      { numRuns: 300 },
    );
  });

  const segment = fc.oneof(
    fc.constantFrom("org", "user", "project", "linear", "work", "", "Work", "a b", "cred_aaaaaaaaaaaaaaaaaaaa", "x".repeat(64)),
    fc.string({ maxLength: 5 }),
  );
  const refLike = fc.oneof(fc.string(), fc.array(segment, { maxLength: 6 }).map((s) => s.join("/")));

  it("parseRef throws only invalid_request naming the field, and what it accepts prints back unchanged", () => {
    fc.assert(
      fc.property(refLike, (raw) => {
        let parsed;
        try {
          parsed = parseRef(raw, "ref");
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe("invalid_request");
          expect((e as AppError).details).toEqual({ field: "ref" });
          return;
        }
        expect(refToString(parsed)).toBe(raw);
      }),
      { numRuns: 1000 },
    );
  });
});
