import { AppError } from "../../lib/errors";
import { accountFrom, idTokenClaims, tokenSet, type ProviderConfig } from "../../lib/oauth";
import type { Principal } from "../../lib/permissions";
import type { ConnectChoice } from "../../lib/schemas/connect";
import { hashToken } from "../../lib/tokens";
import { authorizationUrl, exchangeCode, fetchUserinfo, generateCodeVerifier, generateState, slackAuthTest } from "../../providers/oauth-client";
import { timeoutFor } from "../../providers/outbound-fetch";
import { consumedState, consumeState, failSession, finishSession, saveState, sessionOf, type AskedAtConnect } from "./connect";
import { getApp } from "../../lib/catalog";
import { capturedConnection, lookupUrls, withConnectionEndpoints } from "../../lib/connection";
import type { Connection } from "../../lib/schemas/connection";
import { lookupJson } from "../../providers/connection-lookup";
import type { Actor, VaultContext } from "./context";
import { providerConfigFor, revokeNewGrant, storeConnection, type NewGrant, type OAuthEnv } from "./oauth-credentials";
import { clientFor } from "./oauth-clients";
import { outbound } from "./outbound";
import { installSlack, type RouteEnv } from "./slack/install";
import { slackInstallSpec } from "./slack/oauth-install";
import { outsideText } from "../../lib/schemas/common";
import { stillManages } from "./credentials";

/**
 * The OAuth connect flow, start to finish inside the vault (DESIGN.md section 2): the oauth worker
 * sends what the browser carries and gets back only where to send the browser next, so neither the
 * provider's client secret nor the PKCE verifier ever crosses an RPC. The state is `<orgId>.<random>`
 * (the callback knows its vault from it); only its hash is stored, single use, bound to the session
 * and the member.
 */

export type ConnectEnv = OAuthEnv & RouteEnv;

/** What the oauth worker gets from /oauth/start: the provider's authorization URL (it carries the state, never the verifier). */
export interface ConnectBegun {
  url: string;
  app: string;
}

/** The provider's redirect back, as the browser brought it. */
export interface ConnectCallback {
  state: string;
  code: string | null;
  /** The provider's `error` parameter (`access_denied` when consent was declined). */
  error: string | null;
  /** The callback's other query parameters (Intuit's `realmId`): read where the catalog declares a connection value. */
  params?: Record<string, string>;
}

export async function beginConnect(ctx: VaultContext, env: ConnectEnv, actor: Actor, p: Principal, sessionId: string, choice: ConnectChoice, redirectUri: string): Promise<ConnectBegun> {
  const state = `${ctx.orgId}.${generateState()}`;
  const verifier = generateCodeVerifier();
  // The client first: with none (no org client, no platform client) nothing is saved (SPEC section 13).
  const { cfg, ref } = await clientFor(ctx, env, sessionOf(ctx, p, sessionId).app);
  const hash = await hashToken(state);
  const asked = await saveState(ctx, actor, p, sessionId, choice, { hash, verifier, redirectUri });
  // The callback exchanges the code with this same client, even if an admin replaces it meanwhile.
  ctx.sql.exec(`UPDATE oauth_states SET oauth_client = ? WHERE state_hash = ?`, ref, hash);
  const at = connectConfig(cfg, asked);
  return { url: authorizationUrl(at, redirectUri, state, at.pkce ? verifier : null).toString(), app: at.app };
}

/** The provider as this connect reaches it: the scopes it asks for, endpoints built from its connection values. */
const connectConfig = (cfg: ProviderConfig, asked: AskedAtConnect): ProviderConfig => withConnectionEndpoints({ ...cfg, scopes: asked.requested }, asked.connection);

/** The account behind the new tokens, read where the provider keeps it. */
async function identify(cfg: ProviderConfig, data: Record<string, unknown>, accessToken: string, timeoutMs: number, connection: Connection) {
  if (cfg.identity.source === "token_response") return accountFrom(cfg.identity, data);
  if (cfg.identity.source === "connection") return accountFrom(cfg.identity, connection);
  if (cfg.identity.source === "id_token") {
    if (typeof data.id_token !== "string") throw new AppError("upstream_error", "The provider sent no id_token.");
    return accountFrom(cfg.identity, idTokenClaims(data.id_token));
  }
  return accountFrom(cfg.identity, await fetchUserinfo(cfg, accessToken, timeoutMs));
}

/**
 * The callback: consumes the state, exchanges the code, reads the identity and stores the
 * credential(s) or the Slack installation, ending the session. `context` gives a fresh clock after
 * each outbound call (they open the input gate, so rows are re-read, never carried across them).
 * Answers the session id; every failure after the state is spent fails the session (reason ends
 * "Nothing was stored.") and revokes tokens the provider already issued where that is safe
 * (revokeNewGrant). Statuses: the error's own below 500, else 502 (the provider, not us).
 */
