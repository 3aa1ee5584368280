import type { App } from "../../lib/catalog";
import { credentialAad, open, seal } from "../../lib/crypto";
import { AppError, invalidField } from "../../lib/errors";
import { checkFields, previewOf } from "../../lib/fields";
import { can, canSeePreview, isAdmin, type CredentialAction, type Principal } from "../../lib/permissions";
import { findRefMatches, matchRef, parseRef, type CredentialRef } from "../../lib/refs";
import { decodeCursor, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, nextCursor } from "../../lib/paging";
import type { Scope, Target } from "../../lib/schemas/common";
import type {
  Credential,
  ListCredentialsQuery,
  RotateCredentialBody,
  SetCredentialsBody,
  UpdateCredentialBody,
} from "../../lib/schemas/credentials";
import { newId } from "../../lib/tokens";
import { appDefinition, refusePrivateOutsideUser } from "./apps";
import { writeAudit } from "./audit";
import { fieldConnection } from "../../lib/connection";
import type { Connection } from "../../lib/schemas/connection";
import type { Actor, VaultContext } from "./context";
import { CredentialRow, rowScope, scopeKey, scopeLabel, selectCredentials, STATUS_SQL, toCandidate, toCredential, tokenGeneration } from "./credential-rows";
import { remedy } from "../../lib/fixes";
import type { Verdict } from "../../lib/health";
import type { CheckResult } from "../../lib/schemas/credentials";
import { applyHealth, checkResult, refuseVerifyWithoutProbe, verdictChange } from "./health";
import { loadPrincipal } from "./auth";

function deny(ctx: VaultContext, actor: Actor, action: string, what: string, scope: Scope, credentialId?: string): never {
  // The denied attempt is audited; the error itself is thrown to the caller.
  writeAudit(ctx, actor, { action, outcome: "denied", credentialId, target: scopeLabel(scope) });
  throw new AppError("forbidden", `You may not ${what} credentials at ${scopeLabel(scope)}.`, {
    fix: scope.type === "org" ? "Ask an org owner or admin." : scope.type === "project" ? `Ask an admin of project ${scope.project}.` : "Only that user can.",
  });
}

function authorize(ctx: VaultContext, actor: Actor, p: Principal, action: CredentialAction, auditAction: string, scope: Scope, credentialId?: string): void {
  if (!can(p, action, scope)) deny(ctx, actor, auditAction, action === "view" ? "see" : action, scope, credentialId);
}

/**
 * The caller may still manage these scopes, by the member's role as stored now: checked again
 * inside a write's transaction when an await (a probe, sealing, a provider call) separated it from
 * the first check, so a demotion or a project removal meanwhile stops the write.
 */
export function stillManages(ctx: VaultContext, p: Principal, scopes: readonly Scope[]): void {
  const now = loadPrincipal(ctx, p.member);
  for (const scope of scopes) {
    if (!can(now, "manage", scope)) {
      throw new AppError("forbidden", `You can no longer manage ${scopeLabel(scope)}: your role changed while this was being written. Nothing was written.`, { fix: "Ask an org admin.", details: { target: scopeLabel(scope) } });
    }
  }
}


async function sealAll(ctx: VaultContext, credentialId: string, fields: Record<string, string>): Promise<[string, string][]> {
  return Promise.all(
    Object.entries(fields).map(async ([field, value]) => [field, await seal(ctx.ring, ctx.orgId, value, credentialAad(ctx.orgId, credentialId, field))] as [string, string]),
  );
}

function liveRow(ctx: VaultContext, app: string, scope: Scope, slug: string): CredentialRow | undefined {
  const k = scopeKey(scope);
  return selectCredentials(ctx, "app = ? AND scope_type = ? AND scope_id = ? AND slug = ? AND status != 'revoked'", app, k.type, k.id, slug)[0];
}

export function projectExists(ctx: VaultContext, slug: string): boolean {
  return ctx.sql.exec(`SELECT 1 FROM projects WHERE slug = ?`, slug).toArray().length > 0;
}

function uniqueViolation(e: unknown): boolean {
  return e instanceof Error && /UNIQUE constraint failed/.test(e.message);
}

