import { fromZodError } from "../../../lib/errors";
import { SlackHandoff, type HandoffAnswer, type LifecycleHandoff, type MessageHandoff } from "../../../lib/schemas/slack";
import { bindingChannelOf, decideTrigger } from "../../../lib/slack/filters";
import { newId } from "../../../lib/tokens";
import { writeAudit } from "../audit";
import type { VaultContext } from "../context";
import { removeInstallation } from "./install";
import { bindingOf, installationByRoute, type InstallationRow } from "./rows";

/**
 * The durable hand-off (DESIGN section 2): one RPC per verified event. Everything happens in one
 * synchronous SQLite transaction, so two deliveries of the same event (Slack retries) or of the
 * same message (app_mention + message.channels, different event ids) can never both be queued:
 * the event id is claimed by a primary key, the message by a unique (installation, channel, ts).
 * The worker answers Slack only after this returns, and the output gate holds that answer until
 * the rows are durable.
 */

export interface Received {
  answer: HandoffAnswer;
  /** A message was queued: the alarm must run. */
  wake: boolean;
  /** The installation was removed: its route must go from the Directory and KV. */
  released: boolean;
}

const ignored = (reason: string): Received => ({ answer: { outcome: "ignored", reason }, wake: false, released: false });
const applied = (change: string, released = false): Received => ({ answer: { outcome: "applied", change }, wake: false, released });

export function parseHandoff(input: unknown): SlackHandoff {
  const parsed = SlackHandoff.safeParse(input);
  if (!parsed.success) throw fromZodError(parsed.error, { input });
  return parsed.data;
}

export function receiveSlackEvent(ctx: VaultContext, h: SlackHandoff): Received {
  return ctx.storage.transactionSync(() => {
    const claimed = ctx.sql.exec(
      `INSERT INTO slack_events_seen (event_id, route_key, at) VALUES (?, ?, ?) ON CONFLICT(event_id) DO NOTHING RETURNING event_id`,
      h.event_id, h.route, ctx.now,
    ).toArray().length === 1;
    if (!claimed) return { answer: { outcome: "duplicate", by: "event_id" }, wake: false, released: false };
    const inst = installationByRoute(ctx, h.route);
    if (!inst) return ignored("no_installation");
    if (inst.app_id !== h.app_id) return ignored("other_app");
    return h.kind === "message" ? queueMessage(ctx, inst, h) : applyLifecycle(ctx, inst, h);
  });
}

function queueMessage(ctx: VaultContext, inst: InstallationRow, m: MessageHandoff): Received {
  if (inst.status !== "active") return ignored("installation_disabled");
  const channel = bindingChannelOf(m);
  const binding = bindingOf(ctx, m.route, channel);
  const decision = decideTrigger(m, { botUserId: inst.bot_user_id, botId: inst.bot_id }, binding);
  if (!decision.run || !binding) return ignored(decision.run ? "unbound_channel" : decision.reason);
  const seen = ctx.sql.exec(`SELECT 1 FROM slack_inbox WHERE route_key = ? AND channel_id = ? AND ts = ?`, m.route, m.channel, m.ts).toArray().length > 0;
  if (seen) return { answer: { outcome: "duplicate", by: "message" }, wake: false, released: false };

  // One agent session per Slack thread: a top-level message opens one, replies continue it.
  const threadTs = m.thread_ts ?? m.ts;
  const session = ctx.sql.exec(
    `INSERT INTO slack_sessions (id, route_key, channel_id, thread_ts, agent, project, messages, replies, created_at, last_message_at)
     VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?)
     ON CONFLICT(route_key, channel_id, thread_ts, agent) DO UPDATE SET messages = messages + 1, last_message_at = excluded.last_message_at
     RETURNING id`,
    newId("sess"), m.route, m.channel, threadTs, binding.agent, binding.project, ctx.now, ctx.now,
  ).one();
  const sessionId = String(session.id);
  const row = ctx.sql.exec(
    `INSERT INTO slack_inbox (route_key, channel_id, ts, event_id, binding_channel, session_id, agent, thread_ts, user_id, team_id, text,
       status, attempts, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING id`,
    m.route, m.channel, m.ts, m.event_id, channel, sessionId, binding.agent, threadTs, m.user, m.team_id, m.text, ctx.now, ctx.now, ctx.now,
  ).one();
  return { answer: { outcome: "accepted", inbox_id: Number(row.id), session_id: sessionId }, wake: true, released: false };
}

function systemAudit(ctx: VaultContext, action: string, route: string, channel: string, detail: Record<string, string | null>): void {
  writeAudit(ctx, null, { action, target: `channel:${channel}`, detail: { route, ...detail } });
}

