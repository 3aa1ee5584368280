/**
 * Group commit for the vault's hot writes (a runtime resolve's audit rows). Every write a Durable
 * Object makes between two awaits is one SQLite commit, and its answer waits (the output gate)
 * until that commit is durable: per resolve, that commit cost as much as all the rest of the call
 * (bench/README.md, "Where the time goes"). Concurrent calls hand their write here instead; the
 * writes queued within one turn of the event loop run together in the next one, each in its own
 * savepoint, so one commit serves them all and a failing write rolls back only its own rows.
 *
 * What does not change: a call's write still commits before its answer leaves the vault (the
 * caller awaits it, and the output gate holds the answer until the commit is durable), so a
 * secret is never handed out without its audit row; if the vault dies first, the call fails.
 */
type Pending = { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class GroupCommit {
  readonly #storage: DurableObjectStorage;
  #queue: Pending[] = [];

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  /** Runs `work` (synchronous storage writes) in the next group; answers its value once committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) setTimeout(() => this.#flush(), 0);
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #flush(): void {
    const group = this.#queue;
    this.#queue = [];
    // One synchronous turn: the implicit transaction around it commits once, after the last write.
    for (const item of group) {
      try {
        item.resolve(this.#storage.transactionSync(item.work));
      } catch (e) {
        item.reject(e);
      }
    }
  }
}
