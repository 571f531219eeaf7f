-- Collaboration and notifications (comments, reactions, notifications and preferences exist since 0001).

-- One row per delivered e-mail or chat message, written right after the delivery: a retried job
-- (at-least-once) sees it and does not deliver twice.
CREATE TABLE deliveries (
    key          TEXT PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'slack', 'teams')),
    delivered_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);

-- The daily digest reads the unread notifications of a time window.
CREATE INDEX notifications_digest_idx ON notifications (created_at) WHERE read_at IS NULL;
-- "Who reacted" lists and per-user toggles.
CREATE INDEX reactions_user_idx ON reactions (user_id);