function upsertChannel(ctx: VaultContext, route: string, channel: string, set: { name?: string; is_member?: 0 | 1; is_archived?: 0 | 1; is_private?: 0 | 1 }): void {
  ctx.sql.exec(
    `INSERT INTO slack_channels (route_key, channel_id, name, is_private, is_member, is_archived, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(route_key, channel_id) DO UPDATE SET
       name = COALESCE(?, name), is_private = COALESCE(?, is_private), is_member = COALESCE(?, is_member), is_archived = COALESCE(?, is_archived), updated_at = excluded.updated_at`,
    route, channel, set.name ?? null, set.is_private ?? 0, set.is_member ?? 0, set.is_archived ?? 0, ctx.now,
    set.name ?? null, set.is_private ?? null, set.is_member ?? null, set.is_archived ?? null,
  );
}

/** Pauses an active binding (conditional, so it never overrides a newer state). Answers whether it did. */
function pause(ctx: VaultContext, route: string, channel: string, reason: string): boolean {
  return ctx.sql.exec(
    `UPDATE slack_bindings SET status = 'paused', paused_reason = ?, updated_at = ? WHERE route_key = ? AND channel_id = ? AND status = 'active' RETURNING agent`,
    reason, ctx.now, route, channel,
  ).toArray().length > 0;
}

function resume(ctx: VaultContext, route: string, channel: string, reasons: string[]): boolean {
  return ctx.sql.exec(
    `UPDATE slack_bindings SET status = 'active', paused_reason = NULL, updated_at = ? WHERE route_key = ? AND channel_id = ? AND status = 'paused' AND paused_reason IN (${reasons.map(() => "?").join(", ")}) RETURNING agent`,
    ctx.now, route, channel, ...reasons,
  ).toArray().length > 0;
}

function applyLifecycle(ctx: VaultContext, inst: InstallationRow, h: LifecycleHandoff): Received {
  const e = h.event;
  const route = h.route;
  switch (e.type) {
    case "member_joined_channel": {
      if (e.user !== inst.bot_user_id) return ignored("not_the_bot");
      // The bot is in the channel: it can be bound now (and a binding paused for its absence resumes).
      upsertChannel(ctx, route, e.channel, { is_member: 1, is_archived: 0, ...(e.channel_type === "G" ? { is_private: 1 } : {}) });
      if (resume(ctx, route, e.channel, ["not_in_channel", "channel_not_found"])) systemAudit(ctx, "channel.resume", route, e.channel, { reason: "bot_joined" });
      return applied("channel_bindable");
    }
    case "member_left_channel": {
      if (e.user !== inst.bot_user_id) return ignored("not_the_bot");
      upsertChannel(ctx, route, e.channel, { is_member: 0 });
      if (pause(ctx, route, e.channel, "not_in_channel")) systemAudit(ctx, "channel.pause", route, e.channel, { reason: "not_in_channel" });
      return applied("bot_left_channel");
    }
    case "channel_rename":
      // Channel ids are stable across renames: only the name changes.
      upsertChannel(ctx, route, e.channel, { name: e.name });
      return applied("channel_renamed");
    case "channel_archive":
      upsertChannel(ctx, route, e.channel, { is_archived: 1 });
      if (pause(ctx, route, e.channel, "archived")) systemAudit(ctx, "channel.pause", route, e.channel, { reason: "archived" });
      return applied("channel_archived");
    case "channel_unarchive":
      upsertChannel(ctx, route, e.channel, { is_archived: 0 });
      if (resume(ctx, route, e.channel, ["archived", "is_archived"])) systemAudit(ctx, "channel.resume", route, e.channel, { reason: "unarchived" });
      return applied("channel_unarchived");
    case "channel_deleted": {
      const removed = ctx.sql.exec(`DELETE FROM slack_bindings WHERE route_key = ? AND channel_id = ? RETURNING agent`, route, e.channel).toArray()[0];
      ctx.sql.exec(`DELETE FROM slack_channels WHERE route_key = ? AND channel_id = ?`, route, e.channel);
      ctx.sql.exec(
        `UPDATE slack_inbox SET status = 'dropped', last_error = 'channel_deleted', lease_until = NULL, updated_at = ? WHERE route_key = ? AND channel_id = ? AND status IN ('pending', 'running')`,
        ctx.now, route, e.channel,
      );
      if (removed) systemAudit(ctx, "channel.remove", route, e.channel, { reason: "channel_deleted", agent: String(removed.agent) });
      return applied("channel_deleted");
    }
    case "app_uninstalled":
      return applied("installation_removed", removeInstallation(ctx, route, "uninstalled"));
    case "tokens_revoked":
      // Only the bot token matters here; revoked user tokens leave the bot working.
      if (!e.bot.includes(inst.bot_user_id)) return ignored("user_tokens_only");
      return applied("installation_removed", removeInstallation(ctx, route, "tokens_revoked"));
  }
}
