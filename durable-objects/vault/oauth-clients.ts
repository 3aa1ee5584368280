import { z } from "zod";
import { parseStringList } from "../../lib/schemas/common";
import { getApp, type OAuthApp, type ProviderOverrides } from "../../lib/catalog";
import { CustomOAuthSpec, customOAuthApp } from "../../lib/catalog/custom-oauth";
import { credentialAad, needsReseal, open, reseal, seal } from "../../lib/crypto";
import { AppError, invalidField } from "../../lib/errors";
import { parseClients, providerConfig, type ProviderConfig } from "../../lib/oauth";
import { isAdmin, type Principal } from "../../lib/permissions";
import type { OAuthClient, OAuthClientSettings, OAuthEndpoints, PutOAuthClientBody } from "../../lib/schemas/oauth-clients";
import { newId } from "../../lib/tokens";
import { endpointUrlProblem } from "../../lib/urls";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { outbound, type OutboundEnv } from "./outbound";

/**
 * Whose OAuth client connects, refreshes and revokes (SPEC section 13). The org's own client for
 * an app (table oauth_clients, its secret sealed under the org's key) comes first, then the
 * platform's (OAUTH_CLIENTS; in dev the sandbox's), and with neither connecting is refused with a
 * message naming who must add a client and where: never a silent fallback. A credential remembers
 * the client it was made with (credentials.oauth_client: the org client's row id, NULL for the
 * platform's) and only that client ever refreshes or revokes it.
 */

export interface ClientEnv extends OutboundEnv {
  OAUTH_CLIENTS?: string;
}

/** The provider as this org reaches it, and which client that is (`ocl_…`, or null: the platform's). */
export interface ChosenClient {
  cfg: ProviderConfig;
  ref: string | null;
}

