import { z } from "zod";
import { AppError } from "../../lib/errors";
import { isAdmin, type Principal } from "../../lib/permissions";
import type { MyToken, RevokedToken } from "../../lib/schemas/identity";
import type { CreatedRuntimeToken, RevokedRuntimeToken, RuntimeToken } from "../../lib/schemas/tokens";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { memberById, MyTokenRow, toMyToken } from "./identity";

/**
 * Runtime tokens (SPEC section 12) and the admins' view of any member's tokens. Runtime tokens act
 * for no member (`member_id` null); `created_by` only records who made one.
 */

const RuntimeRow = z.object({
  id: z.string(),
  name: z.string(),
  preview: z.string(),
  created_by: z.string().nullable(),
  created_at: z.number(),
  last_used_at: z.number().nullable(),
});

const toRuntimeToken = (raw: Record<string, SqlStorageValue>): RuntimeToken => {
  const r = RuntimeRow.parse(raw);
  return { id: r.id, name: r.name, preview: r.preview, created_by: r.created_by, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at) };
};

/** Owners and admins only; a refusal is audited and writes nothing else. */
function requireAdmin(ctx: VaultContext, actor: Actor, p: Principal, action: string, target: string | null, what: string): void {
  if (isAdmin(p)) return;
  writeAudit(ctx, actor, { action, outcome: "denied", target: target ?? undefined });
  throw new AppError("forbidden", `Only org owners and admins may ${what}.`, { fix: "Ask an org owner or admin." });
}

/** The token is in this answer only; the vault keeps its hash. */
export async function createRuntimeToken(ctx: VaultContext, actor: Actor, p: Principal, name: string): Promise<CreatedRuntimeToken> {
  requireAdmin(ctx, actor, p, "runtime_token.create", null, "create runtime tokens");
  // Like API keys: a leaked API key must not mint tokens that outlive it.
  if (actor.kind !== "user") {
    writeAudit(ctx, actor, { action: "runtime_token.create", outcome: "denied" });
    throw new AppError("forbidden", "Runtime tokens can only be created with a member token, not with an API key.", { fix: "Sign in (`keystroke auth login`) and create it then." });
  }
  const token = newToken("rt", ctx.orgId);
  const id = newId("tok");
  const hash = await hashToken(token);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, created_by) VALUES (?, ?, 'rt', NULL, ?, ?, ?, ?)`,
      id, hash, name, tokenPreview(token), ctx.now, p.member,
    );
    writeAudit(ctx, actor, { action: "runtime_token.create", target: id, detail: { name } });
  });
  return { ...toRuntimeToken(ctx.sql.exec(`SELECT * FROM tokens WHERE id = ?`, id).one()), token };
}

/** Live runtime tokens, newest first (revoked ones are in the audit log). */
export function listRuntimeTokens(ctx: VaultContext, actor: Actor, p: Principal): RuntimeToken[] {
  requireAdmin(ctx, actor, p, "runtime_token.list", null, "list runtime tokens");
  return ctx.sql.exec(`SELECT * FROM tokens WHERE kind = 'rt' AND revoked_at IS NULL ORDER BY created_at DESC, id`).toArray().map(toRuntimeToken);
}

/** Revoked at once: the next call with it is refused (authentication reads the same row). */
export function revokeRuntimeToken(ctx: VaultContext, actor: Actor, p: Principal, id: string): RevokedRuntimeToken {
  requireAdmin(ctx, actor, p, "runtime_token.revoke", id, "revoke runtime tokens");
  const raw = ctx.sql.exec(`SELECT * FROM tokens WHERE id = ? AND kind = 'rt' AND revoked_at IS NULL`, id).toArray()[0];
  if (!raw) throw new AppError("not_found", `There is no live runtime token \`${id}\`.`, { fix: "List them with `keystroke runtime-tokens list`.", details: { field: "id" } });
  const t = toRuntimeToken(raw);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ctx.now, id);
    writeAudit(ctx, actor, { action: "runtime_token.revoke", target: id, detail: { name: t.name } });
  });
  return { ...t, revoked_at: iso(ctx.now)! };
}

function requireMember(ctx: VaultContext, memberId: string): void {
  if (!memberById(ctx, memberId)) throw new AppError("not_found", `There is no member \`${memberId}\`.`, { fix: "List members with `keystroke members list`.", details: { field: "id" } });
}

/** `GET /v1/members/{id}/tokens`: what `GET /v1/me/tokens` shows that member (owners and admins). */
export function listMemberTokens(ctx: VaultContext, actor: Actor, p: Principal, memberId: string): MyToken[] {
  requireAdmin(ctx, actor, p, "token.list", `member:${memberId}`, "list other members' tokens");
  requireMember(ctx, memberId);
  return ctx.sql
    .exec(`SELECT * FROM tokens WHERE member_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, id`, memberId, ctx.now)
    .toArray()
    .map((raw) => toMyToken(actor, MyTokenRow.parse(raw)));
}

/** `DELETE /v1/members/{id}/tokens/{token}`: any kind (session, CLI login, API key), at once. */
export function revokeMemberToken(ctx: VaultContext, actor: Actor, p: Principal, memberId: string, id: string): RevokedToken {
  requireAdmin(ctx, actor, p, "token.revoke", id, "revoke other members' tokens");
  requireMember(ctx, memberId);
  const raw = ctx.sql
    .exec(`SELECT * FROM tokens WHERE id = ? AND member_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, id, memberId, ctx.now)
    .toArray()[0];
  if (!raw) throw new AppError("not_found", `Member \`${memberId}\` has no live token \`${id}\`.`, { fix: "List them with GET /v1/members/{id}/tokens.", details: { field: "token" } });
  const row = MyTokenRow.parse(raw);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ctx.now, id);
    writeAudit(ctx, actor, { action: "token.revoke", target: id, detail: { kind: row.kind, name: row.name, member: memberId } });
  });
  return { ...toMyToken(actor, row), revoked_at: iso(ctx.now)! };
}
