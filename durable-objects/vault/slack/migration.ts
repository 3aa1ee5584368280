import type { Migration } from "../../migrations";

/**
 * Vault schema version 5: the Slack gateway (issue 6). docs/storage.md describes every table.
 * Uniqueness does the de-duplication: an event id is claimed once, a message (installation,
 * channel, ts) is queued once, a thread has one session per agent.
 */
export const SLACK_MIGRATION: Migration = {
  version: 5,
  name: "slack installations, channels, bindings, inbox, sessions",
  sql: `
  CREATE TABLE slack_installations (
    id TEXT PRIMARY KEY,
    route_key TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    team_id TEXT,
    team_name TEXT,
    enterprise_id TEXT,
    enterprise_name TEXT,
    is_enterprise_install INTEGER NOT NULL CHECK (is_enterprise_install IN (0, 1)),
    bot_user_id TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    scopes TEXT NOT NULL DEFAULT '[]',
    installer_user_id TEXT,
    installed_by TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE slack_channels (
    route_key TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    name TEXT,
    is_private INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    is_member INTEGER NOT NULL DEFAULT 0 CHECK (is_member IN (0, 1)),
    is_archived INTEGER NOT NULL DEFAULT 0 CHECK (is_archived IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (route_key, channel_id)
  );
  CREATE TABLE slack_bindings (
    route_key TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('mentions', 'all')),
    project TEXT REFERENCES projects(slug),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    paused_reason TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (route_key, channel_id),
    CHECK (status = 'paused' OR paused_reason IS NULL)
  );
  CREATE TABLE slack_events_seen (
    event_id TEXT PRIMARY KEY,
    route_key TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX slack_events_seen_by_at ON slack_events_seen(at);
  CREATE TABLE slack_sessions (
    id TEXT PRIMARY KEY,
    route_key TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    agent TEXT NOT NULL,
    project TEXT,
    messages INTEGER NOT NULL DEFAULT 0,
    replies INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    last_reply_at INTEGER
  );
  CREATE UNIQUE INDEX slack_sessions_thread ON slack_sessions(route_key, channel_id, thread_ts, agent);
  CREATE INDEX slack_sessions_by_agent ON slack_sessions(agent, last_message_at);
  CREATE TABLE slack_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    route_key TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    event_id TEXT NOT NULL,
    binding_channel TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES slack_sessions(id),
    agent TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    user_id TEXT NOT NULL,
    team_id TEXT,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'replied', 'failed', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    reply_text TEXT,
    reply_ts TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX slack_inbox_message ON slack_inbox(route_key, channel_id, ts);
  CREATE INDEX slack_inbox_due ON slack_inbox(status, next_attempt_at);
  CREATE INDEX slack_inbox_by_session ON slack_inbox(session_id, id);
  CREATE INDEX slack_inbox_by_created ON slack_inbox(created_at);
  `,
};