/**
 * Write targets as scopes: `user` is the caller; duplicates and unknown projects are bad input;
 * every target must be manageable by the caller, or nothing is written (the denial is audited).
 */
export function targetScopes(ctx: VaultContext, actor: Actor, p: Principal, targets: readonly Target[], auditAction: string): Scope[] {
  const seen = new Set<string>();
  const scopes: Scope[] = targets.map((t, i) => {
    const scope: Scope = t.type === "user" ? { type: "user", user: p.member } : t;
    const label = scopeLabel(scope);
    if (seen.has(label)) throw invalidField(`targets[${i}]`, `The target ${label} is named twice.`);
    seen.add(label);
    // Permission before existence: a builder must not learn which project names exist.
    authorize(ctx, actor, p, "manage", auditAction, scope);
    if (scope.type === "project" && !projectExists(ctx, scope.project)) {
      throw invalidField(`targets[${i}].project`, `There is no project \`${scope.project}\`.`, "See the projects with GET /v1/projects.");
    }
    return scope;
  });
  return scopes;
}

/** Runs an app's probe on a value (vault/health.ts runProbe, bound to the vault's env). */
export type Prober = (app: string, fields: Record<string, string>) => Promise<Verdict>;
const UNCHECKED: Verdict = { result: "skipped", message: "Not checked (verify: false)." };

/** Set: one credential per target, all-or-nothing, idempotent per app + slug + target. */
/** `within` runs in the write's own transaction, with the ids written: if it throws, nothing is written. */
export async function setCredentials(ctx: VaultContext, actor: Actor, p: Principal, body: SetCredentialsBody, probe?: Prober, within?: (ids: string[]) => void): Promise<Credential[]> {
  return (await setCredentialsChecked(ctx, actor, p, body, probe, within)).credentials;
}

/**
 * Set, with the probe's verdict: checked after validation and permissions (a refused set calls
 * nobody) and before the write, so the rows are stored with their health in one transaction and
 * an invalid key is never, even for a moment, handed out.
 */
export async function setCredentialsChecked(ctx: VaultContext, actor: Actor, p: Principal, body: SetCredentialsBody, probe?: Prober, within?: (ids: string[]) => void): Promise<{ credentials: Credential[]; checks: CheckResult[] }> {
  refuseVerifyWithoutProbe(body.app, body.verify);
  const def = appDefinition(ctx, p, body.app, Object.keys(body.fields));
  const { app, createOrg: isNew } = def;
  checkFields(app, body.fields, { partial: false, oauthFix: `Run \`keystroke connect ${app.slug}\`.` });
  const connection = withFieldConnection(app, body);
  const scopes = targetScopes(ctx, actor, p, body.targets ?? [{ type: "org" }], "credential.set");
  if (def.private) refusePrivateOutsideUser(ctx, actor, app.slug, scopes);
  const verdict = probe && body.verify !== false ? await probe(app.slug, body.fields) : UNCHECKED;

  const slug = body.slug ?? "default";
  // Sealing awaits, and the AAD binds the credential id; when a concurrent set created or replaced
  // the row meanwhile, plan again with the id it now has. Each attempt is cheap; a few always settle.
  for (let attempt = 0; ; attempt++) {
    try {
      const ids = await writeSet(ctx, actor, p, app, isNew, scopes, slug, body, verdict, connection, within);
      const rows = ids.map((id) => selectCredentials(ctx, "id = ?", id)[0]!);
      return { credentials: rows.map((row) => toCredential(row, { showPreview: true })), checks: rows.map((row) => checkResult(row, verdict)) };
    } catch (e) {
      if (!(e instanceof ConcurrentWrite) || attempt >= 8) throw e instanceof ConcurrentWrite ? new AppError("conflict", "The credential kept changing while it was being written.", { fix: "Run the same command again." }) : e;
    }
  }
}

class ConcurrentWrite extends Error {}

/**
 * Connection data held in an API-key app's own fields (Freshdesk's subdomain, SPEC section 13):
 * checked by its rule, and the field normalised to the checked value (lowercased) in `body`.
 */
