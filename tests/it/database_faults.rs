//! PostgreSQL going away under Herald and coming back: ingest answers 503
//! while it is gone (never 202 for what it did not store), Herald reconnects
//! by itself, and every accepted event is delivered.
//!
//! The outage is a TCP proxy on loopback between Herald and PostgreSQL that
//! the test cuts (every connection closed, new ones refused) and restores, so
//! the shared test server itself never has to stop.

use crate::helpers::{client, TestApp, TestDb};
use crate::receiver::TestReceiver;
use herald::store::Store;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Forwards loopback connections to PostgreSQL until cut.
struct DbProxy {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl DbProxy {
    async fn start(upstream: String) -> DbProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (is_open, live) = (open.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                live.lock().unwrap().push(link.abort_handle());
            }
        })
        .abort_handle();
        DbProxy {
            port,
            open,
            links,
            accept,
        }
    }

    /// The database is gone: open connections drop, new ones are refused.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_and_loses_nothing() {
    let db = TestDb::postgres().await;
    let mut url = url::Url::parse(&db.url()).expect("test URL");
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    let proxy = DbProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let store = Store::connect(url.as_str())
        .await
        .expect("through the proxy");

    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Steady").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let event = |n: u32| json!({"merchant_id": merchant.to_string(), "type": "payin.succeeded", "data": {"n": n}});

    let mut accepted = Vec::new();
    for n in 0..3 {
        let (status, body) = app.ingest(event(n)).await;
        assert_eq!(status, 202, "{body}");
        accepted.push(body["id"].as_str().unwrap().to_owned());
    }
    receiver.wait_for(3, Duration::from_secs(10)).await;

    proxy.cut();
    for n in 100..103 {
        let (status, body) = app.ingest(event(n)).await;
        assert_eq!(
            status, 503,
            "nothing can be stored, so nothing is accepted: {body}"
        );
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
    }
    let health = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 503);

    // Back: Herald reconnects by itself; the first ingests may still meet
    // a connection that died with the outage.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 200;
    loop {
        let (status, body) = app.ingest(event(n)).await;
        n += 1;
        if status == 202 {
            accepted.push(body["id"].as_str().unwrap().to_owned());
            break;
        }
        assert_eq!(status, 503, "only 503 while recovering: {body}");
        assert!(Instant::now() < deadline, "Herald did not reconnect");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for n in 300..303 {
        let (status, body) = app.ingest(event(n)).await;
        assert_eq!(status, 202, "{body}");
        accepted.push(body["id"].as_str().unwrap().to_owned());
    }

    // Every accepted event is delivered, and nothing refused was stored.
    let got = receiver
        .wait_for(accepted.len(), Duration::from_secs(20))
        .await;
    let mut delivered: Vec<String> = got
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    delivered.sort();
    delivered.dedup();
    let mut expected = accepted.clone();
    expected.sort();
    assert_eq!(delivered, expected, "each accepted event arrived");
    let (status, events) = app
        .api(reqwest::Method::GET, "/api/v1/events?limit=250", &key, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        events["data"].as_array().map(Vec::len),
        Some(accepted.len()),
        "stored exactly what was accepted"
    );
    app.stop().await;
    drop(proxy);
    drop(db);
}
