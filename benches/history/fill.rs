//! The fill: rows written straight into Herald's tables with multi-row
//! inserts in large transactions (the API would take hours for a million
//! events), while another thread makes the next rows. Indexes stay in
//! place, as Herald's migrations made them.

use crate::data::{self, Batch, EndpointRow, Generator, Merchant};
use crate::db::{on_db, Db};
use std::time::Instant;

/// Events made and sent to the writer at a time.
const EVENTS_PER_BATCH: usize = 1000;
/// Batches per transaction (about 200,000 rows).
const BATCHES_PER_COMMIT: usize = 25;
/// Rows per INSERT: at most 14 values each, 7,000 parameters, under
/// SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;
/// Seed of everything random in the fill.
const SEED: u64 = 20;

/// What the fill did.
pub struct FillReport {
    pub events: u64,
    pub rows: u64,
    pub seconds: f64,
    /// ANALYZE (and on PostgreSQL VACUUM) after the rows.
    pub analyze_seconds: f64,
}

/// Inserts the merchants other than the big one (made by the CLI), every
/// endpoint, then `total` events with their tags, deliveries and attempts;
/// on PostgreSQL, whose fill runs with triggers off, counts the statistics
/// rollups and stored-row counts (migration 0009) from the rows, as the
/// triggers would have (SQLite's fired); then refreshes the planner's
/// statistics. `url`: the database's, for Herald's own store.
pub async fn fill(
    db: &Db,
    url: &str,
    big: herald_app::model::id::MerchantId,
    merchants: usize,
    total: u64,
) -> FillReport {
    data::check_types();
    let mut rng = data::seeded(SEED);
    let merchants = data::merchants(big, merchants, &mut rng);
    let endpoints = data::endpoint_rows(&merchants, &mut rng);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let account_rows = (merchants.len() - 1 + endpoints.len()) as u64;
    let started = Instant::now();
    insert_accounts(db, &merchants[1..], &endpoints, now_ms).await;
    let rows = insert_history(db, merchants, total, now_ms).await;
    if let Db::Postgres(_) = db {
        let store = herald::store::Store::connect(url)
            .await
            .expect("Herald's store on the bench database");
        store.rebuild_rollups().await.expect("rebuild the rollups");
        store.close().await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let analyzing = Instant::now();
    analyze(db).await;
    FillReport {
        events: total,
        rows: rows + account_rows,
        seconds,
        analyze_seconds: analyzing.elapsed().as_secs_f64(),
    }
}

/// The other merchants (API-only: no password) and every endpoint, in one
/// transaction, created a month ago.
async fn insert_accounts(db: &Db, others: &[Merchant], endpoints: &[EndpointRow], now_ms: i64) {
    let created = now_ms - 30 * 24 * 3_600_000;
    on_db!(db, pool => {
        let mut tx = pool.begin().await.expect("begin");
        for (n, chunk) in others.chunks(ROWS_PER_INSERT).enumerate() {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO merchants (id, name, email, role, created_at) ",
            );
            insert.push_values(chunk.iter().enumerate(), |mut row, (i, m)| {
                let index = n * ROWS_PER_INSERT + i + 1;
                row.push_bind(m.id.as_str())
                    .push_bind(format!("Merchant {index}"))
                    .push_bind(format!("merchant{index}@bench.test"))
                    .push_bind("merchant")
                    .push_bind(created);
            });
            insert.build().execute(&mut *tx).await.expect("insert merchants");
        }
        for chunk in endpoints.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO endpoints (id, merchant_id, url, description, event_types, secret, \
                                        headers, mode, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(e.id.as_str())
                    .push_bind(e.merchant_id.as_str())
                    .push_bind(e.url.as_str())
                    .push_bind("")
                    .push_bind("[]")
                    .push_bind(e.secret.as_str())
                    .push_bind("{}")
                    .push_bind("live")
                    .push_bind(created)
                    .push_bind(created);
            });
            insert.build().execute(&mut *tx).await.expect("insert endpoints");
        }
        tx.commit().await.expect("commit merchants and endpoints");
    });
}

/// Writes one batch's rows, parents first, within transaction `$tx`.
macro_rules! insert_batch {
    ($tx:ident, $batch:ident) => {
        for chunk in $batch.events.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO events (id, merchant_id, event_type, payload, idempotency_key, \
                                     live_mode, created_at, tags) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(e.id.as_str())
                    .push_bind(e.merchant_id.as_str())
                    .push_bind(e.event_type)
                    .push_bind(e.payload.as_str())
                    .push_bind(e.idempotency_key.as_deref())
                    .push_bind(e.live_mode)
                    .push_bind(e.created_at)
                    .push_bind(e.tags.as_str());
            });
            insert.build().execute(&mut *$tx).await.expect("insert events");
        }
        for chunk in $batch.tags.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO event_tags (merchant_id, tag, created_at, event_id) ",
            );
            insert.push_values(chunk, |mut row, t| {
                row.push_bind(t.merchant_id.as_str())
                    .push_bind(t.tag.as_str())
                    .push_bind(t.created_at)
                    .push_bind(t.event_id.as_str());
            });
            insert.build().execute(&mut *$tx).await.expect("insert event tags");
        }
        for chunk in $batch.deliveries.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, event_type, \
                     status, attempt_count, last_attempt_at, last_status_code, last_error_kind, \
                     succeeded_at, failed_at, created_at) ",
            );
            insert.push_values(chunk, |mut row, d| {
                row.push_bind(d.id.as_str())
                    .push_bind(d.event_id.as_str())
                    .push_bind(d.merchant_id.as_str())
                    .push_bind(d.endpoint_id.as_str())
                    .push_bind(d.event_type)
                    .push_bind(d.status)
                    .push_bind(d.attempt_count)
                    .push_bind(d.last_attempt_at)
                    .push_bind(d.last_status_code)
                    .push_bind(d.last_error_kind)
                    .push_bind(d.succeeded_at)
                    .push_bind(d.failed_at)
                    .push_bind(d.created_at);
            });
            insert.build().execute(&mut *$tx).await.expect("insert deliveries");
        }
        for chunk in $batch.attempts.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms, \
                     request_headers, status_code, response_headers, response_body, error_kind) ",
            );
            insert.push_values(chunk, |mut row, a| {
                row.push_bind(a.id.as_str())
                    .push_bind(a.delivery_id.as_str())
                    .push_bind(a.attempt_number)
                    .push_bind(a.started_at)
                    .push_bind(a.duration_ms)
                    .push_bind(a.request_headers.as_str())
                    .push_bind(a.status_code)
                    .push_bind(a.response_headers.as_str())
                    .push_bind(a.response_body.as_str())
                    .push_bind(a.error_kind);
            });
            insert.build().execute(&mut *$tx).await.expect("insert attempts");
        }
    };
}

