import { runClaimed } from "../claim-loop";
import { MAX_ATTEMPTS, nextAttemptAt, slackErrorEffect } from "../../../lib/slack/retry";
import type { VaultContext } from "../context";
import { openFields } from "../credentials";
import { outbound, type OutboundEnv } from "../outbound";
import { bindingsChanged, disableInstallation } from "./install";
import { bindingOf, inboxRow, installationByRoute, InboxRow } from "./rows";
import { callAgent, postMessage, type CallResult } from "./web-api";

/**
 * Delivery from the inbox, run by the vault's alarm: call the agent, post its reply in the thread,
 * retry with backoff. Outbound fetches open the input gate, so other RPCs (new hand-offs, API
 * calls) run meanwhile: every write after a fetch is a conditional UPDATE of fresh values
 * (`WHERE status = 'running'`), never a value read before the fetch written back.
 */

export interface DeliveryDeps {
  /** A fresh context (and clock) for each step: time passes across fetches. */
  context(): VaultContext;
  env: OutboundEnv;
  random?: () => number;
  /** Refreshes an OAuth credential expiring soon (the vault's single-flight refresh). */
  fresh?: (credentialId: string) => Promise<void>;
}

/** Parallel deliveries per alarm run; a thread's messages are always answered one at a time, in order. */
const CONCURRENCY = 6;
/** A running row whose lease expired (the object was evicted mid-delivery) is picked up again. */
const LEASE_MS = 5 * 60_000;
/** No new delivery starts after this; the alarm is set again for the rest. */
const RUN_BUDGET_MS = 60_000;
/** Slack retries an event for about an hour; keep the de-duplication keys well beyond that. */
export const RETENTION_MS = 3 * 24 * 60 * 60_000;

/** Runs due deliveries; answers when the alarm should fire next (null: nothing queued). */
export async function runDelivery(deps: DeliveryDeps): Promise<number | null> {
  const ctx0 = deps.context();
  ctx0.sql.exec(`UPDATE slack_inbox SET status = 'pending', lease_until = NULL, updated_at = ? WHERE status = 'running' AND lease_until < ?`, ctx0.now, ctx0.now);
  await runClaimed({
    concurrency: CONCURRENCY,
    budgetMs: RUN_BUDGET_MS,
    claim: () => claimNext(deps.context()),
    run: (row) => deliverOne(deps, row),
    onCrash: (row, e) => {
      console.error("slack delivery crashed", { inbox: row.id, error: e instanceof Error ? e.name : typeof e });
      settle(deps.context(), row.id, { kind: "retry", reason: "internal", retryAfter: null, rateLimited: false }, deps);
    },
  });
  const ctx = deps.context();
  prune(ctx);
  return nextWake(ctx);
}

/** The oldest due message whose thread has nothing earlier still queued or running; claimed atomically. */
function claimNext(ctx: VaultContext): InboxRow | null {
  const raw = ctx.sql.exec(
    `SELECT i.id FROM slack_inbox i WHERE i.status = 'pending' AND i.next_attempt_at <= ?
       AND NOT EXISTS (SELECT 1 FROM slack_inbox j WHERE j.session_id = i.session_id AND j.id < i.id AND j.status IN ('pending', 'running'))
     ORDER BY i.next_attempt_at, i.id LIMIT 1`,
    ctx.now,
  ).toArray()[0];
  if (!raw) return null;
  const id = Number(raw.id);
  // No await between the select and this update: the claim is atomic.
  ctx.sql.exec(`UPDATE slack_inbox SET status = 'running', attempts = attempts + 1, lease_until = ?, updated_at = ? WHERE id = ?`, ctx.now + LEASE_MS, ctx.now, id);
  return inboxRow(ctx, id);
}

function finish(ctx: VaultContext, id: number, status: "failed" | "dropped", reason: string): void {
  ctx.sql.exec(`UPDATE slack_inbox SET status = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'running'`, status, reason, ctx.now, id);
  console.warn("slack delivery ended", { inbox: id, status, reason });
}

/** A retry or a final failure; rate limits do not use up attempts (Slack said when to come back). */
function settle(ctx: VaultContext, id: number, r: Extract<CallResult<unknown>, { kind: "retry" | "fail" }>, deps: DeliveryDeps): void {
  if (r.kind === "fail") return finish(ctx, id, "failed", r.reason);
  const row = inboxRow(ctx, id);
  if (!row || row.status !== "running") return;
  const at = nextAttemptAt(ctx.now, row.attempts, (deps.random ?? Math.random)(), r.retryAfter);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `UPDATE slack_inbox SET status = CASE WHEN ? = 0 AND attempts >= ? THEN 'failed' ELSE 'pending' END,
         attempts = attempts - ?, next_attempt_at = ?, last_error = ?, lease_until = NULL, updated_at = ?
       WHERE id = ? AND status = 'running'`,
      r.rateLimited ? 1 : 0, MAX_ATTEMPTS, r.rateLimited ? 1 : 0, at, r.reason, ctx.now, id,
    );
    // Slack's limit is per channel: hold back the channel's other queued replies too.
    if (r.rateLimited) {
      ctx.sql.exec(`UPDATE slack_inbox SET next_attempt_at = MAX(next_attempt_at, ?) WHERE route_key = ? AND channel_id = ? AND status = 'pending'`, at, row.route_key, row.channel_id);
    }
  });
  console.warn("slack delivery retry", { inbox: id, reason: r.reason, attempt: row.attempts });
}

