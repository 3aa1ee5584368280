import type { Directory } from "../../../durable-objects/directory";
import type { OrgVault } from "../../../durable-objects/org-vault";

/** Bindings of the api worker (root wrangler.toml); the DOs run with the same env. */
export interface Env {
  VAULT: DurableObjectNamespace<OrgVault>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  ROUTES: KVNamespace;
  /** Workers Rate Limiting: starts of CLI logins per client address (wrangler.toml `[[ratelimits]]`). */
  CLI_LOGIN_LIMITER: RateLimit;
  /** "k2:<base64 32 bytes>,k1:<base64>": the first is active; the rest still open old values. */
  VAULT_KEYS: string;
  /** Signs org ids so a forged one is refused before any Durable Object is touched (README, "Org ids"). Same value on api, oauth and slack-events; never changed. */
  ORG_ID_KEY: string;
  /** The public origin of the platform, for links (connect URLs, CLI login). Unset in dev: the request's origin. */
  PUBLIC_URL?: string;
  /** `{"github":{"id":"…","secret":"…"},…}`: the platform's OAuth clients per app (secret). */
  OAUTH_CLIENTS?: string;
  /** Slack's Web API; default https://slack.com/api. */
  SLACK_API_URL?: string;
  /** The agent runtime the Slack gateway delivers messages to. */
  AGENT_RUNTIME_URL?: string;
  /** Shared secret sent as `Authorization: Bearer …` to the agent runtime (secret; required to deliver). */
  AGENT_RUNTIME_TOKEN?: string;
  /** Optional cap (ms) on every outbound call's timeout (durable-objects/vault/outbound-fetch.ts). */
  OUTBOUND_TIMEOUT_MS?: string;
  /** The platform's own GitHub OAuth app for "Sign in with GitHub" on the web app (secrets; unset: no GitHub sign-in). */
  PLATFORM_GITHUB_CLIENT_ID?: string;
  PLATFORM_GITHUB_CLIENT_SECRET?: string;
  /** "true" only in local dev: enables /dev/* and the sandbox. Never set in production. */
  DEV_MODE?: string;
}
