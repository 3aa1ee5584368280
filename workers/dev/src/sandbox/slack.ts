import { Hono, type Context } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { fromZodError } from "../../../../lib/errors";
import { signSlackBody } from "../../../../lib/slack/signature";
import { buildEvent, sandboxState, WORKSPACE, type SandboxEnv, type SandboxEventKind, type SandboxState } from "./slack-fake";

/**
 * `/_sandbox/slack/*` (dev only): a fake Slack. `api/*` answers the Web API methods the product
 * calls (oauth.v2.access, auth.test, auth.revoke, conversations.list, chat.postMessage);
 * `messages` shows what was posted (SPEC section 11); `/` is a form that signs an event with the
 * dev signing secret and posts it to the slack-events worker, as Slack would.
 */
export interface SandboxSlackEnv extends SandboxEnv {
  /** The slack-events worker (the gateway's service binding). */
  SLACK?: Fetcher;
  /** The dev signing secret; the fixture one unless the dev worker's [vars] say otherwise. */
  SANDBOX_SLACK_SIGNING_SECRET?: string;
}

export const FIXTURE_SIGNING_SECRET = "fixture-signing-secret-0123456789abcdef";

export const sandboxSlack = new Hono<{ Bindings: SandboxSlackEnv }>();

/** Web API arguments come as a query, a form or JSON; the token as a bearer header or `token`. */
async function args(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...c.req.query() };
  const type = c.req.header("content-type") ?? "";
  if (c.req.method === "POST") {
    if (type.includes("application/json")) {
      const j = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
      for (const [k, v] of Object.entries(j)) if (v !== undefined && v !== null) out[k] = typeof v === "string" ? v : JSON.stringify(v);
    } else if (type.includes("form")) {
      const f = await c.req.parseBody();
      for (const [k, v] of Object.entries(f)) if (typeof v === "string") out[k] = v;
    }
  }
  return out;
}

function tokenError(c: Context, a: Record<string, string>): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? a.token;
  if (!bearer) return "not_authed";
  // Test hooks: a token that says so is refused the way Slack refuses dead tokens.
  if (bearer.includes("revoked")) return "token_revoked";
  if (bearer.includes("invalid")) return "invalid_auth";
  return null;
}

sandboxSlack.all("/api/:method", async (c) => {
  const method = c.req.param("method");
  const a = await args(c);
  const state = sandboxState(c.env);
  const fault = await state.takeFault(method);
  if (fault?.status) {
    const headers: Record<string, string> = fault.retry_after !== undefined ? { "retry-after": String(fault.retry_after) } : {};
    return c.json({ ok: false, error: fault.status === 429 ? "ratelimited" : "internal_error" }, fault.status as 500, headers);
  }
  if (fault?.error) return c.json({ ok: false, error: fault.error });

  if (method === "oauth.v2.access") {
    if (!a.code || a.code === "bad") return c.json({ ok: false, error: "invalid_code" });
    return c.json({
      ok: true, app_id: WORKSPACE.appId, authed_user: { id: WORKSPACE.people[0] }, scope: WORKSPACE.scopes.join(","), token_type: "bot",
      access_token: `xoxb-sandbox-${crypto.randomUUID()}`, bot_user_id: WORKSPACE.botUserId,
      team: { id: WORKSPACE.teamId, name: WORKSPACE.teamName }, enterprise: null, is_enterprise_install: false,
    });
  }
  const bad = tokenError(c, a);
  if (bad) return c.json({ ok: false, error: bad });
  switch (method) {
    case "auth.test":
      return c.json({ ok: true, url: `https://${WORKSPACE.teamName}.slack.com/`, team: WORKSPACE.teamName, user: "agent-bot", team_id: WORKSPACE.teamId, user_id: WORKSPACE.botUserId, bot_id: WORKSPACE.botId, is_enterprise_install: false });
    case "auth.revoke":
      return c.json({ ok: true, revoked: true });
    case "conversations.list":
      return c.json({ ok: true, channels: (await state.channels()).filter((ch) => a.exclude_archived !== "true" || !ch.is_archived), response_metadata: { next_cursor: "" } });
    case "chat.postMessage": {
      if (!a.channel) return c.json({ ok: false, error: "channel_not_found" });
      if (!a.text) return c.json({ ok: false, error: "no_text" });
      const m = await state.record({ channel: a.channel, thread_ts: a.thread_ts ?? null, text: a.text }, Date.now());
      return c.json({ ok: true, channel: m.channel, ts: m.ts, message: { type: "message", text: m.text, ts: m.ts, thread_ts: a.thread_ts, user: WORKSPACE.botUserId, bot_id: WORKSPACE.botId } });
    }
    default:
      return c.json({ ok: false, error: "unknown_method" });
  }
});

/** What the product posted, in order (SPEC section 11). `?channel=` filters. */
sandboxSlack.get("/messages", async (c) => c.json({ messages: await sandboxState(c.env).messages(c.req.query("channel") || undefined) }));
/** Empties the fake workspace: messages, faults, channels joined, agent calls. */
sandboxSlack.delete("/messages", async (c) => {
  await sandboxState(c.env).reset();
  return c.json({ ok: true });
});

