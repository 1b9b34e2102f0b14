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
