import { BoundedMap } from "../../lib/bounded-map";
import type { Assignment, RunContext } from "../../lib/resolve";
import type { VaultContext } from "./context";
import type { CredentialRow } from "./credential-rows";

/** What a requirement's decision reads from storage (resolution.ts loadRequirement). */
export interface RequirementRows {
  rows: CredentialRow[];
  assignments: Assignment[];
}

/** Past this many entries of a kind the cache starts over: an org with more hot consumers reads some again. */
const MAX_ENTRIES = 2_000;
/**
 * And past this many cached credential rows in all requirement entries (each holds its own copies):
 * the consumer in a requirement's key is the caller's free text, so entries alone do not bound memory.
 */
const MAX_ROWS = 10_000;

/**
 * The vault's in-memory cache of what resolves read (issue 16): a run context's project and member,
 * a requirement's candidate rows and assignments, and a chosen credential's opened fields. All of
 * it is used only while `resolution_epoch` is what it was when it was read: triggers (schema
 * migration 18) bump it on every change to credentials (but a `last_used_at` stamp), their sealed
 * fields, assignments, projects and members, whichever code path makes it, and the epoch is read
 * on every call, so a revoke, rotation, refresh or new default is seen by the very next resolve.
 *
 * The opened fields are plaintext in the vault's memory, as they are during every resolve anyway;
 * they are never written anywhere, and the keyring that opens them is in the same memory. The
 * `last_used_at` of a cached row is kept by the resolve that stamps it (`noteUsed`).
 */
export class ResolutionCache {
  #epoch: number | null = null;
  readonly #contexts = new BoundedMap<string, RunContext>(MAX_ENTRIES);
  readonly #requirements = new BoundedMap<string, RequirementRows>(MAX_ENTRIES, MAX_ROWS, (entry) => entry.rows.length);
  readonly #fields = new BoundedMap<string, Record<string, string>>(MAX_ENTRIES);

  /** Reads the epoch and forgets everything read under another one; answers the epoch (null: nothing cached). */
  sync(ctx: VaultContext): number | null {
    const epoch = resolutionEpoch(ctx);
    if (epoch === null || epoch !== this.#epoch) {
      this.#contexts.clear();
      this.#requirements.clear();
      this.#fields.clear();
      this.#epoch = epoch;
    }
    return epoch;
  }

  context(key: string, read: () => RunContext): RunContext {
    return this.#cached(this.#contexts, key, read);
  }

  requirement(key: string, read: () => RequirementRows): RequirementRows {
    return this.#cached(this.#requirements, key, read);
  }

  /**
   * What a run is handed of a credential (`open` answers it: an OAuth credential's access token
   * only, never its refresh token). The epoch is read again first: a refresh between the decision
   * and here (resolve's `fresh`) changed the fields. `open` reads its rows before its first await,
   * so what it answers belongs to that epoch; kept only if no other call moved the cache on meanwhile.
   */
  async fields(ctx: VaultContext, credentialId: string, open: () => Promise<Record<string, string>>): Promise<Record<string, string>> {
    const epoch = this.sync(ctx);
    const hit = this.#fields.get(credentialId);
    if (hit) return hit;
    const fields = await open();
    if (epoch !== null && epoch === this.#epoch) this.#fields.set(credentialId, fields);
    return fields;
  }

  /** A resolve committed a `last_used_at` stamp (which does not bump the epoch): cached rows show it too. */
  noteUsed(credentialId: string, at: number): void {
    for (const entry of this.#requirements.values()) {
      for (const row of entry.rows) if (row.id === credentialId) row.last_used_at = at;
    }
  }

  /** Read through `map` under the current epoch (nothing is kept without one). */
  #cached<T>(map: BoundedMap<string, T>, key: string, read: () => T): T {
    const hit = map.get(key);
    if (hit) return hit;
    const value = read();
    if (this.#epoch !== null) map.set(key, value);
    return value;
  }
}

/** The current resolution epoch; null if its row is missing (then nothing is cached). Migration 18 runs before any call. */
export function resolutionEpoch(ctx: VaultContext): number | null {
  const row = ctx.sql.exec(`SELECT epoch FROM resolution_epoch WHERE id = 1`).toArray()[0];
  return row ? Number(row.epoch) : null;
}
