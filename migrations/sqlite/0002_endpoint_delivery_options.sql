-- Per-endpoint delivery options (what merchants coming from other providers rely on).
-- legacy_signature: also send `x-herald-signature: sha256=<hex HMAC of the body>`.
-- retry_schedule: the endpoint's own waits before each attempt ("0s,30s,5m"); NULL = the server's.
ALTER TABLE endpoints ADD COLUMN legacy_signature BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE endpoints ADD COLUMN retry_schedule TEXT;
