import * as z from "zod/mini";
import type { LifecycleEvent, LifecycleHandoff, MessageHandoff, RouteKey } from "../schemas/slack";

/**
 * Slack's Events API envelope, parsed after the signature is verified, and turned into what the
 * worker hands to the org's vault. Pure: no I/O. Shapes: https://api.slack.com/apis/events-api
 * Parsing is lenient on purpose (Slack adds fields over time); what we rely on is checked.
 * zod/mini, not classic zod: this is all the slack-events worker parses, and classic zod alone
 * would be most of its bundle (npm run deploy:check keeps it under 100 KiB gzipped).
 */

const str = (max: number) => z.string().check(z.maxLength(max));
const Id = str(64);
const NullableId = z.optional(z.nullable(Id));

const Authorization = z.object({
  enterprise_id: NullableId,
  team_id: NullableId,
  user_id: z.optional(Id),
  is_bot: z.optional(z.boolean()),
  is_enterprise_install: z.optional(z.boolean()),
});

export const Envelope = z.object({
  type: str(64),
  challenge: z.optional(str(1000)),
  api_app_id: z.optional(Id),
  team_id: NullableId,
  enterprise_id: NullableId,
  context_team_id: NullableId,
  context_enterprise_id: NullableId,
  event_id: z.optional(Id),
  event_time: z.optional(z.number()),
  event: z.optional(z.record(z.string(), z.unknown())),
  authorizations: z.optional(z.array(Authorization)),
  minute_rate_limited: z.optional(z.number()),
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * The installation an event belongs to, most specific first. An org-wide (Enterprise Grid)
 * install is keyed by its enterprise id, anything else by the team id; org-wide events carry the
 * workspace's team_id but `authorizations[0].team_id = null`, so the envelope's team id must not
 * win there. `app_uninstalled` has no authorizations: try the team, then its enterprise.
 */
export function routeKeysOf(env: Envelope): RouteKey[] {
  const auth = env.authorizations?.[0];
  const enterpriseId = auth?.enterprise_id ?? env.enterprise_id ?? env.context_enterprise_id ?? null;
  const teamId = (auth ? auth.team_id : null) ?? env.team_id ?? env.context_team_id ?? null;
  if (auth?.is_enterprise_install) return enterpriseId ? [`enterprise:${enterpriseId}`] : [];
  const keys: RouteKey[] = [];
  if (teamId) keys.push(`team:${teamId}`);
  if (!auth && enterpriseId) keys.push(`enterprise:${enterpriseId}`);
  return keys;
}

/** Message subtypes that are a person talking; every other subtype (edits, deletes, joins, bots) is not. */
const HUMAN_SUBTYPES = new Set(["file_share", "thread_broadcast", "me_message"]);

const MessageEvent = z.object({
  type: z.enum(["message", "app_mention"]),
  subtype: z.optional(str(64)),
  hidden: z.optional(z.boolean()),
  channel: z.optional(Id),
  channel_type: z.optional(str(16)),
  user: z.optional(Id),
  text: z.optional(str(40_000)),
  ts: z.optional(str(32)),
  thread_ts: z.optional(str(32)),
  bot_id: NullableId,
  app_id: NullableId,
  bot_profile: z.optional(z.nullable(z.looseObject({ app_id: z.optional(Id) }))),
  team: z.optional(Id),
});

const ChannelObject = z.object({ id: Id, name: str(200) });
const ChannelField = z.union([Id, ChannelObject]);
const channelIdOf = (c: z.infer<typeof ChannelField>) => (typeof c === "string" ? c : c.id);

export type Classified =
  | { kind: "url_verification"; challenge: string }
  | { kind: "rate_limited"; minute: number | null }
  | { kind: "message"; handoff: Omit<MessageHandoff, "route" | "app_id" | "event_id"> }
  | { kind: "lifecycle"; event: LifecycleEvent }
  | { kind: "ignore"; reason: string };

const ts = /^\d{1,12}\.\d{1,8}$/;
const slackId = /^[A-Z][A-Z0-9]{2,31}$/;

/**
 * What one verified envelope is. The worker drops what can never start a run (bots, edits,
 * deletes) before spending an RPC on it; the vault re-checks own messages against the
 * installation's bot id and bot user id, which only it knows for sure.
 */
export function classify(env: Envelope): Classified {
  if (env.type === "url_verification") return env.challenge ? { kind: "url_verification", challenge: env.challenge } : { kind: "ignore", reason: "no_challenge" };
  if (env.type === "app_rate_limited") return { kind: "rate_limited", minute: env.minute_rate_limited ?? null };
  if (env.type !== "event_callback" || !env.event) return { kind: "ignore", reason: `envelope:${env.type}` };
  const type = typeof env.event.type === "string" ? env.event.type : "";
  if (type === "message" || type === "app_mention") return classifyMessage(env);
  return classifyLifecycle(type, env.event, env.authorizations?.[0]?.user_id ?? null);
}

function classifyMessage(env: Envelope): Classified {
  const parsed = MessageEvent.safeParse(env.event);
  if (!parsed.success) return { kind: "ignore", reason: "malformed_message" };
  const e = parsed.data;
  if (e.subtype !== undefined && !HUMAN_SUBTYPES.has(e.subtype)) return { kind: "ignore", reason: `subtype:${e.subtype}` };
  if (e.hidden) return { kind: "ignore", reason: "hidden" };
  // Any bot, ours included: our own chat.postMessage echoes come back without subtype bot_message.
  if (e.bot_id || e.app_id || e.bot_profile) return { kind: "ignore", reason: "bot" };
  const botUser = env.authorizations?.find((a) => a.is_bot)?.user_id;
  if (botUser && e.user === botUser) return { kind: "ignore", reason: "own" };
  if (!e.channel || !slackId.test(e.channel) || !e.user || !slackId.test(e.user) || !e.ts || !ts.test(e.ts)) {
    return { kind: "ignore", reason: "incomplete_message" };
  }
  return {
    kind: "message",
    handoff: {
      kind: "message",
      event_type: e.type,
      team_id: e.team ?? env.team_id ?? null,
      channel: e.channel,
      channel_type: e.channel_type ?? null,
      user: e.user,
      text: e.text ?? "",
      ts: e.ts,
      thread_ts: e.thread_ts && ts.test(e.thread_ts) ? e.thread_ts : null,
      bot_id: null,
      subtype: e.subtype ?? null,
    },
  };
}

const LIFECYCLE = z.discriminatedUnion("type", [
  z.object({ type: z.literal("member_joined_channel"), channel: Id, user: Id, channel_type: z.optional(str(8)) }),
  z.object({ type: z.literal("member_left_channel"), channel: Id, user: Id }),
  z.object({ type: z.enum(["channel_rename", "group_rename"]), channel: ChannelObject }),
  z.object({ type: z.enum(["channel_archive", "group_archive"]), channel: ChannelField }),
  z.object({ type: z.enum(["channel_unarchive", "group_unarchive"]), channel: ChannelField }),
  z.object({ type: z.enum(["channel_deleted", "group_deleted"]), channel: ChannelField }),
  z.object({ type: z.literal("app_uninstalled") }),
  z.object({ type: z.literal("tokens_revoked"), tokens: z.optional(z.object({ bot: z.optional(z.array(Id)), oauth: z.optional(z.array(Id)) })) }),
]);

function classifyLifecycle(type: string, event: Record<string, unknown>, botUser: string | null): Classified {
  const parsed = LIFECYCLE.safeParse(event);
  if (!parsed.success) return { kind: "ignore", reason: LIFECYCLE_TYPES.has(type) ? `malformed:${type}` : `unhandled:${type || "unknown"}` };
  const e = parsed.data;
  switch (e.type) {
    case "member_joined_channel":
    case "member_left_channel":
      // Only the bot's own membership matters to bindings; people joining are noise.
      if (botUser && e.user !== botUser) return { kind: "ignore", reason: `${e.type}:not_bot` };
      return {
        kind: "lifecycle",
        event: e.type === "member_joined_channel"
          ? { type: e.type, channel: e.channel, user: e.user, channel_type: e.channel_type ?? null }
          : { type: e.type, channel: e.channel, user: e.user },
      };
    case "channel_rename":
    case "group_rename":
      return { kind: "lifecycle", event: { type: "channel_rename", channel: e.channel.id, name: e.channel.name } };
    case "channel_archive":
    case "group_archive":
      return { kind: "lifecycle", event: { type: "channel_archive", channel: channelIdOf(e.channel) } };
    case "channel_unarchive":
    case "group_unarchive":
      return { kind: "lifecycle", event: { type: "channel_unarchive", channel: channelIdOf(e.channel) } };
    case "channel_deleted":
    case "group_deleted":
      return { kind: "lifecycle", event: { type: "channel_deleted", channel: channelIdOf(e.channel) } };
    case "app_uninstalled":
      return { kind: "lifecycle", event: { type: "app_uninstalled" } };
    case "tokens_revoked":
      return { kind: "lifecycle", event: { type: "tokens_revoked", bot: e.tokens?.bot ?? [], oauth: e.tokens?.oauth ?? [] } };
  }
}

const LIFECYCLE_TYPES = new Set([
  "member_joined_channel", "member_left_channel", "channel_rename", "group_rename", "channel_archive", "group_archive",
  "channel_unarchive", "group_unarchive", "channel_deleted", "group_deleted", "app_uninstalled", "tokens_revoked",
]);

/** Builds the vault hand-off once the route is known. */
export function toHandoff(c: Extract<Classified, { kind: "message" | "lifecycle" }>, route: RouteKey, appId: string, eventId: string): MessageHandoff | LifecycleHandoff {
  if (c.kind === "message") return { ...c.handoff, route, app_id: appId, event_id: eventId };
  return { kind: "lifecycle", route, app_id: appId, event_id: eventId, event: c.event };
}