function withFieldConnection(app: App, body: { fields: Record<string, string> }): Connection {
  if (app.kind !== "api_key" || app.connection.length === 0) return {};
  const connection = fieldConnection(app.connection, body.fields, app.name);
  for (const spec of app.connection) if (spec.from === "field" && connection[spec.key] !== undefined) body.fields[spec.field] = connection[spec.key]!;
  return connection;
}

async function writeSet(ctx: VaultContext, actor: Actor, p: Principal, app: App, isNew: boolean, scopes: Scope[], slug: string, body: SetCredentialsBody, verdict: Verdict, connection: Connection, within?: (ids: string[]) => void): Promise<string[]> {
  const preview = previewOf(app, body.fields);
  const plan = scopes.map((scope) => ({ scope, existing: liveRow(ctx, app.slug, scope, slug) }));
  const sealed = await Promise.all(plan.map(async (t) => {
    const id = t.existing?.id ?? newId("cred");
    return { ...t, id, fields: await sealAll(ctx, id, body.fields) };
  }));

  return ctx.storage.transactionSync(() => {
    stillManages(ctx, p, scopes);
    // A project deleted while the probe ran gets no credential (a project made again later must not inherit it).
    scopes.forEach((scope, i) => {
      if (scope.type === "project" && !projectExists(ctx, scope.project)) throw invalidField(`targets[${i}].project`, `The project ${scope.project} was deleted while the credential was being written.`, "Pick another target.");
    });
    if (isNew) {
      ctx.sql.exec(`INSERT OR IGNORE INTO custom_apps (slug, fields, created_by, created_at) VALUES (?, ?, ?, ?)`, app.slug, JSON.stringify(Object.keys(body.fields)), p.member, ctx.now);
    }
    for (const t of sealed) {
      const current = liveRow(ctx, app.slug, t.scope, slug);
      if (current?.id !== t.existing?.id) {
        throw new ConcurrentWrite();
      }
      const k = scopeKey(t.scope);
      if (t.existing) {
        ctx.sql.exec(
          `UPDATE credentials SET name = ?, preview = ?, connection = ?, updated_at = ?, rotated_at = ? WHERE id = ?`,
          body.name ?? t.existing.name, preview, JSON.stringify(connection), ctx.now, ctx.now, t.id,
        );
        ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, t.id);
      } else {
        ctx.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, connection, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'api_key', 'active', ?, ?, ?, ?, ?)`,
          t.id, app.slug, slug, body.name ?? slug, k.type, k.id, preview, JSON.stringify(connection), p.member, ctx.now, ctx.now,
        );
      }
      for (const [field, value] of t.fields) {
        ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, ?, ?)`, t.id, field, value);
      }
      writeAudit(ctx, actor, {
        action: t.existing ? "credential.replace" : "credential.create",
        credentialId: t.id,
        target: scopeLabel(t.scope),
        detail: { app: app.slug, slug, fields: Object.keys(body.fields) },
      });
      // The health of the new value, against the state before it (a replaced invalid key that works recovers).
      const before = current ?? selectCredentials(ctx, "id = ?", t.id)[0]!;
      applyHealth(ctx, actor, before, verdictChange(before, verdict, true));
    }
    within?.(sealed.map((t) => t.id));
    return sealed.map((t) => t.id);
  });
}

/**
 * What a principal may see, as SQL (the same rule as `can(p, "view", ...)`): admins everything;
 * others org rows, their own user rows and the rows of their projects.
 */
function visibleWhere(p: Principal): { sql: string; args: string[] } {
  if (isAdmin(p)) return { sql: "", args: [] };
  const projects = Object.keys(p.projects);
  // One bound value for all of them (a JSON list): a statement takes at most 100, and a member may be in more projects.
  const inProjects = projects.length ? ` OR (scope_type = 'project' AND scope_id IN (SELECT value FROM json_each(?)))` : "";
  return { sql: `(scope_type = 'org' OR (scope_type = 'user' AND scope_id = ?)${inProjects})`, args: [p.member, ...(projects.length ? [JSON.stringify(projects)] : [])] };
}

const LIST = "credentials";
const pageKey = (r: CredentialRow) => [r.app, r.scope_type, r.scope_id, r.slug, r.id] as const;

