import type { Context } from "hono";
import { AppError } from "../../../../lib/errors";
import { parseToken } from "../../../../lib/tokens";
import type { VaultResult } from "../../../../durable-objects/vault/context";
import type { Env } from "../env";

export type ApiEnv = { Bindings: Env };

/** The bearer token of the request, and the vault of the org it names. No I/O: the vault checks it. */
export function vaultFor(c: Context<ApiEnv>) {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError("unauthorized", "Send a token: `Authorization: Bearer <token>`.", { fix: "Sign in with `keystroke auth login` or create an API key." });
  const token = match[1]!;
  const parsed = parseToken(token);
  if (!parsed) throw new AppError("unauthorized", "The token is malformed.", { fix: "Tokens look like ks_<kind>_<org>_<random>." });
  return { token, vault: c.env.VAULT.get(c.env.VAULT.idFromName(parsed.orgId)) };
}

/** A vault answer becomes a value, or the AppError it carried. */
export function unwrap<T>(result: VaultResult<T>): T {
  if (result.ok) return result.value;
  throw AppError.fromBody(result.error, result.status);
}

/** The platform's public origin: PUBLIC_URL where configured, else the origin the request came to (dev). */
export function publicUrl(c: Context<ApiEnv>): string {
  return c.env.PUBLIC_URL || new URL(c.req.url).origin;
}
