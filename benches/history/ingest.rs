//! Ingest while retention deletes: the same burst of events through the
//! real API, with a retention nothing is old enough for, and with one that
//! makes the background sweep delete three weeks of history meanwhile.

use crate::db::{on_db, Db};
use crate::server::{client, Server, PLATFORM_TOKEN};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// Retention under which nothing of the fill (29 days) is old enough.
pub const KEEPS_ALL: &str = "365d";
/// Retention that leaves 22 of the fill's 29 days to delete.
pub const DELETES: &str = "7d";

/// One burst of ingest.
pub struct IngestRun {
    pub retention: &'static str,
    pub events_per_s: f64,
    /// Events the sweep deleted while the burst was sent.
    pub purged: f64,
    /// How long the burst took.
    pub seconds: f64,
}

/// Turns the big merchant's endpoints off, so the events ingested below
/// make no deliveries: what is measured is ingest beside retention, with
/// no delivery traffic (not even to loopback).
pub async fn disable_endpoints(db: &Db, merchant: &str) {
    on_db!(db, pool => sqlx::query(
        "UPDATE endpoints SET disabled_at = $2, disabled_reason = 'Disabled by the merchant.' \
         WHERE merchant_id = $1",
    )
    .bind(merchant)
    .bind(chrono::Utc::now().timestamp_millis())
    .execute(pool)
    .await
    .expect("disable the big merchant's endpoints").rows_affected());
}

/// Alternates a burst with `KEEPS_ALL` and one with `DELETES`, `rounds`
/// times, each on a freshly started server (the sweep starts with it).
pub async fn phase(
    database_url: &str,
    merchant: &str,
    events: usize,
    concurrency: usize,
    rounds: usize,
) -> Vec<IngestRun> {
    let mut runs = Vec::new();
    for round in 0..rounds {
        for retention in [KEEPS_ALL, DELETES] {
            let server = Server::start(database_url, &[("HERALD_RETENTION", retention)]).await;
            let purged_before = server.metric("herald_retention_purged_events_total").await;
            let started = Instant::now();
            burst(
                &server,
                merchant,
                events,
                concurrency,
                &format!("r{round}{retention}"),
            )
            .await;
            let seconds = started.elapsed().as_secs_f64();
            let purged_after = server.metric("herald_retention_purged_events_total").await;
            server.stop();
            let run = IngestRun {
                retention,
                events_per_s: events as f64 / seconds,
                purged: purged_after - purged_before,
                seconds,
            };
            eprintln!(
                "  ingest with HERALD_RETENTION={retention}: {:.0} events/s, {} purged meanwhile",
                run.events_per_s, run.purged
            );
            runs.push(run);
        }
    }
    runs
}

/// Posts `events` ~1 KiB events as the platform, `concurrency` at a time;
/// each must be accepted (202).
async fn burst(server: &Server, merchant: &str, events: usize, concurrency: usize, run: &str) {
    let http = client();
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(events);
    for n in 0..events {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let url = format!("{}/api/v1/events", server.base);
        let body = event(merchant, run, n);
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(PLATFORM_TOKEN)
                .json(&body)
                .send()
                .await
                .expect("ingest");
            let status = response.status().as_u16();
            if status != 202 {
                panic!(
                    "ingest: {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.expect("ingest task");
    }
}

/// Event `n` of burst `run`: a payin with a ~1 KiB payload and two tags.
fn event(merchant: &str, run: &str, n: usize) -> serde_json::Value {
    let reference = format!("pay_{run}_{n:07}");
    json!({
        "merchant_id": merchant,
        "type": "payin.succeeded",
        "idempotency_key": format!("{run}-{n}"),
        "tags": [reference, format!("cus_{run}_{}", n % 500)],
        "data": {
            "id": reference,
            "status": "succeeded",
            "amount": 1499 + n % 1000,
            "currency": "EUR",
            "reference": format!("INV-2025-{n:06}"),
            "customer": {"name": "Jane Roe", "email": "jane.roe@example.test", "iban": "FR7630006000011234567890189"},
            "payment_method": {"type": "sepa_debit", "bic": "BNPAFRPPXXX", "mandate_id": format!("MNDT-{n:010}")},
            "metadata": {"channel": "web", "store_id": "st_12", "ip": "203.0.113.7"},
            "notes": "x".repeat(600),
        },
    })
}
