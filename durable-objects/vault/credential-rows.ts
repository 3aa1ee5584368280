import { z } from "zod";
import { parseStringList } from "../../lib/schemas/common";
import { formatRef, scopeLabel } from "../../lib/refs";
import type { CandidateCredential } from "../../lib/resolve";
import type { Scope } from "../../lib/schemas/common";
import { Connection } from "../../lib/schemas/connection";
import { Account, CredentialKind, HealthErrorCode, StatusReason, type Credential, type CredentialStatus, type LastError } from "../../lib/schemas/credentials";
import { shownStatus } from "../../lib/health";
import { iso, type VaultContext } from "./context";

/** A credentials row as stored; parsed on every read so a bad row fails loudly, not silently. */
export const CredentialRow = z.object({
  id: z.string(),
  app: z.string(),
  slug: z.string(),
  name: z.string(),
  scope_type: z.enum(["org", "user", "project"]),
  scope_id: z.string(),
  is_default: z.number(),
  kind: CredentialKind,
  /** Stored: handed out (active), not (needs_reauth) or gone (revoked); `health` refines it (health-migration.ts). */
  status: z.enum(["active", "needs_reauth", "revoked"]),
  health: z.enum(["expiring", "invalid"]).nullable(),
  status_reason: StatusReason.nullable(),
  last_error_at: z.number().nullable(),
  last_error_code: HealthErrorCode.nullable(),
  last_error_message: z.string().nullable(),
  checked_at: z.number().nullable(),
  preview: z.string().nullable(),
  account: z.string().nullable(),
  scopes: z.string(),
  requested_scopes: z.string(),
  connection: z.string(),
  expires_at: z.number().nullable(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  rotated_at: z.number().nullable(),
  last_used_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});
export type CredentialRow = z.infer<typeof CredentialRow>;

export function rowScope(row: Pick<CredentialRow, "scope_type" | "scope_id">): Scope {
  if (row.scope_type === "org") return { type: "org" };
  if (row.scope_type === "user") return { type: "user", user: row.scope_id };
  return { type: "project", project: row.scope_id };
}

/** The (type, id) pair stored for a scope; org has the empty id so unique indexes cover it. */
export function scopeKey(scope: Scope): { type: Scope["type"]; id: string } {
  if (scope.type === "org") return { type: "org", id: "" };
  if (scope.type === "user") return { type: "user", id: scope.user };
  return { type: "project", id: scope.project };
}

/** The one scope label (lib/refs), re-exported for the vault modules that label rows. */
export { scopeLabel };

export function toCandidate(row: CredentialRow): CandidateCredential {
  return { id: row.id, app: row.app, slug: row.slug, name: row.name, scope: rowScope(row), default: row.is_default === 1, status: statusOf(row), status_reason: row.status_reason, scopes: parseStringList(row.scopes) };
}

export function toCredential(row: CredentialRow, opts: { showPreview: boolean }): Credential {
  // Each stored JSON column parsed once per view (the ref needs only app, scope and slug).
  const scope = rowScope(row);
  return {
    id: row.id,
    ref: formatRef({ app: row.app, scope, slug: row.slug }),
    app: row.app,
    slug: row.slug,
    name: row.name,
    scope,
    default: row.is_default === 1,
    kind: row.kind,
    status: statusOf(row),
    status_reason: row.status_reason,
    last_error: lastErrorOf(row),
    checked_at: iso(row.checked_at),
    preview: opts.showPreview ? row.preview : null,
    account: row.account ? Account.parse(JSON.parse(row.account)) : null,
    scopes: parseStringList(row.scopes),
    requested_scopes: parseStringList(row.requested_scopes),
    connection: connectionOf(row),
    expires_at: iso(row.expires_at),
    created_by: row.created_by,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    rotated_at: iso(row.rotated_at),
    last_used_at: iso(row.last_used_at),
  };
}

/** The status every view shows: the stored status refined by health (lib/health shownStatus). */
export const statusOf = (row: Pick<CredentialRow, "status" | "health">): CredentialStatus => shownStatus(row.status, row.health);

function lastErrorOf(row: CredentialRow): LastError | null {
  if (row.last_error_at === null || row.last_error_code === null) return null;
  return { at: iso(row.last_error_at)!, code: row.last_error_code, message: row.last_error_message ?? "" };
}

/**
 * SQL for the list filters on the shown status (lib/health shownStatus), over the stored columns,
 * so a filter is still one indexed query and works with keyset pages.
 */
export const STATUS_SQL: Record<CredentialStatus | "attention", string> = {
  active: "(status = 'active' AND (health IS NULL OR health != 'expiring'))",
  expiring: "(status = 'active' AND health = 'expiring')",
  needs_reauth: "(status = 'needs_reauth' AND (health IS NULL OR health != 'invalid'))",
  invalid: "(status = 'needs_reauth' AND health = 'invalid')",
  revoked: "(status = 'revoked')",
  // Needs attention: not handed out, about to expire, or live with a failing check.
  attention: "(status = 'needs_reauth' OR (status = 'active' AND (health = 'expiring' OR last_error_code IS NOT NULL)))",
};

/** The credential's connection data (SPEC section 13): non-secret, checked when written. */
export const connectionOf = (row: Pick<CredentialRow, "connection">): Connection => Connection.parse(JSON.parse(row.connection));

/** The statement selectCredentials runs (exported so tests can read its query plan). */
export const credentialsQuery = (where = ""): string => `SELECT * FROM credentials ${where ? "WHERE " + where : ""} ORDER BY app, scope_type, scope_id, slug, created_at`;

export function selectCredentials(ctx: VaultContext, where = "", ...args: (string | number)[]): CredentialRow[] {
  return ctx.sql
    .exec(credentialsQuery(where), ...args)
    .toArray()
    .map((r) => CredentialRow.parse(r));
}

/** An OAuth credential's token generation: bumped on every write of its tokens (connect, reconnect, refresh, reinstall); null: no such row. */
export const tokenGeneration = (ctx: Pick<VaultContext, "sql">, id: string): number | null => {
  const r = ctx.sql.exec(`SELECT token_generation FROM credentials WHERE id = ?`, id).toArray()[0];
  return r ? Number(r.token_generation) : null;
};
