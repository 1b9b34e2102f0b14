-- Statistics and stored-row counts kept as the rows they summarise change,
-- in the same transaction (#20): `GET /api/v1/stats` reads these rollups,
-- never the deliveries and attempts, and `GET /metrics` reads the counts,
-- never a COUNT(*) of a whole table.
--
-- Triggers keep them, so no path that inserts a delivery, changes its
-- status (the recorder, retries, replays, bulk and operators' retries,
-- unreadable rows failed at claim) or records an attempt can forget to.
-- Deleting deliveries is the one thing a trigger cannot count here (the
-- event that says live or test is gone first when retention cascades from
-- it): retention subtracts what it deletes itself (`Store::purge_events_before`),
-- and deleting an endpoint drops its rows (by trigger, not by a foreign
-- key: checking one would lock the endpoint after its deliveries, the
-- order that deadlocks with deleting it).

-- Deliveries to endpoints (callbacks are not in the stats) per merchant,
-- hour of creation (`created_at / 3 600 000`), endpoint, live or test mode
-- of their event, and status.
CREATE TABLE delivery_counts_hourly (
    merchant_id TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    status      TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode, status)
) WITHOUT ROWID;
CREATE INDEX delivery_counts_hourly_endpoint_idx ON delivery_counts_hourly (endpoint_id);

-- Attempts to endpoints per merchant, hour of the attempt's start, endpoint,
-- mode, and duration bucket: `bucket_ms` is the bucket's lower bound. Below
-- 64 ms every millisecond is its own bucket; above, each power of two is cut
-- into 32 buckets (at most 1/32 of their value wide; 65 536 ms wide from
-- 2^21 ms on). `store::stats::latency_bucket` is the same rule in Rust.
CREATE TABLE attempt_latency_hourly (
    merchant_id TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    bucket_ms   INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX attempt_latency_hourly_endpoint_idx ON attempt_latency_hourly (endpoint_id);

-- Rows stored in `table_name`: the sum of its slots (PostgreSQL spreads
-- concurrent writers over slots; SQLite has one writer and uses slot 0).
CREATE TABLE stored_row_counts (
    table_name TEXT NOT NULL,
    slot       INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (table_name, slot)
) WITHOUT ROWID;

INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n)
SELECT d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status, COUNT(*)
FROM deliveries d JOIN events e ON e.id = d.event_id
WHERE d.endpoint_id IS NOT NULL
GROUP BY d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status;

INSERT INTO attempt_latency_hourly (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n)
SELECT d.merchant_id, a.started_at / 3600000, d.endpoint_id, e.live_mode,
       CASE WHEN a.duration_ms < 64 THEN a.duration_ms
       WHEN a.duration_ms < 128 THEN (a.duration_ms >> 1) << 1
       WHEN a.duration_ms < 256 THEN (a.duration_ms >> 2) << 2
       WHEN a.duration_ms < 512 THEN (a.duration_ms >> 3) << 3
       WHEN a.duration_ms < 1024 THEN (a.duration_ms >> 4) << 4
       WHEN a.duration_ms < 2048 THEN (a.duration_ms >> 5) << 5
       WHEN a.duration_ms < 4096 THEN (a.duration_ms >> 6) << 6
       WHEN a.duration_ms < 8192 THEN (a.duration_ms >> 7) << 7
       WHEN a.duration_ms < 16384 THEN (a.duration_ms >> 8) << 8
       WHEN a.duration_ms < 32768 THEN (a.duration_ms >> 9) << 9
       WHEN a.duration_ms < 65536 THEN (a.duration_ms >> 10) << 10
       WHEN a.duration_ms < 131072 THEN (a.duration_ms >> 11) << 11
       WHEN a.duration_ms < 262144 THEN (a.duration_ms >> 12) << 12
       WHEN a.duration_ms < 524288 THEN (a.duration_ms >> 13) << 13
       WHEN a.duration_ms < 1048576 THEN (a.duration_ms >> 14) << 14
       WHEN a.duration_ms < 2097152 THEN (a.duration_ms >> 15) << 15
       WHEN a.duration_ms < 4194304 THEN (a.duration_ms >> 16) << 16
       ELSE (a.duration_ms >> 16) << 16 END,
       COUNT(*)
FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
WHERE d.endpoint_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO stored_row_counts (table_name, slot, n)
SELECT 'events', 0, COUNT(*) FROM events
UNION ALL SELECT 'deliveries', 0, COUNT(*) FROM deliveries
UNION ALL SELECT 'attempts', 0, COUNT(*) FROM attempts;

