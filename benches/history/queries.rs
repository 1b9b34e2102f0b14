//! The measured reads: which values to ask for (picked from the data, so
//! every filter finds something), the list of requests, and timing them
//! one after another against a running server.

use crate::db::{on_db, Db};
use crate::server::{client, Server, PLATFORM_TOKEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration as Days, SecondsFormat, Utc};
use herald_app::model::id::ApiKeyId;
use rand::RngCore;
use std::time::{Duration, Instant};

/// Requests before the timed ones: connections open, statements prepared,
/// pages in the cache as a server in use has them.
const WARM_UP: usize = 3;
/// Timed requests for `/metrics`.
const METRICS_REPEAT: usize = 10;
/// The fewest timed requests of a probe, however slow.
const MIN_TIMED: usize = 5;

/// The merchants the requests are made for, with an API key each.
pub struct Who {
    pub big_id: String,
    pub big_key: String,
    pub typical_id: String,
    pub typical_key: String,
    /// Events the typical merchant has.
    pub typical_events: i64,
}

/// Values from the data, varied across the repetitions of a request so no
/// single cached row flatters it.
pub struct Samples {
    /// The big merchant's least frequent event type (it has some).
    pub rare_type: String,
    pub tags: Vec<String>,
    /// Customer tags on more than one event: a search for one lists them
    /// (the dashboard goes straight to the event when only one matches).
    pub customer_tags: Vec<String>,
    pub event_ids: Vec<String>,
    pub idempotency_keys: Vec<String>,
    pub delivery_ids: Vec<String>,
    pub endpoint_ids: Vec<String>,
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    /// A merchant API key.
    Key(String),
    /// The platform token (ingest, `/api/v1/admin/*`).
    Platform,
    /// A dashboard session cookie; the page is asked for as HTML.
    Session(String),
}

/// One measured request: its paths are used in turn.
pub struct Probe {
    pub label: String,
    auth: Auth,
    paths: Vec<String>,
    repeat: usize,
}

/// The latencies of one probe, or why it could not be measured.
pub enum Outcome {
    /// p50, p95 and max, in ms, of `n` timed requests.
    Timed {
        p50: f64,
        p95: f64,
        max: f64,
        n: usize,
    },
    Failed(String),
}

/// A new API key for `merchant`, stored as Herald stores its own (the CLI
/// printed the first one once; a merchant the fill made has none).
pub async fn issue_key(db: &Db, merchant: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("hk_{}", URL_SAFE_NO_PAD.encode(bytes));
    on_db!(db, pool => sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, name, prefix, key_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ApiKeyId::generate().as_str())
    .bind(merchant)
    .bind("bench")
    .bind(key.chars().take(10).collect::<String>())
    .bind(herald::service::hash_api_key(&key))
    .bind(Utc::now().timestamp_millis())
    .execute(pool)
    .await
    .expect("insert an API key").rows_affected());
    key
}

/// The merchant (not the big one) whose event count is nearest the mean:
/// what most merchants look like. Its id and count.
pub async fn typical_merchant(db: &Db, big: &str) -> (String, i64) {
    let counts: Vec<(String, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT merchant_id, COUNT(*) FROM events GROUP BY merchant_id",
    )
    .fetch_all(pool)
    .await
    .expect("events per merchant"));
    let others: Vec<&(String, i64)> = counts.iter().filter(|(id, _)| id != big).collect();
    let mean = others.iter().map(|(_, n)| *n as f64).sum::<f64>() / others.len().max(1) as f64;
    others
        .into_iter()
        .min_by(|a, b| {
            (a.1 as f64 - mean)
                .abs()
                .total_cmp(&(b.1 as f64 - mean).abs())
        })
        .cloned()
        .expect("a merchant other than the big one has events")
}

