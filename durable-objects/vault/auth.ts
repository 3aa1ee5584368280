import { z } from "zod";
import { AppError } from "../../lib/errors";
import type { Principal } from "../../lib/permissions";
import { ProjectRole, Role, TokenKind } from "../../lib/schemas/common";
import type { Actor, VaultContext } from "./context";
import { remedy } from "../../lib/fixes";

/** Web sessions (a browser's `ks_session` cookie): short-lived, renewed on use (sliding), capped in total. */
export const WEB_SESSION_TOKEN_NAME = "web session";
export const WEB_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** The absolute lifetime of a web session, however active: 7 days from sign-in (README, Web app). */
export const WEB_SESSION_MAX_MS = 7 * 24 * 60 * 60 * 1000;
/** A session is renewed at most once a minute, like last_used_at, so hot paths rarely write. */
const RENEW_AFTER_MS = 60_000;

const TokenRow = z.object({
  id: z.string(),
  kind: TokenKind,
  name: z.string(),
  member_id: z.string().nullable(),
  expires_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});

const MemberRow = z.object({ id: z.string(), role: Role });
const ProjectMembershipRow = z.object({ project: z.string(), role: ProjectRole });

const KIND_NAMES: Record<z.infer<typeof TokenKind>, string> = {
  user: "a member token",
  key: "an API key",
  rt: "a runtime token",
};

/**
 * Checks a token (already hashed by the caller) inside the same vault call that serves the
 * request, so authentication and the work it guards see one consistent state.
 */
export function authenticate(ctx: VaultContext, tokenHash: string, allowed: readonly z.infer<typeof TokenKind>[]): Actor {
  const raw = ctx.sql.exec(
    `SELECT id, kind, name, member_id, expires_at, revoked_at FROM tokens WHERE hash = ?`,
    tokenHash,
  ).toArray()[0];
  if (!raw) throw new AppError("unauthorized", "The token is not valid for this organization.", remedy({ do: "sign_in" }));
  const token = TokenRow.parse(raw);
  if (token.revoked_at !== null) throw new AppError("unauthorized", "The token has been revoked.", { fix: "Sign in again or create a new API key." });
  if (token.expires_at !== null && token.expires_at <= ctx.now) {
    throw new AppError("unauthorized", "The token has expired.", remedy({ do: "sign_in" }, {}, "Sign in again (`keystroke auth login`)."));
  }
  if (!allowed.includes(token.kind)) {
    throw new AppError("forbidden", `This endpoint does not accept ${KIND_NAMES[token.kind]}.`, {
      fix: `Use ${allowed.map((k) => KIND_NAMES[k]).join(" or ")}.`,
      details: { token_kind: token.kind },
    });
  }
  // last_used_at is best effort bookkeeping; minute resolution keeps hot paths from writing on every call.
  ctx.sql.exec(`UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, ctx.now, token.id, ctx.now - 60_000);
  // Sliding web sessions: every use pushes the expiry out again; an idle session still ends, and
  // none outlives WEB_SESSION_MAX_MS from its sign-in (then the member signs in again).
  if (token.kind === "user" && token.expires_at !== null && token.name.startsWith(WEB_SESSION_TOKEN_NAME)) {
    ctx.sql.exec(
      `UPDATE tokens SET expires_at = MIN(?, created_at + ?) WHERE id = ? AND expires_at < ? AND expires_at < created_at + ?`,
      ctx.now + WEB_SESSION_TTL_MS, WEB_SESSION_MAX_MS, token.id, ctx.now + WEB_SESSION_TTL_MS - RENEW_AFTER_MS, WEB_SESSION_MAX_MS,
    );
  }
  if (token.member_id === null) return { kind: token.kind, tokenId: token.id, principal: null };
  return { kind: token.kind, tokenId: token.id, principal: loadPrincipal(ctx, token.member_id) };
}

export function loadPrincipal(ctx: VaultContext, memberId: string): Principal {
  const raw = ctx.sql.exec(`SELECT id, role FROM members WHERE id = ? AND removed_at IS NULL`, memberId).toArray()[0];
  if (!raw) throw new AppError("unauthorized", "The member behind this token is no longer in the organization.");
  const member = MemberRow.parse(raw);
  const projects: Record<string, z.infer<typeof ProjectRole>> = {};
  for (const row of ctx.sql.exec(`SELECT project, role FROM project_members WHERE member_id = ?`, memberId)) {
    const m = ProjectMembershipRow.parse(row);
    projects[m.project] = m.role;
  }
  return { member: member.id, role: member.role, projects };
}

/** The member behind an actor, for endpoints that only members (tokens or API keys) may call. */
export function requirePrincipal(actor: Actor): Principal {
  if (!actor.principal) throw new AppError("forbidden", "This endpoint needs a member token or API key.");
  return actor.principal;
}
