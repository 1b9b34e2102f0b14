//! History at scale (#20): fills SQLite and PostgreSQL with a month of
//! history — by default 1,000,000 events of 1,000 merchants, each with 2–3
//! deliveries and their attempts, tags and ~1 KiB payloads — straight into
//! Herald's tables, then starts the real `herald` binary on it and times
//! the reads merchants and operators make of that history: event and
//! delivery lists with each filter, tag search, a delivery's page, stats,
//! the dashboard pages. Goal: p95 under 50 ms each. Then it compares ingest
//! throughput with and without the retention sweep deleting meanwhile.
//!
//! The data: a "big" merchant with 5 % of the events (made with the CLI,
//! with a dashboard password, beside an operator), the others on a
//! Zipf-like curve; 2–3 endpoints each on 127.0.0.1:9; events spread evenly
//! over 29 days with 1–3 tags, half with an idempotency key, 10 % in test
//! mode; one delivery per endpoint, 95 % succeeded at the first attempt,
//! 5 % failed after 2–3. None is pending, so the engine sends nothing while
//! the bench runs. (Test events get deliveries to the same endpoints as
//! live ones: the sandbox split is not modelled, which no read here minds.)
//!
//! Latencies are measured by the client on loopback, one request at a time
//! after 3 warm-ups: server time plus well under a millisecond.
//!
//! Run (after `cargo build --release --bin herald`): `cargo bench --bench history`.
//! Knobs: BENCH_EVENTS (1000000), BENCH_MERCHANTS (1000), BENCH_BACKENDS
//! (sqlite,postgres), BENCH_REPEAT (40 timed requests each, fewer — at least
//! 5 — for a request still running after BENCH_PROBE_SECONDS, 30), BENCH_PHASES
//! (queries,retention), BENCH_INGEST_EVENTS (10000), BENCH_INGEST_CONCURRENCY
//! (16), BENCH_INGEST_ROUNDS (2), HERALD_BIN, HERALD_TEST_POSTGRES_URL (the
//! database `herald_bench_history`, or BENCH_PG_DATABASE, is made on that server), BENCH_KEEP_DB
//! (keep the database, and reuse it next time if it holds a fill of the same
//! size: to measure again after a code change, with BENCH_PHASES=queries —
//! the retention phase changes the data, so a kept database is filled again
//! after it), BENCH_FOLD (1: before measuring, fold the finished hours'
//! latency histograms as a running Herald has; 0: leave them as filled).
//! Loopback only; bounded in count and time.

use herald_app::model::id::MerchantId;
use std::time::Instant;

#[path = "history/data.rs"]
mod data;
#[path = "history/db.rs"]
mod db;
#[path = "history/fill.rs"]
mod fill;
#[path = "history/ingest.rs"]
mod ingest;
#[path = "history/payload.rs"]
mod payload;
#[path = "history/queries.rs"]
mod queries;
#[path = "history/report.rs"]
mod report;
#[path = "history/server.rs"]
mod server;

use db::{Backend, Db, Target};
use queries::{Outcome, Who};

/// p95 latency goal for every request, in ms.
const GOAL_MS: f64 = 50.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The knobs of a run.
struct Knobs {
    events: u64,
    merchants: usize,
    repeat: usize,
    /// Time one probe may take before it stops at fewer requests.
    probe_budget: std::time::Duration,
    keep: bool,
    /// Fold finished hours of the latency histograms before measuring.
    fold: bool,
    queries: bool,
    retention: bool,
    ingest_events: usize,
    ingest_concurrency: usize,
    ingest_rounds: usize,
}

impl Knobs {
    fn from_env() -> Knobs {
        let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "queries,retention".into());
        Knobs {
            events: env_or("BENCH_EVENTS", 1_000_000),
            merchants: env_or::<usize>("BENCH_MERCHANTS", 1000).max(2),
            repeat: env_or::<usize>("BENCH_REPEAT", 40).max(1),
            probe_budget: std::time::Duration::from_secs(env_or("BENCH_PROBE_SECONDS", 30)),
            keep: std::env::var_os("BENCH_KEEP_DB").is_some(),
            fold: std::env::var("BENCH_FOLD").map_or(true, |v| v != "0"),
            queries: phases.contains("queries"),
            retention: phases.contains("retention"),
            ingest_events: env_or("BENCH_INGEST_EVENTS", 10_000),
            ingest_concurrency: env_or("BENCH_INGEST_CONCURRENCY", 16),
            ingest_rounds: env_or("BENCH_INGEST_ROUNDS", 2),
        }
    }

    /// What a kept database must hold to be reused.
    fn fill_marker(&self) -> String {
        format!("{} events, {} merchants, v1", self.events, self.merchants)
    }
}

/// What one backend's run produced.
pub struct BackendResult {
    pub backend: Backend,
    pub probes: Vec<(String, Outcome)>,
    pub ingest: Vec<ingest::IngestRun>,
}

/// Fills the target (or finds it filled), brings its schema up to date and
/// folds its finished hours (`BENCH_FOLD=0`: not), and returns the bench's
/// connection and the big merchant's id and API key.
async fn prepare(target: &Target, knobs: &Knobs) -> (Db, String, String) {
    let prepared = fill_or_reuse(target, knobs).await;
    server::migrate(&target.url);
    if knobs.fold {
        let (moved, seconds) = fill::fold(&prepared.0, &target.url).await;
        println!("- fold: {moved} hourly latency rows packed in {seconds:.1} s");
    }
    prepared
}

