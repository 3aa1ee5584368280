import { z } from "zod";
import { parseStringList } from "../../lib/schemas/common";
import { customApp, getApp, type App, type OAuthApp } from "../../lib/catalog";
import { formConnection, requestedScopes } from "../../lib/connection";
import { Connection } from "../../lib/schemas/connection";
import { open, seal } from "../../lib/crypto";
import { AppError, invalidField } from "../../lib/errors";
import { can, isAdmin, type Principal } from "../../lib/permissions";
import type { Scope } from "../../lib/schemas/common";
import type { ConnectChoice, ConnectOptions, ConnectSession, CreateConnectSessionBody } from "../../lib/schemas/connect";
import type { Credential } from "../../lib/schemas/credentials";
import { slugify } from "../../lib/fields";
import { newId } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { connectionOf, rowScope, scopeKey, scopeLabel, selectCredentials, toCredential } from "./credential-rows";
import { findByRef, setCredentials, targetScopes, type Prober } from "./credentials";
import { remedy } from "../../lib/fixes";
import { oauthAppOf, withOrgClientDefaults } from "./oauth-clients";

/** Connect sessions (SPEC section 6): single use, 30 minutes, bound to the member who made them. */
export const SESSION_TTL_MS = 30 * 60_000;
/** An OAuth state lives as long as a person plausibly spends on the provider's consent page. */
export const STATE_TTL_MS = 15 * 60_000;
/**
 * Retention (docs/storage.md): a session stays readable for 7 days after it expired, so a late
 * `keystroke connect` poll or page still shows its outcome (the audit log keeps the history); a
 * state a day past its expiry, so a late callback still reads "expired" rather than "unknown".
 */
export const SESSION_RETENTION_MS = 7 * 24 * 60 * 60_000;
export const STATE_RETENTION_MS = 24 * 60 * 60_000;
const PRUNE_BATCH = 100;

/** Deletes a bounded batch of sessions and states past retention; run on every write that adds one. */
export function pruneConnect(ctx: VaultContext): void {
  const sessionsBefore = ctx.now - SESSION_RETENTION_MS;
  ctx.sql.exec(`DELETE FROM oauth_states WHERE rowid IN (SELECT rowid FROM oauth_states WHERE expires_at < ? LIMIT ?)`, ctx.now - STATE_RETENTION_MS, PRUNE_BATCH);
  const old = `SELECT id FROM connect_sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?`;
  // States first: they reference their session.
  ctx.sql.exec(`DELETE FROM oauth_states WHERE session_id IN (${old})`, sessionsBefore, PRUNE_BATCH);
  ctx.sql.exec(`DELETE FROM connect_sessions WHERE id IN (${old})`, sessionsBefore, PRUNE_BATCH);
}

const SessionRow = z.object({
  id: z.string(),
  app: z.string(),
  member_id: z.string(),
  status: z.enum(["pending", "completed", "failed"]),
  name: z.string().nullable(),
  reconnect_id: z.string().nullable(),
  allow_account_change: z.number(),
  scopes: z.string(),
  credential_ids: z.string(),
  error: z.string().nullable(),
  created_at: z.number(),
  expires_at: z.number(),
  finished_at: z.number().nullable(),
});
export type SessionRow = z.infer<typeof SessionRow>;

export const sessionUrl = (publicUrl: string, id: string) => `${publicUrl}/connect/${id}`;

function appOf(ctx: VaultContext, slug: string): App | null {
  const catalog = getApp(slug);
  // An org client's default scopes replace the app's (the form shows them, the connect asks for them).
  if (catalog) return catalog.kind === "oauth" ? withOrgClientDefaults(ctx, catalog) : catalog;
  const row = ctx.sql.exec(`SELECT fields, kind FROM custom_apps WHERE slug = ?`, slug).toArray()[0];
  if (row?.kind === "oauth") return withOrgClientDefaults(ctx, oauthAppOf(ctx, slug));
  return row ? customApp(slug, parseStringList(String(row.fields))) : null;
}

/** A session of this member; anyone else's is not found (its existence is not revealed). */
export function sessionOf(ctx: VaultContext, p: Principal, id: string): SessionRow {
  const raw = ctx.sql.exec(`SELECT * FROM connect_sessions WHERE id = ?`, id).toArray()[0];
  const row = raw ? SessionRow.parse(raw) : null;
  if (!row || row.member_id !== p.member) throw new AppError("not_found", "There is no such connect session.", remedy({ do: "new_connect_session" }));
  return row;
}

