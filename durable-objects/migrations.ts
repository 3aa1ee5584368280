/**
 * The migration runner both Durable Objects use (the vault's schema in vault/schema.ts, the
 * Directory's in directory.ts): a version table, and every pending migration applied in one
 * transaction inside blockConcurrencyWhile. Never edit a shipped migration: add a new one.
 */
export interface Migration {
  /** Allocated once and never reused; applied in ascending order. */
  version: number;
  name: string;
  sql: string;
}

/** Whether any migration ever ran here (a read only: it creates nothing). */
export function hasSchema(sql: SqlStorage): boolean {
  return sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'`).toArray().length > 0;
}

export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): void {
  const sql = storage.sql;
  sql.exec(`CREATE TABLE IF NOT EXISTS _schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`);
  const current = sql.exec<{ version: number }>(`SELECT version FROM _schema WHERE id = 1`).toArray()[0]?.version ?? 0;
  const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (pending.length === 0) return;
  storage.transactionSync(() => {
    for (const m of pending) sql.exec(m.sql);
    sql.exec(
      `INSERT INTO _schema (id, version) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version`,
      pending[pending.length - 1]!.version,
    );
  });
}
