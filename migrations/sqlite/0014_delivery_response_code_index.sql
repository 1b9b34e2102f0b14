-- The deliveries list's response-code filter (`status_code=503`, `5xx`,
-- `none`) reads this index, so "which deliveries got a 500?" costs the same
-- with a million deliveries stored as with a hundred (tests/it/query_plans.rs).
CREATE INDEX deliveries_merchant_code_created_idx
    ON deliveries (merchant_id, last_status_code, created_at, id);
