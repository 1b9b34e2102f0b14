//! Test harness: fresh databases, a real Herald on port 0, a cookie-aware client.

use herald::config::ServeConfig;
use herald::engine::Engine;
use herald::store::Store;
use herald::Herald;
use rand::Rng;
use sqlx::postgres::PgConnectOptions;
use std::net::SocketAddr;
use std::str::FromStr;
use tokio::sync::oneshot;

/// Runs an async test body once per backend, as `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::helpers::TestDb::sqlite().await;
                    super::$test(db.store.clone()).await;
                    drop(db);
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::helpers::TestDb::postgres().await;
                    super::$test(db.store.clone()).await;
                    drop(db);
                }
            }
        )*
    };
}

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database that disappears with the value.
pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
    url: String,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { schema: String },
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("herald.db").display());
        let store = Store::connect(&url).await.expect("open SQLite");
        TestDb {
            store,
            cleanup: Cleanup::Sqlite(dir),
            url,
        }
    }

    /// A new schema in the test PostgreSQL, first on the search path.
    pub async fn postgres() -> TestDb {
        let url = postgres_url();
        let schema = format!("herald_test_{:016x}", rand::thread_rng().gen::<u64>());
        let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the store suite and is not reachable at {url} \
                 (set HERALD_TEST_POSTGRES_URL): {e}"
            )
        });
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        let options = PgConnectOptions::from_str(&url)
            .expect("test URL")
            .options([("search_path", schema.as_str())]);
        let store = Store::connect_postgres(options)
            .await
            .expect("open PostgreSQL");
        // The same schema for another process: `options` sets its search_path.
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
        TestDb {
            store,
            cleanup: Cleanup::Postgres { schema },
            url,
        }
    }
}

