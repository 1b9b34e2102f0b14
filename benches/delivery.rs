//! Delivery benchmark: starts the real `herald` binary on SQLite and on
//! PostgreSQL, points one endpoint at a fast receiver on loopback, and
//! measures ingest throughput, delivery throughput, 202-to-arrival latency
//! and Herald's peak RSS; then the raw throughput of a plain HTTP client
//! posting the same bodies to the same receiver, as the ceiling.
//!
//! Run: `cargo bench --bench delivery` (after `cargo build --release`).
//! Knobs: BENCH_EVENTS (20000), BENCH_CONCURRENCY (32), BENCH_STEADY_RATE
//! (500 events/s), BENCH_STEADY_SECONDS (10), HERALD_BIN, HERALD_TEST_POSTGRES_URL,
//! BENCH_BACKENDS (sqlite,postgres), BENCH_BACKLOG (0: off; e.g. 100000 deliveries
//! left waiting for a dead endpoint while memory is watched) and
//! BENCH_BACKLOG_SECONDS (60), BENCH_HOG (off; `1` adds the hog-vs-bystander
//! phase of `hog.rs`, `only` runs just that phase). Loopback only; bounded in
//! count and time.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Router;
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[path = "delivery/hog.rs"]
mod hog;

const PLATFORM_TOKEN: &str = "hpt_bench_0123456789abcdef0123456789abcdef";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Arrival times by event id, recorded by the receiver.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<HashMap<String, Instant>>>);

async fn receive(
    State(arrivals): State<Arrivals>,
    headers: HeaderMap,
    _body: Bytes,
) -> &'static str {
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        let now = Instant::now();
        arrivals
            .0
            .lock()
            .expect("lock")
            .entry(id.to_owned())
            .or_insert(now);
    }
    "ok"
}

async fn start_receiver(arrivals: Arrivals) -> std::net::SocketAddr {
    let app = Router::new().fallback(receive).with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn herald_bin() -> String {
    std::env::var("HERALD_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/herald")
    })
}

fn herald(database_url: &str) -> Command {
    let mut command = Command::new(herald_bin());
    command
        .env("HERALD_DATABASE_URL", database_url)
        .env("HERALD_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("HERALD_ALLOWED_PRIVATE_CIDRS", "127.0.0.1/32")
        .env("HERALD_ALLOW_HTTP", "true")
        .env("RUST_LOG", "warn");
    command
}

/// Peak resident memory of a process, from /proc (kB).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// CPU time a process has used so far, user and system (/proc, in seconds).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces: state is the first, utime the 12th and stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ, which /proc counts in, is 100 on Linux.
    Some(ticks as f64 / 100.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// A ~1 KiB payment payload.
fn payload(n: usize) -> serde_json::Value {
    json!({
        "clientTransactionId": format!("pay_{n:012}"),
        "status": "success",
        "statusCode": 1,
        "utr": "UTR0000000000000000",
        "amount": "1499.00",
        "currency": "INR",
        "customer": {"name": "Jane Roe", "email": "jane.roe@example.test", "phone": "+910000000000"},
        "notes": "x".repeat(700),
    })
}

struct Run {
    events: usize,
    ingest_secs: f64,
    deliver_secs: f64,
    latencies_ms: Vec<f64>,
    peak_rss_kb: Option<u64>,
    /// Herald's CPU seconds while this load ran (until the last arrival).
    cpu_seconds: Option<f64>,
}

async fn start_herald(database_url: &str) -> (Child, String) {
    start_herald_with(database_url, &[]).await
}

/// Starts Herald with extra environment variables.
async fn start_herald_with(database_url: &str, env: &[(&str, &str)]) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let child = herald(database_url)
        .envs(env.iter().copied())
        .arg("serve")
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start herald (build it first: cargo build --release)");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("herald did not start");
}

/// A new merchant (through the CLI) with one endpoint at `url`; its id.
async fn merchant_with_endpoint(database_url: &str, base: &str, name: &str, url: &str) -> String {
    let (merchant, key) = create_merchant(database_url, name);
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/endpoints"))
        .bearer_auth(&key)
        .json(&json!({"url": url}))
        .send()
        .await
        .expect("create endpoint");
    assert_eq!(response.status().as_u16(), 201);
    merchant
}

/// A new merchant (through the CLI); its id and API key.
fn create_merchant(database_url: &str, name: &str) -> (String, String) {
    let output = herald(database_url)
        .args([
            "admin",
            "create-merchant",
            "--name",
            name,
            "--email",
            &format!("{}@example.test", name.to_lowercase()),
        ])
        .output()
        .expect("create merchant");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_owned)
    };
    let merchant = field("merchant_id:").expect("merchant id");
    let key = field("api_key:").expect("api key");
    (merchant, key)
}

