-- uYoop-Cal initial schema (PostgreSQL). Never edit a migration that has run: add a new one.

CREATE TABLE teams (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    lead_id     BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       TEXT NOT NULL CHECK (char_length(username) BETWEEN 1 AND 100),
    email          TEXT NOT NULL CHECK (char_length(email) BETWEEN 3 AND 255),
    display_name   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('PROJET', 'DEV', 'OPS', 'ADMIN')),
    team_id        BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    totp_enabled   BOOLEAN NOT NULL DEFAULT false,
    totp_secret    TEXT,             -- encrypted (Transit or local keyring), never plain
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_at      TIMESTAMPTZ,
    disabled       BOOLEAN NOT NULL DEFAULT false,
    session_epoch  BIGINT NOT NULL DEFAULT 0, -- bumped to revoke every session at once
    locale         TEXT NOT NULL DEFAULT 'fr',
    timezone       TEXT NOT NULL DEFAULT 'Europe/Paris',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_team_idx ON users (team_id);
ALTER TABLE teams ADD CONSTRAINT teams_lead_fkey FOREIGN KEY (lead_id) REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE recovery_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE refresh_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id     UUID NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    rotated_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    revoked_reason TEXT,
    ip            TEXT,
    user_agent    TEXT
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE delegations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grantor_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grantee_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capability  TEXT NOT NULL CHECK (capability IN ('dev_lead')),
    starts_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (expires_at > starts_at AND expires_at <= starts_at + INTERVAL '72 hours')
);
CREATE INDEX delegations_grantee_idx ON delegations (grantee_id, expires_at);

CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type          TEXT NOT NULL CHECK (type IN ('meeting', 'deployment_window', 'git_action')),
    title         TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    description   TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    start_at      TIMESTAMPTZ NOT NULL,
    end_at        TIMESTAMPTZ NOT NULL,
    rrule         TEXT,
    -- End of the whole series: end_at for a single event, NULL for an unbounded series.
    series_end    TIMESTAMPTZ,
    exdates       JSONB NOT NULL DEFAULT '[]',
    parent_id     BIGINT REFERENCES events (id) ON DELETE CASCADE,
    recurrence_id TIMESTAMPTZ,
    extra         JSONB NOT NULL DEFAULT '{}',
    status        TEXT NOT NULL DEFAULT 'planned' CHECK (status IN
                  ('pending_approval', 'refused', 'planned', 'in_progress', 'completed', 'failed',
                   'rolled_back', 'cancelled')),
    created_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    team_id       BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    approved_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    approved_at   TIMESTAMPTZ,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT events_end_after_start CHECK (end_at > start_at),
    CONSTRAINT events_series_end_valid CHECK (series_end IS NULL OR series_end >= end_at),
    CONSTRAINT events_occurrence_unique UNIQUE (parent_id, recurrence_id)
);
-- Calendar range queries ask "which events overlap [a, b)?". A GiST index on the span answers that
-- without scanning every event that started before b (what a btree on start_at would do).
CREATE INDEX events_span_gist ON events USING gist (tstzrange(start_at, series_end, '[)'));
CREATE INDEX events_type_idx ON events (type);
CREATE INDEX events_created_by_idx ON events (created_by);
CREATE INDEX events_team_idx ON events (team_id);
CREATE INDEX events_status_idx ON events (status);
CREATE INDEX events_extra_gin ON events USING gin (extra jsonb_path_ops);

CREATE TABLE approvals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    actor_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action     TEXT NOT NULL CHECK (action IN ('submitted', 'review_started', 'approved', 'refused', 'withdrawn')),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX approvals_event_idx ON approvals (event_id, id);

CREATE TABLE status_transitions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX status_transitions_event_idx ON status_transitions (event_id, id);

CREATE TABLE freeze_periods (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    rrule        TEXT,
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    environments JSONB NOT NULL DEFAULT '["prod"]',
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE TABLE comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 10000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX comments_event_idx ON comments (event_id, id);

CREATE TABLE reactions (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 16),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_id, emoji)
);

CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    link       TEXT,
    data       JSONB NOT NULL DEFAULT '{}',
    dedupe_key TEXT,
    read_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (dedupe_key);

CREATE TABLE notification_preferences (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_enabled  BOOLEAN NOT NULL DEFAULT true,
    email_digest   BOOLEAN NOT NULL DEFAULT true,
    chat_enabled   BOOLEAN NOT NULL DEFAULT true,
    reminders      BOOLEAN NOT NULL DEFAULT true,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE calendar_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    scope      TEXT NOT NULL DEFAULT 'user',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX calendar_tokens_hash_key ON calendar_tokens (token_hash);

CREATE TABLE git_action_logs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    git_action_id  BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    executed_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status         TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    exit_code      INTEGER,
    stdout         TEXT NOT NULL DEFAULT '',
    stderr         TEXT NOT NULL DEFAULT '',
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    duration_ms    BIGINT,
    executed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX git_action_logs_action_idx ON git_action_logs (git_action_id, id DESC);

-- Append-only: who did what, when, from where. No foreign key on user_id: deleting a user keeps
-- their trail.
CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id       BIGINT,
    credential    TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    details       JSONB NOT NULL DEFAULT '{}',
    ip_address    TEXT,
    user_agent    TEXT,
    request_id    TEXT
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_time_idx ON audit_log (occurred_at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      JSONB NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    dedupe_key   TEXT,
    locked_by    TEXT,
    locked_at    TIMESTAMPTZ,
    heartbeat_at TIMESTAMPTZ,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_running_idx ON jobs (heartbeat_at) WHERE status = 'running';
