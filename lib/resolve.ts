/**
 * Runtime resolution (SPEC section 4): which credential a running action gets for one requirement.
 * Pure and order-independent: the same rows in any order give the same answer, and every list in
 * the answer is sorted. Resolution outcomes are returned, never thrown; only a malformed explicit
 * reference throws (the `invalid_request` of `parseRef`), since that is bad input, not a decision.
 *
 * Visibility: a run sees the org's credentials, its own project's and its own user's. Anything
 * else (another user's, another project's) is invisible to explicit references. An assignment to
 * another project's credential is refused; an assignment to a user credential is personal: it
 * applies only to runs acting for that user and is skipped for everyone else's runs (never an error).
 *
 * Levels (steps 3-5): let L = the level's non-revoked credentials for the app (active or
 * needs_reauth). L empty -> next level (not for a pinned scope, which is the only level). One in L
 * -> it. Several -> the single one flagged default; no default (or, against the invariant, more
 * than one) -> ambiguous_credentials, which never falls through. The pick must be active, else
 * credential_unavailable. Nothing is picked by recency.
 *
 * Scopes (SPEC section 13): a requirement's `scopes` never change the pick; the picked credential
 * not granted one of them is credential_unavailable with a reconnect asking for exactly the
 * missing ones (`lacking`), so a run never silently gets another account.
 */
import type { z } from "zod";
import {
  compareCredentials,
  findRefMatches,
  formatRef,
  NOT_FOUND_FIX,
  parseRef,
  qualifyRefFix,
  refToString,
  scopeLabel,
  unambiguousRef,
} from "./refs";
import { missingScopes } from "./connection";
import { AMBIGUOUS_FIX, REASSIGN_FIX, missingFix, noContextFix, reconnectFix, scopesFix, invalidFix, revokedFix } from "./resolve-fixes";
import type { Scope } from "./schemas/common";
import type { Credential } from "./schemas/credentials";
import type { ConsumerKind, ExplainBody, RequirementSchema, ResolveFailure, ResolveRefusalCode, Rule, Skipped } from "./schemas/resolution";

// Every type here is derived from lib/schemas: the zod schemas are the one source (test/lib/single-source.test.ts).
export type { ConsumerKind, ResolveFailure, Rule, Scope, Skipped };
export type { CredentialStatus } from "./schemas/credentials";
/** What the resolver knows of a credential: the API shape's identity, scope and state, nothing else. */
export type CandidateCredential = Pick<Credential, "id" | "app" | "slug" | "name" | "scope" | "default" | "status"> & Partial<Pick<Credential, "scopes" | "status_reason">>;
export interface Assignment {
  kind: ConsumerKind;
  target: string;
  /** A consumer id, or `*` for every consumer of the target. */
  consumer: string;
  app: string;
  credentialId: string;
}
/** The run's context as the vault resolved it (members and projects by id); the member the run acts for is `user`. */
export type RunContext = Omit<ExplainBody, "requirements">;
export type Requirement = z.infer<typeof RequirementSchema>;
export interface Decision {
  ok: true;
  credential: CandidateCredential;
  rule: Rule;
  explanation: string;
  skipped: Skipped[];
}
export type ResolveResult = Decision | ResolveFailure;
export interface ResolveInput {
  credentials: readonly CandidateCredential[];
  assignments: readonly Assignment[];
  context: RunContext;
  requirement: Requirement;
  connectUrl?: (app: string) => string;
  /** The link to a reconnect of `ref` asking for `scopes` (a requirement's missing ones). */
  reconnectUrl?: (app: string, ref: string, scopes: readonly string[]) => string;
}

// The fix sentences live in lib/resolve-fixes.ts; re-exported here for the resolver's callers.
export { AMBIGUOUS_FIX, REASSIGN_FIX, missingFix, noContextFix, reconnectFix, scopesFix, invalidFix, revokedFix };

export const USER_ONLY_REASON = "user credentials are used only when pinned or assigned";

type Level = Scope;
const atLevel = (c: CandidateCredential, l: Level): boolean =>
  c.scope.type === l.type &&
  (l.type === "org" ||
    (l.type === "project" && c.scope.type === "project" && c.scope.project === l.project) ||
    (l.type === "user" && c.scope.type === "user" && c.scope.user === l.user));

function visibleToRun(c: CandidateCredential, ctx: RunContext): boolean {
  if (c.scope.type === "org") return true;
  if (c.scope.type === "project") return ctx.project !== undefined && c.scope.project === ctx.project;
  return ctx.user !== undefined && c.scope.user === ctx.user;
}

