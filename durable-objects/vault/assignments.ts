import { z } from "zod";
import { AppError } from "../../lib/errors";
import { findRefMatches, formatRef, matchRef, parseRef } from "../../lib/refs";
import type { Assignment, RunContext } from "../../lib/resolve";
import { can, canPin, canUnpin, type Principal } from "../../lib/permissions";
import type { Scope } from "../../lib/schemas/common";
import { ConsumerKind, type AssignmentView, type ConsumerView, type DeleteAssignmentBody, type PutAssignmentBody, type RuntimeEvent } from "../../lib/schemas/resolution";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { rowScope, scopeLabel, selectCredentials, toCandidate, type CredentialRow } from "./credential-rows";
import { remedy } from "../../lib/fixes";
import { decodeCursor, DEFAULT_PAGE_LIMIT, nextCursor, type PageQuery } from "../../lib/paging";

const AssignmentRow = z.object({
  kind: ConsumerKind,
  target: z.string(),
  consumer: z.string(),
  app: z.string(),
  credential_id: z.string(),
  created_by: z.string(),
  created_at: z.number(),
});
type AssignmentRow = z.infer<typeof AssignmentRow>;

const toAssignment = (r: AssignmentRow): Assignment => ({ kind: r.kind, target: r.target, consumer: r.consumer, app: r.app, credentialId: r.credential_id });

/** The exact and wildcard assignments for one consumer and app: two primary-key lookups. */
export function assignmentRows(ctx: VaultContext, consumer: NonNullable<RunContext["consumer"]>, app: string): Assignment[] {
  return ctx.sql
    .exec(`SELECT * FROM assignments WHERE kind = ? AND target = ? AND consumer IN (?, '*') AND app = ?`, consumer.kind, consumer.target, consumer.id, app)
    .toArray()
    .map((r) => toAssignment(AssignmentRow.parse(r)));
}

/**
 * A pin as the caller may see it. The row always shows (so nobody pins over it unknowingly), but
 * what it points at is masked (`credential: null`) when the caller may not see that credential:
 * another user's (unless an org admin), a project they are not in, or a row that is gone.
 */
function view(ctx: VaultContext, p: Principal, r: AssignmentRow): AssignmentView {
  const cred = selectCredentials(ctx, "id = ?", r.credential_id)[0];
  const visible = cred ? can(p, "view", rowScope(cred)) : canUnpin(p, null);
  return {
    kind: r.kind,
    target: r.target,
    consumer: r.consumer,
    app: r.app,
    credential: !visible ? null : cred ? { id: cred.id, ref: formatRef(toCandidate(cred)), status: cred.status } : { id: r.credential_id, ref: r.credential_id, status: "deleted" },
    created_by: r.created_by,
    created_at: iso(r.created_at)!,
  };
}

export function listAssignments(ctx: VaultContext, p: Principal, q: { kind?: string; target?: string }): AssignmentView[] {
  const where: string[] = [];
  const args: string[] = [];
  if (q.kind) { where.push("kind = ?"); args.push(q.kind); }
  if (q.target) { where.push("target = ?"); args.push(q.target); }
  return ctx.sql
    .exec(`SELECT * FROM assignments ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY kind, target, consumer, app`, ...args)
    .toArray()
    .map((r) => view(ctx, p, AssignmentRow.parse(r)));
}

/** GET /v1/assignments, one page (lib/paging.ts), keyset-paged on the primary key. */
export function listAssignmentsPage(ctx: VaultContext, p: Principal, q: { kind?: string; target?: string } & PageQuery): { assignments: AssignmentView[]; next_cursor: string | null } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.kind) { where.push("kind = ?"); args.push(q.kind); }
  if (q.target) { where.push("target = ?"); args.push(q.target); }
  if (q.cursor !== undefined) {
    where.push("(kind, target, consumer, app) > (?, ?, ?, ?)");
    args.push(...decodeCursor("assignments", q.cursor, "ssss"));
  }
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  const rows = ctx.sql
    .exec(`SELECT * FROM assignments ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY kind, target, consumer, app LIMIT ?`, ...args, limit + 1)
    .toArray()
    .map((r) => AssignmentRow.parse(r));
  return {
    assignments: rows.slice(0, limit).map((r) => view(ctx, p, r)),
    next_cursor: nextCursor("assignments", rows, limit, (r) => [r.kind, r.target, r.consumer, r.app]),
  };
}

