import { runClaimed } from "../claim-loop";
import { AppError } from "../../../lib/errors";
import type { Principal } from "../../../lib/permissions";
import type { WebhookDelivery } from "../../../lib/schemas/webhooks";
import { TEST_EVENT } from "../../../lib/webhook-events";
import { DISABLE_AFTER_MS, nextAttemptAt, retryAfterMs, RETRY_WINDOW_MS } from "../../../lib/webhook-retry";
import { newId } from "../../../lib/tokens";
import { outboundFetch, timeoutFor, type TimeoutEnv } from "../../../providers/outbound-fetch";
import { signedHeaders } from "../../../providers/webhook-sign";
import { endpointUrlProblem } from "../../../lib/urls";
import { writeAudit } from "../audit";
import { iso, type Actor, type VaultContext } from "../context";
import { endpointRow, findEndpoint, hostOf, requireWebhookAdmin, signingSecrets, toDelivery, type EndpointRow } from "./endpoints";

/**
 * Delivery from the outbox, run by the vault's alarm (at least once): sign, POST with a timeout,
 * retry with backoff for 24 hours honouring Retry-After (lib/webhook-retry.ts), disable an
 * endpoint that failed for 3 days. Fetches open the input gate, so every write after one is a
 * conditional UPDATE (`WHERE status = 'sending'`), never a value read before it written back.
 */

export interface WebhookDeps {
  /** A fresh context (and clock) for each step: time passes across fetches. */
  context(): VaultContext;
  env: TimeoutEnv;
  /** Dev mode: the endpoint URL rule allows http and loopback (lib/urls.ts), as when it was saved. */
  dev: boolean;
  random?: () => number;
}

const CONCURRENCY = 4;
/** A `sending` row whose lease ran out (the object was evicted mid-request) is tried again. */
const LEASE_MS = 2 * 60_000;
/** No new delivery starts after this; the alarm is set again for the rest. */
const RUN_BUDGET_MS = 30_000;
const RETENTION_MS = 7 * 24 * 60 * 60_000;

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string; retryAfter: number | null; final?: boolean };

interface Claimed {
  id: string;
  endpoint_id: string;
  payload: string;
  attempts: number;
  created_at: number;
  is_test: number;
}

/** Runs due deliveries; answers when the alarm should fire next (null: nothing queued). */
export async function runWebhookDelivery(deps: WebhookDeps): Promise<number | null> {
  const ctx0 = deps.context();
  ctx0.sql.exec(`UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL, updated_at = ? WHERE status = 'sending' AND lease_until < ?`, ctx0.now, ctx0.now);
  await runClaimed({
    concurrency: CONCURRENCY,
    budgetMs: RUN_BUDGET_MS,
    claim: () => claimNext(deps.context()),
    run: (row) => deliverOne(deps, row),
    onCrash: (row, e) => {
      console.error("webhook delivery crashed", { delivery: row.id, error: e instanceof Error ? e.name : typeof e });
      settle(deps.context(), row, { ok: false, status: null, error: "internal", retryAfter: null }, deps);
    },
  });
  const ctx = deps.context();
  ctx.sql.exec(`DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND updated_at < ?`, ctx.now - RETENTION_MS);
  return nextWake(ctx);
}

/** Whether a delivery is queued (the vault's start-up check: a crash after the change still gets delivered). */
export function deliveriesQueued(ctx: Pick<VaultContext, "sql">): boolean {
  return ctx.sql.exec(`SELECT 1 FROM webhook_deliveries WHERE status IN ('pending', 'sending') LIMIT 1`).toArray().length > 0;
}

function nextWake(ctx: VaultContext): number | null {
  const r = ctx.sql.exec(
    `SELECT MIN(t) AS at FROM (
       SELECT d.next_attempt_at AS t FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.status = 'pending' AND e.enabled = 1
       UNION ALL SELECT lease_until AS t FROM webhook_deliveries WHERE status = 'sending')`,
  ).one();
  return r.at === null ? null : Number(r.at);
}

