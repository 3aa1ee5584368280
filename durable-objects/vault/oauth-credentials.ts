import { getApp } from "../../lib/catalog";
import { credentialAad, seal } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { needsRefresh, parseClients, REFRESH_WINDOW_MS, providerConfig, tokenSet, type ProviderConfig, type TokenSet } from "../../lib/oauth";
import { isAdmin, type Principal } from "../../lib/permissions";
import type { Account } from "../../lib/schemas/credentials";
import { slugify } from "../../lib/fields";
import { newId } from "../../lib/tokens";
import { refreshTokens, revokeToken } from "../../workers/oauth/src/provider-client";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { rowScope, scopeKey, scopeLabel, selectCredentials, type CredentialRow } from "./credential-rows";
import { openFields } from "./credentials";
import { finishSession, type ConsumedState } from "./connect";
import { outbound, type OutboundEnv } from "./outbound";

export interface OAuthEnv extends OutboundEnv {
  OAUTH_CLIENTS?: string;
}

/** The provider as this org reaches it: sandbox overrides in dev, OAUTH_CLIENTS in production. */
export function providerConfigFor(ctx: Pick<VaultContext, "sql">, env: OAuthEnv, slug: string): ProviderConfig {
  const app = getApp(slug);
  if (!app || app.kind !== "oauth") throw new AppError("invalid_request", `\`${slug}\` is not an OAuth app.`, { details: { field: "app" } });
  const out = outbound(ctx, env);
  return providerConfig(app, out.providerOverrides(slug), parseClients(env.OAUTH_CLIENTS), out.sandboxUrl !== null);
}

async function sealTokens(ctx: VaultContext, id: string, t: TokenSet): Promise<[string, string][]> {
  const fields: [string, string][] = [["accessToken", t.accessToken]];
  if (t.refreshToken) fields.push(["refreshToken", t.refreshToken]);
  return Promise.all(fields.map(async ([f, v]) => [f, await seal(ctx.ring, ctx.orgId, v, credentialAad(ctx.orgId, id, f))] as [string, string]));
}

function writeFields(ctx: VaultContext, id: string, sealed: [string, string][], replaceAll: boolean): void {
  if (replaceAll) ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, id);
  for (const [field, value] of sealed) {
    ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, ?, ?) ON CONFLICT(credential_id, field) DO UPDATE SET sealed = excluded.sealed`, id, field, value);
  }
}

/** Picks the slug for a new connection: the given name, else `default`, else the account's name. */
function slugFor(ctx: VaultContext, app: string, rowsAtTarget: CredentialRow[], name: string | null, account: Account): string {
  if (name) return slugify(name) ?? "default";
  const taken = new Set(rowsAtTarget.map((r) => r.slug));
  const own = slugify(account.name ?? account.email ?? account.id) ?? "account";
  for (const candidate of ["default", own]) if (!taken.has(candidate)) return candidate;
  let n = 2;
  while (taken.has(`${own.slice(0, 58)}-${n}`)) n++;
  return `${own.slice(0, 58)}-${n}`;
}

/**
 * Stores a completed OAuth connection at each chosen target, or into the reconnected credential
 * (same id, default flag and assignments; the same account unless an admin allowed a change).
 * The same account connected again at a target updates that credential instead of duplicating it.
 */
export async function storeConnection(ctx: VaultContext, actor: Actor, p: Principal, st: ConsumedState, tokens: TokenSet, account: Account): Promise<string[]> {
  const app = st.session.app;
  const plan = st.scopes.map((scope) => {
    const k = scopeKey(scope);
    const live = selectCredentials(ctx, "app = ? AND scope_type = ? AND scope_id = ? AND status != 'revoked'", app, k.type, k.id);
    const existing = st.session.reconnect_id
      ? selectCredentials(ctx, "id = ?", st.session.reconnect_id)[0]
      : live.find((r) => r.kind === "oauth" && r.account !== null && JSON.parse(r.account).id === account.id);
    return { scope, existing, slug: existing?.slug ?? slugFor(ctx, app, live, st.name, account), id: existing?.id ?? newId("cred") };
  });
  for (const t of plan) {
    if (st.session.reconnect_id && t.existing?.account) {
      const before = JSON.parse(t.existing.account) as Account;
      if (before.id !== account.id && !(st.session.allow_account_change === 1 && isAdmin(p))) {
        const reason = `You signed in as ${account.name ?? account.email ?? account.id}, but this credential belongs to ${before.name ?? before.email ?? before.id}. Sign in with that account, or ask an admin to allow the change.`;
        ctx.storage.transactionSync(() => finishSession(ctx, actor, st.session, { error: reason }));
        throw new AppError("conflict", reason);
      }
    }
  }
  const sealed = await Promise.all(plan.map((t) => sealTokens(ctx, t.id, tokens)));
  ctx.storage.transactionSync(() => {
    plan.forEach((t, i) => {
      const k = scopeKey(t.scope);
      if (t.existing) {
        ctx.sql.exec(
          `UPDATE credentials SET status = 'active', account = ?, scopes = ?, expires_at = ?, updated_at = ?, rotated_at = ? WHERE id = ?`,
          JSON.stringify(account), JSON.stringify(tokens.scopes), tokens.expiresAt, ctx.now, ctx.now, t.id,
        );
      } else {
        ctx.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, account, scopes, expires_at, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'oauth', 'active', NULL, ?, ?, ?, ?, ?, ?)`,
          t.id, app, t.slug, st.name ?? account.name ?? account.email ?? t.slug, k.type, k.id, JSON.stringify(account), JSON.stringify(tokens.scopes), tokens.expiresAt, p.member, ctx.now, ctx.now,
        );
      }
      writeFields(ctx, t.id, sealed[i]!, true);
      writeAudit(ctx, actor, {
        action: t.existing ? (st.session.reconnect_id ? "credential.reconnect" : "credential.replace") : "credential.create",
        credentialId: t.id,
        target: scopeLabel(t.scope),
        detail: { app, slug: t.slug, account: account.id },
      });
    });
    finishSession(ctx, actor, st.session, { ids: plan.map((t) => t.id) });
  });
  return plan.map((t) => t.id);
}

