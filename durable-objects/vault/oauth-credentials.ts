import { runClaimed } from "./claim-loop";
import { credentialAad, seal } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { needsRefresh, REFRESH_WINDOW_MS, tokenSet, type ProviderConfig, type TokenSet } from "../../lib/oauth";
import { isAdmin, type Principal } from "../../lib/permissions";
import type { Account, StatusReason } from "../../lib/schemas/credentials";
import { slugify } from "../../lib/fields";
import { newId } from "../../lib/tokens";
import { refreshTokens, revokeToken } from "../../providers/oauth-client";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { connectionOf, rowScope, scopeKey, scopeLabel, selectCredentials, tokenGeneration, type CredentialRow } from "./credential-rows";
import { withConnectionEndpoints } from "../../lib/connection";
import type { Connection } from "../../lib/schemas/connection";
import { openFields, projectExists, stillManages } from "./credentials";
import { finishSession, openSession, type ConsumedState } from "./connect";
import type { OutboundEnv } from "./outbound";
import { clientFor, credentialClient } from "./oauth-clients";
import { isTimeout, timeoutFor, withDeadline } from "../../providers/outbound-fetch";
import { applyHealth } from "./health";

export interface OAuthEnv extends OutboundEnv {
  OAUTH_CLIENTS?: string;
}

/**
 * The provider as this org reaches it (vault/oauth-clients.ts chooses the client: the org's own,
 * else the platform's, else a refusal). `ref` given: exactly the client a credential was made with.
 */
