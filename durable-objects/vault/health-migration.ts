import type { Migration } from "../migrations";

/**
 * Credential health (issue 15, SPEC section 14; docs/storage.md). SQLite cannot widen the CHECK
 * on `credentials.status`, so the two new shown statuses refine it instead: `health = 'invalid'`
 * on a `needs_reauth` row (an API key the provider refused) and `health = 'expiring'` on an
 * `active` one. Every existing `status = 'active'` / `status != 'revoked'` test keeps meaning
 * "handed out" / "live". Rows marked needs_reauth before this only ever came from a refused refresh.
 */
export const HEALTH_MIGRATION: Migration = {
  version: 15,
  name: "credential health: shown status refinement, reason, last error, last check (issue 15)",
  sql: `
  ALTER TABLE credentials ADD COLUMN health TEXT CHECK (health IS NULL OR health IN ('expiring', 'invalid'));
  ALTER TABLE credentials ADD COLUMN status_reason TEXT;
  ALTER TABLE credentials ADD COLUMN last_error_at INTEGER;
  ALTER TABLE credentials ADD COLUMN last_error_code TEXT;
  ALTER TABLE credentials ADD COLUMN last_error_message TEXT;
  ALTER TABLE credentials ADD COLUMN checked_at INTEGER;
  UPDATE credentials SET status_reason = 'refresh_failed' WHERE status = 'needs_reauth';
  `,
};
