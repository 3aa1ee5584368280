import type { App } from "../../lib/catalog";
import { credentialAad, open, seal } from "../../lib/crypto";
import { AppError, invalidField } from "../../lib/errors";
import { checkFields, previewOf } from "../../lib/fields";
import { can, canSeePreview, type CredentialAction, type Principal } from "../../lib/permissions";
import { findRefMatches, matchRef, parseRef } from "../../lib/refs";
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
import type { Actor, VaultContext } from "./context";
import { rowScope, scopeKey, scopeLabel, selectCredentials, toCandidate, toCredential, type CredentialRow } from "./credential-rows";
import { remedy } from "../../lib/fixes";

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


async function sealAll(ctx: VaultContext, credentialId: string, fields: Record<string, string>): Promise<[string, string][]> {
  return Promise.all(
    Object.entries(fields).map(async ([field, value]) => [field, await seal(ctx.ring, ctx.orgId, value, credentialAad(ctx.orgId, credentialId, field))] as [string, string]),
  );
}

function liveRow(ctx: VaultContext, app: string, scope: Scope, slug: string): CredentialRow | undefined {
  const k = scopeKey(scope);
  return selectCredentials(ctx, "app = ? AND scope_type = ? AND scope_id = ? AND slug = ? AND status != 'revoked'", app, k.type, k.id, slug)[0];
}