export async function providerConfigFor(ctx: Pick<VaultContext, "sql" | "ring" | "orgId">, env: OAuthEnv, slug: string, ref?: string | null): Promise<ProviderConfig> {
  return (await clientFor(ctx, env, slug, ref)).cfg;
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

/** `base`, or the first free `base-2`, `base-3`, … */
function freeSlug(taken: Set<string>, base: string): string {
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base.slice(0, 58)}-${n}`)) n++;
  return `${base.slice(0, 58)}-${n}`;
}

/**
 * Picks the slug for a new connection: the given name, else `default`, else the account's name.
 * The connect form refuses a name already taken at a target (saveState); one taken while the
 * member was at the provider gets the next free `-2` suffix instead of failing after consent.
 */
function slugFor(rowsAtTarget: CredentialRow[], name: string | null, account: Account): string {
  const taken = new Set(rowsAtTarget.map((r) => r.slug));
  if (name) return freeSlug(taken, slugify(name) ?? "default");
  const own = slugify(account.name ?? account.email ?? account.id) ?? "account";
  return taken.has("default") ? freeSlug(taken, own) : "default";
}

const liveAt = (ctx: VaultContext, app: string, scope: ConsumedState["scopes"][number]) => {
  const k = scopeKey(scope);
  return selectCredentials(ctx, "app = ? AND scope_type = ? AND scope_id = ? AND status != 'revoked'", app, k.type, k.id);
};

/** The live OAuth credential of this account at a target: a second connect updates it. */
const sameAccountAt = (ctx: VaultContext, app: string, scope: ConsumedState["scopes"][number], account: Account) =>
  liveAt(ctx, app, scope).find((r) => r.kind === "oauth" && r.account !== null && JSON.parse(r.account).id === account.id);

/**
 * A reconnect writes into its credential only while that is not revoked: revoke is final, and its
 * assignments would hand it out again. (Whether the member may still manage it is `stillManages`.)
 */
function reconnectable(row: CredentialRow | undefined): void {
  if (!row || row.status === "revoked") {
    throw new AppError("conflict", `The credential${row ? ` ${row.slug}` : ""} was revoked while you were signing in; nothing was stored.`, { fix: "Connect the app again as a new credential." });
  }
}

/**
 * Stores a completed OAuth connection at each chosen target, or into the reconnected credential
 * (same id, default flag and assignments; the same account unless an admin allowed a change).
 * The same account connected again at a target updates that credential instead of duplicating it.
 */
export async function storeConnection(ctx: VaultContext, actor: Actor, p: Principal, st: ConsumedState, tokens: TokenSet, account: Account, clientRef: string | null = null, connection: Connection = {}): Promise<string[]> {
  const app = st.session.app;
  const plan = st.scopes.map((scope) => {
    const existing = st.session.reconnect_id ? selectCredentials(ctx, "id = ?", st.session.reconnect_id)[0] : sameAccountAt(ctx, app, scope, account);
    return { scope, existing, id: existing?.id ?? newId("cred") };
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
  return ctx.storage.transactionSync(() => {
    // Checked again where it is written, since the sealing awaited: another callback of this
    // session, a revoke of the reconnected credential or another connection of this account may
    // have landed meanwhile. Any of them: nothing is written, and finishConnect fails the session.
    openSession(ctx, p, st.session.id);
    // The targets were authorized at /oauth/start; the member's role may have changed since, and a
    // project may have been deleted while the tokens were sealed.
    stillManages(ctx, p, plan.map((t) => t.scope));
    const deleted = plan.find((t) => t.scope.type === "project" && !projectExists(ctx, t.scope.project));
    if (deleted && deleted.scope.type === "project") throw new AppError("not_found", `The project ${deleted.scope.project} was deleted while you were signing in.`, { fix: "Connect again and pick another target." });
    for (const t of plan) {
      if (st.session.reconnect_id) reconnectable(selectCredentials(ctx, "id = ?", t.id)[0]);
      else if ((sameAccountAt(ctx, app, t.scope, account)?.id ?? null) !== (t.existing?.id ?? null)) {
        throw new AppError("conflict", `Another connection of this ${app} account at ${scopeLabel(t.scope)} finished at the same moment; this one stored nothing.`, { fix: "Check the Apps page: the account is connected there." });
      }
    }
    const ids = plan.map((t, i) => {
      const k = scopeKey(t.scope);
      // Chosen here, not before the sealing await: a slug taken meanwhile is skipped (the AAD binds the id, not the slug).
      const slug = t.existing?.slug ?? slugFor(liveAt(ctx, app, t.scope), st.name, account);
      // The row as it was, for the health change below (a reconnect of a needs_reauth credential recovers it).
      const before = t.existing ? selectCredentials(ctx, "id = ?", t.id)[0] : undefined;
      if (t.existing) {
        // token_generation: a refresh in flight that read the old tokens will not overwrite these.
        ctx.sql.exec(
          // A reconnect keeps connection values this connect did not read again (a step-up keeps the same site).
          `UPDATE credentials SET status = 'active', account = ?, scopes = ?, requested_scopes = ?, connection = ?, expires_at = ?, updated_at = ?, rotated_at = ?, token_generation = token_generation + 1, oauth_client = ? WHERE id = ?`,
          JSON.stringify(account), JSON.stringify(tokens.scopes), JSON.stringify(st.requested), JSON.stringify({ ...connectionOf(t.existing), ...connection }), tokens.expiresAt, ctx.now, ctx.now, clientRef, t.id,
        );
      } else {
        ctx.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, account, scopes, requested_scopes, connection, expires_at, created_by, created_at, updated_at, oauth_client)
           VALUES (?, ?, ?, ?, ?, ?, 'oauth', 'active', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          t.id, app, slug, st.name ?? account.name ?? account.email ?? slug, k.type, k.id, JSON.stringify(account), JSON.stringify(tokens.scopes), JSON.stringify(st.requested), JSON.stringify(connection), tokens.expiresAt, p.member, ctx.now, ctx.now, clientRef,
        );
      }
      writeFields(ctx, t.id, sealed[i]!, true);
      writeAudit(ctx, actor, {
        action: t.existing ? (st.session.reconnect_id ? "credential.reconnect" : "credential.replace") : "credential.create",
        credentialId: t.id,
        target: scopeLabel(t.scope),
        detail: { app, slug, account: account.id },
      });
      if (before) applyHealth(ctx, actor, before, { to: "active", reason: null, error: null, checked: true });
      return t.id;
    });
    finishSession(ctx, actor, st.session, { ids });
    return ids;
  });
}

// ---- token lifecycle ----

/** One refresh in flight per credential, per vault instance. */
export type InFlight = Map<string, Promise<void>>;

/** A refresh whose provider never answers leaves the single-flight slot after this, so a later one can try. */
const ABANDON_AFTER_MS = 120_000;

/**
 * Makes sure the credential's access token is not expiring within 5 minutes. Single-flight: every
 * concurrent caller awaits the same refresh, and the rotated refresh token is written before the
 * promise settles, so nobody ever refreshes with a token the provider already rotated away.
 *
 * Callers wait at most the provider timeout (an upstream_error; nothing is marked). The refresh
 * itself keeps its slot until the provider answers (its late answer is still stored: the old
 * refresh token may be rotated away by then) or ABANDON_AFTER_MS passes.
 */
export function ensureFresh(ctx: VaultContext, env: OAuthEnv, credentialId: string, inflight: InFlight, asOf = Date.now()): Promise<void> {
  const row = selectCredentials(ctx, "id = ?", credentialId)[0];
  // Checked before joining one in flight too: a caller whose token is still good (the alarm refreshes
  // early) never waits on a slow provider.
  if (!row || row.kind !== "oauth" || row.status !== "active" || !needsRefresh(row.expires_at, asOf)) return Promise.resolve();
  let running = inflight.get(credentialId);
  if (!running) {
    const p = refresh(ctx, env, row);
    running = p;
    inflight.set(credentialId, p);
    const release = () => {
      clearTimeout(abandon);
      if (inflight.get(credentialId) === p) inflight.delete(credentialId);
    };
    const abandon = setTimeout(release, Math.max(ABANDON_AFTER_MS, timeoutFor(env, "provider")));
    p.then(release, release);
  }
  return withDeadline(running, timeoutFor(env, "provider"), "provider's token endpoint");
}

/** The provider config a credential talks to: its own client, its connection's endpoints (as refresh uses). */
export async function credentialProviderConfig(ctx: VaultContext, env: OAuthEnv, row: CredentialRow): Promise<ProviderConfig> {
  return withConnectionEndpoints(await providerConfigFor(ctx, env, row.app, credentialClient(ctx, row.id)), connectionOf(row));
}

async function refresh(ctx: VaultContext, env: OAuthEnv, row: CredentialRow): Promise<void> {
  // Read before anything awaits: a reconnect (or Slack reinstall) bumps it, and then our answer is stale.
  const generation = tokenGeneration(ctx, row.id);
  const fields = await openFields(ctx, row.id);
  if (!fields.refreshToken) {
    // Unless a reconnect landed during the read above: its new tokens are not the expired ones.
    if (tokenGeneration(ctx, row.id) === generation) markNeedsReauth(ctx, row, "refresh_failed", "The access token expired and the provider gave no refresh token.");
    return;
  }
  // Only the client the credential was made with may refresh it; one removed or replaced since is a reconnect, never another client.
  let cfg: ProviderConfig;
  try {
    // A subdomain app refreshes at its own host (lib/connection.ts).
    cfg = withConnectionEndpoints(await providerConfigFor(ctx, env, row.app, credentialClient(ctx, row.id)), connectionOf(row));
  } catch (e) {
    const reason = e instanceof AppError ? e.details?.reason : undefined;
    if (reason === "client_gone" || reason === "no_oauth_client") {
      if (tokenGeneration(ctx, row.id) === generation) markNeedsReauth(ctx, row, "refresh_failed", reason === "client_gone" ? "The OAuth client it was connected with was removed or replaced." : "The platform's OAuth client it was connected with is no longer configured.");
      return;
    }
    throw e;
  }
  let data: Record<string, unknown>;
  try {
    data = await refreshTokens(cfg, fields.refreshToken);
  } catch (e) {
    if (e instanceof AppError && e.details?.provider_error === "invalid_grant") {
      if (tokenGeneration(ctx, row.id) === generation) markNeedsReauth(ctx, row, "invalid_grant", "The provider refused the refresh token (invalid_grant).");
      return;
    }
    // An outage says nothing about the grant: only last_error, tried again by the next alarm or resolve.
    if (e instanceof AppError) recordRefreshError(ctx, row, e);
    throw e;
  }
  const now = Date.now();
  const tokens = tokenSet(data, now, cfg.scopeSeparator, JSON.parse(row.scopes) as string[]);
  // Providers that do not rotate keep the old refresh token valid: keep it.
  const sealed = await sealTokens(ctx, row.id, { ...tokens, refreshToken: tokens.refreshToken ?? fields.refreshToken });
  ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", row.id)[0];
    if (!current || current.status === "revoked") return; // revoked meanwhile: the new tokens are dropped
    // Reconnected meanwhile (the fetch opened the input gate): those tokens are newer than ours.
    if (tokenGeneration(ctx, row.id) !== generation) return;
    writeFields(ctx, row.id, sealed, false);
    ctx.sql.exec(`UPDATE credentials SET expires_at = ?, scopes = ?, updated_at = ?, token_generation = token_generation + 1 WHERE id = ?`, tokens.expiresAt, JSON.stringify(tokens.scopes), now, row.id);
    writeAudit({ ...ctx, now }, null, { action: "credential.refresh", credentialId: row.id, target: scopeLabel(rowScope(row)), detail: { app: row.app, rotated: tokens.refreshToken !== null } });
  });
}

/** needs_reauth with its reason, once: a credential already not handed out is left as it is (vault/health.ts). */
function markNeedsReauth(ctx: VaultContext, row: CredentialRow, reason: StatusReason, message: string): void {
  const now = { ...ctx, now: Date.now() };
  ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", row.id)[0];
    if (!current || current.status !== "active") return;
    ctx.sql.exec(`UPDATE credentials SET updated_at = ? WHERE id = ?`, now.now, row.id);
    applyHealth(now, null, current, { to: "needs_reauth", reason, error: { code: reason === "invalid_grant" ? "invalid_grant" : "refresh_failed", message }, checked: true });
  });
}

function recordRefreshError(ctx: VaultContext, row: CredentialRow, e: AppError): void {
  const now = Date.now();
  const code = isTimeout(e) ? "timeout" : e.details?.upstream === "unreachable" ? "unreachable" : "server_error";
  ctx.sql.exec(
    `UPDATE credentials SET last_error_at = ?, last_error_code = ?, last_error_message = ? WHERE id = ? AND status != 'revoked'`,
    now, code, "The provider's token endpoint failed; the refresh is tried again.", row.id,
  );
}

/** Refreshes the alarm runs at once, and the time after which it starts no new one (the rest: next alarm). */
const REFRESH_CONCURRENCY = 4;
const REFRESH_BUDGET_MS = 30_000;

/**
 * The alarm's share: refresh what expires within 10 minutes, soonest first, a few at a time and
 * each bounded by the provider timeout, so a slow provider delays neither other credentials for
 * long nor the alarm's other work. Answers when to look again.
 */
export async function refreshDue(ctx: VaultContext, env: OAuthEnv, inflight: InFlight): Promise<number | null> {
  const started = Date.now();
  const soon = started + 10 * 60_000;
  const due = selectCredentials(ctx, "kind = 'oauth' AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= ?", soon).sort((a, b) => a.expires_at! - b.expires_at!);
  let next = 0;
  await runClaimed({
    concurrency: REFRESH_CONCURRENCY,
    budgetMs: REFRESH_BUDGET_MS,
    claim: () => (next < due.length ? due[next++]! : null),
    // As of 5 minutes from now: the 5-minute refresh window then covers everything due within 10.
    run: async (row) => void (await ensureFresh(ctx, env, row.id, inflight, soon - REFRESH_WINDOW_MS)),
    // A provider outage or timeout: the next alarm or resolve tries again; nothing is marked.
    onCrash: () => {},
  });
  return next < due.length ? Date.now() + 1_000 : nextRefreshAt(ctx);
}

/** When the alarm should next refresh: 6 minutes before the earliest refreshable expiry. */
export function nextRefreshAt(ctx: Pick<VaultContext, "sql">): number | null {
  const next = ctx.sql.exec(
    `SELECT MIN(c.expires_at) AS t FROM credentials c JOIN secret_fields f ON f.credential_id = c.id AND f.field = 'refreshToken' WHERE c.kind = 'oauth' AND c.status = 'active' AND c.expires_at IS NOT NULL`,
  ).one().t as number | null;
  return next === null ? null : Math.max(Date.now() + 30_000, next - 6 * 60_000);
}

/** Tokens a callback got from the provider but did not store (oauth-connect.ts finishConnect). */
export interface NewGrant {
  session: string;
  app: string;
  tokens: { accessToken: string; refreshToken?: string };
  /** The account's id, once the callback read it. */
  account: string | null;
  /** The client the tokens were issued to (vault/oauth-clients.ts): only it may revoke them. */
  clientRef: string | null;
}

/**
 * A connect that failed after the provider issued tokens: revoke them upstream, so no live grant
 * is left that nothing here holds. Not when that would cut off what is stored: Slack answers a
 * reinstall with the workspace's existing bot token, and providers such as Google revoke the whole
 * grant of an account, so an account already connected here (any scope) is left alone.
 */
export async function revokeNewGrant(ctx: VaultContext, env: OAuthEnv, actor: Actor, g: NewGrant): Promise<boolean> {
  const inUse = g.account !== null && ctx.sql.exec(
    `SELECT 1 FROM credentials WHERE app = ? AND kind = 'oauth' AND status != 'revoked' AND json_extract(account, '$.id') = ? LIMIT 1`, g.app, g.account,
  ).toArray().length > 0;
  let revokable = false;
  try {
    revokable = (await providerConfigFor(ctx, env, g.app, g.clientRef)).revokeUrl !== null;
  } catch {
    // Not configured (any more): nothing to call.
  }
  const skipped = g.app === "slack" ? "slack_bot_token" : inUse ? "account_in_use" : !revokable ? "no_revoke_endpoint" : null;
  const revoked = skipped ? false : await revokeWith(ctx, env, g.app, g.tokens, g.clientRef);
  writeAudit({ ...ctx, now: Date.now() }, actor, {
    action: "connect.revoke_upstream",
    outcome: revoked ? "ok" : "failed",
    target: g.session,
    detail: { app: g.app, ...(skipped ? { skipped } : {}) },
  });
  return revoked;
}

/**
 * Revokes upstream where the provider supports it; best effort, after the local revoke. Through
 * the client the credential was made with (`credentialId`); none left (removed, replaced): false.
 */
export async function revokeUpstream(ctx: Pick<VaultContext, "sql" | "ring" | "orgId">, env: OAuthEnv, app: string, tokens: Record<string, string | undefined>, credentialId?: string): Promise<boolean> {
  return revokeWith(ctx, env, app, tokens, credentialId ? credentialClient(ctx, credentialId) : null);
}

async function revokeWith(ctx: Pick<VaultContext, "sql" | "ring" | "orgId">, env: OAuthEnv, app: string, tokens: Record<string, string | undefined>, ref: string | null): Promise<boolean> {
  const token = tokens.refreshToken ?? tokens.accessToken;
  if (!token) return false;
  let cfg: ProviderConfig;
  try {
    cfg = await providerConfigFor(ctx, env, app, ref);
  } catch {
    return false;
  }
  return revokeToken(cfg, token, timeoutFor(env, "provider"));
}
