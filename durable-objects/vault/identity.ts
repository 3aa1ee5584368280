import { z } from "zod";
import { AppError } from "../../lib/errors";
import { canSeeProject, isAdmin, type Principal } from "../../lib/permissions";
import { ProjectRole, Role, TokenKind } from "../../lib/schemas/common";
import type { ApiKey, Me, Member, MyToken, Org, Project, RevokedToken } from "../../lib/schemas/identity";
import { hashToken as hashTokenValue, newId, newToken, tokenPreview } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { remedy } from "../../lib/fixes";
import { loadPrincipal } from "./auth";
import { pageOf, type PageQuery } from "../../lib/paging";

/** What provisioning an org writes: used by sign-up and by the dev seed. Idempotent. */
export const ProvisionSpec = z.object({
  org: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  members: z.array(z.object({ email: z.string(), name: z.string(), role: Role })),
  projects: z.array(z.object({ slug: z.string(), name: z.string(), members: z.array(z.object({ email: z.string(), role: ProjectRole })) })),
  /** Pre-made tokens, given as hashes only: the vault never learns them. */
  tokens: z.array(z.object({ hash: z.string(), preview: z.string(), kind: TokenKind, email: z.string().nullable(), name: z.string(), expires_at: z.number().nullable() })),
});
export type ProvisionSpec = z.infer<typeof ProvisionSpec>;

const OrgRow = z.object({ org_id: z.string(), slug: z.string(), name: z.string() });
const MemberRow = z.object({ id: z.string(), email: z.string(), name: z.string(), role: Role });

export function readOrg(sql: SqlStorage): Org | null {
  const raw = sql.exec(`SELECT org_id, slug, name FROM org WHERE id = 1`).toArray()[0];
  if (!raw) return null;
  const row = OrgRow.parse(raw);
  return { id: row.org_id, slug: row.slug, name: row.name };
}

