import { z } from "zod";
import { credentialAad, needsReseal, open, reseal, seal } from "../../../lib/crypto";
import { AppError } from "../../../lib/errors";
import { isAdmin, type Principal } from "../../../lib/permissions";
import { MAX_WEBHOOK_ENDPOINTS, type CreatedWebhook, type CreateWebhookBody, type DeliveriesPage, type DeliveriesQuery, type UpdateWebhookBody, type Webhook, type WebhookDelivery } from "../../../lib/schemas/webhooks";
import { newId } from "../../../lib/tokens";
import { decodeCursor, DEFAULT_PAGE_LIMIT, nextCursor } from "../../../lib/paging";
import { checkEndpointUrl } from "../../../lib/urls";
import { writeAudit } from "../audit";
import { iso, type Actor, type VaultContext } from "../context";

/**
 * Webhook endpoints (SPEC section 14): owners and admins only, every refusal audited. The secret
 * is sealed (it must be opened to sign), answered once on create and on rotate; after a rotation
 * the previous one keeps signing alongside for 24 hours.
 */

export const ROTATION_OVERLAP_MS = 24 * 60 * 60_000;

const EndpointRow = z.object({
  id: z.string(),
  url: z.string(),
  events: z.string().nullable(),
  enabled: z.number(),
  disabled_reason: z.enum(["failing"]).nullable(),
  secret: z.string(),
  previous_secret: z.string().nullable(),
  previous_until: z.number().nullable(),
  failing_since: z.number().nullable(),
  created_by: z.string().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type EndpointRow = z.infer<typeof EndpointRow>;

export function endpointRow(ctx: VaultContext, id: string): EndpointRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM webhook_endpoints WHERE id = ?`, id).toArray()[0];
  return raw ? EndpointRow.parse(raw) : null;
}

export function toWebhook(r: EndpointRow, now: number): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: r.events === null ? null : (JSON.parse(r.events) as string[]),
    enabled: r.enabled === 1,
    disabled_reason: r.disabled_reason,
    previous_secret_until: r.previous_until !== null && r.previous_until > now ? iso(r.previous_until) : null,
    failing_since: iso(r.failing_since),
    created_by: r.created_by,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

/**
 * What the audit log keeps of an endpoint URL: its host. Some receivers put a secret in the path
 * or query (chat incoming-webhook URLs do), and audit rows never hold a secret.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

const aad = (ctx: VaultContext, id: string) => credentialAad(ctx.orgId, id, "webhook_secret");

/** `whsec_` + base64 of 32 random bytes: the form the standardwebhooks package takes. */
function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

/** The secrets that sign a delivery now: the current one, and the previous one during its overlap. */
export async function signingSecrets(ctx: VaultContext, r: EndpointRow): Promise<string[]> {
  const out = [await open(ctx.ring, ctx.orgId, r.secret, aad(ctx, r.id))];
  if (r.previous_secret !== null && r.previous_until !== null && r.previous_until > ctx.now) {
    out.push(await open(ctx.ring, ctx.orgId, r.previous_secret, aad(ctx, r.id)));
  }
  return out;
}

export function requireWebhookAdmin(ctx: VaultContext, actor: Actor, p: Principal, action: string, target: string | null): void {
  if (isAdmin(p)) return;
  writeAudit(ctx, actor, { action, outcome: "denied", target });
  throw new AppError("forbidden", "Only org owners and admins manage webhooks.", { fix: "Ask an org owner or admin." });
}

/** The endpoint, or a 404 naming the path's id. */
export function findEndpoint(ctx: VaultContext, id: string): EndpointRow {
  const r = endpointRow(ctx, id);
  if (!r) throw new AppError("not_found", `There is no webhook \`${id}\`.`, { fix: "List them with `keystroke webhooks list`.", details: { field: "path.id" } });
  return r;
}

