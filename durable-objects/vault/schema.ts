/**
 * The OrgVault's SQLite schema, one migration per version, applied in order inside
 * blockConcurrencyWhile. docs/storage.md is the written contract for every table here.
 * Never edit a shipped migration: add a new one.
 */
import type { Migration } from "../migrations";
import { SLACK_MIGRATION } from "./slack/migration";
import { CONNECTION_MIGRATION } from "./connection-migration";
import { WEBHOOKS_MIGRATION } from "./webhooks/migration";
import { OAUTH_CLIENTS_MIGRATION } from "./oauth-clients-migration";
import { HEALTH_MIGRATION } from "./health-migration";
import { RESOLUTION_EPOCH_MIGRATION } from "./resolution-epoch-migration";


export const VAULT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "identity, credentials, sealed fields, audit",
    sql: `
  CREATE TABLE org (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    org_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE members (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'builder')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE projects (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE project_members (
    project TEXT NOT NULL REFERENCES projects(slug),
    member_id TEXT NOT NULL REFERENCES members(id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'builder')),
    PRIMARY KEY (project, member_id)
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'key', 'rt')),
    member_id TEXT REFERENCES members(id),
    name TEXT NOT NULL,
    preview TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
  );
  CREATE INDEX tokens_by_member ON tokens(member_id, kind);
  CREATE TABLE custom_apps (
    slug TEXT PRIMARY KEY,
    fields TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    scope_type TEXT NOT NULL CHECK (scope_type IN ('org', 'user', 'project')),
    scope_id TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    kind TEXT NOT NULL CHECK (kind IN ('oauth', 'api_key')),
    status TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth', 'revoked')),
    preview TEXT,
    account TEXT,
    scopes TEXT NOT NULL DEFAULT '[]',
    expires_at INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    rotated_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER,
    CHECK (status != 'revoked' OR is_default = 0)
  );
  CREATE UNIQUE INDEX credentials_live_slug ON credentials(app, scope_type, scope_id, slug) WHERE status != 'revoked';
  CREATE UNIQUE INDEX credentials_one_default ON credentials(app, scope_type, scope_id) WHERE is_default = 1;
  CREATE INDEX credentials_by_app ON credentials(app, scope_type, scope_id);
  CREATE TABLE secret_fields (
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    field TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (credential_id, field)
  );
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    credential_id TEXT,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_by_action ON audit(action, seq);
  CREATE INDEX audit_by_actor ON audit(actor, seq);
  CREATE INDEX audit_by_credential ON audit(credential_id, seq);
  `,
  },
  {
    version: 2,
    name: "consumers (learned from the execution plane) and assignments (pins)",
    sql: `
  CREATE TABLE consumers (
    kind TEXT NOT NULL CHECK (kind IN ('workflow', 'agent', 'poll')),
    target TEXT NOT NULL,
    consumer TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('event', 'agent_tools')),
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (kind, target, consumer)
  );
  CREATE TABLE assignments (
    kind TEXT NOT NULL CHECK (kind IN ('workflow', 'agent', 'poll')),
    target TEXT NOT NULL,
    consumer TEXT NOT NULL,
    app TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, target, consumer, app)
  );
  CREATE INDEX assignments_by_credential ON assignments(credential_id);
  `,
  },
  {
    version: 3,
    name: "org settings (dev: where the sandbox is)",
    sql: `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
  `,
  },
  {
    version: 4,
    name: "connect sessions and OAuth states",
    sql: `
  CREATE TABLE connect_sessions (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    name TEXT,
    reconnect_id TEXT,
    allow_account_change INTEGER NOT NULL DEFAULT 0,
    credential_ids TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX connect_sessions_by_member ON connect_sessions(member_id, created_at);
  CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES connect_sessions(id),
    verifier TEXT,
    targets TEXT NOT NULL,
    name TEXT,
    redirect_uri TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER
  );
  `,
  },
  SLACK_MIGRATION,
  {
    version: 6,
    name: "CLI browser logins: pending approvals, deleted when collected or expired (vault/cli-logins.ts)",
    sql: `
  CREATE TABLE cli_logins (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    verifier TEXT NOT NULL,
    client TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    member_id TEXT REFERENCES members(id),
    token_ttl INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    CHECK (status = 'pending' OR member_id IS NOT NULL)
  );
  CREATE INDEX cli_logins_by_expiry ON cli_logins(expires_at);
  `,
  },
  {
    version: 7,
    name: "CLI logins: where they came from, and wrong codes typed (issue 11)",
    sql: `
  ALTER TABLE cli_logins ADD COLUMN client_address TEXT;
  ALTER TABLE cli_logins ADD COLUMN user_agent TEXT;
  ALTER TABLE cli_logins ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
  `,
  },
  {
    version: 8,
    name: "OAuth token generation (a refresh never overwrites a newer connect); expiry indexes for pruning connect sessions and states (issue 11)",
    sql: `
  ALTER TABLE credentials ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX connect_sessions_by_expiry ON connect_sessions(expires_at);
  CREATE INDEX oauth_states_by_expiry ON oauth_states(expires_at);
  CREATE INDEX oauth_states_by_session ON oauth_states(session_id);
  `,
  },
  {
    version: 9,
    name: "Invitations: single use, 7 days, the link's secret hashed (issue 13, vault/invitations.ts)",
    sql: `
  CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'builder')),
    projects TEXT NOT NULL DEFAULT '[]',
    invited_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT,
    revoked_at INTEGER
  );
  CREATE INDEX invitations_by_email ON invitations(email);
  `,
  },
  {
    version: 10,
    name: "runtime tokens: who created one (issue 13); no foreign key, so an offboarded member's runtime tokens keep their history",
    sql: `
  ALTER TABLE tokens ADD COLUMN created_by TEXT;
  `,
  },
  {
    version: 11,
    name: "offboarding (issue 13): a removed member's row stays (audit, tokens, credentials point at it) with removed_at; accepting a new invitation brings it back",
    sql: `
  ALTER TABLE members ADD COLUMN removed_at INTEGER;
  `,
  },
  OAUTH_CLIENTS_MIGRATION,
  CONNECTION_MIGRATION,
  HEALTH_MIGRATION,
  WEBHOOKS_MIGRATION,
  {
    version: 17,
    name: "issue 16: indexes for keyset pages and ref lookups; auth_epoch, bumped by triggers on every change that can end or narrow a token, so the vault's in-memory token cache is never stale",
    sql: `
  CREATE INDEX credentials_page ON credentials(app, scope_type, scope_id, slug, id);
  CREATE INDEX credentials_by_slug ON credentials(slug);
  CREATE TABLE auth_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);
  INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);
  CREATE TRIGGER auth_epoch_token_changed AFTER UPDATE OF hash, kind, member_id, expires_at, revoked_at ON tokens BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_token_deleted AFTER DELETE ON tokens BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_member_changed AFTER UPDATE OF id, role, removed_at ON members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_member_deleted AFTER DELETE ON members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_project_member_added AFTER INSERT ON project_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_project_member_changed AFTER UPDATE ON project_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  CREATE TRIGGER auth_epoch_project_member_deleted AFTER DELETE ON project_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
  `,
  },
  RESOLUTION_EPOCH_MIGRATION,
];
