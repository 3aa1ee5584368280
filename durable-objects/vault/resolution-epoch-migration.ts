import type { Migration } from "../migrations";

/**
 * Every credentials column but `last_used_at`: an update of any of them can change what a resolve
 * decides or hands out. `last_used_at` is the resolve's own minute stamp (the cache keeps it,
 * vault/resolution-cache.ts noteUsed). test/api/resolution-cache.test.ts fails if a column is
 * added to credentials without being named here.
 */
export const DECIDING_CREDENTIAL_COLUMNS = [
  "id", "app", "slug", "name", "scope_type", "scope_id", "is_default", "kind", "status", "preview", "account", "scopes",
  "expires_at", "created_by", "created_at", "updated_at", "rotated_at", "revoked_at", "token_generation", "oauth_client",
  "requested_scopes", "connection", "health", "status_reason", "last_error_at", "last_error_code", "last_error_message", "checked_at",
] as const;

const bump = "BEGIN UPDATE resolution_epoch SET epoch = epoch + 1 WHERE id = 1; END";

/** The tables a resolve reads, each with the triggers that bump the epoch on any change to it. */
const watched: [table: string, update: string][] = [
  ["credentials", `UPDATE OF ${DECIDING_CREDENTIAL_COLUMNS.join(", ")}`],
  ["secret_fields", "UPDATE"],
  ["assignments", "UPDATE"],
  ["projects", "UPDATE"],
  ["members", "UPDATE"],
];

/**
 * resolution_epoch (issue 16; docs/storage.md): the vault's resolution cache (what a resolve reads:
 * run context, candidate rows, assignments, opened fields) is used only while this is unchanged.
 */
export const RESOLUTION_EPOCH_MIGRATION: Migration = {
  version: 18,
  name: "issue 16: resolution_epoch, bumped by triggers on every change to what a resolve reads, so the vault's in-memory resolution cache is never stale",
  sql: `
  CREATE TABLE resolution_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);
  INSERT INTO resolution_epoch (id, epoch) VALUES (1, 0);
${watched
  .map(([table, update]) => [
    `  CREATE TRIGGER resolution_epoch_${table}_added AFTER INSERT ON ${table} ${bump};`,
    `  CREATE TRIGGER resolution_epoch_${table}_changed AFTER ${update} ON ${table} ${bump};`,
    `  CREATE TRIGGER resolution_epoch_${table}_deleted AFTER DELETE ON ${table} ${bump};`,
  ].join("\n"))
  .join("\n")}
  `,
};
