-- Tags: the payment, payout, refund and customer references merchants and
-- operators search by. The event keeps its list (shown with it); the
-- lookup table makes "events with tag T" an index read, per merchant and
-- (for operators) across merchants.
ALTER TABLE events ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
CREATE TABLE event_tags (
    merchant_id TEXT NOT NULL,
    tag         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (merchant_id, tag, created_at, event_id)
);
CREATE INDEX event_tags_tag_idx ON event_tags (tag, created_at);
CREATE INDEX event_tags_event_idx ON event_tags (event_id);

-- Operators search idempotency keys across merchants.
CREATE INDEX events_idempotency_idx ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Retention deletes the oldest events first, across merchants.
CREATE INDEX events_created_idx ON events (created_at);
