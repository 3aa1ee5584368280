/**
 * CLI browser login (SPEC section 11, `/v1/cli-logins`). The handoff is designed so the vault never
 * holds a token it has not yet handed over:
 *
 * 1. The CLI makes a random secret and sends it as the bearer of `POST /v1/cli-logins`; the route
 *    hashes it. The vault stores a pending login: id (`cli_<orgId>_…`, so polls route themselves),
 *    a short code, and `verifier = SHA-256(secret)`, never the secret.
 * 2. A signed-in member opens the approval page, checks the code against the terminal and
 *    approves. That records who approved; no token exists yet.
 * 3. The CLI polls with the secret. Once approved, the first poll whose secret hashes to the
 *    verifier deletes the login (single use) and only then mints a fresh member token for the
 *    approver, which goes straight into the answer. Only the token's hash is ever stored.
 *
 * Anyone who sees the URL or the code (shoulder-surfing, logs) cannot collect the token: that
 * needs the secret, which only the CLI has. Logins expire after 10 minutes.
 */
import { z } from "zod";
import { AppError, invalidField } from "../../lib/errors";
import type { Principal } from "../../lib/permissions";
import {
  CLI_LOGIN_TTL_MS,
  CLI_TOKEN_TTL_DEFAULT_S,
  LOGIN_CODE_ALPHABET,
  type CliLoginCreated,
  type CliLoginPoll,
  type CliLoginView,
  type CreateCliLoginBody,
} from "../../lib/schemas/cli";
import { constantTimeEqual, hashToken } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";
import { mintMemberToken } from "./identity";

/** The `tokens.name` of every token a CLI login mints; `logout` revokes only these. */
export const CLI_TOKEN_NAME = "cli login";
/** Unauthenticated creation is cheap for a caller: cap what one org can have waiting. */
const MAX_OPEN_LOGINS = 50;

const LoginRow = z.object({
  id: z.string(),
  code: z.string(),
  verifier: z.string(),
  client: z.string().nullable(),
  status: z.enum(["pending", "approved", "denied"]),
  member_id: z.string().nullable(),
  token_ttl: z.number(),
  created_at: z.number(),
  expires_at: z.number(),
});
type LoginRow = z.infer<typeof LoginRow>;

const GONE_FIX = "Run `keystroke auth login` again.";
/** One answer for unknown, expired, used and wrong-secret logins: no oracle for any of them. */
const gone = () => new AppError("not_found", "This CLI login does not exist, has expired or was already used.", { fix: GONE_FIX });

/** 20 unbiased base32 chars (32 divides 256). */
function randomChars(alphabet: string, n: number): string {
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(n))) out += alphabet[b & 31];
  return out;
}

export const loginUrl = (publicUrl: string, id: string): string => `${publicUrl}/cli-login/${id}`;

/** `abcd efgh`, `ABCDEFGH`, `abcd-efgh` all mean ABCD-EFGH. */
const normalizeCode = (raw: string): string => {
  const s = raw.toUpperCase().replace(/[^A-Z0-9]/g, "");
  return s.length === 8 ? `${s.slice(0, 4)}-${s.slice(4)}` : s;
};

function openRow(ctx: VaultContext, id: string): LoginRow | null {
  const raw = ctx.sql.exec(`SELECT * FROM cli_logins WHERE id = ?`, id).toArray()[0];
  if (!raw) return null;
  const row = LoginRow.parse(raw);
  return row.expires_at > ctx.now ? row : null;
}

const view = (row: LoginRow): CliLoginView => ({
  id: row.id,
  code: row.code,
  client: row.client,
  status: row.status,
  created_at: iso(row.created_at)!,
  expires_at: iso(row.expires_at)!,
  token_ttl_seconds: row.token_ttl,
});

