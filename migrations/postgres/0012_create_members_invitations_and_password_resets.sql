-- Teams: the people who log in to a merchant's dashboard, each with a role.
-- Each merchant's own log-in (its email and password) becomes its first
-- owner, with an id made from the merchant's, and the merchant row keeps no
-- password of its own any more.
CREATE TABLE members (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- Lower-cased; one person is a member of one merchant.
    email               TEXT NOT NULL,
    -- NULL: logs in with login links only.
    password_hash       TEXT,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    -- Sessions of this member that began before this time (Unix ms) are
    -- over: set when the password is changed or reset. NULL: none ended.
    sessions_valid_from BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX members_email_key ON members (email);
CREATE INDEX members_merchant_idx ON members (merchant_id, created_at);
INSERT INTO members (id, merchant_id, email, password_hash, role, created_at)
SELECT 'mem_' || substr(id, 5), id, email, password_hash, 'owner', created_at FROM merchants;
UPDATE merchants SET password_hash = NULL;

-- Invitations to join a team. The link's token is stored as SHA-256 only.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    -- Set once, by the acceptance.
    accepted_at BIGINT
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
CREATE INDEX invitations_merchant_idx ON invitations (merchant_id, created_at);

-- Password resets: single-use, short-lived links mailed to a member.
-- Only SHA-256 of the token is stored, like login links: a copy of the
-- database resets no password.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    member_id   TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    -- Set once: by the reset that used it, or when the password changed
    -- otherwise (a link mailed before a change must not undo it).
    used_at     BIGINT
);
CREATE INDEX password_resets_member_idx ON password_resets (member_id, created_at);