/** The oldest due delivery of an enabled endpoint, claimed atomically (no await between select and update). */
function claimNext(ctx: VaultContext): Claimed | null {
  for (;;) {
    const raw = ctx.sql.exec(
      `SELECT d.id, d.endpoint_id, d.payload, d.attempts, d.created_at, d.is_test FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.enabled = 1 ORDER BY d.next_attempt_at, d.created_at LIMIT 1`,
      ctx.now,
    ).toArray()[0];
    if (!raw) return null;
    const row: Claimed = { id: String(raw.id), endpoint_id: String(raw.endpoint_id), payload: String(raw.payload), attempts: Number(raw.attempts), created_at: Number(raw.created_at), is_test: Number(raw.is_test) };
    // Queued while the endpoint was disabled and now past its 24 hours: given up, not sent late.
    if (row.created_at + RETRY_WINDOW_MS < ctx.now) {
      ctx.sql.exec(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'expired', updated_at = ? WHERE id = ?`, ctx.now, row.id);
      continue;
    }
    ctx.sql.exec(`UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, lease_until = ?, updated_at = ? WHERE id = ?`, ctx.now + LEASE_MS, ctx.now, row.id);
    return { ...row, attempts: row.attempts + 1 };
  }
}

async function deliverOne(deps: WebhookDeps, row: Claimed): Promise<void> {
  const ctx = deps.context();
  const endpoint = endpointRow(ctx, row.endpoint_id);
  if (!endpoint) {
    ctx.sql.exec(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint_deleted', lease_until = NULL, updated_at = ? WHERE id = ?`, ctx.now, row.id);
    return;
  }
  const outcome = await send(ctx, deps, endpoint, row);
  settle(deps.context(), row, outcome, deps);
}

/**
 * One signed POST. The endpoint's answer body is never read or kept. Redirects are not followed.
 * The URL rule is applied again at every send: a row saved before a rule tightened (or written by
 * hand) is never called; such a delivery fails at once as `url_refused`, without a retry.
 */
async function send(ctx: VaultContext, deps: Pick<WebhookDeps, "env" | "dev">, endpoint: EndpointRow, row: Claimed): Promise<Outcome> {
  if (endpointUrlProblem(endpoint.url, deps.dev) !== null) return { ok: false, status: null, error: "url_refused", retryAfter: null, final: true };
  const env = deps.env;
  const secrets = await signingSecrets(ctx, endpoint);
  const at = new Date();
  const headers = { "content-type": "application/json", "user-agent": "Keystroke-Webhooks/1", ...signedHeaders(secrets, row.id, at, row.payload) };
  let res: Response;
  try {
    res = await outboundFetch(endpoint.url, { method: "POST", headers, body: row.payload, redirect: "manual" }, timeoutFor(env, "webhook"), "webhook endpoint");
  } catch (e) {
    const reason = e instanceof AppError && e.details?.upstream === "timeout" ? "timeout" : "unreachable";
    return { ok: false, status: null, error: reason, retryAfter: null };
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  return { ok: false, status: res.status, error: `http_${res.status}`, retryAfter: retryAfterMs(res.headers.get("retry-after"), Date.now()) };
}

function settle(ctx: VaultContext, row: Claimed, o: Outcome, deps: WebhookDeps): void {
  if (o.ok) {
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(
        `UPDATE webhook_deliveries SET status = 'delivered', last_status = ?, last_error = NULL, delivered_at = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'sending'`,
        o.status, ctx.now, ctx.now, row.id,
      );
      ctx.sql.exec(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`, row.endpoint_id);
    });
    return;
  }
  // A test send is tried once and says so; it never counts against the endpoint.
  const at = row.is_test || o.final ? null : nextAttemptAt(ctx.now, row.created_at, row.attempts, o.retryAfter, (deps.random ?? Math.random)());
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, last_status = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'sending'`,
      at === null ? "failed" : "pending", at ?? ctx.now, o.status, o.error, ctx.now, row.id,
    );
    if (!row.is_test) markFailing(ctx, row.endpoint_id);
  });
}

/** An endpoint failing for 3 days without a success is disabled, with an audit row saying so. */
function markFailing(ctx: VaultContext, endpointId: string): void {
  ctx.sql.exec(`UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?`, ctx.now, endpointId);
  const e = endpointRow(ctx, endpointId);
  if (!e || e.enabled !== 1 || e.failing_since === null || ctx.now - e.failing_since < DISABLE_AFTER_MS) return;
  ctx.sql.exec(`UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing', updated_at = ? WHERE id = ?`, ctx.now, endpointId);
  writeAudit(ctx, null, { action: "webhook.disabled", outcome: "failed", target: endpointId, detail: { reason: "failing", failing_since: iso(e.failing_since)!, host: hostOf(e.url) } });
  console.warn("webhook endpoint disabled", { endpoint: endpointId });
}

/**
 * `POST /v1/webhooks/{id}/test`: one signed `webhook.test` delivery sent now, in the call, and its
 * outcome answered; it is in the deliveries log and never retried.
 */
export async function testWebhook(deps: WebhookDeps, actor: Actor, p: Principal, id: string): Promise<WebhookDelivery> {
  const ctx = deps.context();
  requireWebhookAdmin(ctx, actor, p, "webhook.test", id);
  const endpoint = findEndpoint(ctx, id);
  // A disabled endpoint gets nothing, a test either: enable it first (PATCH `enabled: true`).
  if (endpoint.enabled !== 1) throw new AppError("conflict", `The webhook \`${id}\` is disabled.`, { fix: "Enable it first (`PATCH /v1/webhooks/{id}` with `enabled: true`), then test it.", details: { field: "path.id" } });
  const msgId = newId("msg");
  const payload = JSON.stringify({ type: TEST_EVENT, timestamp: new Date(ctx.now).toISOString(), data: { webhook: id, message: "A test delivery from Keystroke." } });
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, lease_until, is_test, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'sending', 1, ?, ?, 1, ?, ?)`,
      msgId, id, TEST_EVENT, payload, ctx.now, ctx.now + LEASE_MS, ctx.now, ctx.now,
    );
    writeAudit(ctx, actor, { action: "webhook.test", target: id });
  });
  const row: Claimed = { id: msgId, endpoint_id: id, payload, attempts: 1, created_at: ctx.now, is_test: 1 };
  settle(deps.context(), row, await send(ctx, deps, endpoint, row), deps);
  // The send opened the input gate: a DELETE of the webhook meanwhile took its deliveries with it.
  const after = deps.context().sql.exec(`SELECT * FROM webhook_deliveries WHERE id = ?`, msgId).toArray()[0];
  if (!after) throw new AppError("not_found", `The webhook \`${id}\` was deleted while its test was sent.`, { details: { field: "path.id" } });
  return toDelivery(after);
}