const FaultBody = z.strictObject({
  method: z.string().regex(/^[a-z]+(\.[a-zA-Z0-9]+)+$/),
  error: z.string().max(100).optional(),
  status: z.number().int().min(400).max(599).optional(),
  retry_after: z.number().int().min(0).max(3600).optional(),
  times: z.number().int().min(1).max(1000).default(1),
});
/** Test control: the next `times` calls of `method` fail with `error` (HTTP 200) or `status`. */
sandboxSlack.post("/faults", async (c) => {
  const body = FaultBody.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: fromZodError(body.error, { say: () => ({ message: "Expected {method, error? | status?, retry_after?, times?}." }) }).toBody() }, 400);
  return c.json({ faults: await sandboxState(c.env).addFault(body.data) });
});

const SendBody = z.object({
  kind: z.enum(["message", "app_mention", "thread_reply", "bot_joined", "channel_rename", "channel_archive", "channel_unarchive", "app_uninstalled"]).default("message"),
  channel: z.string().regex(/^[A-Z][A-Z0-9]{2,31}$/).optional().or(z.literal("")),
  text: z.string().max(4000).optional(),
  user: z.string().regex(/^[A-Z][A-Z0-9]{2,31}$/).optional().or(z.literal("")),
  thread_ts: z.string().regex(/^\d+\.\d+$/).optional().or(z.literal("")),
  name: z.string().max(80).optional(),
});

/** Signs an event as Slack would and posts it to the slack-events worker; answers what it said. */
async function send(c: Context<{ Bindings: SandboxSlackEnv }>, input: z.infer<typeof SendBody>) {
  const state = sandboxState(c.env);
  const now = Date.now();
  const { event_id, body } = buildEvent({ ...input, kind: input.kind as SandboxEventKind }, await state.nextTs(now), now);
  const channel = input.channel || WORKSPACE.boundChannel.id;
  if (input.kind === "bot_joined") {
    await state.addChannel({ id: channel, name: channel === WORKSPACE.otherChannel.id ? WORKSPACE.otherChannel.name : channel.toLowerCase(), is_private: false, is_member: true, is_archived: false });
  }
  const raw = JSON.stringify(body);
  const ts = String(Math.floor(now / 1000));
  const signature = await signSlackBody(c.env.SANDBOX_SLACK_SIGNING_SECRET || FIXTURE_SIGNING_SECRET, ts, raw);
  const target = new URL("/slack/events", c.req.url);
  const req = new Request(target, { method: "POST", headers: { "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": signature }, body: raw });
  const res = c.env.SLACK ? await c.env.SLACK.fetch(req) : await fetch(req);
  return { event_id, status: res.status, answer: await res.text(), event: body };
}

sandboxSlack.post("/send", async (c) => {
  const isJson = (c.req.header("content-type") ?? "").includes("application/json");
  const raw = isJson ? await c.req.json().catch(() => null) : await c.req.parseBody();
  const input = SendBody.safeParse(raw);
  if (!input.success) return c.json({ error: fromZodError(input.error, { say: () => ({ message: "Bad event form." }) }).toBody() }, 400);
  const result = await send(c, input.data);
  if (isJson) return c.json(result);
  return c.html(await page(sandboxState(c.env), `Sent ${input.data.kind}: the worker answered ${result.status} ${result.answer}`));
});

sandboxSlack.get("/", async (c) => c.html(await page(sandboxState(c.env), null)));

async function page(state: SandboxState, notice: string | null) {
  const recent = (await state.messages()).slice(-10).reverse();
  const kinds: SandboxEventKind[] = ["message", "app_mention", "thread_reply", "bot_joined", "channel_rename", "channel_archive", "channel_unarchive", "app_uninstalled"];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox Slack</title>
<style>body{font:15px system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0 .2rem}input,select,textarea{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.notice{background:#eef6ee;padding:.6rem;border-radius:4px}code{background:#f3f3f3;padding:0 .2rem}li{margin:.3rem 0}</style>
</head><body>
<h1>Sandbox Slack: workspace <code>${WORKSPACE.teamId}</code></h1>
${notice ? html`<p class="notice">${notice}</p>` : ""}
<p>Sends a signed Events API request to <code>/slack/events</code>, exactly as Slack would. Bound channel: <code>${WORKSPACE.boundChannel.id}</code> (#${WORKSPACE.boundChannel.name}); bot user <code>${WORKSPACE.botUserId}</code>.</p>
<form method="post" action="/_sandbox/slack/send">
  <label for="kind">Event</label>
  <select id="kind" name="kind">${kinds.map((k) => html`<option value="${k}">${k}</option>`)}</select>
  <label for="channel">Channel id</label><input id="channel" name="channel" value="${WORKSPACE.boundChannel.id}">
  <label for="text">Text</label><textarea id="text" name="text" rows="3">Deploy of build 4121 failed on staging, can someone look?</textarea>
  <label for="thread_ts">Thread ts (thread_reply only)</label><input id="thread_ts" name="thread_ts" placeholder="1767225600.000100">
  <label for="user">From user</label><input id="user" name="user" value="${WORKSPACE.people[0]}">
  <label for="name">New name (channel_rename only)</label><input id="name" name="name" placeholder="deploys-staging">
  <button type="submit">Send signed event</button>
</form>
<h2>Posted by the bot (newest first; all: <a href="/_sandbox/slack/messages">/_sandbox/slack/messages</a>)</h2>
<ul>${recent.length ? recent.map((m) => html`<li><code>${m.channel}</code> thread <code>${m.thread_ts ?? "-"}</code>: ${m.text}</li>`) : html`<li>nothing yet (replies arrive after the agent answers; reload)</li>`}</ul>
</body></html>`;
}
