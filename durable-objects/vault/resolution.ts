import { AppError, invalidField } from "../../lib/errors";
import { can, canSeePreview, canSeeProject, isAdmin, type Principal } from "../../lib/permissions";
import { resolve, unavailable, type Assignment, type ResolveResult, type RunContext } from "../../lib/resolve";
import type { ExplainBody, ExplainResult, ResolveRefusal, RuntimeResolveBody, RuntimeResult } from "../../lib/schemas/resolution";
import { writeAudit } from "./audit";
import { commitGrouped, type Actor, type VaultContext } from "./context";
import { rowScope, selectCredentials, toCandidate, toCredential, CredentialRow } from "./credential-rows";
import { getApp } from "../../lib/catalog";
import { reconnectScopesPath } from "../../lib/fixes";
import { openFields } from "./credentials";
import { assignmentRows } from "./assignments";
import { resolutionEpoch } from "./resolution-cache";

/** Maps the run's context onto members and projects; unknown ones are bad input, not a guess. */
function runContext(ctx: VaultContext, body: ExplainBody): RunContext {
  const context: RunContext = {};
  if (body.project !== undefined) {
    if (ctx.sql.exec(`SELECT 1 FROM projects WHERE slug = ?`, body.project).toArray().length === 0) {
      throw invalidField("project", `There is no project \`${body.project}\`.`);
    }
    context.project = body.project;
  }
  if (body.user !== undefined) {
    const row = ctx.sql.exec(`SELECT id FROM members WHERE (id = ? OR email = ?) AND removed_at IS NULL`, body.user, body.user.toLowerCase()).toArray()[0];
    if (!row) throw invalidField("user", "The run's user is not a member of this organization.");
    context.user = String(row.id);
  }
  if (body.consumer) context.consumer = body.consumer;
  return context;
}

/**
 * Only the rows one requirement can touch: the app's credentials at the org, the run's project
 * and the run's user (index credentials_by_app), plus whatever its assignments point at. The cost
 * does not grow with the org's other credentials or assignments.
 */
function loadRequirement(ctx: VaultContext, app: string, context: RunContext): { rows: CredentialRow[]; assignments: Assignment[] } {
  // Three exact lookups on credentials_by_app rather than one OR, which SQLite may answer with a scan of the app.
  const rows = [
    ...selectCredentials(ctx, `app = ? AND scope_type = 'org' AND scope_id = ''`, app),
    ...(context.project ? selectCredentials(ctx, `app = ? AND scope_type = 'project' AND scope_id = ?`, app, context.project) : []),
    ...(context.user ? selectCredentials(ctx, `app = ? AND scope_type = 'user' AND scope_id = ?`, app, context.user) : []),
  ];
  const assignments = context.consumer ? assignmentRows(ctx, context.consumer, app) : [];
  for (const a of assignments) {
    if (!rows.some((r) => r.id === a.credentialId)) rows.push(...selectCredentials(ctx, "id = ?", a.credentialId));
  }
  return { rows, assignments };
}

/**
 * The run context and each requirement's rows, through the vault's resolution cache when there is
 * one (vault/resolution-cache.ts: valid only under the epoch read here). Answers that epoch too.
 */
function decide(ctx: VaultContext, body: ExplainBody, connectBase: string): { context: RunContext; epoch: number | null; decisions: { result: ResolveResult; rows: CredentialRow[] }[] } {
  const cache = ctx.resolutions;
  const epoch = cache ? cache.sync(ctx) : null;
  const context = cache ? cache.context(JSON.stringify([body.project, body.user, body.consumer]), () => runContext(ctx, body)) : runContext(ctx, body);
  const decisions = body.requirements.map((requirement, i) => {
    const read = () => loadRequirement(ctx, requirement.app, context);
    const { rows, assignments } = cache ? cache.requirement(JSON.stringify([requirement.app, context.project, context.user, context.consumer]), read) : read();
    // Scopes are OAuth's: naming them for an API-key app (catalog or custom) can never be met, so it is bad input, not a refusal.
    if (requirement.scopes !== undefined && (getApp(requirement.app)?.kind === "api_key" || rows.some((r) => r.app === requirement.app && r.kind === "api_key"))) {
      throw invalidField(`requirements[${i}].scopes`, `\`${requirement.app}\` is not an OAuth app, so its credentials have no scopes.`, "Leave scopes out for API-key apps.");
    }
    try {
      const result = resolve({
        credentials: rows.map(toCandidate),
        assignments,
        context,
        requirement,
        connectUrl: (app) => `${connectBase}/connect?app=${encodeURIComponent(app)}`,
        reconnectUrl: (app, ref, scopes) => connectBase + reconnectScopesPath(app, ref, scopes),
      });
      return { result, rows };
    } catch (e) {
      // A malformed explicit reference: name the requirement it came from.
      if (e instanceof AppError && e.code === "invalid_request") throw invalidField(`requirements[${i}].credential`, e.message, e.fix);
      throw e;
    }
  });
  return { context, epoch, decisions };
}

