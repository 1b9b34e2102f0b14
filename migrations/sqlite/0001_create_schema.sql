-- Herald's schema for SQLite. Times are integer milliseconds since the Unix
-- epoch in both dialects, so comparisons and keyset pagination behave alike.

CREATE TABLE merchants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT,
    role          TEXT NOT NULL DEFAULT 'merchant' CHECK (role IN ('merchant', 'admin')),
    -- Signs deliveries to a one-off callback_url, which has no endpoint secret.
    callback_secret TEXT,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX merchants_email_key ON merchants (email);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id, created_at);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    example     TEXT NOT NULL,
    archived_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE endpoints (
    id                         TEXT PRIMARY KEY,
    merchant_id                TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    event_types                TEXT NOT NULL DEFAULT '[]',
    disabled_at                INTEGER,
    disabled_reason            TEXT,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at INTEGER,
    rate_limit_per_s           INTEGER,
    headers                    TEXT NOT NULL DEFAULT '{}',
    failing_since              INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX endpoints_merchant_idx ON endpoints (merchant_id, created_at);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    idempotency_key TEXT,
    callback_url    TEXT,
    ordering_key    TEXT,
    live_mode       BOOLEAN NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_idempotency_key ON events (merchant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_merchant_created_idx ON events (merchant_id, created_at, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    merchant_id      TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    endpoint_id      TEXT REFERENCES endpoints (id) ON DELETE CASCADE,
    callback_url     TEXT,
    event_type       TEXT NOT NULL,
    ordering_key     TEXT,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    -- Set by a manual retry until its attempt is recorded.
    manual           BOOLEAN NOT NULL DEFAULT FALSE,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error_kind  TEXT,
    succeeded_at     INTEGER,
    failed_at        INTEGER,
    created_at       INTEGER NOT NULL,
    CHECK ((endpoint_id IS NULL) <> (callback_url IS NULL))
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_merchant_created_idx ON deliveries (merchant_id, created_at, id);
CREATE INDEX deliveries_endpoint_created_idx ON deliveries (endpoint_id, created_at, id);
CREATE INDEX deliveries_event_idx ON deliveries (event_id);
-- Per-key ordering: "is an earlier delivery with this key still pending?"
CREATE INDEX deliveries_ordering_idx ON deliveries (endpoint_id, ordering_key, id)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;
CREATE INDEX deliveries_status_created_idx ON deliveries (status, created_at, id);

CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt_number   INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    request_headers  TEXT NOT NULL,
    status_code      INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    error_kind       TEXT CHECK (error_kind IN ('timeout', 'connect', 'tls', 'status', 'blocked')),
    error_message    TEXT,
    manual           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX attempts_delivery_idx ON attempts (delivery_id, started_at);
