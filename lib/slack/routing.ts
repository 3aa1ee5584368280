import type { RouteKey } from "../schemas/slack";

/**
 * Slack routing keys: `team:<id>` for a workspace install, `enterprise:<id>` for an org-wide one.
 * The Directory holds the route; KV caches it under `slack-route:<route key>` for the hot path.
 */
export function routeKvKey(route: RouteKey | string): string {
  return `slack-route:${route}`;
}

/** KV read cache: a route changes only at install/uninstall, and a miss falls back to the Directory. */
export const ROUTE_CACHE_TTL_SECONDS = 300;

export function routeKeyOf(install: { isEnterpriseInstall: boolean; enterpriseId: string | null; teamId: string | null }): RouteKey {
  return install.isEnterpriseInstall ? `enterprise:${install.enterpriseId}` : `team:${install.teamId}`;
}
