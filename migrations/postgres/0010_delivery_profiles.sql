-- Delivery profiles: wire formats as data (model::profile). The bundled ones
-- (bundled = TRUE) are inserted and refreshed from the binary at each start;
-- operators add their own. `profile` is the profile's JSON.
CREATE TABLE delivery_profiles (
    name       TEXT PRIMARY KEY,
    profile    TEXT NOT NULL,
    bundled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Each endpoint's wire format; existing endpoints keep Herald's own.
ALTER TABLE endpoints ADD COLUMN profile TEXT NOT NULL DEFAULT 'standard';
-- One attempt's limit in milliseconds; NULL: the server's HERALD_REQUEST_TIMEOUT.
ALTER TABLE endpoints ADD COLUMN timeout_ms BIGINT;
-- RSA profiles: the public key (PEM) of the key in `secret`, so that reading
-- an endpoint shows it without opening the sealed private key.
ALTER TABLE endpoints ADD COLUMN rsa_public_key TEXT;
ALTER TABLE endpoints ADD COLUMN rsa_previous_public_key TEXT;
-- Encryption turned off keeps its key until then (unix ms), so that turning
-- it on again within that grace period gives the receiver the same key.
ALTER TABLE endpoints ADD COLUMN encryption_key_kept_until BIGINT;

-- The object's state before the change, JSON as the platform sent it.
ALTER TABLE events ADD COLUMN previous_data TEXT;