/** A pin to a user credential is personal: it applies only to runs acting for its owner. */
function pinApplies(a: Assignment, credentials: readonly CandidateCredential[], ctx: RunContext): boolean {
  const c = credentials.find((x) => x.id === a.credentialId);
  return c === undefined || c.scope.type !== "user" || c.scope.user === ctx.user;
}

function visibleLevels(ctx: RunContext): string[] {
  const out = ["org"];
  if (ctx.project !== undefined) out.push(scopeLabel({ type: "project", project: ctx.project }));
  if (ctx.user !== undefined) out.push(scopeLabel({ type: "user", user: ctx.user }));
  return out;
}

const candidate = (c: CandidateCredential) => ({ credential: formatRef(c), id: c.id });

function fail(code: ResolveRefusalCode, message: string, fix: string, details: ResolveFailure["error"]["details"]): ResolveFailure {
  return { ok: false, error: { code, message, fix, details } };
}

/** needs_reauth or revoked -> credential_unavailable saying which credential, why it was chosen, and the fix. */
export function unavailable(c: CandidateCredential, why: string): ResolveFailure | undefined {
  // `expiring` is still handed out; needs_reauth, invalid and revoked never are (SPEC sections 4, 14).
  if (c.status === "active" || c.status === "expiring") return undefined;
  const ref = formatRef(c);
  const reason = c.status_reason ?? null;
  const details = { app: c.app, credential: ref, id: c.id, status: c.status, ...(reason !== null ? { status_reason: reason } : {}) };
  const because = reason !== null ? ` (${reason})` : "";
  if (c.status === "needs_reauth") return fail("credential_unavailable", `${ref} (${why}) needs to be reconnected before it can be used${because}`, reconnectFix(c.app, ref), details);
  if (c.status === "invalid") return fail("credential_unavailable", `${ref} (${why}) was refused by the provider${because} and is never handed out`, invalidFix(ref), details);
  return fail("credential_unavailable", `${ref} (${why}) was revoked${because} and is never handed out`, revokedFix(c.app), details);
}

/**
 * A requirement's `scopes` the picked credential was not granted -> credential_unavailable with a
 * reconnect asking for exactly those. Checked only after the pick: scopes never change which
 * credential the rules choose, so a run never silently gets another one.
 */
function lacking(c: CandidateCredential, why: string, req: Requirement, reconnectUrl: ResolveInput["reconnectUrl"]): ResolveFailure | undefined {
  const missing = missingScopes(c.scopes ?? [], req.scopes ?? []);
  if (missing.length === 0) return undefined;
  const ref = formatRef(c);
  const url = reconnectUrl?.(c.app, ref, missing);
  const plural = missing.length === 1 ? "scope" : "scopes";
  return fail("credential_unavailable", `${ref} (${why}) was not granted the ${plural} ${missing.join(", ")} this requirement needs`, scopesFix(c.app, ref, missing), {
    app: c.app,
    credential: ref,
    id: c.id,
    status: c.status,
    missing_scopes: missing,
    ...(url !== undefined ? { connect_url: url } : {}),
  });
}

function ambiguous(app: string, where: string, live: CandidateCredential[], defaults: number): ResolveFailure {
  const refs = live.map(formatRef).join(", ");
  const why = defaults === 0 ? "none is the default" : `${defaults} are marked default`;
  return fail("ambiguous_credentials", `${live.length} ${app} credentials at ${where} and ${why}: ${refs}`, AMBIGUOUS_FIX, {
    app,
    candidates: live.map(candidate),
  });
}

type LevelPick = { kind: "none" } | { kind: "one"; credential: CandidateCredential; how: "only" | "default" } | { kind: "ambiguous"; failure: ResolveFailure };

function pickAtLevel(app: string, visible: readonly CandidateCredential[], level: Level): LevelPick {
  const live = visible.filter((c) => atLevel(c, level) && c.status !== "revoked").sort(compareCredentials);
  const [first, ...more] = live;
  if (first === undefined) return { kind: "none" };
  if (more.length === 0) return { kind: "one", credential: first, how: "only" };
  const defaults = live.filter((c) => c.default);
  const [def] = defaults;
  if (def !== undefined && defaults.length === 1) return { kind: "one", credential: def, how: "default" };
  return { kind: "ambiguous", failure: ambiguous(app, scopeLabel(level), live, defaults.length) };
}