const EXPIRED = "The connect session expired.";

/**
 * Pending sessions past their time end as failed, once: when next looked at, or by the alarm at
 * their expiry (`settleExpiredSessions`). Either way with the `connect.fail` row, so the
 * `connect_session.failed` event goes out.
 */
function settleExpiry(ctx: VaultContext, row: SessionRow): SessionRow {
  if (row.status !== "pending" || row.expires_at > ctx.now) return row;
  expire(ctx, `id = ?`, row.id);
  return { ...row, status: "failed", error: EXPIRED, finished_at: ctx.now };
}

function expire(ctx: VaultContext, where: string, ...args: (string | number)[]): void {
  ctx.storage.transactionSync(() => {
    const ended = ctx.sql.exec(`UPDATE connect_sessions SET status = 'failed', error = ?, finished_at = ? WHERE status = 'pending' AND ${where} RETURNING id, app`, EXPIRED, ctx.now, ...args).toArray();
    for (const r of ended) writeAudit(ctx, null, { action: "connect.fail", outcome: "failed", target: String(r.id), detail: { app: String(r.app), reason: EXPIRED } });
  });
}

/** The alarm's share: every pending session past its time ends now; answers the next expiry (null: none pending). */
export function settleExpiredSessions(ctx: VaultContext): number | null {
  expire(ctx, `expires_at <= ?`, ctx.now);
  const next = ctx.sql.exec(`SELECT MIN(expires_at) AS t FROM connect_sessions WHERE status = 'pending'`).one().t;
  return next === null ? null : Number(next);
}

export function sessionView(ctx: VaultContext, p: Principal, row: SessionRow, publicUrl: string): ConnectSession {
  const ids = parseStringList(row.credential_ids);
  const credentials: Credential[] = ids.flatMap((id) => selectCredentials(ctx, "id = ?", id)).map((r) => toCredential(r, { showPreview: true }));
  const reconnect = row.reconnect_id ? selectCredentials(ctx, "id = ?", row.reconnect_id)[0] : undefined;
  return {
    id: row.id,
    app: row.app,
    url: sessionUrl(publicUrl, row.id),
    status: row.status,
    expires_at: iso(row.expires_at)!,
    reconnect: reconnect ? toCredential(reconnect, { showPreview: false }).ref : null,
    scopes: parseStringList(row.scopes),
    ...(row.status === "completed" ? { credentials } : {}),
    error: row.error,
  };
}