/** Whether `user` (a member id or email) names the principal. */
function isSelf(ctx: VaultContext, p: Principal, user: string): boolean {
  if (user === p.member) return true;
  const row = ctx.sql.exec(`SELECT email FROM members WHERE id = ?`, p.member).toArray()[0];
  return row !== undefined && String(row.email) === user.toLowerCase();
}

const consumerLabel = (c: RunContext["consumer"]) => (c ? `${c.kind}:${c.target}/${c.id}` : null);

/** POST /v1/resolve/explain: the same decision a run would get, for a member, with no secret. */
export function explain(ctx: VaultContext, p: Principal, body: ExplainBody, connectBase: string): { ok: boolean; results: ExplainResult[] } {
  // A dry run shows credential records: only for a project the member can see, and, unless an admin,
  // as themselves. Checked before anything is looked up, so a builder naming a project they are not
  // in gets the same answer whether or not it exists.
  if (body.project !== undefined && !canSeeProject(p, body.project)) {
    throw new AppError("forbidden", `You are not a member of project ${body.project}.`, { fix: "Explain a run of a project you belong to, or ask an org admin.", details: { field: "project" } });
  }
  if (body.user !== undefined && !isAdmin(p) && !isSelf(ctx, p, body.user)) {
    throw new AppError("forbidden", "Only org owners and admins may explain a run on behalf of another member.", { fix: "Leave out `user`, or give your own.", details: { field: "user" } });
  }
  const { decisions } = decide(ctx, body, connectBase);
  const results = decisions.map(({ result, rows }, i): ExplainResult => {
    const app = body.requirements[i]!.app;
    if (!result.ok) return { ok: false, app, error: asSeenBy(ctx, p, result.error) };
    const row = rows.find((r) => r.id === result.credential.id)!;
    const credential = toCredential(row, { showPreview: canSeePreview(p, rowScope(row)) });
    return { ok: true, app, credential, connection: credential.connection, rule: result.rule, explanation: result.explanation, skipped: result.skipped };
  });
  return { ok: results.every((r) => r.ok), results };
}

/**
 * A dry run's refusal as the member may see it: a pin can point at a credential of a project they
 * are not in, and the refusal must not name it (SPEC section 3: builders see org credentials,
 * their projects' and their own). Admins see every credential, so theirs is unchanged.
 */
