-- The delivery profile (wire format) of deliveries to an event's
-- `callback_url`; NULL: `standard`. Callbacks are signed with the merchant's
-- callback secret, an HMAC key, so only profiles that sign with HMAC (or
-- not at all) are accepted here (service::callback_secret).
ALTER TABLE merchants ADD COLUMN callback_profile TEXT;