/// Picks `n` of each kind of value from the big merchant's data.
pub async fn samples(db: &Db, big: &str, n: usize) -> Samples {
    let n = n as i64;
    let texts = |sql: &'static str| async move {
        let values: Vec<String> = on_db!(db, pool => sqlx::query_scalar(sql)
            .bind(big)
            .bind(n)
            .fetch_all(pool)
            .await
            .expect(sql));
        assert!(!values.is_empty(), "nothing for: {sql}");
        values
    };
    Samples {
        rare_type: texts(
            "SELECT event_type FROM events WHERE merchant_id = $1 \
             GROUP BY event_type ORDER BY COUNT(*), event_type LIMIT $2",
        )
        .await
        .swap_remove(0),
        tags: texts("SELECT tag FROM event_tags WHERE merchant_id = $1 ORDER BY random() LIMIT $2")
            .await,
        customer_tags: texts(
            "SELECT tag FROM event_tags WHERE merchant_id = $1 AND tag LIKE 'cus%' \
             GROUP BY tag HAVING COUNT(*) > 1 ORDER BY random() LIMIT $2",
        )
        .await,
        event_ids: texts("SELECT id FROM events WHERE merchant_id = $1 ORDER BY random() LIMIT $2")
            .await,
        idempotency_keys: texts(
            "SELECT idempotency_key FROM events \
             WHERE merchant_id = $1 AND idempotency_key IS NOT NULL ORDER BY random() LIMIT $2",
        )
        .await,
        delivery_ids: texts(
            "SELECT id FROM deliveries WHERE merchant_id = $1 ORDER BY random() LIMIT $2",
        )
        .await,
        endpoint_ids: texts("SELECT id FROM endpoints WHERE merchant_id = $1 ORDER BY id LIMIT $2")
            .await,
    }
}

/// A value as a query-string value.
fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `prefix` followed by each value, encoded.
fn each(prefix: &str, values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| format!("{prefix}{}", enc(v)))
        .collect()
}