export function createSession(ctx: VaultContext, actor: Actor, p: Principal, body: CreateConnectSessionBody, publicUrl: string): ConnectSession {
  const app = appOf(ctx, body.app);
  if (!app) throw new AppError("invalid_request", `There is no app \`${body.app}\` in the catalog.`, remedy({ do: "list_apps" }, { field: "app" }));
  let reconnectId: string | null = null;
  if (body.reconnect !== undefined) {
    const row = findByRef(ctx, p, body.reconnect);
    if (row.app !== app.slug || row.kind !== "oauth") throw invalidField("reconnect", `${body.reconnect} is not a ${app.name} OAuth connection.`);
    if (row.status === "revoked") throw invalidField("reconnect", `${body.reconnect} is revoked; connect a new one instead.`);
    if (!can(p, "manage", rowScope(row))) {
      writeAudit(ctx, actor, { action: "connect.start", outcome: "denied", credentialId: row.id, target: scopeLabel(rowScope(row)), detail: { app: app.slug, reason: "reconnect" } });
      throw new AppError("forbidden", `You may not reconnect credentials at ${scopeLabel(rowScope(row))}.`);
    }
    reconnectId = row.id;
  }
  if (body.scopes !== undefined && app.kind !== "oauth") throw invalidField("scopes", `${app.name} takes an API key, not OAuth scopes.`, "Leave scopes out.");
  if (body.allow_account_change && !isAdmin(p)) {
    writeAudit(ctx, actor, { action: "connect.start", outcome: "denied", target: null, detail: { app: app.slug, reason: "allow_account_change" } });
    throw new AppError("forbidden", "Only org owners and admins may let a reconnect switch accounts.", { details: { field: "allow_account_change" } });
  }
  const id = newId("cs");
  ctx.storage.transactionSync(() => {
    pruneConnect(ctx);
    ctx.sql.exec(
      `INSERT INTO connect_sessions (id, app, member_id, status, name, reconnect_id, allow_account_change, scopes, created_at, expires_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
      id, app.slug, p.member, body.name ?? null, reconnectId, body.allow_account_change ? 1 : 0, JSON.stringify(body.scopes ?? []), ctx.now, ctx.now + SESSION_TTL_MS,
    );
    writeAudit(ctx, actor, { action: "connect.start", credentialId: reconnectId, target: id, detail: { app: app.slug, reconnect: reconnectId !== null, ...(body.scopes?.length ? { scopes: body.scopes } : {}) } });
  });
  return sessionView(ctx, p, sessionOf(ctx, p, id), publicUrl);
}

export function getSession(ctx: VaultContext, p: Principal, id: string, publicUrl: string): ConnectSession {
  return sessionView(ctx, p, settleExpiry(ctx, sessionOf(ctx, p, id)), publicUrl);
}

/** A session that can still be completed, or the reason it cannot. */
export function openSession(ctx: VaultContext, p: Principal, id: string): SessionRow {
  const row = settleExpiry(ctx, sessionOf(ctx, p, id));
  if (row.status !== "pending") {
    throw new AppError("conflict", row.status === "completed" ? "This connect session is already completed." : `This connect session failed: ${row.error ?? "unknown reason"}`, {
      ...remedy({ do: "new_connect_session" }),
    });
  }
  return row;
}

/** The session's app; a custom app deleted since the session began is a conflict, not a crash. */
function sessionApp(ctx: VaultContext, row: SessionRow): App {
  const app = appOf(ctx, row.app);
  if (!app) throw new AppError("conflict", `The app ${row.app} was deleted after this connect session began.`, { fix: "Ask an org admin to add the app again, then start a new connection." });
  return app;
}

export function connectOptions(ctx: VaultContext, p: Principal, id: string, publicUrl: string): ConnectOptions {
  const row = settleExpiry(ctx, sessionOf(ctx, p, id));
  const app = sessionApp(ctx, row);
  const projects = ctx.sql.exec(`SELECT slug FROM projects ORDER BY slug`).toArray().map((r) => String(r.slug)).filter((slug) => can(p, "manage", { type: "project", project: slug }));
  const fixed = row.reconnect_id ? selectCredentials(ctx, "id = ?", row.reconnect_id)[0] : undefined;
  return {
    session: sessionView(ctx, p, row, publicUrl),
    app: { slug: app.slug, name: app.name, kind: app.kind, fields: app.kind === "api_key" ? app.fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, optional: f.optional })) : [] },
    // A channel app (Slack) installs for the whole org only.
    targets: app.kind === "oauth" && app.channel ? { org: can(p, "manage", { type: "org" }), user: false, projects: [] } : { org: can(p, "manage", { type: "org" }), user: true, projects },
    fixed_target: fixed ? scopeLabel(rowScope(fixed)) : null,
    oauth: app.kind === "oauth" ? {
      default_scopes: requestedScopes(app.provider.scopes, fixed ? parseStringList(fixed.requested_scopes) : []),
      optional_scopes: app.provider.optionalScopes,
      chosen_scopes: parseStringList(row.scopes),
      connection: app.provider.connection.flatMap((c) => (c.from === "form" ? [{ key: c.key, label: c.label, suffix: c.suffix }] : [])),
      fixed_connection: fixed ? connectionOf(fixed) : null,
    } : null,
  };
}

function finish(ctx: VaultContext, actor: Actor | null, row: SessionRow, outcome: { ids: string[] } | { error: string }): void {
  ctx.sql.exec(`DELETE FROM oauth_states WHERE session_id = ?`, row.id);
  if ("ids" in outcome) {
    ctx.sql.exec(`UPDATE connect_sessions SET status = 'completed', credential_ids = ?, finished_at = ? WHERE id = ?`, JSON.stringify(outcome.ids), ctx.now, row.id);
    writeAudit(ctx, actor, { action: "connect.complete", target: row.id, detail: { app: row.app, credentials: outcome.ids } });
  } else {
    ctx.sql.exec(`UPDATE connect_sessions SET status = 'failed', error = ?, finished_at = ? WHERE id = ?`, outcome.error, ctx.now, row.id);
    writeAudit(ctx, actor, { action: "connect.fail", outcome: "failed", target: row.id, detail: { app: row.app, reason: outcome.error } });
  }
}

/** API-key apps: the web form's fields, written like `credentials set` (fan-out, all-or-nothing). */
export async function completeWithFields(ctx: VaultContext, actor: Actor, p: Principal, id: string, choice: ConnectChoice, fields: Record<string, string>, probe?: Prober): Promise<Credential[]> {
  const row = openSession(ctx, p, id);
  const name = choice.name ?? row.name ?? undefined;
  // Checked like `credentials set` (SPEC section 14): a refused key is stored as invalid, and the Apps page says so.
  // The session ends in the credentials' own transaction: a second submit of the same form (the
  // probe awaits) finds it completed and writes nothing.
  return setCredentials(ctx, actor, p, { app: row.app, fields, targets: choice.targets, slug: name ? slugify(name) ?? "default" : undefined, name }, probe, (ids) => finish(ctx, actor, openSession(ctx, p, id), { ids }));
}

export function failSession(ctx: VaultContext, actor: Actor | null, id: string, reason: string): void {
  const raw = ctx.sql.exec(`SELECT * FROM connect_sessions WHERE id = ?`, id).toArray()[0];
  if (!raw) return;
  const row = SessionRow.parse(raw);
  if (row.status === "pending") ctx.storage.transactionSync(() => finish(ctx, actor, row, { error: reason }));
}

export { finish as finishSession };

// ---- OAuth states ----

const StateRow = z.object({
  state_hash: z.string(),
  session_id: z.string(),
  verifier: z.string().nullable(),
  targets: z.string(),
  name: z.string().nullable(),
  redirect_uri: z.string(),
  scopes: z.string(),
  connection: z.string(),
  expires_at: z.number(),
});

const stateAad = (orgId: string, stateHash: string) => `${orgId}|oauth_state|${stateHash}`;

/** Records the state (hashed) and the PKCE verifier (sealed) before the browser leaves for the provider (oauth-connect.ts). */
export async function saveState(ctx: VaultContext, actor: Actor, p: Principal, id: string, choice: ConnectChoice, state: { hash: string; verifier: string | null; redirectUri: string }): Promise<SessionRow & AskedAtConnect> {
  const row = openSession(ctx, p, id);
  const app = sessionApp(ctx, row);
  if (app.kind !== "oauth") throw invalidField("app", `${app.name} takes secret fields, not an OAuth connection.`);
  let scopes: Scope[];
  if (row.reconnect_id) {
    scopes = [rowScope(selectCredentials(ctx, "id = ?", row.reconnect_id)[0]!)];
  } else if (app.kind === "oauth" && app.channel) {
    // A Slack install belongs to the whole org: its route and bindings are org-wide.
    scopes = targetScopes(ctx, actor, p, [{ type: "org" }], "connect.start");
  } else {
    scopes = targetScopes(ctx, actor, p, choice.targets, "connect.start");
  }
  const name = choice.name ?? row.name;
  // A Slack install names its credential after the workspace, not the form's name.
  if (!row.reconnect_id && name && !app.channel) refuseTakenName(ctx, app, name, scopes);
  const ask = askedAtConnect(ctx, app, row, choice);
  const verifier = state.verifier ? await seal(ctx.ring, ctx.orgId, state.verifier, stateAad(ctx.orgId, state.hash)) : null;
  pruneConnect(ctx);
  ctx.sql.exec(
    `INSERT INTO oauth_states (state_hash, session_id, verifier, targets, name, redirect_uri, scopes, connection, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    state.hash, row.id, verifier, JSON.stringify(scopes), choice.name ?? row.name, state.redirectUri, JSON.stringify(ask.scopes), JSON.stringify(ask.connection), ctx.now, Math.min(ctx.now + STATE_TTL_MS, row.expires_at),
  );
  return { ...row, requested: ask.scopes, connection: ask.connection };
}

/**
 * What the provider is asked for: the app's defaults, on a reconnect the scopes asked last time (a
 * step-up only adds), then the form's choice (else the session's extra scopes). The values asked
 * before the redirect (a subdomain) come from the form; a reconnect keeps its credential's.
 */
function askedAtConnect(ctx: VaultContext, app: OAuthApp, row: SessionRow, choice: ConnectChoice): { scopes: string[]; connection: Connection } {
  const fixed = row.reconnect_id ? selectCredentials(ctx, "id = ?", row.reconnect_id)[0] : undefined;
  const before = fixed ? parseStringList(fixed.requested_scopes) : [];
  const extra = choice.scopes ?? parseStringList(row.scopes);
  const scopes = requestedScopes(app.provider.scopes, before, extra);
  if (scopes.length > 50) throw invalidField("scopes", "A connection can ask for at most 50 scopes.");
  const connection = fixed ? connectionOf(fixed) : formConnection(app.provider.connection, choice.connection, app.name);
  return { scopes, connection };
}

/**
 * A new connection's name becomes its slug: one already live at a chosen target is refused here,
 * before the member goes to the provider (409 naming `name`), not after consent. Renewing that
 * credential is a reconnect.
 */
function refuseTakenName(ctx: VaultContext, app: App, name: string, scopes: Scope[]): void {
  const slug = slugify(name) ?? "default";
  for (const scope of scopes) {
    const k = scopeKey(scope);
    const taken = selectCredentials(ctx, "app = ? AND scope_type = ? AND scope_id = ? AND slug = ? AND status != 'revoked'", app.slug, k.type, k.id, slug)[0];
    if (taken) {
      const ref = toCredential(taken, { showPreview: false }).ref;
      throw new AppError("conflict", `There is already a ${app.name} connection named \`${slug}\` at ${scopeLabel(scope)} (${ref}).`, {
        fix: `Choose another name, or reconnect ${ref} to renew it.`,
        details: { field: "name" },
      });
    }
  }
}

/** The scopes a connect asks for and the connection values known before the redirect. */
export interface AskedAtConnect {
  requested: string[];
  connection: Connection;
}

export interface ConsumedState extends AskedAtConnect {
  session: SessionRow;
  verifier: string | null;
  scopes: Scope[];
  name: string | null;
  redirectUri: string;
}

const askedOf = (st: z.infer<typeof StateRow>): AskedAtConnect => ({ requested: parseStringList(st.scopes), connection: Connection.parse(JSON.parse(st.connection)) });

/**
 * Single use: the state is marked consumed in the same statement that reads it, so a second
 * callback with the same state finds nothing. The row stays until the connection is stored or
 * failed, holding the chosen targets.
 */
export async function consumeState(ctx: VaultContext, p: Principal, stateHash: string): Promise<ConsumedState> {
  const raw = ctx.sql.exec(`UPDATE oauth_states SET consumed_at = ? WHERE state_hash = ? AND consumed_at IS NULL RETURNING *`, ctx.now, stateHash).toArray()[0];
  if (!raw) throw new AppError("invalid_request", "This sign-in link is unknown or was already used.", { fix: "Start the connection again.", details: { field: "state" } });
  const st = StateRow.parse(raw);
  const session = SessionRow.parse(ctx.sql.exec(`SELECT * FROM connect_sessions WHERE id = ?`, st.session_id).one());
  if (session.member_id !== p.member) {
    // The state is spent (single use above), so the session can never complete: say so instead of leaving it pending.
    failSession(ctx, null, session.id, "The sign-in link was opened by another member, so it was discarded. Nothing was stored.");
    throw new AppError("forbidden", "This connection was started by someone else.", { fix: "Sign in as the member who started it." });
  }
  if (st.expires_at <= ctx.now) {
    failSession(ctx, null, session.id, "The connection took too long; the sign-in link expired.");
    throw new AppError("invalid_request", "The sign-in link expired.", { fix: "Start the connection again.", details: { field: "state" } });
  }
  if (settleExpiry(ctx, session).status !== "pending") {
    throw new AppError("conflict", "This connect session is no longer open.", { fix: "Start the connection again." });
  }
  const verifier = st.verifier ? await open(ctx.ring, ctx.orgId, st.verifier, stateAad(ctx.orgId, st.state_hash)) : null;
  return { session, verifier, scopes: z.array(z.any()).parse(JSON.parse(st.targets)) as Scope[], name: st.name, redirectUri: st.redirect_uri, ...askedOf(st) };
}

/** The consumed state of a callback in progress (between the code exchange and storing). */
export function consumedState(ctx: VaultContext, p: Principal, stateHash: string): ConsumedState {
  const raw = ctx.sql.exec(`SELECT * FROM oauth_states WHERE state_hash = ? AND consumed_at IS NOT NULL`, stateHash).toArray()[0];
  if (!raw) throw new AppError("invalid_request", "This sign-in link is unknown or was already used.", { details: { field: "state" } });
  const st = StateRow.parse(raw);
  const session = openSession(ctx, p, st.session_id);
  return { session, verifier: null, scopes: z.array(z.any()).parse(JSON.parse(st.targets)) as Scope[], name: st.name, redirectUri: st.redirect_uri, ...askedOf(st) };
}