export async function createWebhook(ctx: VaultContext, actor: Actor, p: Principal, body: CreateWebhookBody, dev: boolean): Promise<CreatedWebhook> {
  requireWebhookAdmin(ctx, actor, p, "webhook.create", null);
  const url = checkEndpointUrl(body.url, "url", dev);
  const count = Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM webhook_endpoints`).one().n);
  if (count >= MAX_WEBHOOK_ENDPOINTS) {
    throw new AppError("conflict", `An organization has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints.`, { fix: "Delete one you no longer need (`keystroke webhooks delete <id>`), or subscribe one endpoint to more events.", details: { field: "url" } });
  }
  const id = newId("whk");
  const secret = newSecret();
  const sealed = await seal(ctx.ring, ctx.orgId, secret, aad(ctx, id));
  const events = body.events ? JSON.stringify([...new Set(body.events)]) : null;
  ctx.storage.transactionSync(() => {
    // Counted again inside the transaction: sealing awaited, a concurrent create may have landed.
    if (Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM webhook_endpoints`).one().n) >= MAX_WEBHOOK_ENDPOINTS) {
      throw new AppError("conflict", `An organization has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints.`, { details: { field: "url" } });
    }
    ctx.sql.exec(
      `INSERT INTO webhook_endpoints (id, url, events, enabled, secret, created_by, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)`,
      id, url, events, sealed, p.member, ctx.now, ctx.now,
    );
    writeAudit(ctx, actor, { action: "webhook.create", target: id, detail: { host: hostOf(url), events: events ?? "*" } });
  });
  return { ...toWebhook(endpointRow(ctx, id)!, ctx.now), secret };
}

export function listWebhooks(ctx: VaultContext, actor: Actor, p: Principal): Webhook[] {
  requireWebhookAdmin(ctx, actor, p, "webhook.list", null);
  return ctx.sql.exec(`SELECT * FROM webhook_endpoints ORDER BY created_at, id`).toArray().map((r) => toWebhook(EndpointRow.parse(r), ctx.now));
}

export function updateWebhook(ctx: VaultContext, actor: Actor, p: Principal, id: string, body: UpdateWebhookBody, dev: boolean): Webhook {
  requireWebhookAdmin(ctx, actor, p, "webhook.update", id);
  const r = findEndpoint(ctx, id);
  const url = body.url !== undefined ? checkEndpointUrl(body.url, "url", dev) : r.url;
  const events = body.events === undefined ? r.events : body.events === null ? null : JSON.stringify([...new Set(body.events)]);
  const enabled = body.enabled === undefined ? r.enabled : body.enabled ? 1 : 0;
  const reenabled = enabled === 1 && r.enabled === 0;
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, disabled_reason = ?, failing_since = ?, updated_at = ? WHERE id = ?`,
      url, events, enabled, enabled === 1 ? null : r.disabled_reason, reenabled ? null : r.failing_since, ctx.now, id,
    );
    writeAudit(ctx, actor, { action: "webhook.update", target: id, detail: { host: hostOf(url), events: events ?? "*", enabled: enabled === 1 } });
  });
  // Deliveries queued while it was off go out now (those still inside their 24 hours).
  if (reenabled) ctx.onOutbox?.();
  return toWebhook(endpointRow(ctx, id)!, ctx.now);
}

export function deleteWebhook(ctx: VaultContext, actor: Actor, p: Principal, id: string): { deleted: Webhook } {
  requireWebhookAdmin(ctx, actor, p, "webhook.delete", id);
  const r = findEndpoint(ctx, id);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM webhook_deliveries WHERE endpoint_id = ?`, id);
    ctx.sql.exec(`DELETE FROM webhook_endpoints WHERE id = ?`, id);
    writeAudit(ctx, actor, { action: "webhook.delete", target: id, detail: { host: hostOf(r.url) } });
  });
  return { deleted: toWebhook(r, ctx.now) };
}

/** A new secret, answered once; the old one keeps signing alongside for 24 hours (a second rotation drops the oldest). */
export async function rotateWebhookSecret(ctx: VaultContext, actor: Actor, p: Principal, id: string): Promise<CreatedWebhook> {
  requireWebhookAdmin(ctx, actor, p, "webhook.rotate_secret", id);
  const r = findEndpoint(ctx, id);
  const secret = newSecret();
  const sealed = await seal(ctx.ring, ctx.orgId, secret, aad(ctx, id));
  ctx.storage.transactionSync(() => {
    // Compare-and-set on the current secret: of two concurrent rotations one wins, neither loses the overlap.
    const changed = ctx.sql.exec(
      `UPDATE webhook_endpoints SET previous_secret = secret, previous_until = ?, secret = ?, updated_at = ? WHERE id = ? AND secret = ?`,
      ctx.now + ROTATION_OVERLAP_MS, sealed, ctx.now, id, r.secret,
    ).rowsWritten;
    if (changed === 0) throw new AppError("conflict", "The secret was rotated meanwhile.", { fix: "Rotate again if you need a secret you have.", details: { field: "path.id" } });
    writeAudit(ctx, actor, { action: "webhook.rotate_secret", target: id, detail: { previous_until: iso(ctx.now + ROTATION_OVERLAP_MS)! } });
  });
  return { ...toWebhook(endpointRow(ctx, id)!, ctx.now), secret };
}