/// Current resident memory of a process, from /proc (kB).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Memory while `events` deliveries wait for a dead endpoint (a loopback
/// port nobody listens on): ingest them, then watch VmRSS for `seconds`
/// while the engine makes and records their failing attempts. Returns RSS
/// in kB: before, when the last one was accepted, then every 10 s of the
/// wait, and the highest seen.
async fn backlog_phase(
    database_url: &str,
    base: &str,
    pid: u32,
    events: usize,
    concurrency: usize,
    seconds: u64,
) -> (u64, u64, Vec<u64>, u64) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr");
    // Nobody listens there once the listener is dropped: connection refused.
    let merchant = merchant_with_endpoint(
        database_url,
        base,
        "Backlog",
        &format!("http://{dead}/dead"),
    )
    .await;
    let before = rss_kb(pid).unwrap_or(0);
    let highest = Arc::new(Mutex::new(before));
    let watcher = {
        let highest = highest.clone();
        tokio::spawn(async move {
            loop {
                let now = rss_kb(pid).unwrap_or(0);
                {
                    let mut top = highest.lock().expect("lock");
                    *top = (*top).max(now);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let client = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(events);
    for n in 0..events {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let (client, base, merchant) = (client.clone(), base.to_owned(), merchant.clone());
        tasks.push(tokio::spawn(async move {
            post_event(&client, &base, &merchant, n).await;
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let accepted = rss_kb(pid).unwrap_or(0);
    let mut waiting = Vec::new();
    for _ in 0..seconds.div_ceil(10) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        waiting.push(rss_kb(pid).unwrap_or(0));
    }
    watcher.abort();
    let top = *highest.lock().expect("lock");
    (before, accepted, waiting, top)
}

/// Posts event number `n` as the platform; its id, once accepted (202).
async fn post_event(client: &reqwest::Client, base: &str, merchant: &str, n: usize) -> String {
    let response = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(PLATFORM_TOKEN)
        .json(&json!({"merchant_id": merchant, "type": "payin.succeeded", "data": payload(n)}))
        .send()
        .await
        .expect("ingest");
    assert_eq!(response.status().as_u16(), 202);
    let body: serde_json::Value = response.json().await.expect("json");
    body["id"].as_str().expect("id").to_owned()
}

/// Sends `events` events with `concurrency` in flight, or paced at `rate` per second.
async fn run_load(
    base: &str,
    merchant: &str,
    events: usize,
    concurrency: usize,
    rate: Option<u64>,
    arrivals: &Arrivals,
) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let accepted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let limit = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(events);
    for n in 0..events {
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let (client, base, merchant) = (client.clone(), base.to_owned(), merchant.to_owned());
        let accepted = accepted.clone();
        tasks.push(tokio::spawn(async move {
            let id = post_event(&client, &base, &merchant, n).await;
            accepted.lock().expect("lock").insert(id, Instant::now());
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let ingest_secs = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = arrivals.0.lock().expect("lock").len() >= events;
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let arrived = arrivals.0.lock().expect("lock").clone();
    let last = arrived.values().max().copied().unwrap_or(started);
    let accepted = accepted.lock().expect("lock").clone();
    let mut latencies_ms: Vec<f64> = accepted
        .iter()
        .filter_map(|(id, at)| {
            arrived
                .get(id)
                .map(|got| got.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies_ms.sort_by(|a, b| a.total_cmp(b));
    Run {
        events: arrived.len(),
        ingest_secs,
        deliver_secs: (last - started).as_secs_f64(),
        latencies_ms,
        peak_rss_kb: None,
        cpu_seconds: None,
    }
}

/// The ceiling: the same client posting the same bodies straight to the receiver.
async fn raw_client(receiver: std::net::SocketAddr, events: usize, concurrency: usize) -> f64 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let limit = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(events);
    for n in 0..events {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let client = client.clone();
        let body = json!({"id": format!("raw_{n}"), "data": payload(n)}).to_string();
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("http://{receiver}/raw"))
                .header("webhook-id", format!("raw_{n}"))
                .body(body)
                .send()
                .await
                .expect("post");
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    events as f64 / started.elapsed().as_secs_f64()
}

async fn bench_backend(name: &str, database_url: &str, events: usize, concurrency: usize) {
    let arrivals = Arrivals::default();
    let receiver = start_receiver(arrivals.clone()).await;
    let (mut child, base) = start_herald(database_url).await;
    let merchant = merchant_with_endpoint(
        database_url,
        &base,
        "Bench",
        &format!("http://{receiver}/hook"),
    )
    .await;
    let cpu_before = cpu_seconds(child.id());
    let mut burst = run_load(&base, &merchant, events, concurrency, None, &arrivals).await;
    burst.peak_rss_kb = peak_rss_kb(child.id());
    burst.cpu_seconds = cpu_seconds(child.id())
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    let steady_rate: u64 = env_or("BENCH_STEADY_RATE", 500);
    let steady_events = steady_rate as usize * env_or::<usize>("BENCH_STEADY_SECONDS", 10);
    let steady_arrivals = Arrivals::default();
    let steady_receiver = start_receiver(steady_arrivals.clone()).await;
    let steady_merchant = merchant_with_endpoint(
        database_url,
        &base,
        "Steady",
        &format!("http://{steady_receiver}/hook"),
    )
    .await;
    let steady = run_load(
        &base,
        &steady_merchant,
        steady_events,
        concurrency,
        Some(steady_rate),
        &steady_arrivals,
    )
    .await;
    let peak = peak_rss_kb(child.id());
    let backlog_events: usize = env_or("BENCH_BACKLOG", 0);
    let backlog = if backlog_events > 0 {
        let seconds = env_or("BENCH_BACKLOG_SECONDS", 60);
        Some(
            backlog_phase(
                database_url,
                &base,
                child.id(),
                backlog_events,
                concurrency,
                seconds,
            )
            .await,
        )
    } else {
        None
    };
    let _ = child.kill();
    let _ = child.wait();

    let raw = raw_client(receiver, events, concurrency).await;
    let delivered_per_s = burst.events as f64 / burst.deliver_secs;
    let l = &burst.latencies_ms;
    let s = &steady.latencies_ms;
    println!("## {name}");
    println!(
        "- events: {} of {} delivered, {} senders",
        burst.events, events, concurrency
    );
    println!(
        "- ingest: {:.0} events/s accepted (202)",
        events as f64 / burst.ingest_secs
    );
    println!(
        "- delivery: {:.0} deliveries/s arriving at the receiver",
        delivered_per_s
    );
    println!(
        "- 202-to-arrival under full load, ms: p50 {:.1} / p95 {:.1} / p99 {:.1}",
        percentile(l, 50.0),
        percentile(l, 95.0),
        percentile(l, 99.0)
    );
    println!("- 202-to-arrival at a steady {steady_rate} events/s, ms: p50 {:.1} / p95 {:.1} / p99 {:.1} ({} events)", percentile(s, 50.0), percentile(s, 95.0), percentile(s, 99.0), steady.events);
    if let Some(cpu) = burst.cpu_seconds {
        println!(
            "- Herald CPU under the burst: {:.0} µs per event ({:.2} cores busy)",
            cpu * 1e6 / burst.events.max(1) as f64,
            cpu / burst.deliver_secs
        );
    }
    println!(
        "- Herald peak RSS: {:.1} MB (after the burst {:.1} MB)",
        peak.unwrap_or(0) as f64 / 1024.0,
        burst.peak_rss_kb.unwrap_or(0) as f64 / 1024.0
    );
    println!(
        "- raw client to the same receiver: {:.0} posts/s; Herald delivers at {:.1}% of it",
        raw,
        100.0 * delivered_per_s / raw
    );
    if let Some((before, accepted, waiting, top)) = backlog {
        let mb = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
        let series: Vec<String> = waiting.into_iter().map(mb).collect();
        println!(
            "- {backlog_events} deliveries for a dead endpoint: RSS {} MB before, {} MB when all were accepted, then every 10 s while they wait and fail: {} MB (highest {} MB)",
            mb(before),
            mb(accepted),
            series.join(" / "),
            mb(top)
        );
    }
    println!();
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let events: usize = env_or("BENCH_EVENTS", 20_000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let hog = std::env::var("BENCH_HOG").unwrap_or_default();
    let (main_phases, hog_phase) = match hog.as_str() {
        "" | "0" => (true, false),
        "only" => (false, true),
        _ => (true, true),
    };
    for backend in backends.split(',') {
        match backend.trim() {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("bench.db").display());
                if main_phases {
                    bench_backend("SQLite", &url, events, concurrency).await;
                }
                if hog_phase {
                    hog::phase("SQLite", &url).await;
                }
            }
            "postgres" => {
                let admin_url = std::env::var("HERALD_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let db = format!("herald_bench_{}", std::process::id());
                let admin = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&admin)
                    .await
                    .expect("create database");
                let url = match admin_url.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{db}"),
                    None => panic!("HERALD_TEST_POSTGRES_URL needs a database path"),
                };
                if main_phases {
                    bench_backend("PostgreSQL", &url, events, concurrency).await;
                }
                if hog_phase {
                    hog::phase("PostgreSQL", &url).await;
                }
                let _ = sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
            }
            other => eprintln!("unknown backend {other}"),
        }
    }
}
