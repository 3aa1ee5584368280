import { z } from "zod";
import { customApp, getApp, searchApps, type App } from "../../lib/catalog";
import { AppError, invalidField } from "../../lib/errors";
import { can, isAdmin, type Principal } from "../../lib/permissions";
import { appSummary } from "../../lib/fields";
import type { AppSummary, UpdateCustomAppBody } from "../../lib/schemas/apps";
import type { Scope } from "../../lib/schemas/common";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { rowScope, scopeLabel, selectCredentials } from "./credential-rows";
import { checkCustomSlug, CustomOAuthSpec, customOAuthApp } from "../../lib/catalog/custom-oauth";
import type { CreateCustomAppBody } from "../../lib/schemas/oauth-clients";

/**
 * Custom apps (keys outside the catalog). An org custom app (table custom_apps) is created by an
 * org owner's or admin's first `set` of the key, and only they edit or delete it. A builder's
 * `set` of an unknown key is private to them: it may target only their own user scope, writes no
 * org definition, and its fields are those of their oldest live credential of that key. Once an
 * org custom app with that key exists, its fields govern everyone's later sets and rotations.
 */
const fieldList = z.array(z.string());

function orgCustomApp(ctx: VaultContext, slug: string): App | null {
  const row = ctx.sql.exec(`SELECT slug, fields, kind, name, provider FROM custom_apps WHERE slug = ?`, slug).toArray()[0];
  return row ? customAppOfRow(row) : null;
}

/** A custom_apps row: an API-key app (fields) or, since migration 13, a custom OAuth app (name, provider). */
function customAppOfRow(row: Record<string, SqlStorageValue>): App {
  const slug = String(row.slug);
  if (row.kind === "oauth") return customOAuthApp(slug, String(row.name ?? slug), CustomOAuthSpec.parse(JSON.parse(String(row.provider ?? "{}"))));
  return customApp(slug, fieldList.parse(JSON.parse(String(row.fields))));
}

/** A member's private custom app: the field names of their oldest live user credential of the key. */
function privateCustomApp(ctx: VaultContext, member: string, slug: string): App | null {
  const cred = ctx.sql
    .exec(`SELECT id FROM credentials WHERE app = ? AND scope_type = 'user' AND scope_id = ? AND status != 'revoked' ORDER BY created_at, id LIMIT 1`, slug, member)
    .toArray()[0];
  if (!cred) return null;
  const fields = ctx.sql.exec(`SELECT field FROM secret_fields WHERE credential_id = ? ORDER BY rowid`, String(cred.id)).toArray().map((r) => String(r.field));
  return fields.length ? customApp(slug, fields) : null;
}

export interface AppDefinition {
  app: App;
  /** Write the org definition (custom_apps) with this set: an admin's first set of a new key. */
  createOrg: boolean;
  /** The caller's private custom app (existing or new): writable only at their own user scope. */
  private: boolean;
}

/** The app a set or rotate writes to: catalog, org custom app, the caller's private one, or a new one. */
export function appDefinition(ctx: VaultContext, p: Principal, slug: string, fieldNames: string[]): AppDefinition {
  const catalog = getApp(slug);
  if (catalog) return { app: catalog, createOrg: false, private: false };
  const org = orgCustomApp(ctx, slug);
  if (org) return { app: org, createOrg: false, private: false };
  const mine = privateCustomApp(ctx, p.member, slug);
  if (mine) return { app: mine, createOrg: false, private: true };
  const fresh = customApp(slug, fieldNames);
  return isAdmin(p) ? { app: fresh, createOrg: true, private: false } : { app: fresh, createOrg: false, private: true };
}

/** A builder's private custom key written anywhere but their own user scope: refused, audited, nothing written. */
export function refusePrivateOutsideUser(ctx: VaultContext, actor: Actor, slug: string, scopes: readonly Scope[]): void {
  const outside = scopes.find((s) => s.type !== "user");
  if (!outside) return;
  writeAudit(ctx, actor, { action: "credential.set", outcome: "denied", target: scopeLabel(outside), detail: { app: slug, reason: "custom_app" } });
  throw new AppError("forbidden", `\`${slug}\` is not in the catalog, and only org owners and admins create custom apps for the org.`, {
    fix: `Keep it to yourself (target user), or ask an org owner or admin to set \`${slug}\` first.`,
    details: { field: "app" },
  });
}

/** The catalog plus this org's custom apps and the caller's private ones, each with how many live credentials the caller sees. */
export function listApps(ctx: VaultContext, p: Principal, search?: string): AppSummary[] {
  const counts = new Map<string, number>();
  for (const row of selectCredentials(ctx, "status != 'revoked'")) {
    if (can(p, "view", rowScope(row))) counts.set(row.app, (counts.get(row.app) ?? 0) + 1);
  }
  const q = search?.trim().toLowerCase() ?? "";
  const org = ctx.sql
    .exec(`SELECT slug, fields, kind, name, provider FROM custom_apps ORDER BY slug`)
    .toArray()
    .map(customAppOfRow);
  const known = new Set(org.map((a) => a.slug));
  const mine = ctx.sql
    .exec(`SELECT DISTINCT app FROM credentials WHERE scope_type = 'user' AND scope_id = ? AND status != 'revoked' ORDER BY app`, p.member)
    .toArray()
    .map((r) => String(r.app))
    .filter((slug) => !getApp(slug) && !known.has(slug))
    .flatMap((slug) => privateCustomApp(ctx, p.member, slug) ?? [])
    .map((a) => ({ ...a, description: `${a.description} Private: only you see it.` }));
  const custom = [...org, ...mine].sort((a, b) => a.slug.localeCompare(b.slug)).filter((a) => !q || a.slug.includes(q));
  return [...searchApps(search), ...custom].map((a) => appSummary(a, counts.get(a.slug) ?? 0));
}

