import { Hono } from "hono";
import { z } from "zod";

/**
 * `/_sandbox/agent/*` (dev only): the echo agent runtime. It answers every message with a text
 * holding the agent's slug and the message. A delay simulates a slow agent (the bench sets 10 s):
 * `?delay_ms=`, the `x-sandbox-delay-ms` header, or a stored default per agent or for all
 * (`POST /_sandbox/agent/config {delay_ms, agent?}`), kept in this isolate's memory.
 */
const MAX_DELAY_MS = 120_000;
const delays = { all: 0, byAgent: new Map<string, number>() };
const calls: { agent: string; session_id: string; thread_ts: string; at: number }[] = [];

const Message = z.object({ session_id: z.string().max(100), text: z.string().max(40_000), thread_ts: z.string().max(40).default("") }).passthrough();
const Config = z.strictObject({ delay_ms: z.number().int().min(0).max(MAX_DELAY_MS), agent: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/).optional() });

export const sandboxAgent = new Hono();

sandboxAgent.post("/agents/:agent/messages", async (c) => {
  const agent = c.req.param("agent");
  const body = Message.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: { code: "invalid_request", message: "Expected {session_id, text, ...}.", details: { field: body.error.issues[0]?.path.join(".") || "body" } } }, 400);
  const asked = Number(c.req.query("delay_ms") ?? c.req.header("x-sandbox-delay-ms") ?? NaN);
  const delay = Math.min(MAX_DELAY_MS, Math.max(0, Number.isFinite(asked) ? asked : delays.byAgent.get(agent) ?? delays.all));
  calls.push({ agent, session_id: body.data.session_id, thread_ts: body.data.thread_ts, at: Date.now() });
  if (calls.length > 10_000) calls.splice(0, calls.length - 10_000);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  return c.json({ text: `[${agent}] echo: ${body.data.text}` });
});

sandboxAgent.get("/config", (c) => c.json({ delay_ms: delays.all, agents: Object.fromEntries(delays.byAgent) }));
sandboxAgent.post("/config", async (c) => {
  const body = Config.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: { code: "invalid_request", message: "Expected {delay_ms, agent?}.", details: { field: body.error.issues[0]?.path.join(".") || "body" } } }, 400);
  if (body.data.agent) delays.byAgent.set(body.data.agent, body.data.delay_ms);
  else {
    delays.all = body.data.delay_ms;
    delays.byAgent.clear();
  }
  return c.json({ delay_ms: delays.all, agents: Object.fromEntries(delays.byAgent) });
});

/** Which sessions the agent was called for, in order: sessions are one per Slack thread. */
sandboxAgent.get("/calls", (c) => c.json({ calls }));
sandboxAgent.delete("/calls", (c) => {
  calls.length = 0;
  return c.json({ ok: true });
});
