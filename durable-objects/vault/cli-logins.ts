/**
 * CLI browser login (SPEC section 11, `/v1/cli-logins`). The handoff is designed so the vault never
 * holds a token it has not yet handed over:
 *
 * 1. The CLI makes a random secret and sends it as the bearer of `POST /v1/cli-logins`; the route
 *    hashes it. The vault stores a pending login: id (`cli_<orgId>_…`, so polls route themselves),
 *    a short code, and `verifier = SHA-256(secret)`, never the secret.
 * 2. A signed-in member opens the approval page, which shows the client's label, when and from
 *    which address the login was started, but never the code: the member must type the code their
 *    terminal shows (RFC 8628 style), so a link sent by someone else cannot be approved with one
 *    click. Wrong codes are counted; the fifth ends the login. Approving records who approved and
 *    the lifetime (at most what the CLI asked for, at most 30 days); no token exists yet.
 * 3. The CLI polls with the secret. Once approved, the first poll whose secret hashes to the
 *    verifier deletes the login (single use) and only then mints a fresh member token for the
 *    approver, which goes straight into the answer. Only the token's hash is ever stored.
 *
 * Anyone who sees the URL or the code (shoulder-surfing, logs) cannot collect the token: that
 * needs the secret, which only the CLI has. Logins expire after 10 minutes. Starting logins is
 * rate-limited per client address at the edge (workers/api/src/routes/cli-logins.ts); nothing
 * here caps an org's open logins, so strangers cannot lock an org out.
 */
