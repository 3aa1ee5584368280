import type { Migration } from "../migrations";

/**
 * Migration 13 (issue 14, SPEC section 13): the org's own OAuth client per app (its secret sealed
 * like a credential field), the client each credential and each pending OAuth state was made
 * with, and org-local custom OAuth apps in custom_apps. docs/storage.md is the contract.
 */
export const OAUTH_CLIENTS_MIGRATION: Migration = {
  version: 13,
  name: "org OAuth clients per app; the client a credential and an OAuth state were made with; custom OAuth apps (issue 14)",
  sql: `
  CREATE TABLE oauth_clients (
    app TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    secret TEXT,
    endpoints TEXT NOT NULL DEFAULT '{}',
    scopes TEXT,
    pkce INTEGER CHECK (pkce IN (0, 1)),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  ALTER TABLE credentials ADD COLUMN oauth_client TEXT;
  ALTER TABLE oauth_states ADD COLUMN oauth_client TEXT;
  ALTER TABLE custom_apps ADD COLUMN kind TEXT NOT NULL DEFAULT 'api_key' CHECK (kind IN ('api_key', 'oauth'));
  ALTER TABLE custom_apps ADD COLUMN name TEXT;
  ALTER TABLE custom_apps ADD COLUMN provider TEXT;
  `,
};
