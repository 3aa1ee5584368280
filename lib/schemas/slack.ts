import { z } from "zod";
import { safeText, Slug, Timestamp } from "./common";

/**
 * The Slack gateway's boundaries (SPEC sections 9 and 11): the channels API, the hand-off from the
 * slack-events worker to the vault, the install record the OAuth flow hands over, and the agent
 * runtime's small JSON interface. Slack's own payloads are parsed in lib/slack/.
 */

// ---- ids ----

/** Slack ids: `T…` teams, `E…` enterprises, `C…`/`G…`/`D…` conversations, `U…`/`W…` users, `B…` bots, `A…` apps. */
export const SlackId = z.string().regex(/^[A-Z][A-Z0-9]{2,31}$/, "must be a Slack id such as C0AB6CHAN1");
/** Message timestamps: `1767225600.000100`. */
export const SlackTs = z.string().regex(/^\d{1,12}\.\d{1,8}$/, "must be a Slack timestamp such as 1767225600.000100");
/** `team:<id>` for a workspace install, `enterprise:<id>` for an org-wide (Enterprise Grid) install. */
export const RouteKey = z.string().regex(/^(team|enterprise):[A-Z][A-Z0-9]{2,31}$/, "must be team:<id> or enterprise:<id>");
export type RouteKey = z.infer<typeof RouteKey>;

/** The binding target for the bot's direct messages. */
export const DM_CHANNEL = "dm";

export const ListenMode = z.enum(["mentions", "all"]);
export type ListenMode = z.infer<typeof ListenMode>;

