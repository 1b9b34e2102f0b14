//! Folding finished hours of the latency histograms into packed rows
//! (migration 0015) changes no figure: stats read the same before and after
//! a fold, count an attempt recorded after its hour was folded, stay exact
//! when retention deletes part of a folded hour, and no number of folds,
//! one after another or at once, counts a row twice. Deleting an endpoint
//! drops its packed rows.

use crate::both_backends;
use crate::helpers::{item_where, raw_texts, TestApp};
use crate::receiver::{Reply, TestReceiver};
use herald::store::{FoldCursor, FoldStep, Store};
use herald_app::model::id::{EndpointId, MerchantId};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

both_backends!(
    stats_read_the_same_after_a_fold_and_count_late_attempts,
    retention_after_a_fold_keeps_stats_exact,
    folds_at_once_never_count_a_row_twice,
);

async fn stats_read_the_same_after_a_fold_and_count_late_attempts(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Folded").await;
    let slow = TestReceiver::start().await;
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    // Six answers over 70–275 ms, then one of 600 ms after the fold.
    slow.script(
        (0..6u64)
            .map(|i| Reply::status(200).after(Duration::from_millis(70 + 41 * i)))
            .chain([Reply::status(200).after(Duration::from_millis(600))]),
    );
    let (slow_id, _) = app
        .endpoint(&key, json!({"url": slow.url(), "event_types": ["payin.*"]}))
        .await;
    let (flaky_id, _) = app
        .endpoint(
            &key,
            json!({"url": flaky.url(), "event_types": ["payout.*"]}),
        )
        .await;
    let merchant = merchant.to_string();
    for _ in 0..6 {
        ingest(&app, &merchant, "payin.succeeded").await;
    }
    for _ in 0..2 {
        ingest(&app, &merchant, "payout.failed").await;
    }
    app.drain().await;
    let before = windows(&app, &key).await;
    assert_eq!(before["7d"]["endpoints"].as_array().map(Vec::len), Some(2));

    assert!(app.fold_rollups().await > 0);
    assert_eq!(rows(&store, "attempt_latency_hourly", &merchant).await, 0);
    assert!(rows(&store, "attempt_latency_packed", &merchant).await > 0);
    assert_eq!(windows(&app, &key).await, before, "the same after a fold");
    assert_eq!(app.fold_rollups().await, 0, "nothing left to fold");
    assert_eq!(windows(&app, &key).await, before, "the same after a second");

    // An attempt in an hour already folded: counted at once, from the
    // hourly row beside the packed one, and the same once folded too.
    ingest(&app, &merchant, "payin.succeeded").await;
    app.drain().await;
    assert_eq!(rows(&store, "attempt_latency_hourly", &merchant).await, 1);
    let late = windows(&app, &key).await;
    let slow_stats = endpoint_of(&late["24h"], &slow_id);
    assert_eq!(slow_stats["succeeded"], 7, "{slow_stats}");
    let p95 = slow_stats["p95_ms"].as_u64().expect("p95");
    // From 600 ms up: on a busy machine the same answer is measured a few
    // tens of milliseconds later (623 once, with a build beside it).
    assert!(
        (600..1000).contains(&p95),
        "the late 600 ms attempt: {slow_stats}"
    );
    assert_eq!(app.fold_rollups().await, 1);
    assert_eq!(rows(&store, "attempt_latency_hourly", &merchant).await, 0);
    assert_eq!(windows(&app, &key).await, late);

    // Deleting an endpoint drops its packed rows, not the others'.
    let (status, body) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/endpoints/{slow_id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let of_endpoint = |id: &str| {
        format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM attempt_latency_packed WHERE endpoint_id = '{id}'"
        )
    };
    assert_eq!(raw_texts(&store, &of_endpoint(&slow_id)).await, ["0"]);
    assert_ne!(raw_texts(&store, &of_endpoint(&flaky_id)).await, ["0"]);
    app.stop().await;
}

