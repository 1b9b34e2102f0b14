-- Finished hours of the attempt latency histograms folded into one row per
-- merchant, hour, endpoint and mode (#20): a busy endpoint's hour is ~60
-- bucket rows in `attempt_latency_hourly`, so a week of a big merchant was
-- ~28,000 rows to read; packed, it is one row per endpoint, hour and mode.
--
-- `buckets` is `bucket_ms:n,bucket_ms:n,…` in ascending bucket order, no
-- zero counts (`store::stats_fold` writes and reads it). A background fold
-- (`Store::fold_attempt_latency`) moves hourly rows of hours a margin in the
-- past into these rows: it deletes the hourly rows and adds what it deleted,
-- in one transaction. Rows written to `attempt_latency_hourly` later for a
-- folded hour (an attempt recorded late, retention's negative counts for
-- what it deletes) stay there until the next fold; readers add both tables.
CREATE TABLE attempt_latency_packed (
    merchant_id TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    buckets     TEXT NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode)
) WITHOUT ROWID;
CREATE INDEX attempt_latency_packed_endpoint_idx ON attempt_latency_packed (endpoint_id);

-- Deleting an endpoint drops its packed rows, as `endpoints_rollups_dropped`
-- (migration 0009) drops its hourly ones.
CREATE TRIGGER endpoints_packed_latency_dropped AFTER DELETE ON endpoints
BEGIN
    DELETE FROM attempt_latency_packed WHERE endpoint_id = OLD.id;
END;
