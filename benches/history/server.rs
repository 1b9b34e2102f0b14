//! The real `herald` binary: its CLI (migrate, create merchants) and its
//! server on a loopback port, and the ways the bench signs in to it (API
//! key, platform token, dashboard session).

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The platform token every server of the bench is started with.
pub const PLATFORM_TOKEN: &str = "hpt_bench_0123456789abcdef0123456789abcdef";
/// The big merchant's and the operator's dashboard password.
pub const PASSWORD: &str = "bench history password 2024";
/// The big merchant's log-in (made by the CLI).
pub const BIG_EMAIL: &str = "big@bench.test";
/// The operator's log-in (made by the CLI with `--admin`).
pub const OPERATOR_EMAIL: &str = "ops@bench.test";

/// The herald binary: HERALD_BIN, or the release build in the target directory.
fn herald_bin() -> String {
    std::env::var("HERALD_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/herald")
    })
}

/// A herald command on `database_url`, quiet, allowed loopback http
/// destinations (nothing is sent there: no delivery is ever due).
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

/// `herald migrate`: the schema, as a real deployment makes it.
pub fn migrate(database_url: &str) {
    let output = herald(database_url)
        .arg("migrate")
        .output()
        .expect("run herald migrate (build it first: cargo build --release --bin herald)");
    assert!(
        output.status.success(),
        "herald migrate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `herald admin create-merchant` with a dashboard password on standard
/// input (`--admin` for an operator); its id and first API key.
pub fn create_merchant(
    database_url: &str,
    name: &str,
    email: &str,
    admin: bool,
) -> (String, String) {
    let mut command = herald(database_url);
    command.args([
        "admin",
        "create-merchant",
        "--name",
        name,
        "--email",
        email,
        "--password-stdin",
    ]);
    if admin {
        command.arg("--admin");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run herald admin create-merchant");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write the password");
    let output = child.wait_with_output().expect("create-merchant output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "create-merchant {email}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_owned)
    };
    (
        field("merchant_id:").expect("merchant id in the CLI output"),
        field("api_key:").expect("API key in the CLI output"),
    )
}

/// A running `herald serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `herald serve` on a free loopback port with `env` added, and
    /// waits until `/healthz` answers. API keys are not rate-limited: the
    /// bench asks faster than the default 100/s allows.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let child = herald(database_url)
            .env("HERALD_API_KEY_RATE", "0")
            .envs(env.iter().copied())
            .arg("serve")
            .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("start herald (build it first: cargo build --release --bin herald)");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let health = client.get(format!("{}/healthz", server.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("herald did not start within 60 s");
    }

    /// Logs in to the dashboard as `email`; the `herald_session=…` cookie.
    pub async fn log_in(&self, email: &str) -> String {
        let response = client()
            .post(format!("{}/_fn/log_in", self.base))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("log in");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default())
            .find(|pair| pair.starts_with("herald_session="))
            .map(str::to_owned);
        match cookie {
            Some(cookie) => cookie,
            None => panic!(
                "log in as {email}: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            ),
        }
    }

    /// A counter of `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = client()
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Stops the server.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// An HTTP client that does not follow redirects (a redirect is an answer
/// to report, not to chase) and gives up on a request after 2 minutes.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}
