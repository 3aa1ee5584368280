import { eventBody, eventForAudit, subscribed } from "../../../lib/webhook-events";
import { formatRef } from "../../../lib/refs";
import { newId } from "../../../lib/tokens";
import type { VaultContext } from "../context";

/**
 * The outbox (SPEC section 14): called by writeAudit with the audit row it just wrote, so the
 * deliveries are in the change's own transaction (or, outside transactionSync, in the same
 * synchronous step, which a Durable Object commits as one). A change is never committed without
 * its events, and an event is never written for a change that rolled back. Synchronous, no I/O:
 * the vault wakes its alarm after the call (ctx.onOutbox).
 */
export interface OutboxRecord {
  action: string;
  outcome: "ok" | "denied" | "failed";
  actor: string | null;
  actorKind: string;
  credentialId: string | null;
  target: string | null;
  detail: Record<string, unknown>;
}

export function writeOutbox(ctx: VaultContext, rec: OutboxRecord): number {
  const type = eventForAudit(rec.action, rec.outcome);
  // Most audit rows (resolves, reads, denials) are no event: no query at all on those paths.
  if (!type) return 0;
  const endpoints = ctx.sql
    .exec(`SELECT id, events FROM webhook_endpoints WHERE enabled = 1`)
    .toArray()
    .filter((e) => subscribed(e.events === null ? null : (JSON.parse(String(e.events)) as string[]), type));
  if (endpoints.length === 0) return 0;
  const body = JSON.stringify(eventBody(type, ctx.now, {
    action: rec.action,
    outcome: rec.outcome,
    actor: rec.actor,
    actorKind: rec.actorKind,
    credential: rec.credentialId ? { id: rec.credentialId, ref: credentialRef(ctx, rec.credentialId) } : null,
    target: rec.target,
    detail: rec.detail,
  }));
  for (const e of endpoints) {
    ctx.sql.exec(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
      newId("msg"), String(e.id), type, body, ctx.now, ctx.now, ctx.now,
    );
  }
  ctx.onOutbox?.();
  return endpoints.length;
}

function credentialRef(ctx: VaultContext, id: string): string | null {
  const c = ctx.sql.exec(`SELECT app, scope_type, scope_id, slug FROM credentials WHERE id = ?`, id).toArray()[0];
  if (!c) return null;
  const scopeId = String(c.scope_id);
  const scope = c.scope_type === "project" ? { type: "project" as const, project: scopeId } : c.scope_type === "user" ? { type: "user" as const, user: scopeId } : { type: "org" as const };
  return formatRef({ app: String(c.app), scope, slug: String(c.slug) });
}