async function deliverOne(deps: DeliveryDeps, row: InboxRow): Promise<void> {
  let ctx = deps.context();
  const inst = installationByRoute(ctx, row.route_key);
  if (!inst || inst.status !== "active") return finish(ctx, row.id, "dropped", "installation_unavailable");
  const binding = bindingOf(ctx, row.route_key, row.binding_channel);
  if (!binding || binding.status !== "active") return finish(ctx, row.id, "dropped", "binding_unavailable");
  const out = outbound(ctx, deps.env);

  let reply = row.reply_text;
  if (reply === null) {
    if (!out.agentRuntimeUrl) return finish(ctx, row.id, "failed", "agent_runtime_not_configured");
    // The runtime must be able to tell our calls from anyone's: never call it without the secret.
    if (!out.agentRuntimeToken) return finish(ctx, row.id, "failed", "agent_runtime_token_not_configured");
    const answer = await callAgent(out.agentRuntimeUrl, out.agentRuntimeToken, {
      session_id: row.session_id,
      agent: row.agent,
      text: row.text,
      channel: row.channel_id,
      thread_ts: row.thread_ts,
      ts: row.ts,
      user: row.user_id,
      team_id: row.team_id,
    }, out.timeouts.agent);
    ctx = deps.context();
    if (answer.kind !== "ok") return settle(ctx, row.id, answer.kind === "slack_error" ? { kind: "fail", reason: answer.error } : answer, deps);
    reply = answer.value;
    // Kept so that a failed post is retried without running the agent again.
    ctx.sql.exec(`UPDATE slack_inbox SET reply_text = ?, updated_at = ? WHERE id = ? AND status = 'running'`, reply, ctx.now, row.id);
  }

  // Re-read after the agent call: an uninstall or a pause may have happened meanwhile.
  const current = inboxRow(ctx, row.id);
  if (!current || current.status !== "running") return;
  const live = installationByRoute(ctx, row.route_key);
  if (!live || live.status !== "active") return finish(ctx, row.id, "dropped", "installation_unavailable");
  // With Slack token rotation on, the bot token expires: refresh it first, single-flight with resolves.
  // A refresh that fails or times out while the token is still valid is no reason not to post; an
  // expired one would make Slack answer token_expired (which disables the installation): retry later.
  const refreshFailed = await deps.fresh?.(live.credential_id).then(() => false, () => true);
  ctx = deps.context();
  if (refreshFailed && tokenExpired(ctx, live.credential_id)) {
    return settle(ctx, row.id, { kind: "retry", reason: "slack_token_refresh_failed", retryAfter: null, rateLimited: false }, deps);
  }
  const token = (await openFields(ctx, live.credential_id)).accessToken;
  if (!token) {
    // The Slack credential was revoked by hand (its secret is gone): the installation cannot post.
    disableInstallation(ctx, row.route_key, live.credential_id, "credential_revoked");
    return finish(ctx, row.id, "failed", "no_bot_token");
  }
  const posted = await postMessage(out.slackApiUrl, token, { channel: row.channel_id, thread_ts: row.thread_ts, text: reply }, out.timeouts.slack);
  ctx = deps.context();
  switch (posted.kind) {
    case "ok":
      ctx.storage.transactionSync(() => {
        const done = ctx.sql.exec(
          `UPDATE slack_inbox SET status = 'replied', reply_ts = ?, last_error = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'running' RETURNING id`,
          posted.value, ctx.now, row.id,
        ).toArray().length;
        if (done) ctx.sql.exec(`UPDATE slack_sessions SET replies = replies + 1, last_reply_at = ? WHERE id = ?`, ctx.now, row.session_id);
      });
      return;
    case "slack_error": {
      const effect = slackErrorEffect(posted.error);
      if (effect === "retry") return settle(ctx, row.id, { kind: "retry", reason: posted.error, retryAfter: null, rateLimited: posted.error === "ratelimited" }, deps);
      if (effect === "pause_binding") {
        const paused = ctx.sql.exec(
          `UPDATE slack_bindings SET status = 'paused', paused_reason = ?, updated_at = ? WHERE route_key = ? AND channel_id = ? AND status = 'active' RETURNING channel_id`,
          posted.error, ctx.now, row.route_key, row.binding_channel,
        ).toArray().map((r) => String(r.channel_id));
        bindingsChanged(ctx, "channel.pause", row.route_key, paused, posted.error);
      }
      if (effect === "disable_installation") disableInstallation(ctx, row.route_key, live.credential_id, posted.error);
      return finish(ctx, row.id, "failed", posted.error);
    }
    default:
      return settle(ctx, row.id, posted, deps);
  }
}

function tokenExpired(ctx: VaultContext, credentialId: string): boolean {
  const at = ctx.sql.exec(`SELECT expires_at FROM credentials WHERE id = ?`, credentialId).toArray()[0]?.expires_at;
  return typeof at === "number" && at <= ctx.now;
}

function prune(ctx: VaultContext): void {
  const before = ctx.now - RETENTION_MS;
  ctx.sql.exec(`DELETE FROM slack_events_seen WHERE at < ?`, before);
  ctx.sql.exec(`DELETE FROM slack_inbox WHERE created_at < ? AND status IN ('replied', 'failed', 'dropped')`, before);
}

function nextWake(ctx: VaultContext): number | null {
  const r = ctx.sql.exec(
    `SELECT MIN(t) AS t FROM (SELECT MIN(next_attempt_at) AS t FROM slack_inbox WHERE status = 'pending' UNION ALL SELECT MIN(lease_until) FROM slack_inbox WHERE status = 'running')`,
  ).one();
  return r.t === null ? null : Number(r.t);
}
