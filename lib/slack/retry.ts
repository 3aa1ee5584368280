/**
 * Delivery retry policy for the Slack inbox: backoff, `429 Retry-After`, and what Slack's
 * `{ok:false, error}` answers mean for the binding or the installation. Pure: the clock and the
 * randomness are passed in.
 */

/** Attempts per inbox message (agent call and post together) before it is marked failed. */
export const MAX_ATTEMPTS = 6;
const BASE_MS = 2_000;
const CAP_MS = 5 * 60_000;
/** A Retry-After beyond this is treated as "much later", not obeyed to the second. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Exponential backoff with jitter in [half, full] so a burst of failures does not retry in lockstep. */
export function backoffMs(attempt: number, random: number): number {
  const full = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * Math.min(1, Math.max(0, random)));
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}

/** When the next attempt may start: Retry-After wins when Slack sent one, else backoff. */
export function nextAttemptAt(nowMs: number, attempt: number, random: number, retryAfter: number | null): number {
  return nowMs + (retryAfter ?? backoffMs(attempt, random));
}

export type SlackErrorEffect = "pause_binding" | "disable_installation" | "retry" | "fail";

const BINDING_ERRORS = new Set(["channel_not_found", "not_in_channel", "is_archived"]);
const INSTALLATION_ERRORS = new Set(["invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired", "team_access_not_granted"]);
const TRANSIENT_ERRORS = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

/**
 * Slack answers Web API errors as HTTP 200 `{ok:false,error}`. Channel errors are binding state
 * (the bot was removed, the channel archived or gone), token errors installation state: retrying
 * either would only hammer Slack with a request that cannot succeed.
 */
export function slackErrorEffect(error: string): SlackErrorEffect {
  if (BINDING_ERRORS.has(error)) return "pause_binding";
  if (INSTALLATION_ERRORS.has(error)) return "disable_installation";
  if (TRANSIENT_ERRORS.has(error)) return "retry";
  return "fail";
}

/** HTTP statuses worth retrying (Slack's and the agent runtime's). */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