export async function finishConnect(context: () => VaultContext, env: ConnectEnv, actor: Actor, p: Principal, cb: ConnectCallback): Promise<{ session: string }> {
  const ctx = context();
  const stateHash = await hashToken(cb.state);
  const st = await consumeState(ctx, p, stateHash);
  const session = st.session.id;
  let grant: NewGrant | undefined;
  const clientRef = stateClient(ctx, stateHash);
  try {
    const cfg = connectConfig(await providerConfigFor(ctx, env, st.session.app, clientRef), st);
    if (cb.error) {
      // The callback's `error` is whatever the address bar held: it is kept in the session and the audit row, and shown.
      const reason = cb.error === "access_denied" ? `You declined access at ${cfg.app}; nothing was stored.` : `${cfg.app} answered: ${outsideText(cb.error, 200)}. Nothing was stored.`;
      failSession(ctx, actor, session, reason);
      throw new AppError("upstream_error", reason, { fix: "Start the connection again to retry.", status: 400 });
    }
    if (!cb.code) throw new AppError("upstream_error", "The provider sent no authorization code.");
    const timeoutMs = timeoutFor(env, "provider");
    const data = await exchangeCode(cfg, st.redirectUri, cb.code, st.verifier, timeoutMs);
    if (cfg.slack) {
      await installFromSlack(context, env, actor, p, stateHash, data);
      return { session };
    }
    const tokens = tokenSet(data, Date.now(), cfg.scopeSeparator, cfg.scopes);
    grant = { session, app: cfg.app, tokens: { accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) }, account: null, clientRef };
    const connection = await readConnection(context, env, cfg, data, tokens.accessToken, cb.params ?? {}, st.connection, timeoutMs);
    const account = await identify(cfg, data, tokens.accessToken, timeoutMs, connection);
    grant.account = account.id;
    const now = context();
    await storeConnection(now, actor, p, consumedState(now, p, stateHash), tokens, account, clientRef, connection);
    return { session };
  } catch (e) {
    const error = e instanceof AppError ? e : internal(e);
    const now = context();
    // A no-op when the session already ended (declined consent above, a refused account in storeConnection).
    failSession(now, actor, session, `${error.message} Nothing was stored.`);
    if (grant) await revokeNewGrant(now, env, actor, grant);
    throw new AppError(error.code, error.message, { fix: error.fix, details: error.details, status: error.httpStatus < 500 ? error.httpStatus : 502 });
  }
}

/** The client an OAuth state was begun with (null: the platform's). */
function stateClient(ctx: VaultContext, stateHash: string): string | null {
  const r = ctx.sql.exec(`SELECT oauth_client FROM oauth_states WHERE state_hash = ?`, stateHash).toArray()[0];
  return r?.oauth_client == null ? null : String(r.oauth_client);
}

/**
 * The new credential's connection data (SPEC section 13), read where the catalog declares each
 * value: the token answer, the callback, the id_token, a lookup with the new token (Atlassian's
 * accessible resources; the sandbox's in dev), or what the form asked before the redirect.
 */
async function readConnection(context: () => VaultContext, env: ConnectEnv, cfg: ProviderConfig, data: Record<string, unknown>, accessToken: string, params: Record<string, string>, form: Connection, timeoutMs: number): Promise<Connection> {
  const app = getApp(cfg.app);
  const specs = app?.kind === "oauth" ? app.provider.connection : [];
  if (specs.length === 0) return {};
  const sandbox = outbound(context(), env).sandboxUrl;
  const lookups: Record<string, unknown> = {};
  for (const url of lookupUrls(specs)) {
    const at = sandbox ? `${sandbox}/_sandbox/oauth/${cfg.app}/${new URL(url).pathname.split("/").pop()}` : url;
    lookups[url] = await lookupJson(at, accessToken, timeoutMs);
  }
  const idToken = typeof data.id_token === "string" ? idTokenClaims(data.id_token) : null;
  return capturedConnection(specs, { token: data, callback: params, idToken, lookups, form }, app?.name ?? cfg.app);
}

function internal(e: unknown): AppError {
  console.error("connect callback error", e instanceof Error ? e.name : typeof e);
  return new AppError("internal", "Something went wrong while connecting.");
}

/**
 * A Slack bot install: the workspace and its bot (the bot id from auth.test; oauth.v2.access does
 * not carry it), recorded with the route team -> org, completing the session with its credential.
 * No grant to revoke on failure: a reinstall answers the workspace's live bot token.
 */
async function installFromSlack(context: () => VaultContext, env: ConnectEnv, actor: Actor, p: Principal, stateHash: string, data: Record<string, unknown>): Promise<void> {
  const ctx = context();
  const st = consumedState(ctx, p, stateHash);
  const spec = slackInstallSpec(data, p.member);
  // A Slack install is org-wide: only someone who may still manage the org (the role may have changed at the provider's page).
  stillManages(ctx, p, [{ type: "org" }]);
  const out = outbound(ctx, env);
  spec.botId = (await slackAuthTest(out.slackApiUrl, spec.botToken, out.timeouts.slack)).botId;
  const r = await installSlack(context, env, spec);
  const now = context();
  now.storage.transactionSync(() => finishSession(now, actor, st.session, { ids: [r.credential] }));
}
