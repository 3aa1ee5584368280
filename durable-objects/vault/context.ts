import type { Keyring } from "../../lib/crypto";
import type { Principal } from "../../lib/permissions";
import type { TokenKind } from "../../lib/schemas/common";

/** What every vault domain function gets: storage, the org, the keyring and the clock. */
export interface VaultContext {
  storage: DurableObjectStorage;
  sql: SqlStorage;
  orgId: string;
  ring: Keyring;
  now: number;
  /** Called when a write queued webhook deliveries (vault/webhooks/outbox.ts): the vault then wakes its alarm. */
  onOutbox?: () => void;
}

/** The authenticated caller of one vault call. Runtime tokens act for no member. */
export interface Actor {
  kind: TokenKind;
  tokenId: string;
  principal: Principal | null;
}

export const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
