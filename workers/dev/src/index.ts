import { Hono } from "hono";
import { BenchOrgBody, createBenchOrg } from "./bench-org";
import { sandboxOAuth } from "./sandbox/oauth";
import { sandboxAgent } from "./sandbox/agent";
import { sandboxSlack } from "./sandbox/slack";

export { SandboxStore } from "./sandbox/store";
import { seedDemo, type SeedEnv } from "./seed";

export interface DevEnv extends SeedEnv {
  API: Fetcher;
  OAUTH: Fetcher;
  SLACK: Fetcher;
  DEV_MODE?: string;
}

/**
 * The local gateway: the same paths as the production routes (/oauth/* -> oauth,
 * /slack/* -> slack-events, the rest -> api), plus the dev-only /dev/seed.
 */
const app = new Hono<{ Bindings: DevEnv }>();

app.post("/dev/seed", async (c) => {
  if (c.env.DEV_MODE !== "true") return c.json({ error: { code: "not_found", message: "Dev mode is off." } }, 404);
  return c.json(await seedDemo(c.env, new URL(c.req.url).origin));
});

app.post("/dev/bench-org", async (c) => {
  if (c.env.DEV_MODE !== "true") return c.json({ error: { code: "not_found", message: "Dev mode is off." } }, 404);
  const body = BenchOrgBody.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: { code: "invalid_request", message: "Expected {slug, credentials, assignments}." } }, 400);
  return c.json(await createBenchOrg(c.env, body.data));
});

app.route("/_sandbox/oauth", sandboxOAuth);
app.route("/_sandbox/slack", sandboxSlack);
app.route("/_sandbox/agent", sandboxAgent);

app.all("*", (c) => {
  const path = new URL(c.req.url).pathname;
  const target = path.startsWith("/oauth/") ? c.env.OAUTH : path.startsWith("/slack/") ? c.env.SLACK : c.env.API;
  return target.fetch(c.req.raw);
});

export default app;
