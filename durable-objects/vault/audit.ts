import { z } from "zod";
import { AuditDetail, type AuditEntry, type AuditPage, type AuditQuery } from "../../lib/schemas/audit";
import { iso, type Actor, type VaultContext } from "./context";
import { formatRef } from "../../lib/refs";
import { writeOutbox } from "./webhooks/outbox";

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
  // The change's lifecycle event, if it is one, in the same transaction as this row (SPEC section 14).
  writeOutbox(ctx, {
    action: rec.action,
    outcome: rec.outcome ?? "ok",
    actor: actorId(actor),
    actorKind: actor?.kind ?? "system",
    credentialId: rec.credentialId ?? null,
    target: rec.target ?? null,
    detail: rec.detail ?? {},
  });
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
  actor_email: z.string().nullable(),
  c_app: z.string().nullable(),
  c_scope_type: z.enum(["org", "user", "project"]).nullable(),
  c_scope_id: z.string().nullable(),
  c_slug: z.string().nullable(),
  target_email: z.string().nullable(),
});

/** The credential's reference, as the Apps page shows it (`app/org/slug`, `app/project/p/slug`). */
function refOf(r: z.infer<typeof AuditRow>): string | null {
  if (!r.c_app || !r.c_scope_type || r.c_slug === null) return null;
  const scope = r.c_scope_type === "project" ? { type: "project" as const, project: r.c_scope_id ?? "" } : r.c_scope_type === "user" ? { type: "user" as const, user: r.c_scope_id ?? "" } : { type: "org" as const };
  return formatRef({ app: r.c_app, scope, slug: r.c_slug });
}

const DEFAULT_PAGE = 50;

/** Newest first, keyset-paged by sequence number. `onlyActor` limits a non-admin to their own rows. */
export function queryAudit(ctx: VaultContext, q: AuditQuery, onlyActor: string | null): AuditPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.action) {
    // A trailing dot filters a family: `credential.` matches every credential action.
    if (q.action.endsWith(".")) {
      where.push("substr(a.action, 1, ?) = ?");
      args.push(q.action.length, q.action);
    } else {
      where.push("a.action = ?");
      args.push(q.action);
    }
  }
  if (q.actor) { where.push("a.actor = ?"); args.push(q.actor); }
  if (onlyActor) { where.push("a.actor = ?"); args.push(onlyActor); }
  if (q.credential) { where.push("a.credential_id = ?"); args.push(q.credential); }
  if (q.since) { where.push("a.at >= ?"); args.push(Date.parse(q.since)); }
  if (q.cursor) { where.push("a.seq < ?"); args.push(Number(q.cursor)); }
  const limit = q.limit ?? DEFAULT_PAGE;
  const rows = ctx.sql
    // Primary-key joins: the actor's and the target's email, the credential's reference parts.
    .exec(
      `SELECT a.*, am.email AS actor_email, c.app AS c_app, c.scope_type AS c_scope_type, c.scope_id AS c_scope_id, c.slug AS c_slug, tm.email AS target_email
       FROM audit a LEFT JOIN members am ON am.id = a.actor LEFT JOIN credentials c ON c.id = a.credential_id LEFT JOIN members tm ON tm.id = a.target
       ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY a.seq DESC LIMIT ?`,
      ...args,
      limit + 1,
    )
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
    actor_email: r.actor_email,
    credential_ref: refOf(r),
    target_email: r.target_email,
  }));
  return { entries, next_cursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
}
