-- uYoop-Cal initial schema (SQLite, the embedded default). Timestamps are RFC 3339 UTC text, which sorts in time order. Never edit a migration that has run: add a new one.

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    lead_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 255),
    display_name   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('PROJET', 'DEV', 'OPS', 'ADMIN')),
    team_id        INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    totp_enabled   INTEGER NOT NULL DEFAULT 0,
    totp_secret    TEXT,             -- encrypted (Transit or local keyring), never plain
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_at      TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    session_epoch  INTEGER NOT NULL DEFAULT 0, -- bumped to revoke every session at once
    locale         TEXT NOT NULL DEFAULT 'fr',
    timezone       TEXT NOT NULL DEFAULT 'Europe/Paris',
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_team_idx ON users (team_id);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE refresh_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    last_used_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    expires_at    TEXT NOT NULL,
    rotated_at    TEXT,
    revoked_at    TEXT,
    revoked_reason TEXT,
    ip            TEXT,
    user_agent    TEXT
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE delegations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    grantor_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grantee_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capability  TEXT NOT NULL CHECK (capability IN ('dev_lead')),
    starts_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CHECK (julianday(expires_at) > julianday(starts_at) AND julianday(expires_at) - julianday(starts_at) <= 3.0)
);
CREATE INDEX delegations_grantee_idx ON delegations (grantee_id, expires_at);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    type          TEXT NOT NULL CHECK (type IN ('meeting', 'deployment_window', 'git_action')),
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    description   TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    start_at      TEXT NOT NULL,
    end_at        TEXT NOT NULL,
    rrule         TEXT,
    -- End of the whole series: end_at for a single event, NULL for an unbounded series.
    series_end    TEXT,
    exdates       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(exdates)),
    parent_id     INTEGER REFERENCES events (id) ON DELETE CASCADE,
    recurrence_id TEXT,
    extra         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
    status        TEXT NOT NULL DEFAULT 'planned' CHECK (status IN
                  ('pending_approval', 'refused', 'planned', 'in_progress', 'completed', 'failed',
                   'rolled_back', 'cancelled')),
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    team_id       INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    approved_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    approved_at   TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT events_end_after_start CHECK (end_at > start_at),
    CONSTRAINT events_series_end_valid CHECK (series_end IS NULL OR series_end >= end_at),
    CONSTRAINT events_occurrence_unique UNIQUE (parent_id, recurrence_id)
);
-- Calendar range queries ask "which events overlap [a, b)?". The embedded backend serves one team:
-- a composite index on (start_at, series_end) keeps the scan to the index.
CREATE INDEX events_span_idx ON events (start_at, series_end);
CREATE INDEX events_type_idx ON events (type);
CREATE INDEX events_created_by_idx ON events (created_by);
CREATE INDEX events_team_idx ON events (team_id);
CREATE INDEX events_status_idx ON events (status);

CREATE TABLE approvals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action     TEXT NOT NULL CHECK (action IN ('submitted', 'review_started', 'approved', 'refused', 'withdrawn')),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX approvals_event_idx ON approvals (event_id, id);

CREATE TABLE status_transitions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX status_transitions_event_idx ON status_transitions (event_id, id);

CREATE TABLE freeze_periods (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    rrule        TEXT,
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    environments TEXT NOT NULL DEFAULT '["prod"]',
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CHECK (ends_at > starts_at)
);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX comments_event_idx ON comments (event_id, id);

CREATE TABLE reactions (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL CHECK (length(emoji) BETWEEN 1 AND 16),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    PRIMARY KEY (comment_id, user_id, emoji)
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    link       TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    dedupe_key TEXT,
    read_at    TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (dedupe_key);

CREATE TABLE notification_preferences (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_enabled  INTEGER NOT NULL DEFAULT 1,
    email_digest   INTEGER NOT NULL DEFAULT 1,
    chat_enabled   INTEGER NOT NULL DEFAULT 1,
    reminders      INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);

CREATE TABLE calendar_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    scope      TEXT NOT NULL DEFAULT 'user',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    revoked_at TEXT
);
CREATE UNIQUE INDEX calendar_tokens_hash_key ON calendar_tokens (token_hash);

CREATE TABLE git_action_logs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    git_action_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    executed_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status         TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    exit_code      INTEGER,
    stdout         TEXT NOT NULL DEFAULT '',
    stderr         TEXT NOT NULL DEFAULT '',
    started_at     TEXT,
    finished_at    TEXT,
    duration_ms    INTEGER,
    executed_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX git_action_logs_action_idx ON git_action_logs (git_action_id, id DESC);

-- Append-only: who did what, when, from where. No foreign key on user_id: deleting a user keeps
-- their trail.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    user_id       INTEGER,
    credential    TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    details       TEXT NOT NULL DEFAULT '{}',
    ip_address    TEXT,
    user_agent    TEXT,
    request_id    TEXT
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_time_idx ON audit_log (occurred_at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    dedupe_key   TEXT,
    locked_by    TEXT,
    locked_at    TEXT,
    heartbeat_at TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    finished_at  TEXT
);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_running_idx ON jobs (heartbeat_at) WHERE status = 'running';
