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
--
-- Several Herald processes write at once: every change is one atomic
-- upsert (`n = n + excluded.n`), never a read and a write. The triggers
-- run once per statement and upsert their rows in key order, so two
-- transactions take the rollups' row locks in the same order and cannot
-- deadlock on them; the stored-row counts are spread over 16 slots (by
-- backend) so concurrent writers do not queue on one row.

CREATE TABLE delivery_counts_hourly (
    merchant_id TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    status      TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode, status)
);
CREATE INDEX delivery_counts_hourly_endpoint_idx ON delivery_counts_hourly (endpoint_id);

-- `bucket_ms` is the bucket's lower bound: see `herald_latency_bucket`.
CREATE TABLE attempt_latency_hourly (
    merchant_id TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    endpoint_id TEXT NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    bucket_ms   BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, hour, endpoint_id, live_mode, bucket_ms)
);
CREATE INDEX attempt_latency_hourly_endpoint_idx ON attempt_latency_hourly (endpoint_id);

CREATE TABLE stored_row_counts (
    table_name TEXT NOT NULL,
    slot       INTEGER NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (table_name, slot)
);

-- The latency bucket of a duration, as its lower bound: below 64 ms every
-- millisecond is its own bucket; above, each power of two is cut into 32
-- buckets (at most 1/32 of their value wide; 65 536 ms wide from 2^21 ms
-- on). `store::stats::latency_bucket` is the same rule in Rust.
CREATE FUNCTION herald_latency_bucket(ms BIGINT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT
    CASE WHEN ms < 64 THEN ms
    WHEN ms < 128 THEN (ms >> 1) << 1
    WHEN ms < 256 THEN (ms >> 2) << 2
    WHEN ms < 512 THEN (ms >> 3) << 3
    WHEN ms < 1024 THEN (ms >> 4) << 4
    WHEN ms < 2048 THEN (ms >> 5) << 5
    WHEN ms < 4096 THEN (ms >> 6) << 6
    WHEN ms < 8192 THEN (ms >> 7) << 7
    WHEN ms < 16384 THEN (ms >> 8) << 8
    WHEN ms < 32768 THEN (ms >> 9) << 9
    WHEN ms < 65536 THEN (ms >> 10) << 10
    WHEN ms < 131072 THEN (ms >> 11) << 11
    WHEN ms < 262144 THEN (ms >> 12) << 12
    WHEN ms < 524288 THEN (ms >> 13) << 13
    WHEN ms < 1048576 THEN (ms >> 14) << 14
    WHEN ms < 2097152 THEN (ms >> 15) << 15
    WHEN ms < 4194304 THEN (ms >> 16) << 16
    ELSE (ms >> 16) << 16 END
$$;

INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n)
SELECT d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status, COUNT(*)
FROM deliveries d JOIN events e ON e.id = d.event_id
WHERE d.endpoint_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO attempt_latency_hourly (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n)
SELECT d.merchant_id, a.started_at / 3600000, d.endpoint_id, e.live_mode,
       herald_latency_bucket(a.duration_ms), COUNT(*)
FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
WHERE d.endpoint_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO stored_row_counts (table_name, slot, n)
SELECT 'events', 0, COUNT(*) FROM events
UNION ALL SELECT 'deliveries', 0, COUNT(*) FROM deliveries
UNION ALL SELECT 'attempts', 0, COUNT(*) FROM attempts;

-- Adds `delta` rows to `tbl`'s count, in this backend's slot (0–15), or in
-- the one `herald.count_slot` names: retention's deletes count in a slot of
-- their own (16), so they never wait on an ingest's slot row while holding
-- rollup rows that ingest waits for.
CREATE FUNCTION herald_count_stored_rows(delta BIGINT, tbl TEXT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO stored_row_counts AS c (table_name, slot, n)
    SELECT tbl,
           COALESCE(NULLIF(current_setting('herald.count_slot', true), '')::integer,
                    pg_backend_pid() % 16),
           delta
    WHERE delta <> 0
    ON CONFLICT (table_name, slot) DO UPDATE SET n = c.n + excluded.n;
$$;

CREATE FUNCTION herald_stored_rows_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM herald_count_stored_rows((SELECT COUNT(*) FROM new_rows), TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE FUNCTION herald_stored_rows_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM herald_count_stored_rows(-(SELECT COUNT(*) FROM old_rows), TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE FUNCTION herald_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts_hourly AS c (merchant_id, hour, endpoint_id, live_mode, status, n)
    SELECT d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status, COUNT(*)
    FROM new_rows d JOIN events e ON e.id = d.event_id
    WHERE d.endpoint_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) DO UPDATE SET n = c.n + excluded.n;
    PERFORM herald_count_stored_rows((SELECT COUNT(*) FROM new_rows), 'deliveries');
    RETURN NULL;
END $$;

-- Every UPDATE of deliveries comes here (PostgreSQL allows no column list
-- with transition tables); claims and lease changes find no status change
-- and write nothing.
CREATE FUNCTION herald_delivery_statuses_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts_hourly AS c (merchant_id, hour, endpoint_id, live_mode, status, n)
    SELECT changed.merchant_id, changed.hour, changed.endpoint_id, e.live_mode, s.status,
           SUM(s.delta)
    FROM (
        SELECT n.merchant_id, n.created_at / 3600000 AS hour, n.endpoint_id, n.event_id,
               o.status AS old_status, n.status AS new_status
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.endpoint_id IS NOT NULL AND o.status <> n.status
    ) changed
    JOIN events e ON e.id = changed.event_id
    CROSS JOIN LATERAL (VALUES (changed.old_status, -1), (changed.new_status, 1)) AS s (status, delta)
    GROUP BY 1, 2, 3, 4, 5
    HAVING SUM(s.delta) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION herald_attempts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attempt_latency_hourly AS c (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n)
    SELECT d.merchant_id, a.started_at / 3600000, d.endpoint_id, e.live_mode,
           herald_latency_bucket(a.duration_ms), COUNT(*)
    FROM new_rows a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
    WHERE d.endpoint_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, bucket_ms) DO UPDATE SET n = c.n + excluded.n;
    PERFORM herald_count_stored_rows((SELECT COUNT(*) FROM new_rows), 'attempts');
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_counted_on_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_deliveries_inserted();
CREATE TRIGGER deliveries_counted_on_update AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_delivery_statuses_changed();
CREATE TRIGGER attempts_counted_on_insert AFTER INSERT ON attempts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_attempts_inserted();
CREATE TRIGGER events_stored_on_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_stored_rows_inserted();
CREATE TRIGGER events_stored_on_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_stored_rows_deleted();
CREATE TRIGGER deliveries_stored_on_delete AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_stored_rows_deleted();
CREATE TRIGGER attempts_stored_on_delete AFTER DELETE ON attempts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_stored_rows_deleted();

CREATE FUNCTION herald_endpoint_rollups_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts_hourly WHERE endpoint_id = OLD.id;
    DELETE FROM attempt_latency_hourly WHERE endpoint_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER endpoints_rollups_dropped AFTER DELETE ON endpoints
    FOR EACH ROW EXECUTE FUNCTION herald_endpoint_rollups_dropped();