/**
 * One page of the credentials the principal can see, in reference order (app, scope, slug, id),
 * keyset-paged on index credentials_page: the cost of a page does not grow with the org.
 */
export function listCredentials(ctx: VaultContext, p: Principal, q: ListCredentialsQuery): { credentials: Credential[]; next_cursor: string | null } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.app) { where.push("app = ?"); args.push(q.app); }
  // The shown status is the stored one refined by health (credential-rows STATUS_SQL).
  if (q.status) where.push(STATUS_SQL[q.status]);
  if (q.attention === "true") where.push(STATUS_SQL.attention);
  if (q.scope) {
    const [type, id] = q.scope.split(":");
    where.push("scope_type = ?");
    args.push(type!);
    if (type === "user") { where.push("scope_id = ?"); args.push(id ?? p.member); }
    else if (id) { where.push("scope_id = ?"); args.push(id); }
  }
  const visible = visibleWhere(p);
  if (visible.sql) { where.push(visible.sql); args.push(...visible.args); }
  if (q.cursor !== undefined) {
    where.push("(app, scope_type, scope_id, slug, id) > (?, ?, ?, ?, ?)");
    args.push(...decodeCursor(LIST, q.cursor, "sssss"));
  }
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  const rows = ctx.sql
    .exec(`SELECT * FROM credentials ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY app, scope_type, scope_id, slug, id LIMIT ?`, ...args, limit + 1)
    .toArray()
    .map((r) => CredentialRow.parse(r));
  const shown = rows.slice(0, limit).filter((row) => can(p, "view", rowScope(row)));
  return {
    credentials: shown.map((row) => toCredential(row, { showPreview: canSeePreview(p, rowScope(row)) })),
    next_cursor: nextCursor(LIST, rows, limit, pageKey),
  };
}

/** Every credential the principal can see, page after page: the pickers of the Assignments and Audit pages. */
export function everyCredential(ctx: VaultContext, p: Principal): Credential[] {
  const out: Credential[] = [];
  for (let cursor: string | undefined; ;) {
    const page = listCredentials(ctx, p, { limit: MAX_PAGE_LIMIT, ...(cursor ? { cursor } : {}) });
    out.push(...page.credentials);
    if (page.next_cursor === null) return out;
    cursor = page.next_cursor;
  }
}

/** The apps the principal has credentials of (the Apps page's filter), from index credentials_by_app. */
export function credentialApps(ctx: VaultContext, p: Principal): string[] {
  const visible = visibleWhere(p);
  return ctx.sql
    .exec(`SELECT DISTINCT app FROM credentials ${visible.sql ? "WHERE " + visible.sql : ""} ORDER BY app`, ...visible.args)
    .toArray()
    .map((r) => String(r.app));
}

/**
 * The rows a reference can name, through an index (credentials_by_slug, or the primary key for an
 * id), among those the principal can see: every match has the reference's slug, so nothing else
 * is read however many credentials the org has.
 */
/**
 * The rows a reference can name among those the principal may see: by id through the primary
 * key, else through credentials_by_slug. `+app` keeps SQLite from choosing an index on app
 * instead (with no statistics it prefers credentials_page, which reads every credential of the
 * app: a thousand rows in a large org for the one the slug names).
 */
export function refWhere(p: Principal, ref: CredentialRef): { sql: string; args: string[] } {
  const visible = visibleWhere(p);
  const where = ["id" in ref ? "id = ?" : "slug = ?"];
  const args: string[] = ["id" in ref ? ref.id : ref.slug];
  if (!("id" in ref) && ref.app !== undefined) { where.push("+app = ?"); args.push(ref.app); }
  if (visible.sql) { where.push(visible.sql); args.push(...visible.args); }
  return { sql: where.join(" AND "), args };
}

function refCandidates(ctx: VaultContext, p: Principal, ref: CredentialRef): CredentialRow[] {
  const { sql, args } = refWhere(p, ref);
  return selectCredentials(ctx, sql, ...args).filter((row) => can(p, "view", rowScope(row)));
}

