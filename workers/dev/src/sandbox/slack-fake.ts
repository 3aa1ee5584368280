/**
 * The sandbox's fake Slack workspace, in memory of the dev worker's isolate (like the sandbox
 * OAuth provider): what the product posted, the channels, injected faults. A restart of
 * `npm run dev` (or a hot reload) starts it empty. The ids are those of shared/fixtures/slack.
 */
export const WORKSPACE = {
  teamId: "T0AB1CD2EF",
  teamName: "acme-eng",
  appId: "A0AB2AGNT7",
  botUserId: "U0AB3BOT01",
  botId: "B0AB3BOT01",
  people: ["U0AB4HUMN1", "U0AB5HUMN2"],
  boundChannel: { id: "C0AB6CHAN1", name: "deploys" },
  otherChannel: { id: "C0AB7OTHR2", name: "random" },
  scopes: ["app_mentions:read", "channels:history", "channels:read", "chat:write", "groups:history", "groups:read", "im:history", "mpim:history"],
} as const;

export interface PostedMessage {
  channel: string;
  thread_ts: string | null;
  text: string;
  ts: string;
}

export interface Fault {
  method: string;
  /** Slack's `{ok:false, error}` (HTTP 200), e.g. not_in_channel, invalid_auth. */
  error?: string;
  /** An HTTP status instead, e.g. 429 (with `retry_after` seconds) or 500. */
  status?: number;
  retry_after?: number;
  times: number;
}

export class FakeSlack {
  messages: PostedMessage[] = [];
  faults: Fault[] = [];
  channels = [
    { id: WORKSPACE.boundChannel.id, name: WORKSPACE.boundChannel.name, is_private: false, is_member: true, is_archived: false },
    { id: WORKSPACE.otherChannel.id, name: WORKSPACE.otherChannel.name, is_private: false, is_member: false, is_archived: false },
  ];
  calls: Record<string, number> = {};
  #seq = 0;

  /** A unique, increasing message ts (Slack's are per channel; unique is enough here). */
  nextTs(nowMs: number): string {
    this.#seq = (this.#seq + 1) % 1_000_000;
    return `${Math.floor(nowMs / 1000)}.${String(this.#seq).padStart(6, "0")}`;
  }

  takeFault(method: string): Fault | null {
    const f = this.faults.find((x) => x.method === method && x.times > 0);
    if (!f) return null;
    f.times--;
    this.faults = this.faults.filter((x) => x.times > 0);
    return f;
  }

  reset(): void {
    this.messages = [];
    this.faults = [];
    this.calls = {};
  }
}

export const fakeSlack = new FakeSlack();

const randomId = (prefix: string, n = 10) => {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return prefix + Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => abc[b % abc.length]).join("");
};

export type SandboxEventKind = "message" | "app_mention" | "thread_reply" | "bot_joined" | "channel_rename" | "channel_archive" | "channel_unarchive" | "app_uninstalled";

export interface SandboxEventInput {
  kind: SandboxEventKind;
  channel?: string;
  text?: string;
  user?: string;
  thread_ts?: string;
  name?: string;
}

/** A Slack envelope for the fake workspace, shaped like the fixtures. */
export function buildEvent(input: SandboxEventInput, nowMs: number): { event_id: string; body: Record<string, unknown> } {
  const channel = input.channel || WORKSPACE.boundChannel.id;
  const user = input.user || WORKSPACE.people[0];
  const ts = fakeSlack.nextTs(nowMs);
  const text = input.text ?? "";
  let event: Record<string, unknown>;
  switch (input.kind) {
    case "message":
      event = { type: "message", user, text, ts, channel, event_ts: ts, channel_type: "channel", team: WORKSPACE.teamId };
      break;
    case "app_mention":
      event = { type: "app_mention", user, text: `<@${WORKSPACE.botUserId}> ${text}`, ts, channel, event_ts: ts, team: WORKSPACE.teamId };
      break;
    case "thread_reply":
      event = { type: "message", user, text, ts, thread_ts: input.thread_ts || ts, channel, event_ts: ts, channel_type: "channel", team: WORKSPACE.teamId };
      break;
    case "bot_joined":
      event = { type: "member_joined_channel", user: WORKSPACE.botUserId, channel, channel_type: "C", team: WORKSPACE.teamId, event_ts: ts };
      break;
    case "channel_rename":
      event = { type: "channel_rename", channel: { id: channel, name: input.name || "renamed", name_normalized: input.name || "renamed", created: Math.floor(nowMs / 1000), is_channel: true }, event_ts: ts };
      break;
    case "channel_archive":
    case "channel_unarchive":
      event = { type: input.kind, channel, user, event_ts: ts };
      break;
    case "app_uninstalled":
      event = { type: "app_uninstalled" };
      break;
  }
  const event_id = randomId("Ev");
  const auth = [{ enterprise_id: null, team_id: WORKSPACE.teamId, user_id: WORKSPACE.botUserId, is_bot: true, is_enterprise_install: false }];
  const body: Record<string, unknown> = {
    token: "sandbox-legacy-verification-token",
    team_id: WORKSPACE.teamId,
    api_app_id: WORKSPACE.appId,
    event,
    type: "event_callback",
    event_id,
    event_time: Math.floor(nowMs / 1000),
    ...(input.kind === "app_uninstalled" ? {} : { authorizations: auth, is_ext_shared_channel: false }),
  };
  return { event_id, body };
}
