-- A real sandbox: `live` endpoints get live events, `test` endpoints the
-- platform's test events (live_mode = false). Existing endpoints are live.
ALTER TABLE endpoints ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';

-- A test event sent from the dashboard or `/test` goes to this endpoint
-- alone; `recover` never sends it to another one.
ALTER TABLE events ADD COLUMN only_endpoint_id TEXT;

-- The callback secret rotates like an endpoint's: the old one keeps signing
-- beside the new one until the grace period ends.
ALTER TABLE merchants ADD COLUMN callback_previous_secret TEXT;
ALTER TABLE merchants ADD COLUMN callback_previous_secret_expires_at INTEGER;

-- One delivery per event and endpoint, which is what makes `recover` safe to
-- run twice, or from two processes at once. (Callback deliveries have no
-- endpoint: NULLs never collide.) It also serves lookups by event, so the
-- event-only index goes.
CREATE UNIQUE INDEX deliveries_event_endpoint_key ON deliveries (event_id, endpoint_id);
DROP INDEX deliveries_event_idx;