const DeliveryRow = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  event_type: z.string(),
  status: z.enum(["pending", "sending", "delivered", "failed"]),
  attempts: z.number(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z.number(),
  created_at: z.number(),
  delivered_at: z.number().nullable(),
  is_test: z.number(),
});

export function toDelivery(raw: Record<string, SqlStorageValue>): WebhookDelivery {
  const r = DeliveryRow.parse(raw);
  return {
    id: r.id,
    endpoint_id: r.endpoint_id,
    event_type: r.event_type as WebhookDelivery["event_type"],
    status: r.status,
    attempts: r.attempts,
    last_status: r.last_status,
    last_error: r.last_error,
    next_attempt_at: r.status === "pending" ? iso(r.next_attempt_at) : null,
    created_at: iso(r.created_at)!,
    delivered_at: iso(r.delivered_at),
    test: r.is_test === 1,
  };
}

/** The endpoint's deliveries, newest first, keyset-paged: status, attempts, last response code; never a body. */
export function listDeliveries(ctx: VaultContext, actor: Actor, p: Principal, id: string, q: DeliveriesQuery): DeliveriesPage {
  requireWebhookAdmin(ctx, actor, p, "webhook.deliveries", id);
  findEndpoint(ctx, id);
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  const after = q.cursor !== undefined ? decodeCursor(DELIVERIES, q.cursor, "NS") : null;
  const rows = ctx.sql
    .exec(
      `SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ${after ? "AND (created_at < ? OR (created_at = ? AND id < ?))" : ""} ORDER BY created_at DESC, id DESC LIMIT ?`,
      id, ...(after ? [after[0]!, after[0]!, after[1]!] : []), limit + 1,
    )
    .toArray();
  return { deliveries: rows.slice(0, limit).map(toDelivery), next_cursor: nextCursor(DELIVERIES, rows, limit, (r) => [Number(r.created_at), String(r.id)]) };
}
const DELIVERIES = "webhook_deliveries";

export function recentDeliveries(ctx: VaultContext, endpointId: string, limit: number): WebhookDelivery[] {
  return ctx.sql
    .exec(`SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, endpointId, limit)
    .toArray()
    .map(toDelivery);
}

/**
 * The keyring sweep's part for webhook secrets (both columns): values sealed under an older key are
 * sealed again under the active one, compare-and-set so a rotation that landed meanwhile wins.
 * Answers how many it moved; a value that cannot be opened is skipped, not retried forever.
 */
export async function resealWebhookSecrets(ctx: VaultContext, limit: number): Promise<number> {
  const like = `v1.${ctx.ring.active}.%`;
  const rows = ctx.sql
    .exec(`SELECT id, secret, previous_secret FROM webhook_endpoints WHERE secret NOT LIKE ? OR (previous_secret IS NOT NULL AND previous_secret NOT LIKE ?) LIMIT ?`, like, like, limit)
    .toArray();
  let moved = 0;
  for (const r of rows) {
    const id = String(r.id);
    for (const column of ["secret", "previous_secret"] as const) {
      const sealed = r[column] === null ? null : String(r[column]);
      if (sealed === null || !needsReseal(ctx.ring, sealed)) continue;
      let fresh: string;
      try {
        fresh = await reseal(ctx.ring, ctx.orgId, sealed, aad(ctx, id));
      } catch {
        console.error("reseal: a webhook secret could not be opened", id);
        continue;
      }
      ctx.sql.exec(`UPDATE webhook_endpoints SET ${column} = ? WHERE id = ? AND ${column} = ?`, fresh, id, sealed);
      moved++;
    }
  }
  return moved;
}

export function staleWebhookSecrets(ctx: Pick<VaultContext, "sql" | "ring">): number {
  const like = `v1.${ctx.ring.active}.%`;
  return Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM webhook_endpoints WHERE secret NOT LIKE ? OR (previous_secret IS NOT NULL AND previous_secret NOT LIKE ?)`, like, like).one().n);
}