function projectExists(ctx: VaultContext, slug: string): boolean {
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

/** Set: one credential per target, all-or-nothing, idempotent per app + slug + target. */
export async function setCredentials(ctx: VaultContext, actor: Actor, p: Principal, body: SetCredentialsBody): Promise<Credential[]> {
  const def = appDefinition(ctx, p, body.app, Object.keys(body.fields));
  const { app, createOrg: isNew } = def;
  checkFields(app, body.fields, { partial: false, oauthFix: `Run \`keystroke connect ${app.slug}\`.` });
  const scopes = targetScopes(ctx, actor, p, body.targets ?? [{ type: "org" }], "credential.set");
  if (def.private) refusePrivateOutsideUser(ctx, actor, app.slug, scopes);

  const slug = body.slug ?? "default";
  // Sealing awaits, and the AAD binds the credential id; when a concurrent set created or replaced
  // the row meanwhile, plan again with the id it now has. Each attempt is cheap; a few always settle.
  for (let attempt = 0; ; attempt++) {
    try {
      const ids = await writeSet(ctx, actor, p, app, isNew, scopes, slug, body);
      return ids.map((id) => toCredential(selectCredentials(ctx, "id = ?", id)[0]!, { showPreview: true }));
    } catch (e) {
      if (!(e instanceof ConcurrentWrite) || attempt >= 8) throw e instanceof ConcurrentWrite ? new AppError("conflict", "The credential kept changing while it was being written.", { fix: "Run the same command again." }) : e;
    }
  }
}

class ConcurrentWrite extends Error {}

async function writeSet(ctx: VaultContext, actor: Actor, p: Principal, app: App, isNew: boolean, scopes: Scope[], slug: string, body: SetCredentialsBody): Promise<string[]> {
  const preview = previewOf(app, body.fields);
  const plan = scopes.map((scope) => ({ scope, existing: liveRow(ctx, app.slug, scope, slug) }));
  const sealed = await Promise.all(plan.map(async (t) => {
    const id = t.existing?.id ?? newId("cred");
    return { ...t, id, fields: await sealAll(ctx, id, body.fields) };
  }));

  return ctx.storage.transactionSync(() => {
    if (isNew) {
      ctx.sql.exec(`INSERT OR IGNORE INTO custom_apps (slug, fields, created_by, created_at) VALUES (?, ?, ?, ?)`, app.slug, JSON.stringify(Object.keys(body.fields)), p.member, ctx.now);
    }
    for (const t of sealed) {
      if (liveRow(ctx, app.slug, t.scope, slug)?.id !== t.existing?.id) {
        throw new ConcurrentWrite();
      }
      const k = scopeKey(t.scope);
      if (t.existing) {
        ctx.sql.exec(
          `UPDATE credentials SET name = ?, preview = ?, updated_at = ?, rotated_at = ? WHERE id = ?`,
          body.name ?? t.existing.name, preview, ctx.now, ctx.now, t.id,
        );
        ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, t.id);
      } else {
        ctx.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'api_key', 'active', ?, ?, ?, ?)`,
          t.id, app.slug, slug, body.name ?? slug, k.type, k.id, preview, p.member, ctx.now, ctx.now,
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
    }
    return sealed.map((t) => t.id);
  });
}

export function listCredentials(ctx: VaultContext, p: Principal, q: ListCredentialsQuery): Credential[] {
  const where: string[] = [];
  const args: string[] = [];
  if (q.app) { where.push("app = ?"); args.push(q.app); }
  if (q.status) { where.push("status = ?"); args.push(q.status); }
  if (q.scope) {
    const [type, id] = q.scope.split(":");
    where.push("scope_type = ?");
    args.push(type!);
    if (type === "user") { where.push("scope_id = ?"); args.push(id ?? p.member); }
    else if (id) { where.push("scope_id = ?"); args.push(id); }
  }
  return selectCredentials(ctx, where.join(" AND "), ...args)
    .filter((row) => can(p, "view", rowScope(row)))
    .map((row) => toCredential(row, { showPreview: canSeePreview(p, rowScope(row)) }));
}

/** Finds the one credential a reference names among those the principal can see. */
export function findByRef(ctx: VaultContext, p: Principal, raw: string): CredentialRow {
  const ref = parseRef(raw, "ref");
  const visible = selectCredentials(ctx).filter((row) => can(p, "view", rowScope(row)));
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

export async function rotateCredential(ctx: VaultContext, actor: Actor, p: Principal, ref: string, body: RotateCredentialBody): Promise<Credential> {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  authorize(ctx, actor, p, "manage", "credential.rotate", scope, row.id);
  requireLive(row);
  if (row.kind !== "api_key") {
    throw new AppError("invalid_request", `${row.app}/${row.slug} is an OAuth connection; its tokens rotate themselves.`, remedy({ do: "reconnect", app: row.app, ref: `${row.app}/${row.slug}` }, { field: "ref" }));
  }
  const { app } = appDefinition(ctx, p, row.app, Object.keys(body.fields));
  checkFields(app, body.fields, { partial: true, oauthFix: `Run \`keystroke connect ${app.slug}\`.` });
  const sealed = await sealAll(ctx, row.id, body.fields);
  const merged = await openFields(ctx, row.id);
  Object.assign(merged, body.fields);
  const preview = previewOf(app, merged);
  ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", row.id)[0]!;
    requireLive(current);
    for (const [field, value] of sealed) {
      ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, ?, ?) ON CONFLICT(credential_id, field) DO UPDATE SET sealed = excluded.sealed`, row.id, field, value);
    }
    ctx.sql.exec(`UPDATE credentials SET preview = ?, rotated_at = ?, updated_at = ? WHERE id = ?`, preview, ctx.now, ctx.now, row.id);
    writeAudit(ctx, actor, { action: "credential.rotate", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug, fields: Object.keys(body.fields) } });
  });
  return toCredential(selectCredentials(ctx, "id = ?", row.id)[0]!, { showPreview: true });
}

/** Revoke destroys the secret material; the row stays as `revoked` for the audit trail. */
export async function revokeCredential(
  ctx: VaultContext,
  actor: Actor,
  p: Principal,
  ref: string,
  upstream?: (app: string, tokens: Record<string, string>) => Promise<boolean>,
): Promise<Credential> {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  authorize(ctx, actor, p, "revoke", "credential.revoke", scope, row.id);
  if (row.status !== "revoked") {
    // OAuth tokens are read before they are destroyed, to revoke them at the provider afterwards.
    const tokens = row.kind === "oauth" && upstream ? await openFields(ctx, row.id) : null;
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, row.id);
      ctx.sql.exec(`UPDATE credentials SET status = 'revoked', is_default = 0, preview = NULL, revoked_at = ?, updated_at = ? WHERE id = ?`, ctx.now, ctx.now, row.id);
      writeAudit(ctx, actor, { action: "credential.revoke", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug } });
    });
    if (tokens && upstream) {
      const revoked = await upstream(row.app, tokens);
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
