import { Hono } from "hono";
import type { ErrorBody } from "../../../lib/errors";
import { errorPage, wantsHtml } from "../../shared/error-page";
import { BenchOrgBody, createBenchOrg } from "./bench-org";
import { sandboxOAuth } from "./sandbox/oauth";
import { clientsSeen, recordClientSeen } from "./sandbox/clients-seen";
import { sandboxAgent } from "./sandbox/agent";
import { sandboxSlack } from "./sandbox/slack";
import { sandboxGitHubSignIn } from "./sandbox/github-signin";
import { sandboxProbe } from "./sandbox/probe";
import { sandboxWebhooks } from "./sandbox/webhooks";

export { SandboxStore } from "./sandbox/store";
import { seedDemo, type SeedEnv } from "./seed";

export interface DevEnv extends SeedEnv {
  API: Fetcher;
  OAUTH: Fetcher;
  SLACK: Fetcher;
  DEV_MODE?: string;
  /** `http://localhost:<port>`, passed by scripts/dev.mjs (`--var`): the only origin this stack answers. */
  PUBLIC_URL?: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const portOf = (u: URL) => u.port || (u.protocol === "https:" ? "443" : "80");

const parse = (url: string): URL | null => (URL.canParse(url) ? new URL(url) : null);

/** Whether `got` is how a browser may reach this stack: a loopback name on its own port, nothing a DNS record can point. */
function hostAllowed(got: URL | null, want: URL): boolean {
  return got !== null && LOOPBACK.has(got.hostname) && portOf(got) === portOf(want);
}

/**
 * The local gateway: the same paths as the production routes (/oauth/* -> oauth,
 * /slack/* -> slack-events, the rest -> api), plus the dev-only /dev/seed.
 */
const app = new Hono<{ Bindings: DevEnv }>();

// DNS rebinding (issue 11, item 7): a page on rebind.attacker.example whose name resolves to
// 127.0.0.1 reaches this port with its own Host. Only loopback Hosts on our port get through, so
// every worker behind the gateway (the api, oauth and slack-events) sees only those.
app.use("*", async (c, next) => {
  const want = parse(c.env.PUBLIC_URL ?? "");
  if (!want) return c.json({ error: { code: "internal", message: "PUBLIC_URL is not set for the dev gateway.", fix: "Start the stack with `npm run dev`." } }, 500);
  // The Host header and the URL workerd built from it must both be loopback on our port.
  const host = parse(`${want.protocol}//${c.req.header("host") ?? ""}`);
  if (!hostAllowed(host, want) || !hostAllowed(parse(c.req.url), want)) {
    const error: ErrorBody = { code: "forbidden", message: `This local stack answers only to localhost, 127.0.0.1 or [::1] on port ${portOf(want)}.`, fix: `Open ${want.origin}.`, details: { field: "host" } };
    return wantsHtml(c) ? errorPage(c, error) : c.json({ error }, 403);
  }
  await next();
});

app.post("/dev/seed", async (c) => {
  if (c.env.DEV_MODE !== "true") return c.json({ error: { code: "not_found", message: "Dev mode is off." } }, 404);
  // The sandbox URL is configuration, never the request's origin.
  return c.json(await seedDemo(c.env, c.env.VAULT_DOOR, new URL(c.env.PUBLIC_URL!).origin));
});

app.post("/dev/bench-org", async (c) => {
  if (c.env.DEV_MODE !== "true") return c.json({ error: { code: "not_found", message: "Dev mode is off." } }, 404);
  const body = BenchOrgBody.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: { code: "invalid_request", message: "Expected {slug, credentials, assignments}." } }, 400);
  return c.json(await createBenchOrg(c.env, body.data));
});

/**
 * Dev only: `{org_id, app, enabled}` switches the platform's (sandbox) OAuth client of one app off
 * or on for that org, so "no org client and no platform client" can be tried (SPEC section 13).
 */
app.post("/dev/platform-client", async (c) => {
  if (c.env.DEV_MODE !== "true") return c.json({ error: { code: "not_found", message: "Dev mode is off." } }, 404);
  const body = (await c.req.json().catch(() => null)) as { org_id?: unknown; app?: unknown; enabled?: unknown } | null;
  if (typeof body?.org_id !== "string" || typeof body.app !== "string" || typeof body.enabled !== "boolean") {
    return c.json({ error: { code: "invalid_request", message: "Expected {org_id, app, enabled}." } }, 400);
  }
  await c.env.VAULT_DOOR.setPlatformClient(body.org_id, body.app, body.enabled);
  return c.json({ app: body.app, enabled: body.enabled });
});

// Which client id each sandbox provider saw, before the provider answers (sandbox/clients-seen.ts).
app.use("/_sandbox/oauth/*", recordClientSeen);
app.get("/_sandbox/oauth-clients-seen", (c) => c.json({ seen: clientsSeen(c.req.query("app")) }));
app.route("/_sandbox/oauth", sandboxOAuth);
app.route("/_sandbox/slack", sandboxSlack);
app.route("/_sandbox/agent", sandboxAgent);
app.route("/_sandbox/github-signin", sandboxGitHubSignIn);
app.route("/_sandbox/probe", sandboxProbe);
app.route("/_sandbox/webhooks", sandboxWebhooks);

app.all("*", (c) => {
  const path = new URL(c.req.url).pathname;
  const target = path.startsWith("/oauth/") ? c.env.OAUTH : path.startsWith("/slack/") ? c.env.SLACK : c.env.API;
  return target.fetch(c.req.raw);
});

// Dev only: the message is for the developer at the terminal (scripts/dev.mjs prints it).
app.onError((e, c) => {
  const error: ErrorBody = { code: "internal", message: e instanceof Error ? e.message : "The dev gateway failed." };
  return wantsHtml(c) ? errorPage(c, error) : c.json({ error }, 500);
});

export default app;
