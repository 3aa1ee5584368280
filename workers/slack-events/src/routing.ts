import type { RouteKey } from "../../../lib/schemas/slack";
import { ROUTE_CACHE_TTL_SECONDS, routeKvKey } from "../../../lib/slack/routing";
import type { SlackEnv } from "./env";

/**
 * Installation -> org. KV first (read-mostly, cached at the edge); a miss asks the Directory,
 * the authority, which re-fills KV itself (this worker only reads KV). A KV miss never means
 * "unknown" on its own: the install may have just happened in another location.
 */
export async function orgForRoute(env: SlackEnv, keys: RouteKey[]): Promise<{ route: RouteKey; orgId: string } | null> {
  for (const route of keys) {
    const cached = await env.ROUTES.get(routeKvKey(route), { cacheTtl: ROUTE_CACHE_TTL_SECONDS });
    if (cached) return { route, orgId: cached };
  }
  for (const route of keys) {
    const orgId = await env.VAULT_DOOR.findOrgForRoute(route);
    if (orgId) return { route, orgId };
  }
  return null;
}
