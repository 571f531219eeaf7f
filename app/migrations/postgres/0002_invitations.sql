-- Invitations: with `auth.registration = invite_only` (the default) an ADMIN invites by e-mail.
CREATE TABLE invitations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('PROJET', 'DEV', 'OPS', 'ADMIN')),
    team_id     BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
