import { sandboxOverrides, type ProviderOverrides } from "../../lib/catalog";
import type { VaultContext } from "./context";

/**
 * Where the vault's outbound calls go: Slack's Web API, the agent runtime, and OAuth providers.
 * Production reads the environment. In dev (DEV_MODE on) the seed records where the sandbox is,
 * per org, so every provider, Slack and the agent point at the local fakes whatever port the
 * stack runs on. A stored sandbox URL is ignored outside dev mode, so stored data can never
 * redirect production traffic.
 */
export interface OutboundEnv {
  DEV_MODE?: string;
  SLACK_API_URL?: string;
  AGENT_RUNTIME_URL?: string;
}

export interface Outbound {
  sandboxUrl: string | null;
  slackApiUrl: string;
  agentRuntimeUrl: string | null;
  providerOverrides(appSlug: string): ProviderOverrides;
}

export function setSandboxUrl(ctx: VaultContext, url: string): void {
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
    providerOverrides: (slug) => (stored ? sandboxOverrides(stored, slug) : {}),
  };
}