const targetLabel = (kind: string, target: string, consumer: string) => `${kind}:${target}/${consumer}`;

function pinnedRow(ctx: VaultContext, kind: string, target: string, consumer: string, app: string): AssignmentRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM assignments WHERE kind = ? AND target = ? AND consumer = ? AND app = ?`, kind, target, consumer, app).toArray()[0];
  return raw ? AssignmentRow.parse(raw) : null;
}

/** The scope of the credential a pin points at; null when that row is gone. */
function pinnedScope(ctx: VaultContext, r: AssignmentRow): Scope | null {
  const cred: CredentialRow | undefined = selectCredentials(ctx, "id = ?", r.credential_id)[0];
  return cred ? rowScope(cred) : null;
}

/** Refuses (403, audited as denied) a pin change the caller may not make. Nothing else is written. */
function denyPin(ctx: VaultContext, actor: Actor, action: string, label: string, credentialId: string | null, message: string, fix: string): never {
  writeAudit(ctx, actor, { action, outcome: "denied", credentialId, target: label });
  throw new AppError("forbidden", message, { fix });
}

const manageFix = (scope: Scope | null): string =>
  scope === null || scope.type === "org" ? "Ask an org owner or admin." : scope.type === "project" ? `Ask an org admin or an admin of project ${scope.project}.` : "Only that user (or an org owner or admin) can change it.";

/**
 * Pins one credential. The reference is matched among the credentials the member can see; a
 * reference that matches several is an error listing them. Another user's credential is never
 * assignable, and a revoked one is refused. Writing needs `manage` on the new credential's scope;
 * replacing a pin also needs it on the scope of the credential the pin points at now (lib/permissions.ts).
 */
export function putAssignment(ctx: VaultContext, actor: Actor, p: Principal, body: PutAssignmentBody): AssignmentView {
  const consumer = body.consumer ?? "*";
  const visible = selectCredentials(ctx).filter((row) => can(p, "view", rowScope(row)) && (row.scope_type !== "user" || row.scope_id === p.member));
  // As in findByRef: a revoked row keeps its slug for the audit trail only, so a live credential that reuses it wins.
  const ref = parseRef(body.credential, "credential");
  const live = visible.filter((row) => row.status !== "revoked");
  const pool = findRefMatches(ref, live.map(toCandidate), { user: p.member }).length > 0 ? live : visible;
  const match = matchRef(ref, pool.map(toCandidate), { user: p.member, field: "credential" });
  if (match.status === "revoked") {
    throw new AppError("invalid_request", `${formatRef(match)} is revoked and cannot be assigned.`, { fix: "Assign a live credential.", details: { field: "credential" } });
  }
  const label = targetLabel(body.kind, body.target, consumer);
  if (!canPin(p, match.scope)) {
    denyPin(ctx, actor, "assignment.set", label, match.id, `You may not pin credentials at ${scopeLabel(match.scope)}.`, manageFix(match.scope));
  }
  const current = pinnedRow(ctx, body.kind, body.target, consumer, match.app);
  if (current && current.credential_id !== match.id) {
    const scope = pinnedScope(ctx, current);
    if (!canUnpin(p, scope)) {
      denyPin(ctx, actor, "assignment.set", label, null, `This pin points at a credential you may not manage, so you may not replace it.`, manageFix(scope));
    }
  }
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO assignments (kind, target, consumer, app, credential_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(kind, target, consumer, app) DO UPDATE SET credential_id = excluded.credential_id, created_by = excluded.created_by, created_at = excluded.created_at`,
      body.kind, body.target, consumer, match.app, match.id, p.member, ctx.now,
    );
    writeAudit(ctx, actor, { action: "assignment.set", credentialId: match.id, target: label, detail: { app: match.app, credential: formatRef(match) } });
  });
  return view(ctx, p, pinnedRow(ctx, body.kind, body.target, consumer, match.app)!);
}

