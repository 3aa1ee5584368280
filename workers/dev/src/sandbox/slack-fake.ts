/**
 * The sandbox's fake Slack workspace and echo agent: their ids (those of shared/fixtures/slack)
 * and their state. State lives in the dev worker's SandboxStore Durable Object (store.ts), so it
 * survives hot reloads of `npm run dev`; without that binding (tests that mount the sandbox apps
 * in-process) it lives in this isolate's memory (MemorySandbox).
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

export interface PostedMessage { channel: string; thread_ts: string | null; text: string; ts: string }
export interface Fault {
  method: string;
  /** Slack's `{ok:false, error}` (HTTP 200), e.g. not_in_channel, invalid_auth. */
  error?: string;
  /** An HTTP status instead, e.g. 429 (with `retry_after` seconds) or 500. */
  status?: number;
  retry_after?: number;
  times: number;
}
export interface Channel { id: string; name: string; is_private: boolean; is_member: boolean; is_archived: boolean }
export interface DelayConfig { delay_ms: number; agents: Record<string, number> }
export interface AgentCall { agent: string; session_id: string; thread_ts: string; at: number }

/**
 * What conversations.list answers at first: only the channels the bot is in (as
 * `users.conversations` would), so a channel the bot joins through an event (fixture
 * member_joined_channel_self) is bindable because of that event. The form's bot_joined adds one.
 */
export const initialChannels = (): Channel[] => [{ id: WORKSPACE.boundChannel.id, name: WORKSPACE.boundChannel.name, is_private: false, is_member: true, is_archived: false }];

/** A unique, increasing message ts from a sequence number (Slack's are per channel; unique is enough). */
export const tsOf = (nowMs: number, seq: number) => `${Math.floor(nowMs / 1000)}.${String(seq % 1_000_000).padStart(6, "0")}`;

/** The sandbox's state, as both stores offer it (the Durable Object over RPC, or memory). */
export interface SandboxState {
  nextTs(nowMs: number): Promise<string>;
  record(m: Omit<PostedMessage, "ts">, nowMs: number): Promise<PostedMessage>;
  messages(channel?: string): Promise<PostedMessage[]>;
  reset(): Promise<void>;
  addFault(f: Fault): Promise<Fault[]>;
  takeFault(method: string): Promise<Fault | null>;
  channels(): Promise<Channel[]>;
  addChannel(ch: Channel): Promise<void>;
  agentDelay(agent: string): Promise<number>;
  setAgentDelay(delayMs: number, agent?: string): Promise<DelayConfig>;
  delayConfig(): Promise<DelayConfig>;
  recordAgentCall(call: AgentCall): Promise<void>;
  agentCalls(): Promise<AgentCall[]>;
}

export class MemorySandbox implements SandboxState {
  #seq = 0;
  #messages: PostedMessage[] = [];
  #faults: Fault[] = [];
  #channels = initialChannels();
  #delays = new Map<string, number>();
  #calls: AgentCall[] = [];

  async nextTs(nowMs: number) { return tsOf(nowMs, ++this.#seq); }
  async record(m: Omit<PostedMessage, "ts">, nowMs: number) {
    const posted = { ...m, ts: await this.nextTs(nowMs) };
    this.#messages.push(posted);
    return posted;
  }
  async messages(channel?: string) { return this.#messages.filter((m) => !channel || m.channel === channel); }
  async reset() {
    this.#messages = [];
    this.#faults = [];
    this.#channels = initialChannels();
    this.#calls = [];
  }
  async addFault(f: Fault) { this.#faults.push({ ...f }); return this.#faults; }
  async takeFault(method: string) {
    const f = this.#faults.find((x) => x.method === method && x.times > 0);
    if (!f) return null;
    f.times--;
    this.#faults = this.#faults.filter((x) => x.times > 0);
    return { ...f };
  }
  async channels() { return this.#channels; }
  async addChannel(ch: Channel) { if (!this.#channels.some((c) => c.id === ch.id)) this.#channels.push(ch); }
  async agentDelay(agent: string) { return this.#delays.get(agent) ?? this.#delays.get("*") ?? 0; }
  async setAgentDelay(delayMs: number, agent?: string) {
    if (agent) this.#delays.set(agent, delayMs);
    else { this.#delays.clear(); this.#delays.set("*", delayMs); }
    return this.delayConfig();
  }
  async delayConfig() { return { delay_ms: this.#delays.get("*") ?? 0, agents: Object.fromEntries([...this.#delays].filter(([k]) => k !== "*")) }; }
  async recordAgentCall(call: AgentCall) { this.#calls.push(call); }
  async agentCalls() { return this.#calls; }
}

/** Shared by the sandbox apps when no SandboxStore binding exists (tests). */
export const memorySandbox = new MemorySandbox();

export interface SandboxEnv {
  /** The dev worker's SandboxStore (workers/dev/wrangler.toml); absent in tests. */
  SANDBOX?: DurableObjectNamespace<import("./store").SandboxStore>;
  /** The echo agent's expected bearer (workers/dev/wrangler.toml; tests: TEST_BINDINGS). */
  AGENT_RUNTIME_TOKEN?: string;
}

export function sandboxState(env: SandboxEnv | undefined): SandboxState {
  // The stub's RPC methods are the same methods, typed through RPC's mapped types.
  return env?.SANDBOX ? (env.SANDBOX.getByName("sandbox") as unknown as SandboxState) : memorySandbox;
}

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

/** A Slack envelope for the fake workspace, shaped like the fixtures; `ts` is the message's. */
export function buildEvent(input: SandboxEventInput, ts: string, nowMs: number): { event_id: string; body: Record<string, unknown> } {
  const channel = input.channel || WORKSPACE.boundChannel.id;
  const user = input.user || WORKSPACE.people[0];
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
