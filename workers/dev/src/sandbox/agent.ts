import { Hono } from "hono";
import { z } from "zod";
import { fromZodError } from "../../../../lib/errors";
import { Slug } from "../../../../lib/schemas/common";
import { sandboxState, type SandboxEnv } from "./slack-fake";

/**
 * `/_sandbox/agent/*` (dev only): the echo agent runtime. It answers every message with a text
 * holding the agent's slug and the message. A delay simulates a slow agent (the bench sets 10 s):
 * `?delay_ms=`, the `x-sandbox-delay-ms` header, or a stored default per agent or for all
 * (`POST /_sandbox/agent/config {delay_ms, agent?}`, kept in the sandbox store).
 * Like a real runtime it takes calls only with `Authorization: Bearer <AGENT_RUNTIME_TOKEN>`
 * (the dev worker's var; the api worker sends the same value from .dev.vars).
 */
const MAX_DELAY_MS = 120_000;

const Message = z.object({ session_id: z.string().max(100), text: z.string().max(40_000), thread_ts: z.string().max(40).default("") }).passthrough();
const Config = z.strictObject({ delay_ms: z.number().int().min(0).max(MAX_DELAY_MS), agent: Slug.optional() });

export const sandboxAgent = new Hono<{ Bindings: SandboxEnv }>();

sandboxAgent.post("/agents/:agent/messages", async (c) => {
  const expected = c.env?.AGENT_RUNTIME_TOKEN;
  if (!expected || c.req.header("authorization") !== `Bearer ${expected}`) {
    return c.json({ error: { code: "unauthorized", message: "The agent runtime takes calls with its bearer token only." } }, 401);
  }
  const agent = c.req.param("agent");
  const body = Message.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: fromZodError(body.error, { say: () => ({ message: "Expected {session_id, text, ...}." }) }).toBody() }, 400);
  const state = sandboxState(c.env);
  const asked = Number(c.req.query("delay_ms") ?? c.req.header("x-sandbox-delay-ms") ?? NaN);
  const delay = Math.min(MAX_DELAY_MS, Math.max(0, Number.isFinite(asked) ? asked : await state.agentDelay(agent)));
  await state.recordAgentCall({ agent, session_id: body.data.session_id, thread_ts: body.data.thread_ts, at: Date.now() });
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  return c.json({ text: `[${agent}] echo: ${body.data.text}` });
});

sandboxAgent.get("/config", async (c) => c.json(await sandboxState(c.env).delayConfig()));
sandboxAgent.post("/config", async (c) => {
  const body = Config.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: fromZodError(body.error, { say: () => ({ message: "Expected {delay_ms, agent?}." }) }).toBody() }, 400);
  return c.json(await sandboxState(c.env).setAgentDelay(body.data.delay_ms, body.data.agent));
});

/** Which sessions the agent was called for, in order: sessions are one per Slack thread. */
sandboxAgent.get("/calls", async (c) => c.json({ calls: await sandboxState(c.env).agentCalls() }));
