import type { ErrorBody } from "./errors";
import type { ConnectOptions } from "./schemas/connect";
import type { Me } from "./schemas/identity";

/**
 * What every vault RPC answers. Errors travel as data because Workers RPC keeps only an Error's
 * message; the worker turns `error` back into an AppError (workers/api/src/http/vault.ts unwrap)
 * or renders it. Here, not in the vault, so callers need none of the vault's internals.
 */
export type VaultResult<T> = { ok: true; value: T } | { ok: false; error: ErrorBody; status: number };

/**
 * The oauth worker's connect steps (beginConnect, finishConnect): a failure also says who is
 * signed in, so its error page needs no second vault call for the page header; a choice
 * beginConnect refused also carries the form's options (`form`), to show the form again.
 */
export type ConnectAnswer<T> = { ok: true; value: T } | { ok: false; error: ErrorBody; status: number; viewer: Me | null; form?: VaultResult<ConnectOptions> };
