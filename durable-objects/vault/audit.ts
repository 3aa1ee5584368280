import { z } from "zod";
import { AuditDetail, type AuditEntry, type AuditPage, type AuditQuery } from "../../lib/schemas/audit";
import { iso, type Actor, type VaultContext } from "./context";

export interface AuditRecord {
  action: string;
  outcome?: "ok" | "denied" | "failed";
  credentialId?: string | null;
  target?: string | null;
  /** Never a secret: ids, slugs, scopes, reasons. */
  detail?: AuditDetail;
}

export function actorId(actor: Actor | null): string | null {
  if (!actor) return null;
  return actor.principal?.member ?? `token:${actor.tokenId}`;
}

export function writeAudit(ctx: VaultContext, actor: Actor | null, rec: AuditRecord): void {
  ctx.sql.exec(
    `INSERT INTO audit (at, actor, actor_kind, action, outcome, credential_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ctx.now,
    actorId(actor),
    actor?.kind ?? "system",
    rec.action,
    rec.outcome ?? "ok",
    rec.credentialId ?? null,
    rec.target ?? null,
    JSON.stringify(rec.detail ?? {}),
  );
}

const AuditRow = z.object({
  seq: z.number(),
  at: z.number(),
  actor: z.string().nullable(),
  actor_kind: z.enum(["user", "key", "rt", "system"]),
  action: z.string(),
  outcome: z.enum(["ok", "denied", "failed"]),
  credential_id: z.string().nullable(),
  target: z.string().nullable(),
  detail: z.string(),
});

const DEFAULT_PAGE = 50;

/** Newest first, keyset-paged by sequence number. `onlyActor` limits a non-admin to their own rows. */
export function queryAudit(ctx: VaultContext, q: AuditQuery, onlyActor: string | null): AuditPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.action) {
    // A trailing dot filters a family: `credential.` matches every credential action.
    if (q.action.endsWith(".")) {
      where.push("substr(action, 1, ?) = ?");
      args.push(q.action.length, q.action);
    } else {
      where.push("action = ?");
      args.push(q.action);
    }
  }
  if (q.actor) { where.push("actor = ?"); args.push(q.actor); }
  if (onlyActor) { where.push("actor = ?"); args.push(onlyActor); }
  if (q.credential) { where.push("credential_id = ?"); args.push(q.credential); }
  if (q.since) { where.push("at >= ?"); args.push(Date.parse(q.since)); }
  if (q.cursor) { where.push("seq < ?"); args.push(Number(q.cursor)); }
  const limit = q.limit ?? DEFAULT_PAGE;
  const rows = ctx.sql
    .exec(`SELECT * FROM audit ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY seq DESC LIMIT ?`, ...args, limit + 1)
    .toArray()
    .map((r) => AuditRow.parse(r));
  const page = rows.slice(0, limit);
  const entries: AuditEntry[] = page.map((r) => ({
    seq: r.seq,
    at: iso(r.at)!,
    actor: r.actor,
    actor_kind: r.actor_kind,
    action: r.action,
    outcome: r.outcome,
    credential: r.credential_id,
    target: r.target,
    detail: AuditDetail.parse(JSON.parse(r.detail)),
  }));
  return { entries, next_cursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
}
