-- Finished hours of the attempt latency histograms folded into one row per
-- merchant, hour, endpoint and mode (#20): a busy endpoint's hour is ~60
-- bucket rows in `attempt_latency_hourly`, written one by one among every
-- merchant's rows, so a week of a big merchant was ~28,000 rows on ~19,000
-- heap pages; packed, it is one row per endpoint, hour and mode, written
-- together by the fold.
--
-- `buckets` is `bucket_ms:n,bucket_ms:n,…` in ascending bucket order, no
-- zero counts (`store::stats_fold` writes and reads it). A background fold
-- (`Store::fold_attempt_latency`) moves hourly rows of hours a margin in the
-- past into these rows: it deletes the hourly rows (`DELETE … RETURNING`,
-- rows locked by others skipped) and adds what it deleted, in one
-- transaction, under a transaction advisory lock so that two Herald
-- processes never merge into the same packed row at once. Rows written to
-- `attempt_latency_hourly` later for a folded hour (an attempt recorded
-- late, retention's negative counts for what it deletes) stay there until
-- the next fold; readers add both tables.
CREATE TABLE attempt_latency_packed (
    merchant_id TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    buckets     TEXT NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode)
);
CREATE INDEX attempt_latency_packed_endpoint_idx ON attempt_latency_packed (endpoint_id);

-- Deleting an endpoint drops its packed rows too, after its hourly rows: a
-- fold that holds some of those hourly rows commits its packed row first,
-- and this later statement (a fresh snapshot) then deletes it.
CREATE OR REPLACE FUNCTION herald_endpoint_rollups_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts_hourly WHERE endpoint_id = OLD.id;
    DELETE FROM attempt_latency_hourly WHERE endpoint_id = OLD.id;
    DELETE FROM attempt_latency_packed WHERE endpoint_id = OLD.id;
    RETURN NULL;
END $$;
