//! A real HTTP receiver on 127.0.0.1 that records what it gets and answers
//! as a test tells it to: the merchant's server, played by the test.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// The request target as sent: a path, or a whole URL when the
    /// receiver is used as a forward proxy.
    pub target: String,
    /// Where the connection came from.
    pub peer: SocketAddr,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    /// Answer with `status` at once.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Answer after `delay`.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// With a response header.
    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// With a response body.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_owned();
        self
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// Answers to give, in order; when empty, `default` answers.
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    /// Fail the first try of each webhook-id with 500.
    fail_first_try: Mutex<bool>,
    seen_ids: Mutex<HashSet<String>>,
    arrived: Notify,
}

/// The receiver; clones share state.
#[derive(Clone)]
pub struct TestReceiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl TestReceiver {
    /// Starts a receiver on 127.0.0.1 that answers 200 until told otherwise.
    pub async fn start() -> TestReceiver {
        Self::start_on("127.0.0.1").await
    }

    /// Starts a receiver on another loopback address (e.g. 127.0.0.2).
    pub async fn start_on(ip: &str) -> TestReceiver {
        let inner = Arc::new(Inner::default());
        let app = Router::new().fallback(receive).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app).await;
        });
        TestReceiver { addr, inner }
    }

    /// The URL to register as an endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/webhooks", self.addr)
    }

    /// Answers the next requests with these replies, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.script.lock().expect("lock").extend(replies);
    }

    /// Answers with `reply` whenever no scripted reply is left.
    pub fn always(&self, reply: Reply) {
        *self.inner.default.lock().expect("lock") = Some(reply);
    }

    /// Fails the first try of every event (by webhook-id) with a 500.
    pub fn fail_first_try_of_each(&self) {
        *self.inner.fail_first_try.lock().expect("lock") = true;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` requests arrived, or panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "receiver got {} requests, expected {n} within {timeout:?}",
                    got.len()
                );
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    target: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let first_try = inner.seen_ids.lock().expect("lock").insert(id);
    let reply = if *inner.fail_first_try.lock().expect("lock") && first_try {
        Reply::status(500).body("first try fails")
    } else {
        let scripted = inner.script.lock().expect("lock").pop_front();
        scripted
            .or_else(|| inner.default.lock().expect("lock").clone())
            .unwrap_or_else(|| Reply::status(200).body("ok"))
    };
    // Recorded on arrival: a slow answer still counts as received in order.
    inner.received.lock().expect("lock").push(Received {
        headers,
        body,
        at: Instant::now(),
        target: target.to_string(),
        peer,
    });
    inner.arrived.notify_waiters();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
