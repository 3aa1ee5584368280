import { z } from "zod";
import { BoundedMap } from "../../lib/bounded-map";
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

type TokenRow = z.infer<typeof TokenRow>;

/** A token found and not revoked, with its member as of `epoch` (table auth_epoch). */
interface Admitted {
  epoch: number;
  token: TokenRow;
  principal: Principal | null;
  /** When this vault last wrote the token's last_used_at (minute resolution). */
  lastUsedWritten: number;
}

const MAX_CACHED_TOKENS = 2_000;

/**
 * The vault's in-memory cache of authenticated token lookups (issue 16), keyed by the token's
 * hash. An entry is used only while auth_epoch is what it was when the entry was read: triggers
 * (schema migration 17) bump it on every change that can end or narrow a token (revoke, expiry
 * change, member removed or re-roled, project membership), whichever code path makes it, so a
 * revoked token is refused on its very next call. Expiry is checked against the clock every call.
 */
export class TokenCache {
  // Bounded: a vault with more live callers than this just reads some of them again.
  readonly #entries = new BoundedMap<string, Admitted>(MAX_CACHED_TOKENS);

  get(hash: string, epoch: number): Admitted | undefined {
    const hit = this.#entries.get(hash);
    if (hit && hit.epoch === epoch) return hit;
    if (hit) this.#entries.delete(hash);
    return undefined;
  }

  set(hash: string, entry: Admitted): void {
    this.#entries.set(hash, entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** The current auth epoch; 0 before migration 17 has run (then nothing is cached). */
function authEpoch(ctx: VaultContext): number | null {
  const row = ctx.sql.exec(`SELECT epoch FROM auth_epoch WHERE id = 1`).toArray()[0];
  return row ? Number(row.epoch) : null;
}

/** Reads a token and its member; throws for an unknown or revoked token or a removed member. */
function lookup(ctx: VaultContext, tokenHash: string, epoch: number): Admitted {
  const raw = ctx.sql.exec(
    `SELECT id, kind, name, member_id, expires_at, revoked_at FROM tokens WHERE hash = ?`,
    tokenHash,
  ).toArray()[0];
  if (!raw) throw new AppError("unauthorized", "The token is not valid for this organization.", remedy({ do: "sign_in" }));
  const token = TokenRow.parse(raw);
  if (token.revoked_at !== null) throw new AppError("unauthorized", "The token has been revoked.", { fix: "Sign in again or create a new API key." });
  return { epoch, token, principal: token.member_id === null ? null : loadPrincipal(ctx, token.member_id), lastUsedWritten: 0 };
}

/**
 * Checks a token (already hashed by the caller) inside the same vault call that serves the
 * request, so authentication and the work it guards see one consistent state. With a cache, a
 * token seen before costs one read (the auth epoch) instead of three.
 */
export function authenticate(ctx: VaultContext, tokenHash: string, allowed: readonly z.infer<typeof TokenKind>[], cache?: TokenCache): Actor {
  const epoch = cache ? authEpoch(ctx) : null;
  let entry = epoch !== null ? cache!.get(tokenHash, epoch) : undefined;
  if (!entry) {
    entry = lookup(ctx, tokenHash, epoch ?? -1);
    if (epoch !== null) cache!.set(tokenHash, entry);
  }
  const { token } = entry;
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
  if (entry.lastUsedWritten <= ctx.now - 60_000) {
    ctx.sql.exec(`UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, ctx.now, token.id, ctx.now - 60_000);
    entry.lastUsedWritten = ctx.now;
  }
  // Sliding web sessions: every use pushes the expiry out again; an idle session still ends, and
  // none outlives WEB_SESSION_MAX_MS from its sign-in (then the member signs in again). The write
  // bumps the auth epoch, so the next call reads the new expiry.
  if (token.kind === "user" && token.expires_at !== null && token.name.startsWith(WEB_SESSION_TOKEN_NAME) && token.expires_at < ctx.now + WEB_SESSION_TTL_MS - RENEW_AFTER_MS) {
    ctx.sql.exec(
      `UPDATE tokens SET expires_at = MIN(?, created_at + ?) WHERE id = ? AND expires_at < ? AND expires_at < created_at + ?`,
      ctx.now + WEB_SESSION_TTL_MS, WEB_SESSION_MAX_MS, token.id, ctx.now + WEB_SESSION_TTL_MS - RENEW_AFTER_MS, WEB_SESSION_MAX_MS,
    );
  }
  return { kind: token.kind, tokenId: token.id, principal: entry.principal };
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