/// A time `days` ago, as the API takes it.
fn days_ago(days: i64) -> String {
    enc(&(Utc::now() - Days::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The `next_cursor` of the first page of `path`.
async fn next_cursor(server: &Server, key: &str, path: &str) -> String {
    let page: serde_json::Value = client()
        .get(format!("{}{path}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("first page")
        .json()
        .await
        .expect("first page as JSON");
    page["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: no next_cursor in {page}"))
        .to_owned()
}

/// Every measured request, in the order of the report.
pub async fn probes(server: &Server, who: &Who, s: &Samples, repeat: usize) -> Vec<Probe> {
    let merchant = server.log_in(crate::server::BIG_EMAIL).await;
    let operator = server.log_in(crate::server::OPERATOR_EMAIL).await;
    let key = Auth::Key(who.big_key.clone());
    let page = Auth::Session(merchant);
    let (week, ten_days) = (days_ago(7), days_ago(10));
    let events_cursor = next_cursor(server, &who.big_key, "/api/v1/events?limit=50").await;
    let deliveries_cursor = next_cursor(server, &who.big_key, "/api/v1/deliveries?limit=50").await;
    let one = |path: String| vec![path];
    // Its event count is printed per backend; the label stays the same in both columns.
    let typical = "typical merchant:";
    let typical_key = Auth::Key(who.typical_key.clone());
    let list: Vec<(String, Auth, Vec<String>)> = vec![
        (
            "events".into(),
            key.clone(),
            one("/api/v1/events?limit=50".into()),
        ),
        (
            "events ?type=<rare>".into(),
            key.clone(),
            one(format!("/api/v1/events?type={}", enc(&s.rare_type))),
        ),
        (
            "events ?tag=".into(),
            key.clone(),
            each("/api/v1/events?tag=", &s.tags),
        ),
        (
            "events ?idempotency_key=".into(),
            key.clone(),
            each("/api/v1/events?idempotency_key=", &s.idempotency_keys),
        ),
        (
            "events ?since=7d ago".into(),
            key.clone(),
            one(format!("/api/v1/events?since={week}")),
        ),
        (
            "events ?until=10d ago".into(),
            key.clone(),
            one(format!("/api/v1/events?until={ten_days}")),
        ),
        (
            "events ?live_mode=false".into(),
            key.clone(),
            one("/api/v1/events?live_mode=false".into()),
        ),
        (
            "events page 2 (cursor)".into(),
            key.clone(),
            one(format!(
                "/api/v1/events?limit=50&cursor={}",
                enc(&events_cursor)
            )),
        ),
        (
            "deliveries".into(),
            key.clone(),
            one("/api/v1/deliveries?limit=50".into()),
        ),
        (
            "deliveries ?status=failed".into(),
            key.clone(),
            one("/api/v1/deliveries?status=failed".into()),
        ),
        (
            "deliveries ?endpoint_id=".into(),
            key.clone(),
            each("/api/v1/deliveries?endpoint_id=", &s.endpoint_ids),
        ),
        (
            "deliveries ?event_type=<rare>".into(),
            key.clone(),
            one(format!(
                "/api/v1/deliveries?event_type={}",
                enc(&s.rare_type)
            )),
        ),
        (
            "deliveries ?tag=".into(),
            key.clone(),
            each("/api/v1/deliveries?tag=", &s.tags),
        ),
        (
            "deliveries ?since=7d ago".into(),
            key.clone(),
            one(format!("/api/v1/deliveries?since={week}")),
        ),
        (
            "deliveries ?until=10d ago".into(),
            key.clone(),
            one(format!("/api/v1/deliveries?until={ten_days}")),
        ),
        (
            "deliveries ?live_mode=false".into(),
            key.clone(),
            one("/api/v1/deliveries?live_mode=false".into()),
        ),
        (
            "deliveries ?event_id=".into(),
            key.clone(),
            each("/api/v1/deliveries?event_id=", &s.event_ids),
        ),
        (
            "deliveries page 2 (cursor)".into(),
            key.clone(),
            one(format!(
                "/api/v1/deliveries?limit=50&cursor={}",
                enc(&deliveries_cursor)
            )),
        ),
        (
            "search ?q=<tag>".into(),
            key.clone(),
            each("/api/v1/search?q=", &s.tags),
        ),
        (
            "search ?q=<event id>".into(),
            key.clone(),
            each("/api/v1/search?q=", &s.event_ids),
        ),
        (
            "search ?q=<idempotency key>".into(),
            key.clone(),
            each("/api/v1/search?q=", &s.idempotency_keys),
        ),
        (
            "delivery (API)".into(),
            key.clone(),
            each("/api/v1/deliveries/", &s.delivery_ids),
        ),
        (
            "stats ?window=24h".into(),
            key.clone(),
            one("/api/v1/stats?window=24h".into()),
        ),
        (
            "stats ?window=7d".into(),
            key.clone(),
            one("/api/v1/stats?window=7d".into()),
        ),
        ("page / (overview)".into(), page.clone(), one("/".into())),
        ("page /events".into(), page.clone(), one("/events".into())),
        (
            "page /deliveries".into(),
            page.clone(),
            one("/deliveries".into()),
        ),
        (
            "page /deliveries/{id}".into(),
            page.clone(),
            each("/deliveries/", &s.delivery_ids),
        ),
        (
            "page /search?q=<customer tag>".into(),
            page.clone(),
            each("/search?q=", &s.customer_tags),
        ),
        (
            "operator: admin/deliveries ?status=failed".into(),
            Auth::Platform,
            one("/api/v1/admin/deliveries?status=failed".into()),
        ),
        (
            "operator: admin/search ?q=<tag>".into(),
            Auth::Platform,
            each("/api/v1/admin/search?q=", &s.tags),
        ),
        (
            "operator: page /admin/deliveries".into(),
            Auth::Session(operator.clone()),
            one("/admin/deliveries".into()),
        ),
        // The operators' console (#21): every merchant's endpoints with
        // their 24 h failure rate, worst first, and sorted by last delivery
        // (a newest-delivery read per matching endpoint); merchants with counts.
        (
            "operator: admin/endpoints ?sort=failure_rate".into(),
            Auth::Platform,
            one("/api/v1/admin/endpoints?sort=failure_rate".into()),
        ),
        (
            "operator: admin/endpoints ?url=…&sort=last_delivery".into(),
            Auth::Platform,
            one("/api/v1/admin/endpoints?url=127.0.0.1&sort=last_delivery".into()),
        ),
        (
            "operator: page /admin/endpoints".into(),
            Auth::Session(operator.clone()),
            one("/admin/endpoints".into()),
        ),
        (
            "operator: page /admin/merchants".into(),
            Auth::Session(operator.clone()),
            one("/admin/merchants".into()),
        ),
        (
            format!("{typical} events"),
            typical_key.clone(),
            one("/api/v1/events?limit=50".into()),
        ),
        (
            format!("{typical} deliveries"),
            typical_key.clone(),
            one("/api/v1/deliveries?limit=50".into()),
        ),
        (
            format!("{typical} stats ?window=7d"),
            typical_key,
            one("/api/v1/stats?window=7d".into()),
        ),
    ];
    let mut probes: Vec<Probe> = list
        .into_iter()
        .map(|(label, auth, paths)| Probe {
            label,
            auth,
            paths,
            repeat,
        })
        .collect();
    probes.push(Probe {
        label: "operator: /metrics".into(),
        auth: Auth::Platform,
        paths: one("/metrics".into()),
        repeat: repeat.min(METRICS_REPEAT),
    });
    probes
}

/// Times `probe`: up to `WARM_UP` requests, then its timed ones one after
/// another, each of which must answer 200. A slow probe stops early once
/// `budget` is spent (after at least `MIN_TIMED` timed requests), so a
/// query that takes seconds does not hold the run for an hour.
pub async fn measure(server: &Server, probe: &Probe, budget: Duration) -> Outcome {
    let http = client();
    let started = Instant::now();
    let mut times = Vec::with_capacity(probe.repeat);
    let mut n = 0;
    loop {
        let warming = n < WARM_UP && started.elapsed() < budget / 4;
        let spent = started.elapsed() >= budget && times.len() >= MIN_TIMED;
        if !warming && (times.len() >= probe.repeat || spent) {
            break;
        }
        let path = &probe.paths[n % probe.paths.len()];
        n += 1;
        let elapsed = match get(&http, server, &probe.auth, path).await {
            Ok(elapsed) => elapsed,
            Err(why) => return Outcome::Failed(why),
        };
        if !warming {
            times.push(elapsed);
        }
    }
    times.sort_by(f64::total_cmp);
    Outcome::Timed {
        p50: percentile(&times, 50.0),
        p95: percentile(&times, 95.0),
        max: times.last().copied().unwrap_or(f64::NAN),
        n: times.len(),
    }
}

/// One GET, read to its end: its time in ms, or why it did not answer 200.
async fn get(
    http: &reqwest::Client,
    server: &Server,
    auth: &Auth,
    path: &str,
) -> Result<f64, String> {
    let mut request = http.get(format!("{}{path}", server.base));
    request = match auth {
        Auth::Key(key) => request.bearer_auth(key),
        Auth::Platform => request.bearer_auth(PLATFORM_TOKEN),
        Auth::Session(cookie) => request
            .header("cookie", cookie)
            .header("accept", "text/html"),
    };
    let started = Instant::now();
    let response = request
        .send()
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = response.status();
    let body = response.bytes().await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if status != reqwest::StatusCode::OK {
        let body = body
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let excerpt: String = body.chars().take(600).collect();
        return Err(format!("GET {path}: {status}: {excerpt}"));
    }
    Ok(elapsed)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