/** Unpins: needs `manage` on the scope of the credential the pin points at (org admins always). */
export function deleteAssignment(ctx: VaultContext, actor: Actor, p: Principal, body: DeleteAssignmentBody): { deleted: AssignmentView } {
  const consumer = body.consumer ?? "*";
  const label = targetLabel(body.kind, body.target, consumer);
  const row = pinnedRow(ctx, body.kind, body.target, consumer, body.app);
  if (!row) {
    throw new AppError("not_found", `No ${body.app} assignment for ${label}.`, remedy({ do: "list_assignments" }));
  }
  const scope = pinnedScope(ctx, row);
  if (!canUnpin(p, scope)) {
    denyPin(ctx, actor, "assignment.delete", label, null, "This pin points at a credential you may not manage, so you may not remove it.", manageFix(scope));
  }
  const deleted = view(ctx, p, row);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM assignments WHERE kind = ? AND target = ? AND consumer = ? AND app = ?`, body.kind, body.target, consumer, body.app);
    writeAudit(ctx, actor, { action: "assignment.delete", credentialId: row.credential_id, target: label, detail: { app: body.app } });
  });
  return { deleted };
}

/** Workflow consumers exist only once a run reported the step. */
export function recordEvent(ctx: VaultContext, e: RuntimeEvent): { consumer: { kind: "workflow"; target: string; id: string } } {
  ctx.sql.exec(
    `INSERT INTO consumers (kind, target, consumer, source, first_seen_at, last_seen_at) VALUES ('workflow', ?, ?, 'event', ?, ?)
     ON CONFLICT(kind, target, consumer) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
    e.workflow, e.step, ctx.now, ctx.now,
  );
  return { consumer: { kind: "workflow", target: e.workflow, id: e.step } };
}

/** An agent's tools, as the execution plane knows them: the list replaces the previous one. */
export function registerAgentTools(ctx: VaultContext, agent: string, tools: string[]): { agent: string; tools: string[] } {
  const unique = [...new Set(tools)].sort();
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM consumers WHERE kind = 'agent' AND target = ? AND source = 'agent_tools'`, agent);
    for (const tool of unique) {
      ctx.sql.exec(`INSERT INTO consumers (kind, target, consumer, source, first_seen_at, last_seen_at) VALUES ('agent', ?, ?, 'agent_tools', ?, ?)`, agent, tool, ctx.now, ctx.now);
    }
  });
  return { agent, tools: unique };
}

/** Bindable consumers of a target: learned ones plus any named in assignments. */
export function listConsumers(ctx: VaultContext, p: Principal, kind: string, target: string): ConsumerView[] {
  const byId = new Map<string, ConsumerView>();
  const entry = (id: string) => {
    let v = byId.get(id);
    if (!v) byId.set(id, (v = { kind: ConsumerKind.parse(kind), target, id, sources: [], last_seen_at: null, assignments: [] }));
    return v;
  };
  for (const r of ctx.sql.exec(`SELECT consumer, source, last_seen_at FROM consumers WHERE kind = ? AND target = ?`, kind, target)) {
    const v = entry(String(r.consumer));
    v.sources.push(r.source === "event" ? "event" : "agent_tools");
    v.last_seen_at = iso(Number(r.last_seen_at));
  }
  const assignments = listAssignments(ctx, p, { kind, target });
  for (const a of assignments) if (a.consumer !== "*") entry(a.consumer).sources.push("assignment");
  for (const v of byId.values()) {
    v.sources = [...new Set(v.sources)].sort();
    v.assignments = assignments
      .filter((a) => a.consumer === v.id || a.consumer === "*")
      .map((a) => ({ app: a.app, credential: a.credential?.ref ?? null, wildcard: a.consumer === "*" }));
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
