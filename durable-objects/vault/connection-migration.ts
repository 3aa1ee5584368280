import type { Migration } from "../migrations";

/**
 * Vault schema version 14: scopes and connection data (issue 14, SPEC section 13). docs/storage.md
 * describes the columns. Connection data is non-secret (an instance URL, a realm id, a subdomain)
 * and shown in every view, so it is stored unsealed, checked by lib/schemas/connection.ts rules.
 */
export const CONNECTION_MIGRATION: Migration = {
  version: 14,
  name: "OAuth scopes asked for and connection data per credential; the scopes and pre-redirect values of a connect in progress (issue 14)",
  sql: `
  ALTER TABLE credentials ADD COLUMN requested_scopes TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE credentials ADD COLUMN connection TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE connect_sessions ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE oauth_states ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE oauth_states ADD COLUMN connection TEXT NOT NULL DEFAULT '{}';
  `,
};