// ---- token lifecycle ----

/** One refresh in flight per credential, per vault instance. */
export type InFlight = Map<string, Promise<void>>;

/**
 * Makes sure the credential's access token is not expiring within 5 minutes. Single-flight: every
 * concurrent caller awaits the same refresh, and the rotated refresh token is written before the
 * promise settles, so nobody ever refreshes with a token the provider already rotated away.
 */
export function ensureFresh(ctx: VaultContext, env: OAuthEnv, credentialId: string, inflight: InFlight, asOf = Date.now()): Promise<void> {
  const running = inflight.get(credentialId);
  if (running) return running;
  const row = selectCredentials(ctx, "id = ?", credentialId)[0];
  if (!row || row.kind !== "oauth" || row.status !== "active" || !needsRefresh(row.expires_at, asOf)) return Promise.resolve();
  const p = refresh(ctx, env, row).finally(() => inflight.delete(credentialId));
  inflight.set(credentialId, p);
  return p;
}

async function refresh(ctx: VaultContext, env: OAuthEnv, row: CredentialRow): Promise<void> {
  const fields = await openFields(ctx, row.id);
  if (!fields.refreshToken) {
    markNeedsReauth(ctx, row, "the access token expired and the provider gave no refresh token");
    return;
  }
  const cfg = providerConfigFor(ctx, env, row.app);
  let data: Record<string, unknown>;
  try {
    data = await refreshTokens(cfg, fields.refreshToken);
  } catch (e) {
    if (e instanceof AppError && e.details?.provider_error === "invalid_grant") {
      markNeedsReauth(ctx, row, "the provider refused the refresh token (invalid_grant)");
      return;
    }
    throw e;
  }
  const now = Date.now();
  const tokens = tokenSet(data, now, cfg.scopeSeparator, JSON.parse(row.scopes) as string[]);
  // Providers that do not rotate keep the old refresh token valid: keep it.
  const sealed = await sealTokens(ctx, row.id, { ...tokens, refreshToken: tokens.refreshToken ?? fields.refreshToken });
  ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", row.id)[0];
    if (!current || current.status === "revoked") return; // revoked meanwhile: the new tokens are dropped
    writeFields(ctx, row.id, sealed, false);
    ctx.sql.exec(`UPDATE credentials SET expires_at = ?, scopes = ?, updated_at = ? WHERE id = ?`, tokens.expiresAt, JSON.stringify(tokens.scopes), now, row.id);
    writeAudit({ ...ctx, now }, null, { action: "credential.refresh", credentialId: row.id, target: scopeLabel(rowScope(row)), detail: { app: row.app, rotated: tokens.refreshToken !== null } });
  });
}

function markNeedsReauth(ctx: VaultContext, row: CredentialRow, reason: string): void {
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE credentials SET status = 'needs_reauth', updated_at = ? WHERE id = ? AND status = 'active'`, Date.now(), row.id);
    writeAudit({ ...ctx, now: Date.now() }, null, { action: "credential.needs_reauth", outcome: "failed", credentialId: row.id, detail: { app: row.app, slug: row.slug, reason } });
  });
}

/** The alarm's share: refresh what expires within 10 minutes; answers when to look again. */
export async function refreshDue(ctx: VaultContext, env: OAuthEnv, inflight: InFlight): Promise<number | null> {
  const soon = Date.now() + 10 * 60_000;
  const due = selectCredentials(ctx, "kind = 'oauth' AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= ?", soon);
  for (const row of due) {
    try {
      // As of 5 minutes from now: the 5-minute refresh window then covers everything due within 10.
      await ensureFresh(ctx, env, row.id, inflight, soon - REFRESH_WINDOW_MS);
    } catch {
      // A provider outage: the next alarm or resolve tries again; nothing is marked.
    }
  }
  return nextRefreshAt(ctx);
}

/** When the alarm should next refresh: 6 minutes before the earliest refreshable expiry. */
export function nextRefreshAt(ctx: Pick<VaultContext, "sql">): number | null {
  const next = ctx.sql.exec(
    `SELECT MIN(c.expires_at) AS t FROM credentials c JOIN secret_fields f ON f.credential_id = c.id AND f.field = 'refreshToken' WHERE c.kind = 'oauth' AND c.status = 'active' AND c.expires_at IS NOT NULL`,
  ).one().t as number | null;
  return next === null ? null : Math.max(Date.now() + 30_000, next - 6 * 60_000);
}

/** Revokes upstream where the provider supports it; best effort, after the local revoke. */
export async function revokeUpstream(ctx: VaultContext, env: OAuthEnv, app: string, tokens: Record<string, string>): Promise<boolean> {
  const token = tokens.refreshToken ?? tokens.accessToken;
  if (!token) return false;
  let cfg: ProviderConfig;
  try {
    cfg = providerConfigFor(ctx, env, app);
  } catch {
    return false;
  }
  return revokeToken(cfg, token);
}