/** Finds the one credential a reference names among those the principal can see. */
export function findByRef(ctx: VaultContext, p: Principal, raw: string): CredentialRow {
  const ref = parseRef(raw, "ref");
  const visible = refCandidates(ctx, p, ref);
  if ("id" in ref) {
    // An id names one row outright; admins reach other users' credentials (to revoke them) this way.
    const row = visible.find((r) => r.id === ref.id);
    if (!row) throw new AppError("not_found", `No credential matches \`${ref.id}\``, remedy({ do: "list_credentials" }, { field: "ref" }));
    return row;
  }
  // A revoked row keeps its slug for the audit trail only: a live credential that reuses the slug wins.
  const live = visible.filter((row) => row.status !== "revoked");
  const liveHits = findRefMatches(ref, live.map(toCandidate), { user: p.member });
  const pool = liveHits.length > 0 ? live : visible;
  const match = matchRef(ref, pool.map(toCandidate), { user: p.member, field: "ref" });
  return pool.find((row) => row.id === match.id)!;
}

export function getCredential(ctx: VaultContext, p: Principal, ref: string): Credential {
  const row = findByRef(ctx, p, ref);
  return toCredential(row, { showPreview: canSeePreview(p, rowScope(row)) });
}

function requireLive(row: CredentialRow): void {
  if (row.status === "revoked") {
    throw new AppError("conflict", `The credential ${row.app}/${row.slug} is revoked; its row is kept only for the audit trail.`, {
      fix: "Set a new credential instead.",
    });
  }
}

export function updateCredential(ctx: VaultContext, actor: Actor, p: Principal, ref: string, body: UpdateCredentialBody): Credential {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  authorize(ctx, actor, p, "manage", "credential.update", scope, row.id);
  requireLive(row);
  try {
    ctx.storage.transactionSync(() => {
      if (body.name !== undefined || body.slug !== undefined) {
        ctx.sql.exec(`UPDATE credentials SET name = ?, slug = ?, updated_at = ? WHERE id = ?`, body.name ?? row.name, body.slug ?? row.slug, ctx.now, row.id);
        writeAudit(ctx, actor, {
          action: "credential.rename",
          credentialId: row.id,
          target: scopeLabel(scope),
          detail: { app: row.app, from: { slug: row.slug, name: row.name }, to: { slug: body.slug ?? row.slug, name: body.name ?? row.name } },
        });
      }
      if (body.default === true) {
        // Clear the old default and set the new one in the same transaction: there is never a moment with two.
        const k = scopeKey(scope);
        ctx.sql.exec(`UPDATE credentials SET is_default = 0, updated_at = ? WHERE app = ? AND scope_type = ? AND scope_id = ? AND is_default = 1 AND id != ?`, ctx.now, row.app, k.type, k.id, row.id);
        ctx.sql.exec(`UPDATE credentials SET is_default = 1, updated_at = ? WHERE id = ?`, ctx.now, row.id);
        writeAudit(ctx, actor, { action: "credential.set_default", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: body.slug ?? row.slug } });
      } else if (body.default === false && row.is_default === 1) {
        ctx.sql.exec(`UPDATE credentials SET is_default = 0, updated_at = ? WHERE id = ?`, ctx.now, row.id);
        writeAudit(ctx, actor, { action: "credential.unset_default", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app } });
      }
    });
  } catch (e) {
    if (uniqueViolation(e)) {
      throw invalidField("slug", `Another ${row.app} credential at ${scopeLabel(scope)} is already called \`${body.slug}\`.`, "Pick another slug.");
    }
    throw e;
  }
  return toCredential(selectCredentials(ctx, "id = ?", row.id)[0]!, { showPreview: canSeePreview(p, scope) });
}

