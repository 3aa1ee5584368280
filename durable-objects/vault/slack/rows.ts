import { z } from "zod";
import { parseStringList } from "../../../lib/schemas/common";
import { ListenMode, type ChannelBinding, type RouteKey, type SlackInstallationView, type SlackSession } from "../../../lib/schemas/slack";
import { iso, type VaultContext } from "../context";

/** Slack rows as stored; parsed on every read so a bad row fails loudly, not silently. */

export const InstallationRow = z.object({
  id: z.string(),
  route_key: z.string(),
  app_id: z.string(),
  team_id: z.string().nullable(),
  team_name: z.string().nullable(),
  enterprise_id: z.string().nullable(),
  enterprise_name: z.string().nullable(),
  is_enterprise_install: z.number(),
  bot_user_id: z.string(),
  bot_id: z.string(),
  credential_id: z.string(),
  scopes: z.string(),
  installer_user_id: z.string().nullable(),
  installed_by: z.string().nullable(),
  status: z.enum(["active", "disabled"]),
  disabled_reason: z.string().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type InstallationRow = z.infer<typeof InstallationRow>;

export const BindingRow = z.object({
  route_key: z.string(),
  channel_id: z.string(),
  agent: z.string(),
  mode: ListenMode,
  project: z.string().nullable(),
  status: z.enum(["active", "paused"]),
  paused_reason: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type BindingRow = z.infer<typeof BindingRow>;

export const ChannelRow = z.object({
  route_key: z.string(),
  channel_id: z.string(),
  name: z.string().nullable(),
  is_private: z.number(),
  is_member: z.number(),
  is_archived: z.number(),
  updated_at: z.number(),
});
export type ChannelRow = z.infer<typeof ChannelRow>;

export const InboxRow = z.object({
  id: z.number(),
  route_key: z.string(),
  channel_id: z.string(),
  ts: z.string(),
  event_id: z.string(),
  binding_channel: z.string(),
  session_id: z.string(),
  agent: z.string(),
  thread_ts: z.string(),
  user_id: z.string(),
  team_id: z.string().nullable(),
  text: z.string(),
  status: z.enum(["pending", "running", "replied", "failed", "dropped"]),
  attempts: z.number(),
  next_attempt_at: z.number(),
  lease_until: z.number().nullable(),
  reply_text: z.string().nullable(),
  reply_ts: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type InboxRow = z.infer<typeof InboxRow>;

export const SessionRow = z.object({
  id: z.string(),
  route_key: z.string(),
  channel_id: z.string(),
  thread_ts: z.string(),
  agent: z.string(),
  project: z.string().nullable(),
  messages: z.number(),
  replies: z.number(),
  created_at: z.number(),
  last_message_at: z.number(),
  last_reply_at: z.number().nullable(),
});

type Ctx = Pick<VaultContext, "sql">;

export function installationByRoute(ctx: Ctx, route: string): InstallationRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM slack_installations WHERE route_key = ?`, route).toArray()[0];
  return raw ? InstallationRow.parse(raw) : null;
}

export function allInstallations(ctx: Ctx): InstallationRow[] {
  return ctx.sql.exec(`SELECT * FROM slack_installations ORDER BY created_at, route_key`).toArray().map((r) => InstallationRow.parse(r));
}

export function bindingOf(ctx: Ctx, route: string, channel: string): BindingRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM slack_bindings WHERE route_key = ? AND channel_id = ?`, route, channel).toArray()[0];
  return raw ? BindingRow.parse(raw) : null;
}

export function allBindings(ctx: Ctx): BindingRow[] {
  return ctx.sql.exec(`SELECT * FROM slack_bindings ORDER BY route_key, channel_id`).toArray().map((r) => BindingRow.parse(r));
}

export function channelsOf(ctx: Ctx, route: string): ChannelRow[] {
  return ctx.sql.exec(`SELECT * FROM slack_channels WHERE route_key = ? ORDER BY name, channel_id`, route).toArray().map((r) => ChannelRow.parse(r));
}

export function channelRow(ctx: Ctx, route: string, channel: string): ChannelRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM slack_channels WHERE route_key = ? AND channel_id = ?`, route, channel).toArray()[0];
  return raw ? ChannelRow.parse(raw) : null;
}

export function inboxRow(ctx: Ctx, id: number): InboxRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM slack_inbox WHERE id = ?`, id).toArray()[0];
  return raw ? InboxRow.parse(raw) : null;
}

export function routeIds(route: string): { team_id: string | null; enterprise_id: string | null } {
  const [kind, id] = route.split(":");
  return kind === "enterprise" ? { team_id: null, enterprise_id: id ?? null } : { team_id: id ?? null, enterprise_id: null };
}

export function toInstallationView(row: InstallationRow): SlackInstallationView {
  return {
    id: row.id,
    route: row.route_key as RouteKey,
    app_id: row.app_id,
    team_id: row.team_id,
    enterprise_id: row.enterprise_id,
    is_enterprise_install: row.is_enterprise_install === 1,
    bot_user_id: row.bot_user_id,
    bot_id: row.bot_id,
    credential: row.credential_id,
    scopes: parseStringList(row.scopes),
    status: row.status,
    disabled_reason: row.disabled_reason,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

export function toBindingView(row: BindingRow, name: string | null, installation: InstallationRow | null): ChannelBinding {
  const ids = routeIds(row.route_key);
  return {
    channel: row.channel_id,
    name,
    agent: row.agent,
    mode: row.mode,
    project: row.project,
    status: row.status,
    paused_reason: row.paused_reason,
    installation: { id: installation?.id ?? row.route_key, ...ids, status: installation ? installation.status : "removed" },
    created_by: row.created_by,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

export function toSessionView(raw: Record<string, SqlStorageValue>): SlackSession {
  const r = SessionRow.parse(raw);
  return {
    id: r.id,
    agent: r.agent,
    channel: r.channel_id,
    thread_ts: r.thread_ts,
    project: r.project,
    messages: r.messages,
    replies: r.replies,
    created_at: iso(r.created_at)!,
    last_message_at: iso(r.last_message_at)!,
    last_reply_at: iso(r.last_reply_at),
  };
}