/** What a member types: a channel id (`C0AB6CHAN1`), a name (`#deploys` or `deploys`), or `dm`. */
export const ChannelRef = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .regex(/^(dm|#?[a-z0-9][a-z0-9._-]{0,79}|[A-Z][A-Z0-9]{2,31})$/, "must be a channel id (C0AB6CHAN1), a name (#deploys) or dm");

// ---- API ----

export const BindingStatus = z.enum(["active", "paused"]);

export const ChannelBinding = z.object({
  channel: z.string().describe("channel id, or `dm` for the bot's direct messages"),
  name: z.string().nullable().describe("the channel's name as last seen; null when unknown"),
  agent: Slug,
  mode: ListenMode,
  project: Slug.nullable(),
  status: BindingStatus,
  paused_reason: z.string().nullable().describe("archived, not_in_channel, channel_not_found, uninstalled, installation_disabled, ..."),
  installation: z.object({ id: z.string(), team_id: z.string().nullable(), enterprise_id: z.string().nullable(), status: z.enum(["active", "disabled", "removed"]) }),
  created_by: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ChannelBinding = z.infer<typeof ChannelBinding>;

export const SlackInstallationView = z.object({
  id: z.string(),
  route: RouteKey,
  app_id: z.string(),
  team_id: z.string().nullable(),
  enterprise_id: z.string().nullable(),
  is_enterprise_install: z.boolean(),
  bot_user_id: z.string(),
  bot_id: z.string(),
  credential: z.string().describe("the credential of app `slack` that holds the bot token (sealed)"),
  scopes: z.array(z.string()),
  status: z.enum(["active", "disabled"]),
  disabled_reason: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type SlackInstallationView = z.infer<typeof SlackInstallationView>;

export const ChannelsAnswer = z.object({ installations: z.array(SlackInstallationView), channels: z.array(ChannelBinding) });

export const AvailableChannel = z.object({
  id: z.string().describe("channel id, or `dm`"),
  name: z.string().nullable(),
  is_private: z.boolean(),
  is_member: z.boolean().describe("whether the bot is in the channel (a channel is bindable only then)"),
  is_archived: z.boolean(),
  bindable: z.boolean(),
  binding: z.object({ agent: Slug, mode: ListenMode, status: BindingStatus }).nullable().describe("null when unbound, or when bound in a project the caller cannot see"),
  bound_elsewhere: z.boolean().describe("bound in a project the caller cannot see: taken (not bindable), details hidden"),
});
export type AvailableChannel = z.infer<typeof AvailableChannel>;
export const AvailableAnswer = z.object({ channels: z.array(AvailableChannel) });

export const BindChannelBody = z.strictObject({
  channel: ChannelRef,
  agent: Slug,
  mode: ListenMode.optional().describe("default `mentions`"),
  project: Slug.optional().describe("the project that owns the binding; its admins may then manage it"),
});
export type BindChannelBody = z.infer<typeof BindChannelBody>;

export const ChannelParam = z.object({ channel: ChannelRef });

export const SessionsQuery = z.strictObject({
  agent: Slug.optional(),
  channel: ChannelRef.optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export type SessionsQuery = z.infer<typeof SessionsQuery>;

export const SlackSession = z.object({
  id: z.string(),
  agent: Slug,
  channel: z.string(),
  thread_ts: z.string(),
  project: Slug.nullable(),
  messages: z.number().int(),
  replies: z.number().int(),
  created_at: Timestamp,
  last_message_at: Timestamp,
  last_reply_at: Timestamp.nullable(),
});
export type SlackSession = z.infer<typeof SlackSession>;
export const SessionsAnswer = z.object({ sessions: z.array(SlackSession) });

// ---- OrgVault.installSlack: what the OAuth callback (and the dev seed) hand over ----

export const InstallSlackSpec = z
  .strictObject({
    appId: SlackId,
    teamId: SlackId.nullable(),
    teamName: z.string().max(200).nullable().optional(),
    enterpriseId: SlackId.nullable(),
    enterpriseName: z.string().max(200).nullable().optional(),
    isEnterpriseInstall: z.boolean(),
    botUserId: SlackId,
    /** From `auth.test`: own messages are recognised by it as well as by the bot user id. */
    botId: SlackId,
    botToken: z.string().min(1).max(4096),
    /** Only with Slack token rotation on; the refresh itself is the OAuth module's job. */
    botRefreshToken: z.string().min(1).max(4096).nullable().optional(),
    botTokenExpiresAt: z.number().int().nullable().optional(),
    scopes: z.array(z.string().max(100)).max(100),
    /** The Slack user who installed the app. */
    installerUserId: SlackId.nullable().optional(),
    /** The Keystroke member who ran the connect flow, for the audit row. */
    installedBy: z.string().max(100).nullable().optional(),
    /** The credential's slug and display name; default: the team (or enterprise) id, lowercased. */
    slug: Slug.optional(),
    name: safeText(z.string().min(1).max(200)).optional(),
  })
  .refine((s) => (s.isEnterpriseInstall ? s.enterpriseId !== null : s.teamId !== null), {
    message: "an org-wide install needs enterpriseId; a workspace install needs teamId",
    path: ["teamId"],
  });
export type InstallSlackSpec = z.input<typeof InstallSlackSpec>;

// ---- the hand-off from the slack-events worker to the org's vault (one RPC per event) ----

const HandoffBase = {
  route: RouteKey,
  app_id: z.string().max(32),
  event_id: z.string().min(1).max(64),
};

export const MessageHandoff = z.strictObject({
  ...HandoffBase,
  kind: z.literal("message"),
  event_type: z.enum(["message", "app_mention"]),
  /** The workspace the message came from (for org-wide installs: which one). */
  team_id: z.string().max(32).nullable(),
  channel: SlackId,
  channel_type: z.string().max(16).nullable(),
  user: SlackId,
  text: z.string().max(40_000),
  ts: SlackTs,
  thread_ts: SlackTs.nullable(),
  /** Set when Slack marked the message as a bot's; the vault re-checks against its own ids. */
  bot_id: z.string().max(32).nullable(),
  subtype: z.string().max(64).nullable(),
});
export type MessageHandoff = z.infer<typeof MessageHandoff>;

export const LifecycleEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("member_joined_channel"), channel: SlackId, user: SlackId, channel_type: z.string().max(8).nullable() }),
  z.strictObject({ type: z.literal("member_left_channel"), channel: SlackId, user: SlackId }),
  z.strictObject({ type: z.literal("channel_rename"), channel: SlackId, name: z.string().min(1).max(200) }),
  z.strictObject({ type: z.literal("channel_archive"), channel: SlackId }),
  z.strictObject({ type: z.literal("channel_unarchive"), channel: SlackId }),
  z.strictObject({ type: z.literal("channel_deleted"), channel: SlackId }),
  z.strictObject({ type: z.literal("app_uninstalled") }),
  z.strictObject({ type: z.literal("tokens_revoked"), bot: z.array(z.string().max(32)).max(500), oauth: z.array(z.string().max(32)).max(500) }),
]);
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;

export const LifecycleHandoff = z.strictObject({ ...HandoffBase, kind: z.literal("lifecycle"), event: LifecycleEvent });
export type LifecycleHandoff = z.infer<typeof LifecycleHandoff>;

export const SlackHandoff = z.discriminatedUnion("kind", [MessageHandoff, LifecycleHandoff]);
export type SlackHandoff = z.infer<typeof SlackHandoff>;

/** What the vault answers the worker; the worker answers Slack 200 whatever it is. */
export type HandoffAnswer =
  | { outcome: "accepted"; inbox_id: number; session_id: string }
  | { outcome: "duplicate"; by: "event_id" | "message" }
  | { outcome: "ignored"; reason: string }
  | { outcome: "applied"; change: string };

// ---- the agent runtime interface (AGENT_RUNTIME_URL) ----

/** POST `${AGENT_RUNTIME_URL}/agents/{agent}/messages` */
export const AgentMessageRequest = z.object({
  /** One session per Slack thread: the same id for every message of the thread. */
  session_id: z.string(),
  agent: Slug,
  text: z.string(),
  channel: z.string(),
  thread_ts: z.string(),
  ts: z.string(),
  user: z.string(),
  team_id: z.string().nullable(),
});
export type AgentMessageRequest = z.infer<typeof AgentMessageRequest>;

export const AgentMessageReply = z.object({ text: z.string().min(1).max(40_000) });
export type AgentMessageReply = z.infer<typeof AgentMessageReply>;
