import { AppError } from "../lib/errors";
import { isOrgId } from "../lib/tokens";
import type { OrgVault } from "./org-vault";

/** What a worker needs to reach a vault: the namespace and the key that signs org ids. */
export interface VaultBindings {
  VAULT: DurableObjectNamespace<OrgVault>;
  /** Signs org ids (lib/tokens.ts newOrgId); the same value on every worker, never rotated (README). */
  ORG_ID_KEY: string;
}

export type VaultStub = DurableObjectStub<OrgVault>;

/**
 * Org ids whose tag this isolate already checked (issue 16, hot path: one HMAC per org, not per
 * request). ORG_ID_KEY is never rotated, so a checked id stays good; bounded, cleared when full.
 */
const verified = new Map<string | undefined, Set<string>>();
const MAX_VERIFIED = 10_000;
const checked = (key: string | undefined, orgId: string) => verified.get(key)?.has(orgId) === true;
function remember(key: string | undefined, orgId: string): void {
  const ids = verified.get(key) ?? new Set<string>();
  if (ids.size >= MAX_VERIFIED) ids.clear();
  verified.set(key, ids.add(orgId));
}

const noSuchOrg = () => new AppError("unauthorized", "This organization does not exist.", { fix: "Check the token or link; sign in again if it came from an old session." });

/**
 * The only way a worker reaches an org's vault. The org id's tag is checked (lib/tokens.ts
 * isOrgId) before the Durable Object is even addressed, so an id nobody minted never creates one
 * (issue 11, item 4). The check is async, so the answer is a stand-in for the stub: the first
 * method call verifies once, then forwards to the real stub; a forged id makes every call reject
 * with `refusal` (default: 401 "This organization does not exist.") and no stub is ever made.
 */
export function vaultStub(env: VaultBindings, orgId: string, refusal: () => AppError = noSuchOrg): VaultStub {
  let real: Promise<VaultStub> | null = null;
  const open = () =>
    (real ??= (checked(env.ORG_ID_KEY, orgId) ? Promise.resolve(true) : isOrgId(env.ORG_ID_KEY, orgId)).then((ok) => {
      if (!ok) throw refusal();
      remember(env.ORG_ID_KEY, orgId);
      return env.VAULT.get(env.VAULT.idFromName(orgId));
    }));
  return new Proxy({} as VaultStub, {
    get(_target, method) {
      // Not a thenable (so `await vaultStub(…)` is the stand-in itself), and only RPC methods.
      if (typeof method !== "string" || method === "then") return undefined;
      return (...args: unknown[]) => open().then((stub) => (stub as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args));
    },
  });
}