/// Retention subtracts what it deletes from a folded hour as negative
/// hourly rows: the figures are exact at once, and the next fold nets them
/// into the packed row, or drops the row when nothing of its hour is left.
async fn retention_after_a_fold_keeps_stats_exact(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Purged").await;
    let slow = TestReceiver::start().await;
    slow.script((0..5u64).map(|i| Reply::status(200).after(Duration::from_millis(70 + 41 * i))));
    let (slow_id, _) = app
        .endpoint(&key, json!({"url": slow.url(), "event_types": ["payin.*"]}))
        .await;
    let merchant = merchant.to_string();
    let mut deliveries = Vec::new();
    for _ in 0..5 {
        let event = ingest(&app, &merchant, "payin.succeeded").await;
        deliveries.push(
            app.deliveries_of(&key, &event).await[0]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    app.drain().await;
    assert!(app.fold_rollups().await > 0);

    // The two oldest events go.
    let purged = store
        .purge_events_before(chrono::Utc::now() + chrono::Duration::hours(1), 2)
        .await
        .expect("purge");
    assert_eq!(purged, 2);
    let negative = raw_texts(
        &store,
        &format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM attempt_latency_hourly \
             WHERE merchant_id = '{merchant}' AND n < 0"
        ),
    )
    .await;
    assert_ne!(negative, ["0"], "subtracted beside the packed row");
    let mut durations = Vec::new();
    for id in &deliveries {
        let (status, delivery) = app
            .api(Method::GET, &format!("/api/v1/deliveries/{id}"), &key, None)
            .await;
        if status == 404 {
            continue;
        }
        for attempt in delivery["attempts"].as_array().expect("attempts") {
            durations.push(attempt["duration_ms"].as_u64().expect("duration"));
        }
    }
    assert_eq!(durations.len(), 3, "{durations:?}");
    let exact = windows(&app, &key).await;
    let kept = endpoint_of(&exact["24h"], &slow_id);
    assert_eq!(kept["succeeded"], 3, "{kept}");
    assert_percentiles(&kept, durations);

    assert!(app.fold_rollups().await > 0);
    assert_eq!(rows(&store, "attempt_latency_hourly", &merchant).await, 0);
    assert_eq!(windows(&app, &key).await, exact, "netted by the fold");

    // Everything goes: so do the packed rows, at the next fold.
    store
        .purge_events_before(chrono::Utc::now() + chrono::Duration::hours(1), 100)
        .await
        .expect("purge");
    let emptied = windows(&app, &key).await;
    let gone = endpoint_of(&emptied["7d"], &slow_id);
    assert_eq!(
        (gone["succeeded"].as_u64(), gone["p95_ms"].as_u64()),
        (Some(0), None),
        "{gone}"
    );
    app.fold_rollups().await;
    for table in ["attempt_latency_hourly", "attempt_latency_packed"] {
        assert_eq!(rows(&store, table, &merchant).await, 0, "{table}");
    }
    assert_eq!(windows(&app, &key).await, emptied);
    app.stop().await;
}

/// Two folds at once (two connections, as two Herald processes would),
/// in small batches over three merchants' hours, then again after late
/// rows: every count is where it was, once.
async fn folds_at_once_never_count_a_row_twice(store: Store) {
    store.migrate().await.expect("migrate");
    let merchants: Vec<MerchantId> = (0..3).map(|_| MerchantId::generate()).collect();
    let endpoints: Vec<EndpointId> = (0..2).map(|_| EndpointId::generate()).collect();
    let first_hour = 480_000;
    let mut values = Vec::new();
    for (m, merchant) in merchants.iter().enumerate() {
        for hour in first_hour..first_hour + 30 {
            for endpoint in &endpoints {
                for live in [true, false] {
                    for bucket in [3u64, 17, 64, 96, 130, 992] {
                        let n = 1 + (hour % 7) + m as i64 + bucket as i64 % 5;
                        values.push(format!(
                            "('{merchant}', {hour}, '{endpoint}', {live}, {bucket}, {n})"
                        ));
                    }
                }
            }
        }
    }
    insert_hourly(&store, &values).await;
    let expected = histograms(&store, &merchants).await;
    assert_eq!(expected.len(), 3 * 30 * 2 * 6, "summed over live and test");

    let before_hour = first_hour + 1000;
    tokio::join!(fold_all(&store, before_hour), fold_all(&store, before_hour));
    assert_eq!(histograms(&store, &merchants).await, expected);
    let hourly = raw_texts(
        &store,
        "SELECT CAST(COUNT(*) AS TEXT) FROM attempt_latency_hourly",
    )
    .await;
    assert_eq!(hourly, ["0"]);
    let packed = raw_texts(
        &store,
        "SELECT CAST(COUNT(*) AS TEXT) FROM attempt_latency_packed",
    )
    .await;
    assert_eq!(packed, [(3 * 30 * 2 * 2).to_string()]);

    // Late rows for folded hours, one of them a subtraction; folded twice
    // more at once, and once more alone.
    let (merchant, endpoint) = (&merchants[1], &endpoints[0]);
    insert_hourly(
        &store,
        &[
            format!("('{merchant}', {first_hour}, '{endpoint}', true, 3, 5)"),
            format!("('{merchant}', {first_hour}, '{endpoint}', true, 5000, 2)"),
            format!(
                "('{merchant}', {}, '{endpoint}', false, 992, -1)",
                first_hour + 4
            ),
        ],
    )
    .await;
    let mut later = expected.clone();
    let key = |hour: i64, bucket: u64| (merchant.to_string(), endpoint.to_string(), hour, bucket);
    *later.entry(key(first_hour, 3)).or_default() += 5;
    *later.entry(key(first_hour, 5000)).or_default() += 2;
    *later.entry(key(first_hour + 4, 992)).or_default() -= 1;
    assert_eq!(
        histograms(&store, &merchants).await,
        later,
        "counted before a fold"
    );
    tokio::join!(fold_all(&store, before_hour), fold_all(&store, before_hour));
    fold_all(&store, before_hour).await;
    assert_eq!(histograms(&store, &merchants).await, later, "and after");
}

/// Folds every hour before `before_hour`, in batches of 37 rows; waits its
/// turn when another fold holds the lock (PostgreSQL).
async fn fold_all(store: &Store, before_hour: i64) {
    let mut cursor = FoldCursor::default();
    loop {
        match store
            .fold_attempt_latency(before_hour, &cursor, 37)
            .await
            .expect("fold")
        {
            FoldStep::Folded { next, .. } => cursor = next,
            FoldStep::Busy => tokio::time::sleep(Duration::from_millis(2)).await,
            FoldStep::Done => return,
        }
    }
}

async fn insert_hourly(store: &Store, values: &[String]) {
    for chunk in values.chunks(500) {
        raw_texts(
            store,
            &format!(
                "INSERT INTO attempt_latency_hourly \
                 (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n) VALUES {}",
                chunk.join(", ")
            ),
        )
        .await;
    }
}

/// Each (merchant, endpoint, hour, bucket)'s count, as the stats read adds
/// them up (live and test together).
async fn histograms(
    store: &Store,
    merchants: &[MerchantId],
) -> BTreeMap<(String, String, i64, u64), i64> {
    let mut sums = BTreeMap::new();
    for merchant in merchants {
        for row in store
            .attempt_latency_by_hour(merchant, None, None, 0)
            .await
            .expect("latency")
        {
            let key = (
                merchant.to_string(),
                row.endpoint_id,
                row.hour,
                row.bucket_ms,
            );
            *sums.entry(key).or_default() += row.count;
        }
    }
    sums.retain(|_, n| *n != 0);
    sums
}

/// Ingests an event; its id.
async fn ingest(app: &TestApp, merchant: &str, event_type: &str) -> String {
    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": event_type, "data": {}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    accepted["id"].as_str().expect("id").to_owned()
}

/// The merchant's stats over 24 hours and over 7 days, without the moment
/// of reading (`to`).
async fn windows(app: &TestApp, key: &str) -> Value {
    let mut both = json!({});
    for window in ["24h", "7d"] {
        let mut stats = app
            .get_ok(key, &format!("/api/v1/stats?window={window}"))
            .await;
        if let Some(fields) = stats.as_object_mut() {
            fields.remove("to");
        }
        both[window] = stats;
    }
    both
}

fn endpoint_of(stats: &Value, id: &str) -> Value {
    item_where(&stats["endpoints"], "endpoint_id", id)
}

/// `stats` reports the nearest-rank p50 and p95 of `durations` as their
/// bucket's upper bound: never below, less than 1/32 above.
fn assert_percentiles(stats: &Value, mut durations: Vec<u64>) {
    durations.sort_unstable();
    let count = durations.len();
    for (field, q) in [("p50_ms", 0.5), ("p95_ms", 0.95)] {
        let rank = ((q * count as f64).ceil() as usize).clamp(1, count);
        let exact = durations[rank - 1];
        let reported = stats[field].as_u64().expect(field);
        assert!(
            exact <= reported && reported < exact + exact / 32 + 1,
            "{field}: {reported} for {exact} ({durations:?})"
        );
    }
}

/// Rows of `table` for the merchant.
async fn rows(store: &Store, table: &str, merchant: &str) -> u64 {
    raw_texts(
        store,
        &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE merchant_id = '{merchant}'"),
    )
    .await[0]
        .parse()
        .expect("a count")
}
