//! The real `herald` binary as separate processes: crash with `kill -9` and
//! restart, and two processes sharing one PostgreSQL.

use crate::helpers::{client, TestDb, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `herald serve` child process on its own port.
pub(crate) struct HeraldProcess {
    pub(crate) child: Child,
    pub(crate) base: String,
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn herald_command(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .env("HERALD_DATABASE_URL", database_url)
        .env("HERALD_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("HERALD_ALLOWED_PRIVATE_CIDRS", "127.0.0.1/32")
        .env("HERALD_ALLOW_HTTP", "true")
        .env("HERALD_RETRY_SCHEDULE", "0s,200ms,200ms,200ms,200ms,200ms")
        .env("HERALD_REQUEST_TIMEOUT", "1s")
        .env("RUST_LOG", "warn");
    command
}

impl HeraldProcess {
    async fn start(database_url: &str) -> HeraldProcess {
        Self::start_with(database_url, &[]).await
    }

    /// Starts with extra environment variables.
    pub(crate) async fn start_with(database_url: &str, env: &[(&str, &str)]) -> HeraldProcess {
        Self::spawn(database_url, env, Stdio::null(), Stdio::inherit()).await
    }

    /// Starts with extra environment variables, all its output (stdout and
    /// stderr: the log) appended to `log`.
    pub(crate) async fn start_logging(
        database_url: &str,
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> HeraldProcess {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let stderr = file.try_clone().expect("log file");
        Self::spawn(database_url, env, file.into(), stderr.into()).await
    }

    async fn spawn(
        database_url: &str,
        env: &[(&str, &str)],
        stdout: Stdio,
        stderr: Stdio,
    ) -> HeraldProcess {
        let port = free_port();
        let child = herald_command(database_url)
            .envs(env.iter().copied())
            .arg("serve")
            .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start herald");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client().get(format!("{base}/healthz")).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "herald did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        HeraldProcess { child, base }
    }

    /// Sends SIGTERM and asserts the process exits cleanly within `bound`.
    pub(crate) async fn terminate_within(mut self, bound: Duration) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + bound;
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                assert!(exit.success(), "herald exited with {exit} after SIGTERM");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "herald did not stop within {bound:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    async fn ingest(&self, merchant: &str, n: usize) -> String {
        let response = client()
            .post(format!("{}/api/v1/events", self.base))
            .bearer_auth(PLATFORM_TOKEN)
            .json(&json!({"merchant_id": merchant, "type": "payout.succeeded", "data": {"n": n}}))
            .send()
            .await
            .expect("ingest");
        assert_eq!(response.status().as_u16(), 202);
        let body: serde_json::Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }
}

impl Drop for HeraldProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a merchant with the CLI; returns (merchant id, API key).
pub(crate) fn create_merchant(database_url: &str) -> (String, String) {
    create_merchant_as(database_url, "Crash Test", "crash@example.test")
}

/// Creates a merchant of this name and e-mail with the CLI; returns
/// (merchant id, API key).
pub(crate) fn create_merchant_as(database_url: &str, name: &str, email: &str) -> (String, String) {
    let output = herald_command(database_url)
        .args(["admin", "create-merchant", "--name", name, "--email", email])
        .output()
        .expect("create merchant");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().next().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("{name} in {stdout}"))
    };
    (field("merchant_id:"), field("api_key:"))
}

/// Creates an endpoint for `url`; returns its id.
pub(crate) async fn create_endpoint(base: &str, key: &str, url: &str) -> String {
    let response = client()
        .post(format!("{base}/api/v1/endpoints"))
        .bearer_auth(key)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: serde_json::Value = response.json().await.expect("created endpoint");
    created["id"].as_str().expect("endpoint id").to_owned()
}

/// Distinct event ids the receiver got, and how often each.
fn arrivals(receiver: &TestReceiver) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in receiver.received() {
        *counts.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    counts
}

async fn wait_for_all(receiver: &TestReceiver, ids: &[String], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = arrivals(receiver);
        let missing = ids.iter().filter(|id| !got.contains_key(*id)).count();
        if missing == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} events never arrived",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn crash_and_restart_loses_nothing(database_url: &str) {
    let (merchant, key) = create_merchant(database_url);
    let receiver = TestReceiver::start().await;
    // Slow answers while the first process runs: at most 4 in flight, so
    // however slowly a loaded machine ingests, the 150 take over half a
    // minute to deliver and the crash lands in the middle, with requests in
    // flight.
    receiver.always(Reply::status(200).after(Duration::from_secs(1)));
    let first = HeraldProcess::start(database_url).await;
    create_endpoint(&first.base, &key, &receiver.url()).await;
    let mut ids = Vec::new();
    for n in 0..150 {
        ids.push(first.ingest(&merchant, n).await);
    }
    receiver.wait_for(10, Duration::from_secs(10)).await;
    first.kill_9();
    let delivered_before = arrivals(&receiver).len();
    assert!(
        delivered_before < ids.len(),
        "the crash should interrupt delivery ({delivered_before} already arrived)"
    );

    receiver.always(Reply::status(200));
    let _second = HeraldProcess::start(database_url).await;
    wait_for_all(&receiver, &ids, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_then_restart_delivers_everything_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("crash.db").display());
    crash_and_restart_loses_nothing(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_then_restart_delivers_everything_postgres() {
    let db = TestDb::postgres().await;
    crash_and_restart_loses_nothing(&db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_postgres_without_duplicates() {
    let db = TestDb::postgres().await;
    let url = db.url();
    let (merchant, key) = create_merchant(&url);
    let receiver = TestReceiver::start().await;
    let a = HeraldProcess::start(&url).await;
    let b = HeraldProcess::start(&url).await;
    create_endpoint(&a.base, &key, &receiver.url()).await;
    let mut ids = Vec::new();
    for n in 0..200 {
        let process = if n % 2 == 0 { &a } else { &b };
        ids.push(process.ingest(&merchant, n).await);
    }
    wait_for_all(&receiver, &ids, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = arrivals(&receiver);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(receiver.received().len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("term.db").display());
    HeraldProcess::start(&url)
        .await
        .terminate_within(Duration::from_secs(20))
        .await;
}