export async function rotateCredential(ctx: VaultContext, actor: Actor, p: Principal, ref: string, body: RotateCredentialBody, probe?: Prober): Promise<Credential & { check: CheckResult }> {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  authorize(ctx, actor, p, "manage", "credential.rotate", scope, row.id);
  requireLive(row);
  if (row.kind !== "api_key") {
    throw new AppError("invalid_request", `${row.app}/${row.slug} is an OAuth connection; its tokens rotate themselves.`, remedy({ do: "reconnect", app: row.app, ref: `${row.app}/${row.slug}` }, { field: "ref" }));
  }
  const { app } = appDefinition(ctx, p, row.app, Object.keys(body.fields));
  checkFields(app, body.fields, { partial: true, oauthFix: `Run \`keystroke connect ${app.slug}\`.` });
  withFieldConnection(app, body);
  const sealed = await sealAll(ctx, row.id, body.fields);
  const merged = await openFields(ctx, row.id);
  Object.assign(merged, body.fields);
  const connection = withFieldConnection(app, { fields: merged });
  const preview = previewOf(app, merged);
  refuseVerifyWithoutProbe(row.app, body.verify);
  // The merged value is what will be in use: that is what the probe checks, before it is stored.
  const verdict = probe && body.verify !== false ? await probe(row.app, merged) : UNCHECKED;
  ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", row.id)[0]!;
    requireLive(current);
    stillManages(ctx, p, [scope]);
    for (const [field, value] of sealed) {
      ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, ?, ?) ON CONFLICT(credential_id, field) DO UPDATE SET sealed = excluded.sealed`, row.id, field, value);
    }
    ctx.sql.exec(`UPDATE credentials SET preview = ?, connection = ?, rotated_at = ?, updated_at = ? WHERE id = ?`, preview, JSON.stringify(connection), ctx.now, ctx.now, row.id);
    writeAudit(ctx, actor, { action: "credential.rotate", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug, fields: Object.keys(body.fields) } });
    applyHealth(ctx, actor, current, verdictChange(current, verdict, true));
  });
  const after = selectCredentials(ctx, "id = ?", row.id)[0]!;
  return { ...toCredential(after, { showPreview: true }), check: checkResult(after, verdict) };
}

/** Revoke destroys the secret material; the row stays as `revoked` for the audit trail. */
export async function revokeCredential(
  ctx: VaultContext,
  actor: Actor,
  p: Principal,
  ref: string,
  upstream?: (app: string, tokens: Record<string, string>, credentialId: string) => Promise<boolean>,
): Promise<Credential> {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  authorize(ctx, actor, p, "revoke", "credential.revoke", scope, row.id);
  if (row.status !== "revoked") {
    // OAuth tokens are read before they are destroyed, to revoke them at the provider afterwards.
    // Opening awaits: a refresh that rotated them meanwhile (token_generation moved) is read again,
    // so the provider is told the newest refresh token, not one it already retired.
    let tokens: Record<string, string> | null = null;
    for (let read = 0; row.kind === "oauth" && upstream && read < 3; read++) {
      const generation = tokenGeneration(ctx, row.id);
      tokens = await openFields(ctx, row.id);
      if (tokenGeneration(ctx, row.id) === generation) break;
    }
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, row.id);
      ctx.sql.exec(`UPDATE credentials SET status = 'revoked', health = NULL, status_reason = 'revoked_by_member', is_default = 0, preview = NULL, revoked_at = ?, updated_at = ? WHERE id = ?`, ctx.now, ctx.now, row.id);
      writeAudit(ctx, actor, { action: "credential.revoke", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug } });
    });
    if (tokens && upstream) {
      const revoked = await upstream(row.app, tokens, row.id);
      writeAudit({ ...ctx, now: Date.now() }, actor, { action: "credential.revoke_upstream", outcome: revoked ? "ok" : "failed", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app } });
    }
  }
  return toCredential(selectCredentials(ctx, "id = ?", row.id)[0]!, { showPreview: canSeePreview(p, scope) });
}

/** Opens a credential's sealed fields. Only the runtime resolve path may hand these out. */
export async function openFields(ctx: VaultContext, credentialId: string): Promise<Record<string, string>> {
  const rows = ctx.sql.exec(`SELECT field, sealed FROM secret_fields WHERE credential_id = ?`, credentialId).toArray();
  const out: Record<string, string> = {};
  for (const r of rows) {
    const field = String(r.field);
    out[field] = await open(ctx.ring, ctx.orgId, String(r.sealed), credentialAad(ctx.orgId, credentialId, field));
  }
  return out;
}
