import { z } from "zod";
import { AgentMessageReply, type AgentMessageRequest } from "../../../lib/schemas/slack";
import { retryableStatus, retryAfterMs } from "../../../lib/slack/retry";
import { isTimeout, outboundFetch } from "../../../providers/outbound-fetch";

/**
 * The vault's two outbound calls for Slack delivery: the agent runtime and Slack's Web API.
 * Every answer is parsed with zod and turned into a small result; nothing here throws for an
 * upstream failure, and no token or message text is ever put into an error or a log line.
 */

export type CallResult<T> =
  | { kind: "ok"; value: T }
  /** Slack's HTTP 200 `{ok:false, error}`. */
  | { kind: "slack_error"; error: string }
  /** Worth another attempt (network, 5xx, 429); `retryAfter` in ms when the server said. */
  | { kind: "retry"; reason: string; retryAfter: number | null; rateLimited: boolean }
  | { kind: "fail"; reason: string };

async function send(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<Response | { network: string }> {
  try {
    return await outboundFetch(url, init, timeoutMs, what);
  } catch (e) {
    return { network: isTimeout(e) ? "timeout" : "network_error" };
  }
}

function httpFailure(res: Response, now: number): CallResult<never> {
  if (retryableStatus(res.status)) {
    return { kind: "retry", reason: `http_${res.status}`, retryAfter: retryAfterMs(res.headers.get("retry-after"), now), rateLimited: res.status === 429 };
  }
  return { kind: "fail", reason: `http_${res.status}` };
}

/**
 * POST `${base}/agents/{agent}/messages` {session_id, text, ...} -> {text}, with
 * `Authorization: Bearer <AGENT_RUNTIME_TOKEN>` so the runtime knows the call is ours.
 */
export async function callAgent(base: string, token: string, req: AgentMessageRequest, timeoutMs: number): Promise<CallResult<string>> {
  const res = await send(`${base.replace(/\/+$/, "")}/agents/${encodeURIComponent(req.agent)}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(req),
  }, timeoutMs, "agent runtime");
  if ("network" in res) return { kind: "retry", reason: `agent_${res.network}`, retryAfter: null, rateLimited: false };
  if (!res.ok) {
    await res.body?.cancel();
    return httpFailure(res, Date.now());
  }
  const parsed = AgentMessageReply.safeParse(await res.json().catch(() => null));
  return parsed.success ? { kind: "ok", value: parsed.data.text } : { kind: "fail", reason: "agent_reply_malformed" };
}

const SlackAnswer = z.object({ ok: z.boolean(), error: z.string().max(200).optional() }).passthrough();
const PostMessageAnswer = z.object({ ok: z.literal(true), ts: z.string().max(32), channel: z.string().max(32).optional() });

async function slackCall(url: string, token: string, init: { json?: unknown; form?: Record<string, string> }, timeoutMs: number): Promise<CallResult<unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: string;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json; charset=utf-8";
    body = JSON.stringify(init.json);
  } else {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form ?? {}).toString();
  }
  const res = await send(url, { method: "POST", headers, body }, timeoutMs, "Slack Web API");
  if ("network" in res) return { kind: "retry", reason: `slack_${res.network}`, retryAfter: null, rateLimited: false };
  if (!res.ok) {
    await res.body?.cancel();
    return httpFailure(res, Date.now());
  }
  const raw: unknown = await res.json().catch(() => null);
  const answer = SlackAnswer.safeParse(raw);
  if (!answer.success) return { kind: "fail", reason: "slack_answer_malformed" };
  if (!answer.data.ok) return { kind: "slack_error", error: answer.data.error ?? "unknown_error" };
  return { kind: "ok", value: raw };
}

/** chat.postMessage in the thread; answers the reply's ts. */
export async function postMessage(apiUrl: string, token: string, msg: { channel: string; thread_ts: string; text: string }, timeoutMs: number): Promise<CallResult<string>> {
  const r = await slackCall(`${apiUrl}/chat.postMessage`, token, { json: { ...msg, unfurl_links: false, unfurl_media: false } }, timeoutMs);
  if (r.kind !== "ok") return r;
  const parsed = PostMessageAnswer.safeParse(r.value);
  return parsed.success ? { kind: "ok", value: parsed.data.ts } : { kind: "fail", reason: "slack_answer_malformed" };
}

const Conversation = z.object({
  id: z.string().max(32),
  name: z.string().max(200).optional(),
  is_private: z.boolean().optional(),
  is_member: z.boolean().optional(),
  is_archived: z.boolean().optional(),
});
export type Conversation = z.infer<typeof Conversation>;
const ConversationsPage = z.object({
  channels: z.array(Conversation),
  response_metadata: z.object({ next_cursor: z.string().max(500).optional() }).optional(),
});

/** Bounded: a workspace with thousands of channels lists its first pages; joined ones come from events too. */
const MAX_PAGES = 5;

/** conversations.list, public and private channels the token can see, unarchived. */
export async function listConversations(apiUrl: string, token: string, timeoutMs: number): Promise<CallResult<Conversation[]>> {
  const all: Conversation[] = [];
  let cursor = "";
  for (let page = 0; page < MAX_PAGES; page++) {
    const form: Record<string, string> = { types: "public_channel,private_channel", exclude_archived: "true", limit: "200" };
    if (cursor) form.cursor = cursor;
    const r = await slackCall(`${apiUrl}/conversations.list`, token, { form }, timeoutMs);
    if (r.kind !== "ok") return r;
    const parsed = ConversationsPage.safeParse(r.value);
    if (!parsed.success) return { kind: "fail", reason: "slack_answer_malformed" };
    all.push(...parsed.data.channels);
    cursor = parsed.data.response_metadata?.next_cursor ?? "";
    if (!cursor) break;
  }
  return { kind: "ok", value: all };
}