CREATE TRIGGER deliveries_counted_on_insert AFTER INSERT ON deliveries
WHEN NEW.endpoint_id IS NOT NULL
BEGIN
    INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n)
    VALUES (NEW.merchant_id, NEW.created_at / 3600000, NEW.endpoint_id,
            (SELECT live_mode FROM events WHERE id = NEW.event_id), NEW.status, 1)
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER deliveries_counted_on_status AFTER UPDATE OF status ON deliveries
WHEN NEW.endpoint_id IS NOT NULL AND OLD.status <> NEW.status
BEGIN
    INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n)
    VALUES (NEW.merchant_id, NEW.created_at / 3600000, NEW.endpoint_id,
            (SELECT live_mode FROM events WHERE id = NEW.event_id), OLD.status, -1)
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) DO UPDATE SET n = n + excluded.n;
    INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n)
    VALUES (NEW.merchant_id, NEW.created_at / 3600000, NEW.endpoint_id,
            (SELECT live_mode FROM events WHERE id = NEW.event_id), NEW.status, 1)
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER attempts_counted_on_insert AFTER INSERT ON attempts
WHEN (SELECT endpoint_id FROM deliveries WHERE id = NEW.delivery_id) IS NOT NULL
BEGIN
    INSERT INTO attempt_latency_hourly (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n)
    SELECT d.merchant_id, NEW.started_at / 3600000, d.endpoint_id, e.live_mode,
             CASE WHEN NEW.duration_ms < 64 THEN NEW.duration_ms
             WHEN NEW.duration_ms < 128 THEN (NEW.duration_ms >> 1) << 1
             WHEN NEW.duration_ms < 256 THEN (NEW.duration_ms >> 2) << 2
             WHEN NEW.duration_ms < 512 THEN (NEW.duration_ms >> 3) << 3
             WHEN NEW.duration_ms < 1024 THEN (NEW.duration_ms >> 4) << 4
             WHEN NEW.duration_ms < 2048 THEN (NEW.duration_ms >> 5) << 5
             WHEN NEW.duration_ms < 4096 THEN (NEW.duration_ms >> 6) << 6
             WHEN NEW.duration_ms < 8192 THEN (NEW.duration_ms >> 7) << 7
             WHEN NEW.duration_ms < 16384 THEN (NEW.duration_ms >> 8) << 8
             WHEN NEW.duration_ms < 32768 THEN (NEW.duration_ms >> 9) << 9
             WHEN NEW.duration_ms < 65536 THEN (NEW.duration_ms >> 10) << 10
             WHEN NEW.duration_ms < 131072 THEN (NEW.duration_ms >> 11) << 11
             WHEN NEW.duration_ms < 262144 THEN (NEW.duration_ms >> 12) << 12
             WHEN NEW.duration_ms < 524288 THEN (NEW.duration_ms >> 13) << 13
             WHEN NEW.duration_ms < 1048576 THEN (NEW.duration_ms >> 14) << 14
             WHEN NEW.duration_ms < 2097152 THEN (NEW.duration_ms >> 15) << 15
             WHEN NEW.duration_ms < 4194304 THEN (NEW.duration_ms >> 16) << 16
             ELSE (NEW.duration_ms >> 16) << 16 END,
           1
    FROM deliveries d JOIN events e ON e.id = d.event_id
    WHERE d.id = NEW.delivery_id
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, bucket_ms) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER events_stored_on_insert AFTER INSERT ON events
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('events', 0, 1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER events_stored_on_delete AFTER DELETE ON events
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('events', 0, -1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER deliveries_stored_on_insert AFTER INSERT ON deliveries
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('deliveries', 0, 1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER deliveries_stored_on_delete AFTER DELETE ON deliveries
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('deliveries', 0, -1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER attempts_stored_on_insert AFTER INSERT ON attempts
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('attempts', 0, 1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER attempts_stored_on_delete AFTER DELETE ON attempts
BEGIN
    INSERT INTO stored_row_counts (table_name, slot, n) VALUES ('attempts', 0, -1)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER endpoints_rollups_dropped AFTER DELETE ON endpoints
BEGIN
    DELETE FROM delivery_counts_hourly WHERE endpoint_id = OLD.id;
    DELETE FROM attempt_latency_hourly WHERE endpoint_id = OLD.id;
END;
