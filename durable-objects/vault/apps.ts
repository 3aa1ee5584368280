import { z } from "zod";
import { customApp, searchApps, type App } from "../../lib/catalog";
import { can, type Principal } from "../../lib/permissions";
import type { AppSummary } from "../../lib/schemas/apps";
import type { VaultContext } from "./context";
import { rowScope, selectCredentials } from "./credential-rows";

function summary(app: App, connected: number): AppSummary {
  return {
    slug: app.slug,
    name: app.name,
    kind: app.kind,
    category: app.category,
    description: app.description,
    fields: app.kind === "api_key" ? app.fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, optional: f.optional })) : null,
    channel: app.kind === "oauth" ? app.channel : false,
    custom: app.custom,
    connected,
  };
}

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
  return [...searchApps(search), ...custom].map((a) => summary(a, counts.get(a.slug) ?? 0));
}
