import { AppError } from "../lib/errors";

/**
 * The one wrapper every outbound call of the product goes through (OAuth providers, Slack's Web
 * API, the agent runtime, later probes and webhooks): nothing waits on another server for ever.
 * A timeout or an unreachable server is an `upstream_error` AppError, never a 500, and never a
 * verdict on a credential (only a provider's explicit refusal marks one needs_reauth).
 */

/** Default budgets per kind of call, in ms. The agent runtime may think for a while; the others should not. */
export const OUTBOUND_TIMEOUTS = { provider: 10_000, slack: 15_000, agent: 120_000, webhook: 10_000 } as const;
export type OutboundKind = keyof typeof OUTBOUND_TIMEOUTS;

export interface TimeoutEnv {
  /** Optional cap (ms) on every outbound timeout: tests set a short one; an operator may lower them. */
  OUTBOUND_TIMEOUT_MS?: string;
}

export function timeoutFor(env: TimeoutEnv | undefined, kind: OutboundKind): number {
  const cap = Number(env?.OUTBOUND_TIMEOUT_MS);
  const base = OUTBOUND_TIMEOUTS[kind];
  return Number.isFinite(cap) && cap > 0 ? Math.min(base, cap) : base;
}

/** `details.upstream` says what went wrong without any of the server's body. */
export function timeoutError(what: string, ms: number): AppError {
  return new AppError("upstream_error", `The ${what} did not answer within ${Math.round(ms / 100) / 10} s.`, {
    fix: "Try again shortly; if it persists, the provider may be down.",
    details: { upstream: "timeout", provider_error: "timeout" },
  });
}

export const isTimeout = (e: unknown): boolean => e instanceof AppError && e.details?.upstream === "timeout";

/** fetch with a deadline: a timeout or a network failure becomes an upstream_error AppError. */
export async function outboundFetch(url: string | URL | Request, init: RequestInit, timeoutMs: number, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) throw timeoutError(what, timeoutMs);
    throw new AppError("upstream_error", `The ${what} could not be reached.`, { details: { upstream: "unreachable", provider_error: "unreachable" } });
  }
}

/**
 * The same deadline for a library call that takes no AbortSignal (arctic calls the global fetch
 * without one): the caller stops waiting with a timeout error. The request itself cannot be
 * aborted; its late answer settles `work`, which the caller may still use (the token refresh
 * keeps it, see ensureFresh).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
