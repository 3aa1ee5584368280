import type { VaultEnv } from "../../../durable-objects/env";

/**
 * Bindings of the api worker (root wrangler.toml). It hosts the Durable Objects, so it carries
 * everything they read (durable-objects/env.ts) plus what only the worker reads.
 */
export interface Env extends VaultEnv {
  /** Workers Rate Limiting: starts of CLI logins per client address (wrangler.toml `[[ratelimits]]`). */
  CLI_LOGIN_LIMITER: RateLimit;
  /** Workers Rate Limiting: management reads (GET /v1/*) per token (workers/api/src/http/limits.ts). */
  MANAGEMENT_LIMITER: RateLimit;
  /** The public origin of the platform, for links (connect URLs, CLI login). Unset in dev: the request's origin. */
  PUBLIC_URL?: string;
  /** The platform's own GitHub OAuth app for "Sign in with GitHub" on the web app (secrets; unset: no GitHub sign-in). */
  PLATFORM_GITHUB_CLIENT_ID?: string;
  PLATFORM_GITHUB_CLIENT_SECRET?: string;
  /** The operator's bearer for `POST /v1/orgs` (secret, compared by hash; unset: the operator API is off). */
  PLATFORM_ADMIN_TOKEN?: string;
  /** Who may create orgs at /orgs/new: `closed` (default), `open`, or a comma list of email domains (lib/signup.ts). */
  SIGNUP?: string;
}