/// Fills the target, or finds it filled.
async fn fill_or_reuse(target: &Target, knobs: &Knobs) -> (Db, String, String) {
    if target.filled_for(&knobs.fill_marker()).await {
        println!("- reusing the filled database: {}", target.location);
        let db = target.connect().await;
        let big: String = db::on_db!(&db, pool => sqlx::query_scalar(
            "SELECT id FROM merchants WHERE email = $1",
        )
        .bind(server::BIG_EMAIL)
        .fetch_one(pool)
        .await
        .expect("the big merchant"));
        let key = queries::issue_key(&db, &big).await;
        return (db, big, key);
    }
    target.recreate().await;
    server::migrate(&target.url);
    let (big, key) = server::create_merchant(&target.url, "Big", server::BIG_EMAIL, false);
    server::create_merchant(&target.url, "Operator", server::OPERATOR_EMAIL, true);
    let db = target.connect().await;
    let big_id = MerchantId::parse(&big).expect("a merchant id from the CLI");
    let report = fill::fill(&db, &target.url, big_id, knobs.merchants, knobs.events).await;
    let bytes = target.size_bytes(&db).await;
    println!(
        "- fill: {} events, {} rows in {:.1} s ({:.0} rows/s, {:.0} events/s); then {:.1} s of {}; database {:.0} MB",
        report.events,
        report.rows,
        report.seconds,
        report.rows as f64 / report.seconds,
        report.events as f64 / report.seconds,
        report.analyze_seconds,
        if target.backend == Backend::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" },
        bytes as f64 / 1e6,
    );
    if target.keep {
        target.mark_filled(&db, &knobs.fill_marker()).await;
    }
    (db, big, key)
}

/// Times every probe against a server on the filled database.
async fn query_phase(target: &Target, db: &Db, who: &Who, knobs: &Knobs) -> Vec<(String, Outcome)> {
    let samples = queries::samples(db, &who.big_id, knobs.repeat + 3).await;
    println!(
        "- big merchant {}: rare type {}, {} tags, {} endpoints sampled; typical merchant {}: {} events",
        who.big_id,
        samples.rare_type,
        samples.tags.len(),
        samples.endpoint_ids.len(),
        who.typical_id,
        who.typical_events
    );
    // Nothing is deleted while measuring, however old a kept database gets.
    let server = server::Server::start(&target.url, &[("HERALD_RETENTION", "off")]).await;
    let probes = queries::probes(&server, who, &samples, knobs.repeat).await;
    let mut results = Vec::with_capacity(probes.len());
    for probe in &probes {
        let outcome = queries::measure(&server, probe, knobs.probe_budget).await;
        match &outcome {
            Outcome::Timed { p50, p95, max, n } => eprintln!(
                "  {:<48} p50 {p50:7.1}  p95 {p95:7.1}  max {max:7.1} ms  ({n} timed)",
                probe.label
            ),
            Outcome::Failed(why) => eprintln!("  {:<48} FAILED: {why}", probe.label),
        }
        results.push((probe.label.clone(), outcome));
    }
    server.stop();
    results
}

/// One backend: fill or reuse, measure the reads, then ingest beside retention.
async fn bench_backend(target: Target, knobs: &Knobs) -> BackendResult {
    let backend = target.backend;
    println!("## {}", backend.label());
    let started = Instant::now();
    let (db, big_id, big_key) = prepare(&target, knobs).await;
    let (typical_id, typical_events) = queries::typical_merchant(&db, &big_id).await;
    let typical_key = queries::issue_key(&db, &typical_id).await;
    let who = Who {
        big_id,
        big_key,
        typical_id,
        typical_key,
        typical_events,
    };
    let probes = if knobs.queries {
        query_phase(&target, &db, &who, knobs).await
    } else {
        Vec::new()
    };
    let mut ingest = Vec::new();
    if knobs.retention {
        // The data changes from here on: a kept database is filled anew next time.
        target.unmark_filled(&db).await;
        ingest::disable_endpoints(&db, &who.big_id).await;
        ingest = ingest::phase(
            &target.url,
            &who.big_id,
            knobs.ingest_events,
            knobs.ingest_concurrency,
            knobs.ingest_rounds,
        )
        .await;
    }
    db.close().await;
    println!(
        "- {} done in {:.0} s",
        backend.label(),
        started.elapsed().as_secs_f64()
    );
    target.finish().await;
    BackendResult {
        backend,
        probes,
        ingest,
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let knobs = Knobs::from_env();
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "# History at scale: {} events, {} merchants, {} timed requests each",
        knobs.events, knobs.merchants, knobs.repeat
    );
    let mut results = Vec::new();
    for backend in backends.split(',') {
        let target = match backend.trim() {
            "sqlite" => Target::sqlite(knobs.keep),
            "postgres" => {
                let admin_url = std::env::var("HERALD_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                Target::postgres(&admin_url, knobs.keep).await
            }
            other => {
                eprintln!("unknown backend {other}");
                continue;
            }
        };
        results.push(bench_backend(target, &knobs).await);
    }
    report::print(&results, GOAL_MS, knobs.repeat);
    let failed = report::failures(&results);
    assert!(
        failed.is_empty(),
        "requests that did not answer 200:\n{}",
        failed.join("\n")
    );
}