const Row = z.object({
  app: z.string(),
  id: z.string(),
  client_id: z.string(),
  secret: z.string().nullable(),
  endpoints: z.string(),
  scopes: z.string().nullable(),
  pkce: z.number().nullable(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
});
type Row = z.infer<typeof Row>;

const Endpoints = z.object({
  authorize_url: z.string().optional(),
  token_url: z.string().optional(),
  refresh_url: z.string().optional(),
  userinfo_url: z.string().optional(),
  revoke_url: z.string().optional(),
});

const SECRET_FIELD = "client_secret";
const secretAad = (ctx: Pick<VaultContext, "orgId">, id: string) => credentialAad(ctx.orgId, id, SECRET_FIELD);

export function orgClientRow(ctx: Pick<VaultContext, "sql">, app: string): Row | null {
  const raw = ctx.sql.exec(`SELECT * FROM oauth_clients WHERE app = ?`, app).toArray()[0];
  return raw ? Row.parse(raw) : null;
}

/** A catalog OAuth app or this org's custom OAuth app; anything else is refused naming `field` (an API-key app: `kindField`). */
export function oauthAppOf(ctx: Pick<VaultContext, "sql">, slug: string, field = "app", kindField = field): OAuthApp {
  const catalog = getApp(slug);
  if (catalog?.kind === "oauth") return catalog;
  if (!catalog) {
    const row = ctx.sql.exec(`SELECT name, provider FROM custom_apps WHERE slug = ? AND kind = 'oauth'`, slug).toArray()[0];
    if (row) return customOAuthApp(slug, String(row.name ?? slug), CustomOAuthSpec.parse(JSON.parse(String(row.provider ?? "{}"))));
  }
  if (catalog || ctx.sql.exec(`SELECT 1 FROM custom_apps WHERE slug = ?`, slug).toArray().length > 0) {
    throw invalidField(kindField, `\`${slug}\` is an API-key app, not an OAuth app; OAuth clients are only for OAuth apps.`, "Set its key with `keystroke credentials set`.");
  }
  throw new AppError("not_found", `There is no app \`${slug}\`.`, { fix: "See the apps with GET /v1/apps.", details: { field } });
}

/** `app` with the org client's default scopes, when it names some (a copy; the catalog entry is frozen). */
export function withOrgClientDefaults(ctx: Pick<VaultContext, "sql">, app: OAuthApp): OAuthApp {
  const row = ctx.sql.exec(`SELECT scopes FROM oauth_clients WHERE app = ?`, app.slug).toArray()[0];
  if (row?.scopes == null) return app;
  return { ...app, provider: { ...app.provider, scopes: parseStringList(String(row.scopes)) } };
}

/** The settings URL the refusal points at (web) and the CLI command that does the same. */
const settingsPath = (slug: string) => `/apps/${slug}/oauth-client`;

function noClient(app: OAuthApp): AppError {
  return new AppError("invalid_request", `${app.name} has no OAuth client in this organization, so it cannot be connected yet. An org owner or admin must add the organization's own client: in the web app at ${settingsPath(app.slug)} (Apps, then ${app.name}'s OAuth client), or with \`keystroke apps oauth-client set ${app.slug}\`.`, {
    fix: `Ask an org owner or admin to add ${app.name}'s OAuth client at ${settingsPath(app.slug)}.`,
    details: { field: "app", reason: "no_oauth_client" },
  });
}

/** Dev only: apps whose platform (sandbox) client the dev tools switched off, to try "no client at all". */
const DEV_NO_PLATFORM = (slug: string) => `dev_no_platform_client:${slug}`;

export function setDevPlatformClient(ctx: VaultContext, slug: string, on: boolean): void {
  if (on) ctx.sql.exec(`DELETE FROM settings WHERE key = ?`, DEV_NO_PLATFORM(slug));
  else ctx.sql.exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, 'off', ?) ON CONFLICT(key) DO UPDATE SET updated_at = excluded.updated_at`, DEV_NO_PLATFORM(slug), ctx.now);
}

/** The platform's client for a catalog app: OAUTH_CLIENTS, else (dev) the sandbox's; custom apps have none. */
function platformClient(ctx: Pick<VaultContext, "sql">, env: ClientEnv, app: OAuthApp): { id: string; secret?: string | null } | null {
  if (app.custom) return null;
  const configured = parseClients(env.OAUTH_CLIENTS)[app.slug];
  if (configured) return configured;
  const fallback = outbound(ctx, env).fallbackClient;
  if (!fallback) return null;
  const off = ctx.sql.exec(`SELECT 1 FROM settings WHERE key = ?`, DEV_NO_PLATFORM(app.slug)).toArray().length > 0;
  return off ? null : fallback;
}

const PLACEHOLDER = (url: string | null) => url !== null && URL.canParse(url) && new URL(url).hostname.endsWith(".invalid");

/** The org client's endpoints as overrides: given endpoints replace the app's as a set (see putOAuthClient). */
function overridesOf(e: z.infer<typeof Endpoints>): ProviderOverrides {
  const o: ProviderOverrides = {};
  if (e.authorize_url) o.authorizeUrl = e.authorize_url;
  if (e.token_url) o.tokenUrl = e.token_url;
  if (e.refresh_url) o.refreshUrl = e.refresh_url;
  if (e.revoke_url) o.revokeUrl = e.revoke_url;
  if (e.userinfo_url) o.userinfoUrl = e.userinfo_url;
  return o;
}

/**
 * The config to talk to the provider with. `ref` undefined: the client a new connection uses now
 * (org, else platform, else the refusal). `ref` given: exactly that client (a credential's own, for
 * refresh and revoke); one since removed or replaced is a `client_gone` AppError, never another.
 */
export async function clientFor(ctx: Pick<VaultContext, "sql" | "ring" | "orgId">, env: ClientEnv, slug: string, ref?: string | null): Promise<ChosenClient> {
  const app = oauthAppOf(ctx, slug);
  const org = orgClientRow(ctx, slug);
  const useOrg = ref === undefined ? org !== null : ref !== null;
  if (useOrg && (!org || (ref !== undefined && org.id !== ref))) {
    throw new AppError("credential_unavailable", `The organization's ${app.name} OAuth client this credential was connected with was removed or replaced.`, {
      fix: "Reconnect the credential: it then uses the organization's current client.",
      details: { field: "app", reason: "client_gone" },
    });
  }
  // Catalog apps in dev point at the sandbox unless the org's client names its own endpoints.
  const sandbox = app.custom ? {} : outbound(ctx, env).providerOverrides(slug);
  let cfg: ProviderConfig;
  if (useOrg && org) {
    const e = Endpoints.parse(JSON.parse(org.endpoints));
    const named = Object.keys(e).length > 0;
    const secret = org.secret ? await open(ctx.ring, ctx.orgId, org.secret, secretAad(ctx, org.id)) : null;
    cfg = providerConfig(app, named ? overridesOf(e) : sandbox, { [slug]: { id: org.client_id, secret } });
    if (named) {
      // A set: what the org left out is not the app's public default (a self-hosted token must never go to gitlab.com).
      cfg.revokeUrl = e.revoke_url ?? null;
      cfg.userinfoUrl = e.userinfo_url ?? null;
    }
    if (org.scopes !== null) cfg.scopes = parseStringList(org.scopes);
    if (org.pkce !== null) cfg.pkce = org.pkce === 1;
  } else {
    const platform = platformClient(ctx, env, app);
    if (!platform) throw noClient(app);
    cfg = providerConfig(app, sandbox, { [slug]: platform });
  }
  if (PLACEHOLDER(cfg.authorizeUrl) || PLACEHOLDER(cfg.tokenUrl)) {
    throw new AppError("invalid_request", `${app.name} has no endpoints yet: its authorize and token URLs come from the organization's OAuth client.`, {
      fix: `Ask an org owner or admin to save them at ${settingsPath(slug)}.`,
      details: { field: "app", reason: "no_endpoints" },
    });
  }
  if (PLACEHOLDER(cfg.revokeUrl)) cfg.revokeUrl = null;
  if (PLACEHOLDER(cfg.userinfoUrl)) cfg.userinfoUrl = null;
  return { cfg, ref: useOrg && org ? org.id : null };
}

