import type { MiddlewareHandler } from "hono";
import { AppError } from "../../../../lib/errors";
import { hashToken, parseToken } from "../../../../lib/tokens";
import type { ApiEnv } from "./vault";

/** The period of MANAGEMENT_LIMITER in wrangler.toml, in seconds: what a refused caller waits at most. */
export const MANAGEMENT_PERIOD_S = 10;

/** Reads that are not management: the benchmark's bare vault hop. Runtime resolves are POSTs and never counted. */
const UNCOUNTED = new Set(["/v1/ping"]);

/**
 * Management reads (every GET under /v1/) are limited per token (the Workers Rate Limiting
 * binding MANAGEMENT_LIMITER, keyed by the token's hash, the id the vault stores it under), so
 * one member looping over list pages cannot take the org's vault away from its runtime resolves.
 * Answered here, before the vault is reached: 429 with the envelope and Retry-After. Requests
 * without a well-formed token pass on to the route, which answers 401.
 */
export const limitManagementReads: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (c.req.method !== "GET" || !c.req.path.startsWith("/v1/") || UNCOUNTED.has(c.req.path)) return next();
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!token || !parseToken(token)) return next();
  const { success } = await c.env.MANAGEMENT_LIMITER.limit({ key: `mgmt:${await hashToken(token)}` });
  if (!success) {
    c.header("retry-after", String(MANAGEMENT_PERIOD_S));
    throw new AppError("rate_limited", "Too many requests with this token; runtime resolves are not affected.", {
      fix: `Wait ${MANAGEMENT_PERIOD_S} seconds (Retry-After), then page on with a larger \`limit\`.`,
    });
  }
  return next();
};