import { z } from "zod";
import { AppError, invalidField } from "../../lib/errors";
import type { Principal } from "../../lib/permissions";
import {
  CLI_LOGIN_MAX_ATTEMPTS,
  CLI_LOGIN_TTL_MS,
  CLI_TOKEN_TTL_DEFAULT_S,
  CLI_TOKEN_TTL_MAX_S,
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
/** Where a login was started, as the edge saw it: shown to the approver, display only. */
export interface LoginOrigin {
  address: string | null;
  userAgent: string | null;
}

const LoginRow = z.object({
  id: z.string(),
  code: z.string(),
  verifier: z.string(),
  client: z.string().nullable(),
  client_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  attempts: z.number(),
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

/** Never the code: the approver has to type it from their terminal. */
const view = (row: LoginRow): CliLoginView => ({
  id: row.id,
  client: row.client,
  client_address: row.client_address,
  user_agent: row.user_agent,
  status: row.status,
  created_at: iso(row.created_at)!,
  expires_at: iso(row.expires_at)!,
  token_ttl_seconds: Math.min(row.token_ttl, CLI_TOKEN_TTL_MAX_S),
  attempts_left: Math.max(0, CLI_LOGIN_MAX_ATTEMPTS - row.attempts),
});

/** `verifier` is the SHA-256 of the CLI's login secret (the route hashes it; the secret is not kept). */
export function createCliLogin(ctx: VaultContext, body: CreateCliLoginBody, verifier: string, publicUrl: string, origin: LoginOrigin): CliLoginCreated {
  // Expired logins are swept here, so the table holds at most what is open right now. There is no
  // per-org cap: it would let anyone lock the org out (the edge limits starts per address instead).
  ctx.sql.exec(`DELETE FROM cli_logins WHERE expires_at <= ?`, ctx.now);
  const id = `cli_${ctx.orgId}_${randomChars("abcdefghijklmnopqrstuvwxyz234567", 20)}`;
  const raw = randomChars(LOGIN_CODE_ALPHABET, 8);
  const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
  const expires = ctx.now + CLI_LOGIN_TTL_MS;
  ctx.sql.exec(
    `INSERT INTO cli_logins (id, code, verifier, client, client_address, user_agent, status, token_ttl, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    id, code, verifier, body.client ?? null, origin.address, origin.userAgent, Math.min(body.token_ttl_seconds ?? CLI_TOKEN_TTL_DEFAULT_S, CLI_TOKEN_TTL_MAX_S), ctx.now, expires,
  );
  return { id, url: loginUrl(publicUrl, id), code, expires_at: iso(expires)! };
}

/** What the approval page shows; only pending logins can be looked at. */
export function viewCliLogin(ctx: VaultContext, id: string): CliLoginView {
  const row = openRow(ctx, id);
  if (!row || row.status !== "pending") throw gone();
  return view(row);
}

/** How an approver decides: approving needs the typed code and may shorten the lifetime. */
export type CliLoginDecision = { approve: true; code: string; tokenTtlSeconds?: number } | { approve: false };

/**
 * The member's decision. Approving needs the code typed from the terminal: proof that the member
 * is looking at the login their own CLI started. A wrong code is counted and refused; the
 * CLI_LOGIN_MAX_ATTEMPTS-th ends the login (denied, so the CLI is told). Denying needs no code.
 * Approving mints nothing: the token is made on the poll.
 */
export function decideCliLogin(ctx: VaultContext, actor: Actor, p: Principal, id: string, decision: CliLoginDecision): CliLoginView {
  const row = openRow(ctx, id);
  if (!row || row.status !== "pending") throw gone();
  if (decision.approve && !constantTimeEqual(normalizeCode(decision.code), row.code)) {
    const attempts = row.attempts + 1;
    const ended = attempts >= CLI_LOGIN_MAX_ATTEMPTS;
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(
        `UPDATE cli_logins SET attempts = ?, status = CASE WHEN ? THEN 'denied' ELSE status END, member_id = CASE WHEN ? THEN ? ELSE member_id END, decided_at = CASE WHEN ? THEN ? ELSE decided_at END WHERE id = ? AND status = 'pending'`,
        attempts, ended ? 1 : 0, ended ? 1 : 0, p.member, ended ? 1 : 0, ctx.now, id,
      );
      writeAudit(ctx, actor, { action: "cli_login.approve", outcome: "denied", target: id, detail: { reason: ended ? "too_many_attempts" : "wrong_code", attempts } });
    });
    if (ended) {
      throw invalidField("code", `That code does not match either. After ${CLI_LOGIN_MAX_ATTEMPTS} wrong codes this login has ended and can no longer be approved.`, "Run `keystroke auth login` again in your terminal.");
    }
    const left = CLI_LOGIN_MAX_ATTEMPTS - attempts;
    throw invalidField("code", `That code does not match this login (${left} ${left === 1 ? "try" : "tries"} left).`, "Type the code your terminal shows after `Code:`.");
  }
  const status = decision.approve ? "approved" : "denied";
  // The approver may shorten the lifetime, never lengthen it beyond what the CLI asked for.
  const ttl = Math.min(row.token_ttl, CLI_TOKEN_TTL_MAX_S, decision.approve ? (decision.tokenTtlSeconds ?? Infinity) : Infinity);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE cli_logins SET status = ?, member_id = ?, decided_at = ?, token_ttl = ? WHERE id = ? AND status = 'pending'`, status, p.member, ctx.now, ttl, id);
    writeAudit(ctx, actor, {
      action: decision.approve ? "cli_login.approve" : "cli_login.deny",
      target: id,
      detail: { client: row.client, client_address: row.client_address, token_ttl_seconds: ttl },
    });
  });
  return view({ ...row, status, member_id: p.member, token_ttl: ttl });
}

/** The CLI's poll, authenticated by the login secret. `approved` is answered exactly once. */
export async function pollCliLogin(ctx: VaultContext, id: string, secret: string): Promise<CliLoginPoll> {
  const presented = await hashToken(secret);
  // From here to the DELETE there is no await: no other poll can claim the same login in between.
  const row = openRow(ctx, id);
  if (!row || !constantTimeEqual(presented, row.verifier)) throw gone();
  if (row.status === "pending") return { status: "pending", expires_at: iso(row.expires_at)! };
  ctx.sql.exec(`DELETE FROM cli_logins WHERE id = ?`, id);
  if (row.status === "denied") return { status: "denied", reason: row.attempts >= CLI_LOGIN_MAX_ATTEMPTS ? "too_many_attempts" : "denied" };
  const minted = await mintMemberToken(ctx, row.member_id!, CLI_TOKEN_NAME, Math.min(row.token_ttl, CLI_TOKEN_TTL_MAX_S) * 1000);
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
