import type { ListenMode, MessageHandoff } from "../schemas/slack";
import { DM_CHANNEL } from "../schemas/slack";

/**
 * Whether a message starts an agent run (SPEC section 9), decided inside the vault where the
 * installation's own ids and the binding are known. Pure.
 */

export interface InstallationIds {
  botUserId: string;
  botId: string;
}

export interface BindingMode {
  agent: string;
  mode: ListenMode;
  status: "active" | "paused";
}

export type TriggerDecision = { run: true; mentioned: boolean; direct: boolean } | { run: false; reason: string };

/** DMs with the bot bind as one target, `dm`; everything else binds by channel id. */
export function bindingChannelOf(msg: Pick<MessageHandoff, "channel" | "channel_type">): string {
  return msg.channel_type === "im" ? DM_CHANNEL : msg.channel;
}

export function mentionsBot(text: string, botUserId: string): boolean {
  // Slack encodes mentions as <@U123> or <@U123|name>.
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** Own messages by bot id AND bot user id (our echoes carry no `bot_message` subtype). */
export function isOwnMessage(msg: Pick<MessageHandoff, "user" | "bot_id">, ids: InstallationIds): boolean {
  return msg.user === ids.botUserId || (msg.bot_id !== null && msg.bot_id === ids.botId);
}

export function decideTrigger(msg: MessageHandoff, ids: InstallationIds, binding: BindingMode | null): TriggerDecision {
  if (isOwnMessage(msg, ids)) return { run: false, reason: "own_message" };
  if (msg.bot_id !== null) return { run: false, reason: "other_bot" };
  if (msg.subtype !== null && msg.subtype !== "file_share" && msg.subtype !== "thread_broadcast" && msg.subtype !== "me_message") {
    return { run: false, reason: `subtype:${msg.subtype}` };
  }
  if (!binding) return { run: false, reason: "unbound_channel" };
  if (binding.status !== "active") return { run: false, reason: "binding_paused" };
  const direct = msg.channel_type === "im";
  const mentioned = msg.event_type === "app_mention" || mentionsBot(msg.text, ids.botUserId);
  if (binding.mode === "mentions" && !mentioned && !direct) return { run: false, reason: "not_mentioned" };
  return { run: true, mentioned, direct };
}
