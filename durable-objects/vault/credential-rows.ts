import { z } from "zod";
import { formatRef, scopeLabel } from "../../lib/refs";
import type { CandidateCredential } from "../../lib/resolve";
import type { Scope } from "../../lib/schemas/common";
import { Account, CredentialKind, CredentialStatus, type Credential } from "../../lib/schemas/credentials";
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
  status: CredentialStatus,
  preview: z.string().nullable(),
  account: z.string().nullable(),
  scopes: z.string(),
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
  return { id: row.id, app: row.app, slug: row.slug, name: row.name, scope: rowScope(row), default: row.is_default === 1, status: row.status };
}

export function toCredential(row: CredentialRow, opts: { showPreview: boolean }): Credential {
  return {
    id: row.id,
    ref: formatRef(toCandidate(row)),
    app: row.app,
    slug: row.slug,
    name: row.name,
    scope: rowScope(row),
    default: row.is_default === 1,
    kind: row.kind,
    status: row.status,
    preview: opts.showPreview ? row.preview : null,
    account: row.account ? Account.parse(JSON.parse(row.account)) : null,
    scopes: z.array(z.string()).parse(JSON.parse(row.scopes)),
    expires_at: iso(row.expires_at),
    created_by: row.created_by,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    rotated_at: iso(row.rotated_at),
    last_used_at: iso(row.last_used_at),
  };
}

export function selectCredentials(ctx: VaultContext, where = "", ...args: (string | number)[]): CredentialRow[] {
  return ctx.sql
    .exec(`SELECT * FROM credentials ${where ? "WHERE " + where : ""} ORDER BY app, scope_type, scope_id, slug, created_at`, ...args)
    .toArray()
    .map((r) => CredentialRow.parse(r));
}