/** `verifier` is the SHA-256 of the CLI's login secret (the route hashes it; the secret is not kept). */
export function createCliLogin(ctx: VaultContext, body: CreateCliLoginBody, verifier: string, publicUrl: string): CliLoginCreated {
  // Expired logins are swept here, so the table holds at most what is open right now.
  ctx.sql.exec(`DELETE FROM cli_logins WHERE expires_at <= ?`, ctx.now);
  const open = Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM cli_logins`).one().n);
  if (open >= MAX_OPEN_LOGINS) {
    throw new AppError("rate_limited", "Too many CLI logins are waiting for approval in this org.", { fix: "Wait a few minutes and try again." });
  }
  const id = `cli_${ctx.orgId}_${randomChars("abcdefghijklmnopqrstuvwxyz234567", 20)}`;
  const raw = randomChars(LOGIN_CODE_ALPHABET, 8);
  const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
  const expires = ctx.now + CLI_LOGIN_TTL_MS;
  ctx.sql.exec(
    `INSERT INTO cli_logins (id, code, verifier, client, status, token_ttl, created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
    id, code, verifier, body.client ?? null, body.token_ttl_seconds ?? CLI_TOKEN_TTL_DEFAULT_S, ctx.now, expires,
  );
  return { id, url: loginUrl(publicUrl, id), code, expires_at: iso(expires)! };
}

/** What the approval page shows; only pending logins can be looked at. */
export function viewCliLogin(ctx: VaultContext, id: string): CliLoginView {
  const row = openRow(ctx, id);
  if (!row || row.status !== "pending") throw gone();
  return view(row);
}

/**
 * The member's decision. The code must match the one the page showed, so an approval is always
 * for the login the member looked at. Approving mints nothing: the token is made on the poll.
 */
export function decideCliLogin(ctx: VaultContext, actor: Actor, p: Principal, id: string, code: string, approve: boolean): CliLoginView {
  const row = openRow(ctx, id);
  if (!row || row.status !== "pending") throw gone();
  if (!constantTimeEqual(normalizeCode(code), row.code)) {
    throw invalidField("code", "That code does not match this login.", "Check the code shown in your terminal.");
  }
  const status = approve ? "approved" : "denied";
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE cli_logins SET status = ?, member_id = ?, decided_at = ? WHERE id = ? AND status = 'pending'`, status, p.member, ctx.now, id);
    writeAudit(ctx, actor, { action: approve ? "cli_login.approve" : "cli_login.deny", target: id, detail: { client: row.client } });
  });
  return view({ ...row, status, member_id: p.member });
}

/** The CLI's poll, authenticated by the login secret. `approved` is answered exactly once. */
export async function pollCliLogin(ctx: VaultContext, id: string, secret: string): Promise<CliLoginPoll> {
  const presented = await hashToken(secret);
  // From here to the DELETE there is no await: no other poll can claim the same login in between.
  const row = openRow(ctx, id);
  if (!row || !constantTimeEqual(presented, row.verifier)) throw gone();
  if (row.status === "pending") return { status: "pending", expires_at: iso(row.expires_at)! };
  ctx.sql.exec(`DELETE FROM cli_logins WHERE id = ?`, id);
  if (row.status === "denied") return { status: "denied" };
  const minted = await mintMemberToken(ctx, row.member_id!, CLI_TOKEN_NAME, row.token_ttl * 1000);
  return { status: "approved", token: minted.token, token_expires_at: iso(minted.expires_at)! };
}

/** `auth logout`: revokes the calling token if a CLI login minted it; other tokens are left alone. */
export function revokeCliToken(ctx: VaultContext, actor: Actor): { revoked: boolean } {
  const raw = ctx.sql.exec(`SELECT name FROM tokens WHERE id = ?`, actor.tokenId).toArray()[0];
  if (raw?.name !== CLI_TOKEN_NAME) return { revoked: false };
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ctx.now, actor.tokenId);
    writeAudit(ctx, actor, { action: "cli_login.logout", target: actor.tokenId });
  });
  return { revoked: true };
}
