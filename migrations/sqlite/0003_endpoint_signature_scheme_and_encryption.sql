-- Per-endpoint signing scheme and payload encryption (merchants coming from providers
-- that sign with a public key, or send `{"data": "<AES-256-CBC>"}`).
-- signature_scheme: 'hmac' (v1, whsec_) or 'ed25519' (v1a, whsk_ kept here, whpk_ shown).
-- encryption: NULL (clear) or 'aes-256-cbc'; encryption_key: base64 of 32 bytes, sealed
-- like the signing secrets when HERALD_SECRET_KEY is set.
ALTER TABLE endpoints ADD COLUMN signature_scheme TEXT NOT NULL DEFAULT 'hmac';
ALTER TABLE endpoints ADD COLUMN encryption TEXT;
ALTER TABLE endpoints ADD COLUMN encryption_key TEXT;