function asSeenBy(ctx: VaultContext, p: Principal, error: ResolveRefusal): ResolveRefusal {
  if (isAdmin(p)) return error;
  const hidden = (id: string) => {
    const row = selectCredentials(ctx, "id = ?", id)[0];
    return row !== undefined && !can(p, "view", rowScope(row));
  };
  const d = error.details;
  if (d.id !== undefined && hidden(d.id)) {
    return { ...error, message: `The ${d.app} credential assigned to this consumer is one you cannot see (another project's).`, details: { app: d.app, status: "hidden" } };
  }
  const visible = d.candidates?.filter((c) => !hidden(c.id));
  if (d.candidates && visible && visible.length < d.candidates.length) {
    return { ...error, message: `${error.message} (${d.candidates.length - visible.length} of them in projects you cannot see)`, details: { ...d, candidates: visible } };
  }
  return error;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** What a run gets of an OAuth credential: the access token, never the refresh token. */
function handedOut(row: CredentialRow, fields: Record<string, string>): Record<string, string> {
  return row.kind === "oauth" ? { accessToken: fields.accessToken ?? "" } : fields;
}

/**
 * POST /v1/runtime/resolve: decide, refresh OAuth tokens that expire within 5 minutes (through
 * `fresh`, single-flight per credential), open the chosen secrets, then in one transaction stamp
 * last_used_at and write one audit row per requirement (never the secret).
 */
export async function runtimeResolve(
  ctx: VaultContext,
  actor: Actor,
  body: RuntimeResolveBody,
  connectBase: string,
  fresh: (credentialId: string) => Promise<void>,
): Promise<{ ok: boolean; results: RuntimeResult[] }> {
  const { context, epoch, decisions } = decide(ctx, body, connectBase);
  const chosen = decisions.map(({ result, rows }) => (result.ok ? rows.find((r) => r.id === result.credential.id)! : null));
  const refreshed = await Promise.all(
    chosen.map(async (row) => {
      // Only OAuth credentials expire; API keys skip the refresh path entirely.
      if (!row || row.kind !== "oauth") return null;
      try {
        await fresh(row.id);
        return null;
      } catch (e) {
        // The provider is down or erred: this requirement fails, nothing is marked.
        return e instanceof AppError ? e.message : "The provider could not refresh the token.";
      }
    }),
  );
  const open = (row: CredentialRow) => {
    const read = () => openFields(ctx, row.id).then((fields) => handedOut(row, fields));
    return ctx.resolutions ? ctx.resolutions.fields(ctx, row.id, read) : read();
  };
  const opened = await Promise.all(chosen.map(async (row, i) => (row && refreshed[i] === null ? open(row) : null)));
  const target = consumerLabel(context.consumer);
  // Credentials whose last_used_at this resolve stamped: the cache learns it once the stamp is committed.
  const stamped: string[] = [];
  // The rows are written in the vault's next group commit (vault/group-commit.ts): concurrent
  // resolves share one commit, and this answer still waits for its own rows to be durable.
  const answer = await commitGrouped(ctx, () => {
    const unchanged = epoch !== null && resolutionEpoch(ctx) === epoch;
    const results = decisions.map(({ result }, i): RuntimeResult => {
      const app = body.requirements[i]!.app;
      if (!result.ok) {
        // A refusal that names a credential (unavailable, or a broken assignment) is filed under it too.
        writeAudit(ctx, actor, { action: "credential.resolve", outcome: "failed", credentialId: result.error.details.id ?? null, target, detail: { app, code: result.error.code, consumer: target } });
        return { ok: false, app, error: result.error };
      }
      // The secrets were opened outside this transaction: a revoke or a refresh that landed meanwhile
      // counts. Nothing did if the resolution epoch is still the decision's; else the row is read
      // again (a refresh moved expires_at, or this resolve's own refresh found the grant revoked).
      const decided = chosen[i]!;
      const row = unchanged ? decided : selectCredentials(ctx, "id = ?", decided.id)[0]!;
      const upstream = refreshed[i];
      if (upstream) {
        const error = { code: "upstream_error" as const, message: upstream, fix: "Try again shortly; if it persists, reconnect the credential.", details: { app, id: row.id } };
        writeAudit(ctx, actor, { action: "credential.resolve", outcome: "failed", credentialId: row.id, target, detail: { app, code: error.code, consumer: target } });
        return { ok: false, app, error };
      }
      // Changed while it was resolved: refused the way the rules refuse it (the reconnect, the
      // rotation or the new credential it needs), never "run it again", which cannot help. With the
      // epoch unchanged the row is the one the rules just accepted: nothing to look at again.
      const changed = unchanged ? undefined : unavailable(toCandidate(row), "changed while it was being resolved");
      if (changed) {
        const { error } = changed;
        writeAudit(ctx, actor, { action: "credential.resolve", outcome: "failed", credentialId: row.id, target, detail: { app, code: error.code, consumer: target } });
        return { ok: false, app, error };
      }
      // last_used_at has minute resolution: a hot credential is not rewritten on every resolve.
      const used = row.last_used_at !== null && row.last_used_at > ctx.now - LAST_USED_RESOLUTION_MS ? row.last_used_at : ctx.now;
      if (used === ctx.now) {
        ctx.sql.exec(`UPDATE credentials SET last_used_at = ? WHERE id = ?`, ctx.now, row.id);
        stamped.push(row.id);
      }
      writeAudit(ctx, actor, { action: "credential.resolve", credentialId: row.id, target, detail: { app, rule: result.rule, consumer: target, project: context.project ?? null, user: context.user ?? null } });
      // The view's connection is the answer's top-level one: parsed once.
      const credential = toCredential({ ...row, last_used_at: used }, { showPreview: true });
      return { ok: true, app, credential, connection: credential.connection, rule: result.rule, explanation: result.explanation, skipped: result.skipped, fields: opened[i]! };
    });
    return { ok: results.every((r) => r.ok), results };
  });
  for (const id of stamped) ctx.resolutions?.noteUsed(id, ctx.now);
  return answer;
}