/** PATCH/DELETE /v1/apps/{slug}: org owners and admins only, checked first; then the app must be an org custom app. */
function editableCustomApp(ctx: VaultContext, actor: Actor, p: Principal, slug: string, action: "app.update" | "app.delete"): App {
  if (!isAdmin(p)) {
    writeAudit(ctx, actor, { action, outcome: "denied", target: `app:${slug}` });
    throw new AppError("forbidden", "Only org owners and admins edit or delete custom apps.", { fix: "Ask an org owner or admin." });
  }
  if (getApp(slug)) throw invalidField("path.slug", `\`${slug}\` is a catalog app; only custom apps can be edited or deleted.`);
  const app = orgCustomApp(ctx, slug);
  if (!app) throw new AppError("not_found", `There is no custom app \`${slug}\`.`, { fix: "See the apps with GET /v1/apps.", details: { field: "path.slug" } });
  return app;
}

const liveCount = (ctx: VaultContext, slug: string): number =>
  Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM credentials WHERE app = ? AND status != 'revoked'`, slug).one().n);

/**
 * Replaces a custom app's field list. Credentials already stored keep their values (and runs get
 * them as stored); later sets must give the new fields and rotations may name only those.
 */
export function updateCustomApp(ctx: VaultContext, actor: Actor, p: Principal, slug: string, body: UpdateCustomAppBody): AppSummary {
  const before = editableCustomApp(ctx, actor, p, slug, "app.update");
  if (before.kind === "oauth") throw invalidField("fields", `\`${slug}\` is a custom OAuth app: it has no fields.`, `Change its client and endpoints with PUT /v1/apps/${slug}/oauth-client.`);
  const after = customApp(slug, body.fields);
  const fields = after.kind === "api_key" ? after.fields.map((f) => f.name) : [];
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE custom_apps SET fields = ? WHERE slug = ?`, JSON.stringify(fields), slug);
    writeAudit(ctx, actor, { action: "app.update", target: `app:${slug}`, detail: { app: slug, from: before.kind === "api_key" ? before.fields.map((f) => f.name) : [], to: fields } });
  });
  return appSummary(after, liveCount(ctx, slug));
}

/** Deletes a custom app; refused (409) while any credential of it is live, at any scope. */
export function deleteCustomApp(ctx: VaultContext, actor: Actor, p: Principal, slug: string): { deleted: AppSummary } {
  const app = editableCustomApp(ctx, actor, p, slug, "app.delete");
  const live = liveCount(ctx, slug);
  if (live > 0) {
    throw new AppError("conflict", `\`${slug}\` still has ${live} live credential${live === 1 ? "" : "s"}.`, {
      fix: `Revoke them first (\`keystroke credentials list --app ${slug}\`), then delete the app.`,
      details: { field: "path.slug", live_credentials: live },
    });
  }
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM custom_apps WHERE slug = ?`, slug);
    // A custom OAuth app's client (and its sealed secret) goes with it.
    ctx.sql.exec(`DELETE FROM oauth_clients WHERE app = ?`, slug);
    writeAudit(ctx, actor, { action: "app.delete", target: `app:${slug}`, detail: { app: slug } });
  });
  return { deleted: appSummary(app, 0) };
}

/**
 * POST /v1/apps: an org-local custom OAuth app (SPEC section 13), org owners and admins only. It
 * connects once an admin saves its OAuth client with its endpoints (vault/oauth-clients.ts).
 */
export function createCustomOAuthApp(ctx: VaultContext, actor: Actor, p: Principal, body: CreateCustomAppBody): AppSummary {
  if (!isAdmin(p)) {
    writeAudit(ctx, actor, { action: "app.create", outcome: "denied", target: `app:${body.slug}` });
    throw new AppError("forbidden", "Only org owners and admins create custom apps.", { fix: "Ask an org owner or admin." });
  }
  checkCustomSlug(body.slug);
  const spec = CustomOAuthSpec.parse({
    ...(body.description ? { description: body.description } : {}),
    ...(body.scopes ? { scopes: body.scopes } : {}),
    ...(body.scope_separator ? { scopeSeparator: body.scope_separator } : {}),
    ...(body.pkce !== undefined ? { pkce: body.pkce } : {}),
    ...(body.identity ? { identity: { source: body.identity.source, idPath: body.identity.id_path, emailPath: body.identity.email_path, namePath: body.identity.name_path } } : {}),
  });
  const app = customOAuthApp(body.slug, body.name, spec);
  ctx.storage.transactionSync(() => {
    // An org definition, or any live credential of the key (a builder's private one too), holds the slug: its credentials would change kind.
    const taken = ctx.sql.exec(`SELECT 1 FROM custom_apps WHERE slug = ?`, body.slug).toArray().length > 0 || liveCount(ctx, body.slug) > 0;
    if (taken) throw new AppError("conflict", `\`${body.slug}\` is already an app of this organization.`, { fix: "Pick another slug, or delete that app first.", details: { field: "slug" } });
    ctx.sql.exec(`INSERT INTO custom_apps (slug, fields, created_by, created_at, kind, name, provider) VALUES (?, '[]', ?, ?, 'oauth', ?, ?)`, body.slug, p.member, ctx.now, body.name, JSON.stringify(spec));
    writeAudit(ctx, actor, { action: "app.create", target: `app:${body.slug}`, detail: { app: body.slug, kind: "oauth" } });
  });
  return appSummary(app, 0);
}
