import type { Context } from "hono";
import { AppError } from "../../../../lib/errors";
import { parseToken } from "../../../../lib/tokens";
import { platformOrigin } from "../../../../lib/origin";
import type { VaultResult } from "../../../../lib/rpc";
import { vaultStub } from "../../../../durable-objects/vault-stub";
import type { Env } from "../env";
import { remedy } from "../../../../lib/fixes";

export type ApiEnv = { Bindings: Env };

/**
 * The bearer token of the request, and the vault of the org it names. No I/O here: vaultStub
 * checks the org id's tag before the first call reaches a vault, and the vault checks the token.
 */
export function vaultFor(c: Context<ApiEnv>) {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError("unauthorized", "Send a token: `Authorization: Bearer <token>`.", remedy({ do: "sign_in" }, {}, "Sign in with `keystroke auth login` or create an API key."));
  const token = match[1]!;
  const parsed = parseToken(token);
  if (!parsed) throw new AppError("unauthorized", "The token is malformed.", { fix: "Tokens look like ks_<kind>_<org>_<random>." });
  return { token, vault: vaultStub(c.env, parsed.orgId, () => new AppError("unauthorized", "The token is not valid.", remedy({ do: "sign_in" }, {}, "Sign in again (`keystroke auth login`) or create a new API key."))) };
}

/** A vault answer becomes a value, or the AppError it carried. */
export function unwrap<T>(result: VaultResult<T>): T {
  if (result.ok) return result.value;
  throw AppError.fromBody(result.error, result.status);
}

/** The platform's public origin: PUBLIC_URL, or in dev mode only the request's (loopback) origin. See lib/origin.ts. */
export function publicUrl(c: Context<ApiEnv>): string {
  return platformOrigin(c.env, c.req.url);
}