export function provision(ctx: VaultContext, spec: ProvisionSpec): void {
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`INSERT OR IGNORE INTO org (id, org_id, slug, name, created_at) VALUES (1, ?, ?, ?, ?)`, spec.org.id, spec.org.slug, spec.org.name, ctx.now);
    const memberId = (email: string) => {
      const row = ctx.sql.exec(`SELECT id FROM members WHERE email = ?`, email).toArray()[0];
      if (!row) throw new AppError("invalid_request", `No member ${email} in the provisioning spec.`);
      return String(row.id);
    };
    for (const m of spec.members) {
      ctx.sql.exec(`INSERT OR IGNORE INTO members (id, email, name, role, created_at) VALUES (?, ?, ?, ?, ?)`, newId("mem"), m.email, m.name, m.role, ctx.now);
    }
    for (const pr of spec.projects) {
      ctx.sql.exec(`INSERT OR IGNORE INTO projects (slug, name, created_at) VALUES (?, ?, ?)`, pr.slug, pr.name, ctx.now);
      for (const pm of pr.members) {
        ctx.sql.exec(`INSERT OR IGNORE INTO project_members (project, member_id, role) VALUES (?, ?, ?)`, pr.slug, memberId(pm.email), pm.role);
      }
    }
    for (const t of spec.tokens) {
      ctx.sql.exec(
        `INSERT OR IGNORE INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        newId("tok"), t.hash, t.kind, t.email ? memberId(t.email) : null, t.name, t.preview, ctx.now, t.expires_at,
      );
    }
  });
}

function members(ctx: VaultContext): Member[] {
  return ctx.sql.exec(`SELECT id, email, name, role FROM members WHERE removed_at IS NULL ORDER BY created_at, email`).toArray().map((r) => MemberRow.parse(r));
}

export function listMembers(ctx: VaultContext): Member[] {
  return members(ctx);
}

/** GET /v1/members, one page (lib/paging.ts): in join order, keyed by (created_at, email). */
export function listMembersPage(ctx: VaultContext, q: PageQuery): { members: Member[]; next_cursor: string | null } {
  const rows = ctx.sql.exec(`SELECT id, email, name, role, created_at FROM members WHERE removed_at IS NULL`).toArray();
  const page = pageOf("members", rows, (r) => [Number(r.created_at), String(r.email)], "ns", q);
  return { members: page.items.map((r) => MemberRow.parse(r)), next_cursor: page.next_cursor };
}

export function memberById(ctx: VaultContext, id: string): Member | null {
  return members(ctx).find((m) => m.id === id) ?? null;
}

export function listProjects(ctx: VaultContext, p: Principal): Project[] {
  const rows = ctx.sql.exec(`SELECT slug, name FROM projects ORDER BY slug`).toArray();
  const memberships = ctx.sql.exec(`SELECT project, member_id, role FROM project_members ORDER BY project, member_id`).toArray();
  return rows
    .map((r) => ({ slug: String(r.slug), name: String(r.name) }))
    .filter((r) => canSeeProject(p, r.slug))
    .map((r) => ({
      ...r,
      role: p.projects[r.slug] ?? null,
      members: memberships.filter((m) => m.project === r.slug).map((m) => ({ member: String(m.member_id), role: ProjectRole.parse(m.role) })),
    }));
}

export function me(ctx: VaultContext, actor: Actor): Me {
  const org = readOrg(ctx.sql)!;
  const token = ctx.sql.exec(`SELECT expires_at FROM tokens WHERE id = ?`, actor.tokenId).one();
  const p = actor.principal;
  const projects = p
    ? listProjects(ctx, p).map((pr) => ({ slug: pr.slug, role: pr.role }))
    : ctx.sql.exec(`SELECT slug FROM projects ORDER BY slug`).toArray().map((r) => ({ slug: String(r.slug), role: null }));
  return {
    org,
    member: p ? memberById(ctx, p.member) : null,
    token: { kind: actor.kind, expires_at: iso(token.expires_at as number | null) },
    projects,
  };
}

const TokenRow = z.object({
  id: z.string(),
  name: z.string(),
  preview: z.string(),
  member_id: z.string(),
  created_at: z.number(),
  last_used_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});

function toApiKey(raw: Record<string, SqlStorageValue>): ApiKey {
  const r = TokenRow.parse(raw);
  return { id: r.id, name: r.name, preview: r.preview, member: r.member_id, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at), revoked_at: iso(r.revoked_at) };
}

/** The key is returned once, here; only its hash is stored. */
export async function createApiKey(ctx: VaultContext, actor: Actor, p: Principal, name: string, hash: (raw: string) => Promise<string>): Promise<ApiKey & { key: string }> {
  if (actor.kind !== "user") {
    throw new AppError("forbidden", "API keys can only be created with a member token, not with another API key.", { fix: "Sign in (`keystroke auth login`) and create the key then." });
  }
  const key = newToken("key", ctx.orgId);
  const id = newId("key");
  const keyHash = await hash(key);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at) VALUES (?, ?, 'key', ?, ?, ?, ?)`,
      id, keyHash, p.member, name, tokenPreview(key), ctx.now,
    );
    writeAudit(ctx, actor, { action: "api_key.create", target: id, detail: { name } });
  });
  return { ...toApiKey(ctx.sql.exec(`SELECT * FROM tokens WHERE id = ?`, id).one()), key };
}

export function listApiKeys(ctx: VaultContext, p: Principal): ApiKey[] {
  const rows = isAdmin(p)
    ? ctx.sql.exec(`SELECT * FROM tokens WHERE kind = 'key' ORDER BY created_at DESC`)
    : ctx.sql.exec(`SELECT * FROM tokens WHERE kind = 'key' AND member_id = ? ORDER BY created_at DESC`, p.member);
  return rows.toArray().map(toApiKey);
}