impl TestDb {
    /// A database URL for this database (another process can open it).
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { schema } = &self.cleanup {
            let schema = schema.clone();
            // Drop runs outside async; use a short-lived runtime on a thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&postgres_url()).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The platform token every test app is configured with.
pub const PLATFORM_TOKEN: &str = "hpt_test_0123456789abcdef0123456789abcdef";

/// A real Herald serving on 127.0.0.1 on a free port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// Wakes the app's dispatcher (for tests that write work to the store directly).
    pub wakeup: herald::engine::Wakeup,
    /// The engine the test drives with `drain` (`spawn_manual`); `None`
    /// when Herald runs its own.
    engine: Option<Engine>,
    /// Tells alerts as operational events and mails (`drain` runs it).
    alerts: herald::service::Alerts,
    /// Deletes history past the retention (`sweep_retention`).
    retention: herald::service::Retention,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The configuration tests run with: loopback 127.0.0.1 allowed, plain
/// http accepted, a fast retry schedule and a short timeout.
pub fn test_config() -> ServeConfig {
    ServeConfig {
        platform_token: Some(herald::config::SecretString::new(PLATFORM_TOKEN.into())),
        allowed_private_cidrs: herald::config::CidrList(vec!["127.0.0.1/32"
            .parse()
            .expect("cidr")]),
        allow_http: true,
        retry_schedule: "0s,200ms,200ms,200ms".parse().expect("schedule"),
        request_timeout: std::time::Duration::from_secs(2),
        ..ServeConfig::default()
    }
}

impl TestApp {
    /// Migrates `store` and serves Herald over it with `test_config()`.
    pub async fn spawn(store: Store) -> TestApp {
        Self::spawn_with(store, test_config()).await
    }

    /// Migrates `store` and serves Herald over it.
    pub async fn spawn_with(store: Store, config: ServeConfig) -> TestApp {
        Self::start(store, config, false).await
    }

    /// Like `spawn`, but no engine runs by itself: the test runs it with
    /// `drain`. With no engine running, ingest hands nothing off, so every
    /// delivery is claimed by a round.
    pub async fn spawn_manual(store: Store) -> TestApp {
        Self::start(store, test_config(), true).await
    }

    /// `spawn_manual` with a configuration of the test's.
    pub async fn spawn_manual_with(store: Store, config: ServeConfig) -> TestApp {
        Self::start(store, config, true).await
    }

    async fn start(store: Store, config: ServeConfig, manual: bool) -> TestApp {
        let leptos = leptos::config::get_configuration(Some("Leptos.toml"))
            .expect("Leptos.toml")
            .leptos_options;
        let herald = Herald::build_with_store(store.clone(), config, leptos)
            .await
            .expect("build Herald");
        let wakeup = herald.wakeup();
        let alerts = herald.state().alerts.clone();
        let retention = herald.state().retention.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let engine = manual.then(|| {
            Engine::start(store.clone(), herald.engine_config(), wakeup.clone()).expect("engine")
        });
        let task = if manual {
            // The site and the API alone, as `Herald::serve` runs them.
            let app = herald.router();
            tokio::spawn(async move {
                herald::http::connections::serve(listener, app, Default::default(), stopped)
                    .await
                    .expect("serve");
            })
        } else {
            tokio::spawn(async move {
                herald.serve(listener, stopped).await.expect("serve");
            })
        };
        TestApp {
            addr,
            store,
            wakeup,
            engine,
            alerts,
            retention,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// An absolute URL on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `body` as JSON to `path` over a raw connection and returns the
    /// answer (status, body). The body is written on its own task while the
    /// answer is read: a server refusing an oversized body answers and closes
    /// without reading the rest, and a client that reads only once it has
    /// written everything (as reqwest does) may then see a broken pipe instead
    /// of the answer, depending on timing.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let (mut read, mut write) = stream.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        let writer = tokio::spawn(async move {
            write.write_all(head.as_bytes()).await?;
            write.write_all(&body).await?;
            // Dropping the write half would shut it down, and a server that
            // reads that as the client leaving may never answer: keep it
            // open until the answer is in.
            std::future::pending::<()>().await;
            std::io::Result::Ok(())
        });
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            read.read_to_end(&mut answer),
        )
        .await
        .expect("the server answers without waiting for an oversized body")
        .expect("read the answer");
        // Once the server has closed, the writer fails with a broken pipe or
        // a reset: expected, the answer is what counts.
        writer.abort();
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        (
            status,
            serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_owned())),
        )
    }

    /// A new merchant with an API key: (id, key).
    pub async fn merchant(&self, name: &str) -> (herald_app::model::id::MerchantId, String) {
        let email = format!(
            "{}-{:08x}@example.test",
            name.to_lowercase().replace(' ', "-"),
            rand::thread_rng().gen::<u32>()
        );
        let (merchant, key) = herald::service::Accounts::new(self.store.clone())
            .create_merchant(
                name,
                &email,
                None,
                herald_app::model::merchant::Role::Merchant,
            )
            .await
            .expect("create merchant");
        (merchant.id, key.key)
    }

    /// A JSON request to the API with a bearer token; returns (status, body).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = client().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("API body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// Creates an endpoint for the merchant with this key; returns (id, secret).
    pub async fn endpoint(&self, key: &str, body: serde_json::Value) -> (String, String) {
        let (status, created) = self
            .api(reqwest::Method::POST, "/api/v1/endpoints", key, Some(body))
            .await;
        assert_eq!(status, 201, "create endpoint: {created}");
        (
            created["id"].as_str().expect("id").to_owned(),
            created["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Ingests an event as the platform; returns (status, body).
    pub async fn ingest(&self, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.api(
            reqwest::Method::POST,
            "/api/v1/events",
            PLATFORM_TOKEN,
            Some(body),
        )
        .await
    }

    /// Runs the engine (`spawn_manual`) until it has nothing left to do (see
    /// `drain`), telling the alerts its attempts wrote as they come: their
    /// operational events are delivered and their mails sent before it returns.
    pub async fn drain(&self) {
        let engine = self
            .engine
            .as_ref()
            .expect("drain needs TestApp::spawn_manual");
        loop {
            drain(engine, &self.store).await;
            let told = self.alerts.tell_pending().await.expect("tell alerts");
            if told == 0 {
                self.alerts.mail_settled().await;
                return;
            }
        }
    }

    /// GETs `path` from the API with a bearer token; panics unless 200.
    pub async fn get_ok(&self, key: &str, path: &str) -> serde_json::Value {
        let (status, body) = self.api(reqwest::Method::GET, path, key, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The catalog's entry for `name`, as the merchant of `key` reads it;
    /// panics if it is not listed.
    pub async fn catalog_entry(&self, key: &str, name: &str) -> serde_json::Value {
        let catalog = self.get_ok(key, "/api/v1/event-types").await;
        item_where(&catalog["data"], "name", name)
    }

    /// Runs a retention sweep now; how many events it deleted.
    pub async fn sweep_retention(&self) -> u64 {
        self.retention.sweep().await.expect("retention sweep")
    }

    /// Folds the latency histograms of every hour so far, the current one
    /// too, into packed rows, as the background task folds finished hours;
    /// how many hourly rows it moved.
    pub async fn fold_rollups(&self) -> u64 {
        let next_hour = chrono::Utc::now().timestamp_millis().div_euclid(3_600_000) + 1;
        self.retention
            .fold_latency_before(next_hour)
            .await
            .expect("fold latency histograms")
    }

    /// A delivery as the merchant sees it.
    pub async fn delivery(&self, key: &str, id: &str) -> serde_json::Value {
        self.get_ok(key, &format!("/api/v1/deliveries/{id}")).await
    }

    /// Polls a delivery until `done` says so, or panics after `timeout`.
    pub async fn wait_for_delivery(
        &self,
        key: &str,
        id: &str,
        timeout: std::time::Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let delivery = self.delivery(key, id).await;
            if done(&delivery) {
                return delivery;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "delivery never reached the expected state: {delivery:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The deliveries of an event, as the merchant sees them.
    pub async fn deliveries_of(&self, key: &str, event_id: &str) -> Vec<serde_json::Value> {
        let page = self
            .get_ok(key, &format!("/api/v1/deliveries?event_id={event_id}"))
            .await;
        page["data"].as_array().cloned().unwrap_or_default()
    }

    /// A browser-like client for this app with its own cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&format!("http://{}", self.addr))
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Retries scheduled at most this far ahead are waited for by `drain`: the
/// test schedule's steps are 200 ms.
pub const DRAIN_HORIZON: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `engine` round by round until nothing is due and nothing is in
/// flight: each round claims what is due and starts it, then waits until
/// those deliveries are sent and their attempts written (the recorder
/// writes in batches, so a record is read back only once it is flushed).
/// Retries they scheduled within `DRAIN_HORIZON` are slept for and run
/// too; later ones are left pending. Work that is due but cannot be claimed
/// (a disabled endpoint, an ordering key held back) ends the drain.
pub async fn drain(engine: &Engine, store: &Store) {
    // What was due, yet not claimed, after the last round.
    let mut held_back = None;
    loop {
        let round = engine.run_once().await.expect("claim due deliveries");
        engine.settle().await;
        if round.started > 0 {
            held_back = None;
            continue;
        }
        let Some(next) = store.next_due_at().await.expect("next due time") else {
            return;
        };
        match (next - chrono::Utc::now()).to_std() {
            Ok(wait) if wait > DRAIN_HORIZON => return,
            Ok(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
            // Due now: it may have come due after the round claimed; a
            // second round that leaves it too means it cannot be claimed.
            _ if held_back == Some(next) => return,
            _ => held_back = Some(next),
        }
    }
}

/// Stores an endpoint directly, past the API's URL rules: a destination
/// that was accepted before the rules (or its DNS) changed.
pub async fn insert_unchecked_endpoint(
    store: &Store,
    merchant: &herald_app::model::id::MerchantId,
    url: &str,
    event_types: &[&str],
) {
    let settings = herald::store::EndpointSettings {
        url: url.to_owned(),
        description: String::new(),
        event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
        rate_limit_per_s: None,
        headers: Default::default(),
        legacy_signature: false,
        retry_schedule: None,
        signature_scheme: Default::default(),
        encryption: None,
        mode: Default::default(),
        profile: "standard".to_owned(),
        timeout: None,
    };
    store
        .insert_endpoint(
            &herald_app::model::id::EndpointId::generate(),
            merchant,
            &settings,
            true,
            &herald::crypto::signing::SigningSecret::generate().expose(),
            None,
            None,
            chrono::Utc::now(),
        )
        .await
        .expect("insert endpoint");
}

/// An HTTP client that never follows redirects, so tests see them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Plays a browser: keeps the session cookie and calls server functions.
pub struct Browser {
    base: String,
    pub cookie: Option<String>,
    http: reqwest::Client,
}

impl Browser {
    /// A browser with an empty cookie jar for the Herald at `base`.
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            cookie: None,
            http: client(),
        }
    }

    /// GET a page, sending the session cookie.
    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("GET");
        self.remember(&response);
        response
    }

    /// Calls a server function with form fields, as an `ActionForm` does after hydration.
    pub async fn call(&mut self, name: &str, fields: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(format!("{}/_fn/{name}", self.base))
            .header("origin", self.base.clone())
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("server fn");
        self.remember(&response);
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    /// Calls a server function whose input is JSON (the dashboard's forms with lists).
    pub async fn call_json(
        &mut self,
        name: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(format!("{}/_fn/{name}", self.base))
            .header("origin", self.base.clone())
            .json(&body);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("server fn");
        self.remember(&response);
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    /// A JSON request to the REST API with the session cookie (and the
    /// origin a browser sends with a state-changing request); (status, body).
    pub async fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("origin", self.base.clone());
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("API request");
        self.remember(&response);
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default().to_owned();
            if pair.starts_with("herald_session=") {
                let expired = value.to_ascii_lowercase().contains("max-age=0");
                self.cookie = if expired { None } else { Some(pair) };
            }
        }
    }
}

/// The item of `list` (a JSON array) whose `field` equals `value`; panics,
/// showing the list, when there is none.
pub fn item_where(list: &serde_json::Value, field: &str, value: &str) -> serde_json::Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[field] == value).cloned())
        .unwrap_or_else(|| panic!("no item with {field} = {value} in {list}"))
}

/// The first column of every row `sql` returns, as text, read straight from
/// the database (what a dump of it would show).
pub async fn raw_texts(store: &Store, sql: &str) -> Vec<String> {
    match store {
        Store::Sqlite(pools) => sqlx::query_scalar(sql)
            .fetch_all(&pools.main)
            .await
            .expect("raw query"),
        Store::Postgres(pools) => sqlx::query_scalar(sql)
            .fetch_all(&pools.main)
            .await
            .expect("raw query"),
    }
}

impl TestApp {
    /// An event's first delivery, once its first attempt is recorded.
    pub async fn first_attempted_delivery(&self, key: &str, event_id: &str) -> serde_json::Value {
        let delivery = self.deliveries_of(key, event_id).await[0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        self.wait_for_delivery(key, &delivery, std::time::Duration::from_secs(10), |d| {
            d["attempts"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await
    }

    /// A browser that signed up as a new merchant (and so is logged in).
    pub async fn signed_up(&self, name: &str, email: &str) -> Browser {
        let mut browser = self.browser();
        let (status, body) = browser
            .call(
                "sign_up",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", "correct horse battery staple"),
                ],
            )
            .await;
        assert_eq!(status, 200, "sign up: {body}");
        browser
    }
}