/** Every visible credential of the app except the chosen one, with why it was passed over. */
function skippedList(visible: readonly CandidateCredential[], chosen: CandidateCredential, reason: (c: CandidateCredential) => string): Skipped[] {
  return visible
    .filter((c) => c.id !== chosen.id)
    .sort(compareCredentials)
    .map((c) => ({ ...candidate(c), reason: c.status === "revoked" ? "revoked" : reason(c) }));
}

function decide(
  visible: readonly CandidateCredential[],
  chosen: CandidateCredential,
  rule: Rule,
  explanation: string,
  reason: (c: CandidateCredential) => string,
): Decision {
  return { ok: true, credential: chosen, rule, explanation, skipped: skippedList(visible, chosen, reason) };
}

export function resolve(input: ResolveInput): ResolveResult {
  const { credentials, assignments, context: ctx, requirement: req } = input;
  const app = req.app;
  const connectUrl = input.connectUrl?.(app);
  const lacks = (c: CandidateCredential, why: string) => lacking(c, why, req, input.reconnectUrl);
  const visible = credentials.filter((c) => c.app === app && visibleToRun(c, ctx)).sort(compareCredentials);

  // 1. Explicit credential: matched only among what the run may see, so no other user's row leaks.
  if (req.credential !== undefined) {
    const ref = parseRef(req.credential, "credential");
    const text = refToString(ref);
    const all = findRefMatches(ref, visible, { user: ctx.user, app });
    // A revoked row keeps its slug for the audit trail; a live credential with the same name wins.
    const live = all.filter((c) => c.status !== "revoked");
    const hits = live.length > 0 ? live : all;
    const [hit, ...more] = hits;
    if (hit === undefined) {
      return fail("missing_credentials", `\`${text}\` matches no ${app} credential available to this run`, NOT_FOUND_FIX, {
        app,
        tried: visibleLevels(ctx),
        ...(connectUrl !== undefined ? { connect_url: connectUrl } : {}),
      });
    }
    if (more.length > 0) {
      return fail(
        "ambiguous_credentials",
        `\`${text}\` matches ${hits.length} credentials: ${hits.map(formatRef).join(", ")}`,
        qualifyRefFix(unambiguousRef(hit, hits)),
        { app, candidates: hits.map(candidate) },
      );
    }
    return (
      unavailable(hit, `requested explicitly as \`${text}\``) ??
      lacks(hit, `requested explicitly as \`${text}\``) ??
      decide(visible, hit, "explicit", `Used ${formatRef(hit)} because the run asked for \`${text}\` explicitly.`, () => "not the credential requested explicitly")
    );
  }

  // 2. Assignments: the exact consumer first, then the target's wildcard. Never falls through once one applies.
  const consumer = ctx.consumer;
  if (consumer !== undefined) {
    const forTarget = assignments.filter((a) => a.kind === consumer.kind && a.target === consumer.target && a.app === app && pinApplies(a, credentials, ctx));
    const exact = consumer.id === "*" ? [] : forTarget.filter((a) => a.consumer === consumer.id);
    const wildcard = forTarget.filter((a) => a.consumer === "*");
    const wildIds = new Set(wildcard.map((a) => a.credentialId));
    const [rule, rows, who]: [Rule, Assignment[], string] =
      exact.length > 0
        ? ["assignment", exact, `${consumer.kind} ${consumer.target}, consumer ${consumer.id}`]
        : ["assignment_wildcard", wildcard, `every consumer of ${consumer.kind} ${consumer.target} (*)`];
    const ids = [...new Set(rows.map((a) => a.credentialId))].sort();
    const [id, ...otherIds] = ids;
    if (id !== undefined) {
      // Storage keeps one row per (target, consumer, app); several would be a broken invariant: refuse, don't guess.
      if (otherIds.length > 0) {
        const named = (i: string) => {
          const c = credentials.find((x) => x.id === i);
          return { credential: c !== undefined ? formatRef(c) : i, id: i };
        };
        return fail("ambiguous_credentials", `${ids.length} ${app} credentials are assigned to ${who}`, REASSIGN_FIX, {
          app,
          candidates: ids.map(named),
        });
      }
      const cred = credentials.find((c) => c.id === id && c.app === app);
      const details = { app, id };
      if (cred === undefined) {
        return fail("credential_unavailable", `The ${app} credential assigned to ${who} no longer exists`, REASSIGN_FIX, { ...details, status: "deleted" });
      }
      if (!visibleToRun(cred, ctx)) {
        // Only a project credential gets here: pinApplies dropped other users' personal pins.
        const whose = `belongs to project ${cred.scope.type === "project" ? cred.scope.project : ""}, which is not this run's project`;
        return fail("credential_unavailable", `The assigned credential ${whose} (assigned to ${who})`, REASSIGN_FIX, {
          ...details,
          credential: formatRef(cred),
        });
      }
      const ref = formatRef(cred);
      const exactWon = rule === "assignment";
      return (
        unavailable(cred, `assigned to ${who}`) ??
        lacks(cred, `assigned to ${who}`) ??
        decide(visible, cred, rule, `Used ${ref} because it is assigned to ${who}.`, (c) =>
          exactWon && wildIds.has(c.id) ? "the wildcard (*) assignment is overridden by the consumer's own assignment" : "an assignment takes precedence",
        )
      );
    }
  }

  // 3. A pinned scope is the only level looked at.
  if (req.scope !== undefined) {
    const pinned = req.scope;
    let level: Level;
    if (pinned === "org") level = { type: "org" };
    else if (pinned === "project") {
      if (ctx.project === undefined) {
        return fail("missing_credentials", `The requirement pins scope project but the run has no project`, noContextFix("project"), { app, tried: ["project"] });
      }
      level = { type: "project", project: ctx.project };
    } else {
      if (ctx.user === undefined) {
        return fail("missing_credentials", `The requirement pins scope user but the run acts for no user`, noContextFix("user"), { app, tried: ["user"] });
      }
      level = { type: "user", user: ctx.user };
    }
    const label = scopeLabel(level);
    const pick = pickAtLevel(app, visible, level);
    if (pick.kind === "ambiguous") return pick.failure;
    if (pick.kind === "none") {
      return fail("missing_credentials", `No ${app} credential at the pinned scope ${label}`, missingFix(app, connectUrl), {
        app,
        tried: [label],
        ...(connectUrl !== undefined ? { connect_url: connectUrl } : {}),
      });
    }
    const c = pick.credential;
    const how = pick.how === "only" ? `the only ${app} credential` : `the default ${app} credential`;
    return (
      unavailable(c, `${how} at the pinned scope ${label}`) ??
      lacks(c, `${how} at the pinned scope ${label}`) ??
      decide(visible, c, "pinned_scope", `Used ${formatRef(c)}, ${how} at the pinned scope ${label}.`, (o) =>
        atLevel(o, level) ? "not the default" : `outside the pinned scope ${label}`,
      )
    );
  }

  // 4-5. The run's project, then the org. User credentials never take part here.
  const levels: Level[] = ctx.project !== undefined ? [{ type: "project", project: ctx.project }, { type: "org" }] : [{ type: "org" }];
  const tried: string[] = [];
  for (const level of levels) {
    const label = scopeLabel(level);
    tried.push(label);
    const pick = pickAtLevel(app, visible, level);
    if (pick.kind === "none") continue;
    if (pick.kind === "ambiguous") return pick.failure;
    const c = pick.credential;
    const how = `${pick.how === "only" ? "the only" : "the default"} ${app} credential at ${label}`;
    return (
      unavailable(c, how) ??
      lacks(c, how) ??
      decide(visible, c, level.type === "org" ? "org" : "project", `Used ${formatRef(c)}, ${how}.`, (o) =>
        o.scope.type === "user" ? USER_ONLY_REASON : atLevel(o, level) ? "not the default" : "project credentials take precedence over the org's",
      )
    );
  }

  // 6. Nothing. Say so when the run's user has one, since that is the usual surprise.
  const own = visible.find((c) => c.scope.type === "user" && c.status !== "revoked");
  const hint = own !== undefined ? `; ${formatRef(own)} exists but ${USER_ONLY_REASON}` : "";
  return fail("missing_credentials", `No ${app} credential is available to this run (tried ${tried.join(", ")})${hint}`, missingFix(app, connectUrl), {
    app,
    tried,
    ...(connectUrl !== undefined ? { connect_url: connectUrl } : {}),
  });
}

/** One result per requirement, in the requirements' order. */
export function resolveAll(
  credentials: readonly CandidateCredential[],
  assignments: readonly Assignment[],
  context: RunContext,
  requirements: readonly Requirement[],
  connectUrl?: (app: string) => string,
  reconnectUrl?: ResolveInput["reconnectUrl"],
): ResolveResult[] {
  return requirements.map((requirement) => resolve({ credentials, assignments, context, requirement, connectUrl, reconnectUrl }));
}