export function revokeApiKey(ctx: VaultContext, actor: Actor, p: Principal, id: string): ApiKey {
  const raw = ctx.sql.exec(`SELECT * FROM tokens WHERE id = ? AND kind = 'key'`, id).toArray()[0];
  if (!raw) throw new AppError("not_found", `There is no API key \`${id}\`.`, remedy({ do: "list_api_keys" }));
  const key = toApiKey(raw);
  if (key.member !== p.member && !isAdmin(p)) {
    writeAudit(ctx, actor, { action: "api_key.revoke", outcome: "denied", target: id });
    throw new AppError("forbidden", "You may only revoke your own API keys.", { fix: "Ask an org owner or admin." });
  }
  if (key.revoked_at === null) {
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ?`, ctx.now, id);
      writeAudit(ctx, actor, { action: "api_key.revoke", target: id, detail: { name: key.name } });
    });
  }
  return toApiKey(ctx.sql.exec(`SELECT * FROM tokens WHERE id = ?`, id).one());
}

/** Mints a member token for a sign-in (web session or CLI login); only its hash is stored. */
export async function mintMemberToken(ctx: VaultContext, memberId: string, name: string, ttlMs: number): Promise<{ token: string; expires_at: number }> {
  const token = newToken("user", ctx.orgId);
  const hash = await hashTokenValue(token);
  const expires = ctx.now + ttlMs;
  const id = newId("tok");
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, ?, ?, ?, ?)`,
      id, hash, memberId, name, tokenPreview(token), ctx.now, expires,
    );
    // The member who signed in is the actor (with the new token), not "system".
    writeAudit(ctx, { kind: "user", tokenId: id, principal: loadPrincipal(ctx, memberId) }, { action: "auth.sign_in", target: memberId, detail: { via: name } });
  });
  return { token, expires_at: expires };
}

export function memberByEmail(ctx: VaultContext, email: string): Member | null {
  return members(ctx).find((m) => m.email === email.toLowerCase()) ?? null;
}

/** Signing out revokes the session's token, not just the cookie. */
export function revokeOwnToken(ctx: VaultContext, actor: Actor): void {
  ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ctx.now, actor.tokenId);
}

export const MyTokenRow = z.object({
  id: z.string(),
  kind: TokenKind,
  name: z.string(),
  preview: z.string(),
  created_at: z.number(),
  last_used_at: z.number().nullable(),
  expires_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});

export const toMyToken = (actor: Actor, r: z.infer<typeof MyTokenRow>): MyToken => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  preview: r.preview,
  current: r.id === actor.tokenId,
  created_at: iso(r.created_at)!,
  last_used_at: iso(r.last_used_at),
  expires_at: iso(r.expires_at),
});

/** A member's live tokens (not revoked, not expired), newest first: what `GET /v1/me/tokens` shows. */
export function listMyTokens(ctx: VaultContext, actor: Actor, p: Principal): MyToken[] {
  return ctx.sql
    .exec(`SELECT * FROM tokens WHERE member_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, id`, p.member, ctx.now)
    .toArray()
    .map((raw) => toMyToken(actor, MyTokenRow.parse(raw)));
}

/**
 * Revokes one of the caller's own live tokens (any kind, the calling one included). Another
 * member's token, an unknown id and a dead token all answer the same 404: ids of other members'
 * tokens are not confirmed. Admins revoke others' tokens through the members API (SPEC section 12).
 */
export function revokeMyToken(ctx: VaultContext, actor: Actor, p: Principal, id: string): RevokedToken {
  const raw = ctx.sql
    .exec(`SELECT * FROM tokens WHERE id = ? AND member_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, id, p.member, ctx.now)
    .toArray()[0];
  if (!raw) throw new AppError("not_found", `You have no live token \`${id}\`.`, { fix: "List your tokens with `keystroke auth tokens`.", details: { field: "id" } });
  const row = MyTokenRow.parse(raw);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ctx.now, id);
    writeAudit(ctx, actor, { action: "token.revoke", target: id, detail: { kind: row.kind, name: row.name } });
  });
  return { ...toMyToken(actor, row), revoked_at: iso(ctx.now)! };
}
