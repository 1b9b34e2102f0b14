-- Login links: single-use, short-lived ways into the dashboard that the
-- platform hands its merchants (POST /api/v1/admin/merchants/{id}/login-links).
-- Only SHA-256 of the token is stored, like API keys: a copy of the
-- database opens no dashboard.
CREATE TABLE login_links (
    token_hash   TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- The member the link logs in as; NULL: the merchant's owner.
    member_email TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    -- Set once, by the one request that used it.
    used_at      BIGINT
);
CREATE INDEX login_links_merchant_idx ON login_links (merchant_id, created_at);

-- The audit log: who did what to a merchant's account. Rows are only ever
-- inserted; retention (which deletes delivery history) never touches them.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    -- NULL only for a failed log-in with an email that is no account.
    merchant_id    TEXT,
    actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('member', 'api_key', 'operator', 'herald')),
    actor          TEXT,
    action         TEXT NOT NULL,
    object_id      TEXT,
    detail         TEXT,
    client_address TEXT
);
CREATE INDEX audit_log_merchant_idx ON audit_log (merchant_id, at, id);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
