import { configError, vaultConfigProblems } from "../../lib/config-check";
import { AppError } from "../../lib/errors";
import type { VaultResult } from "../../lib/rpc";
import type { OrgVault } from "../org-vault";
import { vaultStub, type VaultBindings, type VaultStub } from "../vault-stub";

type Refused = Extract<VaultResult<never>, { ok: false }>;
/** What vault method M answers, and its arguments: a door forwards them unchanged. */
export type Answer<M extends keyof OrgVault> = OrgVault[M] extends (...a: never[]) => infer R ? Awaited<R> : never;
export type Args<M extends keyof OrgVault> = OrgVault[M] extends (...a: infer A) => unknown ? A : never;

/**
 * A door's call into one org's vault, through vaultStub (the one way in). A refusal before the
 * vault (an org id nobody minted) becomes the same VaultResult the vault would answer, since an
 * AppError loses its class crossing RPC: the caller renders 401, not 500. An api worker missing a
 * setting the vault needs (VAULT_KEYS…) answers 503 naming it here too, not a half-run call.
 */
export async function throughVault<M extends keyof OrgVault>(env: VaultBindings, orgId: string, call: (vault: VaultStub) => Promise<unknown>): Promise<Answer<M> | Refused> {
  try {
    const problems = vaultConfigProblems(env as unknown as Record<string, unknown>);
    if (problems.length > 0) throw configError(problems);
    // The stub's answer is the method's own (plain data crosses RPC as is); RPC's mapped types say it less plainly.
    return (await call(vaultStub(env, orgId))) as Answer<M>;
  } catch (e) {
    if (e instanceof AppError) return { ok: false, error: e.toBody(), status: e.httpStatus };
    throw e;
  }
}
