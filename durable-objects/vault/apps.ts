import { z } from "zod";
import { customApp, searchApps, type App } from "../../lib/catalog";
import { can, type Principal } from "../../lib/permissions";
import { appSummary } from "../../lib/fields";
import type { AppSummary } from "../../lib/schemas/apps";
import type { VaultContext } from "./context";
import { rowScope, selectCredentials } from "./credential-rows";

/** The catalog plus this org's custom apps, each with how many live credentials the caller sees. */
export function listApps(ctx: VaultContext, p: Principal, search?: string): AppSummary[] {
  const counts = new Map<string, number>();
  for (const row of selectCredentials(ctx, "status != 'revoked'")) {
    if (can(p, "view", rowScope(row))) counts.set(row.app, (counts.get(row.app) ?? 0) + 1);
  }
  const q = search?.trim().toLowerCase() ?? "";
  const custom = ctx.sql
    .exec(`SELECT slug, fields FROM custom_apps ORDER BY slug`)
    .toArray()
    .map((r) => customApp(String(r.slug), z.array(z.string()).parse(JSON.parse(String(r.fields)))))
    .filter((a) => !q || a.slug.includes(q));
  return [...searchApps(search), ...custom].map((a) => appSummary(a, counts.get(a.slug) ?? 0));
}
