-- Every filter of the event and delivery lists is served by an index, so a
-- page costs the same with a million rows stored as with a thousand
-- (tests/it/query_plans.rs keeps it so). Without these, a filter on a type
-- or status a merchant rarely has walked its whole history to fill a page.
CREATE INDEX events_merchant_type_created_idx ON events (merchant_id, event_type, created_at, id);
CREATE INDEX deliveries_merchant_type_created_idx ON deliveries (merchant_id, event_type, created_at, id);
CREATE INDEX deliveries_merchant_status_created_idx ON deliveries (merchant_id, status, created_at, id);
-- Operators' list of every delivery, newest first, across merchants.
CREATE INDEX deliveries_created_idx ON deliveries (created_at, id);