/// Makes the events on a thread of their own and writes them as they come;
/// how many rows were written.
async fn insert_history(db: &Db, merchants: Vec<Merchant>, total: u64, now_ms: i64) -> u64 {
    let (send, mut receive) = tokio::sync::mpsc::channel::<Batch>(4);
    let maker = std::thread::spawn(move || {
        let mut generator = Generator::new(merchants, total, now_ms, SEED + 1);
        while let Some(batch) = generator.batch(EVENTS_PER_BATCH) {
            if send.blocking_send(batch).is_err() {
                return;
            }
        }
    });
    let mut rows = 0u64;
    let mut events = 0u64;
    let mut reported = 0u64;
    let started = Instant::now();
    on_db!(db, pool => {
        let mut conn = pool.acquire().await.expect("connection");
        if let crate::db::Db::Postgres(_) = db {
            // Foreign-key triggers off for this session (superuser only):
            // every row's parent is written before it, so checks add nothing.
            if let Err(e) = sqlx::query("SET session_replication_role = replica").execute(&mut *conn).await {
                eprintln!("(foreign-key checks stay on during the fill: {e})");
            }
        }
        'fill: loop {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
            for _ in 0..BATCHES_PER_COMMIT {
                let Some(batch) = receive.recv().await else {
                    tx.commit().await.expect("commit");
                    break 'fill;
                };
                insert_batch!(tx, batch);
                rows += batch.rows() as u64;
                events += batch.events.len() as u64;
            }
            tx.commit().await.expect("commit");
            if events >= reported + total / 10 {
                reported = events;
                eprintln!(
                    "  {events} of {total} events, {:.0} rows/s",
                    rows as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
        if let crate::db::Db::Postgres(_) = db {
            let _ = sqlx::query("RESET session_replication_role").execute(&mut *conn).await;
        }
    });
    maker.join().expect("the event maker thread");
    rows
}

/// Fresh planner statistics, as a database in service would have: ANALYZE
/// (SQLite also folds its WAL into the file); VACUUM ANALYZE on PostgreSQL,
/// which also sets the visibility map autovacuum would have set by now.
async fn analyze(db: &Db) {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("ANALYZE").execute(pool).await.expect("ANALYZE");
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await
                .expect("checkpoint");
        }
        Db::Postgres(pool) => {
            sqlx::query("VACUUM (ANALYZE)")
                .execute(pool)
                .await
                .expect("VACUUM ANALYZE");
        }
    }
}

/// Hours a running Herald has folded: those begun at least this long ago
/// (`service::retention`'s margin).
const FOLD_MARGIN_HOURS: i64 = 2;

/// Folds the latency histograms of finished hours into packed rows, as a
/// running Herald's background task has within a minute of starting (here
/// without its pauses), then refreshes the two tables' statistics (on
/// PostgreSQL also vacuums the deleted hourly rows away, as autovacuum
/// would): the state the stats reads meet in service. Hourly rows moved
/// and seconds taken.
pub async fn fold(db: &Db, url: &str) -> (u64, f64) {
    use herald::store::{FoldCursor, FoldStep};
    let started = Instant::now();
    let store = herald::store::Store::connect(url)
        .await
        .expect("Herald's store on the bench database");
    let before_hour =
        chrono::Utc::now().timestamp_millis().div_euclid(3_600_000) - FOLD_MARGIN_HOURS;
    let mut cursor = FoldCursor::default();
    let mut moved = 0;
    loop {
        match store
            .fold_attempt_latency(before_hour, &cursor, 2000)
            .await
            .expect("fold latency histograms")
        {
            FoldStep::Folded { moved: n, next, .. } => {
                moved += n;
                cursor = next;
            }
            FoldStep::Done => break,
            FoldStep::Busy => panic!("another process is folding the bench database"),
        }
    }
    store.close().await;
    let statement = match db {
        Db::Sqlite(_) => "ANALYZE",
        Db::Postgres(_) => "VACUUM (ANALYZE) attempt_latency_hourly, attempt_latency_packed",
    };
    on_db!(db, pool => {
        sqlx::query(statement).execute(pool).await.expect(statement);
    });
    (moved, started.elapsed().as_secs_f64())
}