/** The client a credential was made with: its row id, or null (the platform's; also every credential from before migration 13). */
export function credentialClient(ctx: Pick<VaultContext, "sql">, credentialId: string): string | null {
  const row = ctx.sql.exec(`SELECT oauth_client FROM credentials WHERE id = ?`, credentialId).toArray()[0];
  return row?.oauth_client == null ? null : String(row.oauth_client);
}

// ---- PUT / GET / DELETE /v1/apps/{slug}/oauth-client ----

type Op = "put" | "get" | "delete";
const ACTION: Record<Op, string> = { put: "oauth_client.put", get: "oauth_client.get", delete: "oauth_client.delete" };

/** Org owners and admins only, checked first; project admins and builders are refused (and audited when writing). */
function requireAdmin(ctx: VaultContext, actor: Actor, p: Principal, op: Op, slug: string): void {
  if (isAdmin(p)) return;
  if (op !== "get") writeAudit(ctx, actor, { action: ACTION[op], outcome: "denied", target: `app:${slug}` });
  throw new AppError("forbidden", "Only org owners and admins manage an app's OAuth client.", { fix: "Ask an org owner or admin." });
}

function view(row: Row): OAuthClient {
  return {
    id: row.id,
    client_id: row.client_id,
    has_secret: row.secret !== null,
    endpoints: Endpoints.parse(JSON.parse(row.endpoints)),
    scopes: row.scopes === null ? null : parseStringList(row.scopes),
    pkce: row.pkce === null ? null : row.pkce === 1,
    created_by: row.created_by,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

export function clientSettings(ctx: VaultContext, env: ClientEnv, app: OAuthApp, publicUrl: string): OAuthClientSettings {
  const row = orgClientRow(ctx, app.slug);
  const platform = platformClient(ctx, env, app) !== null;
  const live = ctx.sql.exec(`SELECT oauth_client FROM credentials WHERE app = ? AND kind = 'oauth' AND status != 'revoked'`, app.slug).toArray();
  const mine = row ? live.filter((r) => r.oauth_client === row.id).length : 0;
  return {
    app: app.slug,
    redirect_uri: `${publicUrl}/oauth/callback`,
    client: row ? view(row) : null,
    platform_client: platform,
    connects_with: row ? "org" : platform ? "platform" : "none",
    credentials: { org_client: mine, other_client: live.length - mine },
  };
}

export function getOAuthClient(ctx: VaultContext, env: ClientEnv, actor: Actor, p: Principal, slug: string, publicUrl: string): OAuthClientSettings {
  requireAdmin(ctx, actor, p, "get", slug);
  return clientSettings(ctx, env, oauthAppOf(ctx, slug, "path.slug"), publicUrl);
}

/** Endpoints the app cannot work without when the org names its own (see clientFor: a set replaces the app's). */
function checkEndpoints(app: OAuthApp, e: OAuthEndpoints, dev: boolean): void {
  for (const [k, v] of Object.entries(e)) {
    const problem = v === undefined ? null : endpointUrlProblem(v, dev);
    if (problem) throw invalidField(`endpoints.${k}`, `The ${k.replace("_url", "").replace("_", " ")} URL (\`endpoints.${k}\`) ${problem}.`, "Use the provider's public https URL, e.g. https://gitlab.example.com/oauth/token.");
  }
  const placeholder = PLACEHOLDER(app.provider.authorizeUrl);
  if (Object.keys(e).length === 0 && !placeholder) return;
  if (!e.authorize_url) throw invalidField("endpoints.authorize_url", `${app.name}'s endpoints need an authorize URL.`, "Give authorize_url and token_url (and userinfo_url when the account is read there).");
  if (!e.token_url) throw invalidField("endpoints.token_url", `${app.name}'s endpoints need a token URL.`, "Give authorize_url and token_url (and userinfo_url when the account is read there).");
  if (app.provider.identity.source === "userinfo" && !e.userinfo_url) {
    throw invalidField("endpoints.userinfo_url", `${app.name} reads the connected account from its userinfo endpoint, so the endpoints need a userinfo URL.`);
  }
}

/**
 * Registers or replaces the org's client. The same client_id keeps the row's id (a secret or
 * endpoint change: credentials made with it go on refreshing through it); another client_id is a
 * new client (new id), so credentials made with the old one need a reconnect (clientFor).
 */
export async function putOAuthClient(ctx: VaultContext, env: ClientEnv, actor: Actor, p: Principal, slug: string, body: PutOAuthClientBody, publicUrl: string): Promise<OAuthClientSettings> {
  requireAdmin(ctx, actor, p, "put", slug);
  const app = oauthAppOf(ctx, slug, "path.slug", body.client_secret !== undefined ? "client_secret" : "path.slug");
  // The Slack gateway verifies every event with the platform's signing secret: an org's own Slack app could install but never deliver.
  if (app.channel) throw invalidField("path.slug", `${app.name} installs through the platform's own app: its events are verified with the platform's signing secret, so an org client cannot be used.`);
  const endpoints = body.endpoints ?? {};
  checkEndpoints(app, endpoints, env.DEV_MODE === "true");
  const before = orgClientRow(ctx, slug);
  const same = before !== null && before.client_id === body.client_id;
  if (body.client_secret === undefined && !same) {
    throw invalidField("client_secret", "A new OAuth client needs its client secret.", "Give client_secret (it is sealed and never shown again); it may be left out only to keep the stored one of the same client_id.");
  }
  const id = same ? before.id : newId("ocl");
  const secret = body.client_secret !== undefined ? await seal(ctx.ring, ctx.orgId, body.client_secret, secretAad(ctx, id)) : before!.secret;
  const now = Date.now();
  ctx.storage.transactionSync(() => {
    // Re-read after the sealing await: another admin's save in between wins, and this one is refused whole.
    const current = orgClientRow(ctx, slug);
    if ((current?.id ?? null) !== (before?.id ?? null) || current?.updated_at !== before?.updated_at) {
      throw new AppError("conflict", `${app.name}'s OAuth client was changed meanwhile; nothing was saved.`, { fix: "Look at it again, then save.", details: { field: "client_id" } });
    }
    ctx.sql.exec(`DELETE FROM oauth_clients WHERE app = ?`, slug);
    ctx.sql.exec(
      `INSERT INTO oauth_clients (app, id, client_id, secret, endpoints, scopes, pkce, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      slug, id, body.client_id, secret, JSON.stringify(endpoints), body.scopes ? JSON.stringify(body.scopes) : null,
      body.pkce === undefined ? null : body.pkce ? 1 : 0, same ? before.created_by : p.member, same ? before.created_at : now, now,
    );
    writeAudit({ ...ctx, now }, actor, {
      action: ACTION.put,
      target: `app:${slug}`,
      detail: { app: slug, client_id: body.client_id, replaced: before ? (same ? "same_client" : "other_client") : "none", secret_changed: body.client_secret !== undefined, endpoints: Object.keys(endpoints) },
    });
  });
  return clientSettings({ ...ctx, now }, env, app, publicUrl);
}

/** Removes the org's client and its sealed secret. Credentials made with it are marked at their next refresh (clientFor). */
export function deleteOAuthClient(ctx: VaultContext, env: ClientEnv, actor: Actor, p: Principal, slug: string, publicUrl: string): OAuthClientSettings {
  requireAdmin(ctx, actor, p, "delete", slug);
  const app = oauthAppOf(ctx, slug, "path.slug");
  const row = orgClientRow(ctx, slug);
  if (!row) throw new AppError("not_found", `${app.name} has no OAuth client of this organization.`, { fix: `See GET /v1/apps/${slug}/oauth-client.`, details: { field: "path.slug" } });
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM oauth_clients WHERE app = ?`, slug);
    writeAudit(ctx, actor, { action: ACTION.delete, target: `app:${slug}`, detail: { app: slug, client_id: row.client_id } });
  });
  return clientSettings(ctx, env, app, publicUrl);
}

// ---- keyring rotation: the sealed client secrets move with the credential fields ----

export function staleClientSecrets(ctx: Pick<VaultContext, "sql">, activeKid: string): number {
  return Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM oauth_clients WHERE secret IS NOT NULL AND secret NOT LIKE ?`, `v1.${activeKid}.%`).one().n);
}

/** Reseals up to `limit` client secrets sealed under an older key (the alarm's keyring sweep); answers how many moved. */
export async function resealClientSecrets(ctx: VaultContext, limit: number): Promise<number> {
  const rows = ctx.sql.exec(`SELECT id, secret FROM oauth_clients WHERE secret IS NOT NULL AND secret NOT LIKE ? LIMIT ?`, `v1.${ctx.ring.active}.%`, limit).toArray();
  let moved = 0;
  for (const r of rows) {
    const id = String(r.id);
    const sealed = String(r.secret);
    let fresh: string;
    try {
      if (!needsReseal(ctx.ring, sealed)) continue;
      fresh = await reseal(ctx.ring, ctx.orgId, sealed, secretAad(ctx, id));
    } catch {
      console.error("reseal: an OAuth client secret could not be opened", id);
      continue;
    }
    // Compare-and-set: a PUT that landed meanwhile wins.
    ctx.sql.exec(`UPDATE oauth_clients SET secret = ? WHERE id = ? AND secret = ?`, fresh, id, sealed);
    moved++;
  }
  return moved;
}
