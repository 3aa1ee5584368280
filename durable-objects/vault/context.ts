import type { Keyring } from "../../lib/crypto";
import type { Principal } from "../../lib/permissions";
import type { TokenKind } from "../../lib/schemas/common";
import type { GroupCommit } from "./group-commit";
import type { ResolutionCache } from "./resolution-cache";

/** What every vault domain function gets: storage, the org, the keyring and the clock. */
export interface VaultContext {
  storage: DurableObjectStorage;
  sql: SqlStorage;
  orgId: string;
  ring: Keyring;
  now: number;
  /** Called when a write queued webhook deliveries (vault/webhooks/outbox.ts): the vault then wakes its alarm. */
  onOutbox?: () => void;
  /** The vault's group commit (vault/group-commit.ts) for hot writes; absent in contexts made outside a vault call, which commit alone. */
  writes?: GroupCommit;
  /** The vault's resolution cache (vault/resolution-cache.ts); absent outside a vault call (nothing cached). */
  resolutions?: ResolutionCache;
}

/** Runs `work` (synchronous writes) in the vault's next group commit, or alone where there is none. */
export function commitGrouped<T>(ctx: VaultContext, work: () => T): Promise<T> {
  return ctx.writes ? ctx.writes.run(work) : Promise.resolve(ctx.storage.transactionSync(work));
}

/** The authenticated caller of one vault call. Runtime tokens act for no member. */
export interface Actor {
  kind: TokenKind;
  tokenId: string;
  principal: Principal | null;
}

export const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
