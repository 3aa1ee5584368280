import type { ProviderOverrides } from "../../lib/catalog";
import type { VaultContext } from "./context";
import { AppError } from "../../lib/errors";
import { timeoutFor, type TimeoutEnv } from "../../providers/outbound-fetch";

/**
 * Where the vault's outbound calls go: Slack's Web API, the agent runtime, and OAuth providers.
 * Production reads the environment. In dev (DEV_MODE on) the seed records where the sandbox is,
 * per org, so every provider, Slack and the agent point at the local fakes whatever port the
 * stack runs on. A stored sandbox URL is ignored outside dev mode, so stored data can never
 * redirect production traffic.
 */
export interface OutboundEnv extends TimeoutEnv {
  DEV_MODE?: string;
  SLACK_API_URL?: string;
  AGENT_RUNTIME_URL?: string;
  /** Sent as `Authorization: Bearer …` on every agent runtime call (secret). */
  AGENT_RUNTIME_TOKEN?: string;
}

export interface Outbound {
  sandboxUrl: string | null;
  slackApiUrl: string;
  agentRuntimeUrl: string | null;
  agentRuntimeToken: string | null;
  /** Per-call deadlines in ms (providers/outbound-fetch.ts). */
  timeouts: { provider: number; slack: number; agent: number };
  providerOverrides(appSlug: string): ProviderOverrides;
  /** The OAuth client for apps OAUTH_CLIENTS does not name: the sandbox's in dev, none otherwise. */
  fallbackClient: { id: string; secret: string } | null;
}

/** The client id and secret the sandbox's fake providers accept (workers/dev/src/sandbox). */
export const SANDBOX_CLIENT = { id: "keystroke-dev", secret: "keystroke-dev-secret" };

export type SandboxOverrides = Required<Pick<ProviderOverrides, "authorizeUrl" | "tokenUrl" | "revokeUrl" | "userinfoUrl">>;

/** The embedded fake provider's endpoints for `slug` (DESIGN section 5), e.g. baseUrl "http://localhost:8787". */
export function sandboxOverrides(baseUrl: string, slug: string): SandboxOverrides {
  const base = `${baseUrl.replace(/\/+$/, "")}/_sandbox/oauth/${slug}`;
  return {
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    revokeUrl: `${base}/revoke`,
    userinfoUrl: `${base}/userinfo`,
  };
}

/** A probe's URL in dev: the sandbox's probe area (workers/dev/src/sandbox/probe.ts), keeping the path, so no real provider is called. */
export function probeUrl(sandboxUrl: string | null, slug: string, url: string): string {
  if (!sandboxUrl) return url;
  const u = new URL(url);
  return `${sandboxUrl.replace(/\/+$/, "")}/_sandbox/probe/${slug}${u.pathname}${u.search}`;
}

/** The sandbox is always this machine: a seed can never point an org's traffic at another host. */
const SANDBOX_URL = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/;

export function setSandboxUrl(ctx: VaultContext, url: string): void {
  if (!SANDBOX_URL.test(url)) throw new AppError("invalid_request", "The sandbox URL must be http://localhost:<port>.", { details: { field: "sandboxUrl" } });
  ctx.sql.exec(
    `INSERT INTO settings (key, value, updated_at) VALUES ('sandbox_url', ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    url, ctx.now,
  );
}

export function outbound(ctx: Pick<VaultContext, "sql">, env: OutboundEnv): Outbound {
  const stored = env.DEV_MODE === "true"
    ? (ctx.sql.exec(`SELECT value FROM settings WHERE key = 'sandbox_url'`).toArray()[0]?.value as string | undefined) ?? null
    : null;
  return {
    sandboxUrl: stored,
    slackApiUrl: stored ? `${stored}/_sandbox/slack/api` : env.SLACK_API_URL || "https://slack.com/api",
    agentRuntimeUrl: stored ? `${stored}/_sandbox/agent` : env.AGENT_RUNTIME_URL || null,
    agentRuntimeToken: env.AGENT_RUNTIME_TOKEN || null,
    timeouts: { provider: timeoutFor(env, "provider"), slack: timeoutFor(env, "slack"), agent: timeoutFor(env, "agent") },
    providerOverrides: (slug) => (stored ? sandboxOverrides(stored, slug) : {}),
    fallbackClient: stored ? SANDBOX_CLIENT : null,
  };
}
