//! Outbound identity: deliveries from a fixed source address, or through a
//! forward proxy, for merchants who allow-list the sender's IP. Loopback only:
//! 127.0.0.3 stands in for the egress address, a local receiver for the proxy.

use crate::both_backends;
use crate::helpers::{insert_unchecked_endpoint, test_config, TestApp};
use crate::receiver::TestReceiver;
use herald::config::ProxyUrl;
use herald::store::Store;
use reqwest::Method;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    deliveries_leave_from_the_configured_address,
    deliveries_go_through_the_proxy_and_refused_names_never_reach_it,
    the_proxy_is_asked_for_the_checked_address_never_the_name,
    ports_outside_the_allowed_list_are_refused_up_front,
);

const WAIT: Duration = Duration::from_secs(10);

async fn deliveries_leave_from_the_configured_address(store: Store) {
    let mut config = test_config();
    config.outbound_address = Some("127.0.0.3".parse().expect("ip"));
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Egress").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].peer.ip().to_string(), "127.0.0.3");
    app.stop().await;
}

async fn deliveries_go_through_the_proxy_and_refused_names_never_reach_it(store: Store) {
    let proxy = TestReceiver::start().await;
    let mut config = test_config();
    // Only 127.0.0.2 is open, so `localhost` (127.0.0.1, ::1) is refused.
    config.allowed_private_cidrs =
        herald::config::CidrList(vec!["127.0.0.2/32".parse().expect("cidr")]);
    config.outbound_proxy = Some(ProxyUrl(
        format!("http://{}", proxy.addr).parse().expect("proxy URL"),
    ));
    let app = TestApp::spawn_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Proxied").await;
    // The destination: the proxy answers in its place, so nothing is sent on.
    let destination = "http://127.0.0.2:9/webhooks";
    app.endpoint(
        &key,
        json!({"url": destination, "event_types": ["payin.*"]}),
    )
    .await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = proxy.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].target, destination,
        "the proxy is asked for the destination"
    );
    assert!(got[0].header("webhook-signature").starts_with("v1,"));

    // A name that resolves to a refused address is blocked before the proxy
    // sees anything (stored directly: the API refuses `localhost` up front).
    insert_unchecked_endpoint(
        &store,
        &merchant,
        "http://localhost:9/webhooks",
        &["payout.failed"],
    )
    .await;
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.failed", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let detail = app.first_attempted_delivery(&key, event).await;
    assert_eq!(detail["attempts"][0]["error_kind"], "blocked", "{detail:#}");
    // Why, in general terms; never what the name resolves to.
    let message = detail["attempts"][0]["error_message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("loopback address"), "{message}");
    for address in ["127.0.0.1", "::1"] {
        assert!(!message.contains(address), "{message}");
    }
    assert_eq!(
        proxy.received().len(),
        1,
        "the refused destination never reached the proxy"
    );
    app.stop().await;
}

/// A forward proxy on loopback that records each request line it is sent
/// (`CONNECT host:port …` or `POST http://host:port/… …`) and passes the
/// connection on, but only to a loopback address given as an IP: a name
/// would have to be resolved by the proxy, which is what must not happen.
struct RecordingProxy {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    async fn start() -> RecordingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let recorded = lines.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(Self::serve(client, recorded.clone()));
            }
        });
        RecordingProxy { addr, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lock").clone()
    }

    async fn serve(mut client: tokio::net::TcpStream, lines: Arc<Mutex<Vec<String>>>) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match client.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let line = text.lines().next().unwrap_or_default().to_owned();
        lines.lock().expect("lock").push(line.clone());
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let authority = if method == "CONNECT" {
            target.to_owned()
        } else {
            target
                .strip_prefix("http://")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_owned()
        };
        let upstream = match authority.parse::<SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => addr,
            _ => {
                let _ = client
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return;
            }
        };
        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
            return;
        };
        if method == "CONNECT" {
            if client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
        } else if server.write_all(&head).await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

async fn the_proxy_is_asked_for_the_checked_address_never_the_name(store: Store) {
    let proxy = RecordingProxy::start().await;
    let mut config = test_config();
    config.outbound_proxy = Some(ProxyUrl(
        format!("http://{}", proxy.addr).parse().expect("proxy URL"),
    ));
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Pinned").await;
    let receiver = TestReceiver::start().await;
    let port = receiver.addr.port();
    // `localhost` is 127.0.0.1 (open in the test config) and ::1 (not):
    // Herald resolves it, keeps 127.0.0.1 and hands the proxy that.
    app.endpoint(
        &key,
        json!({"url": format!("http://localhost:{port}/webhooks"),
               "event_types": ["payin.*"]}),
    )
    .await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        proxy.lines(),
        vec![format!("POST http://127.0.0.1:{port}/webhooks HTTP/1.1")],
        "plain http: the request names the checked address"
    );
    assert_eq!(
        got[0].header("host"),
        format!("localhost:{port}"),
        "Host keeps the name"
    );
    assert!(got[0].header("webhook-signature").starts_with("v1,"));

    // https: a CONNECT to the checked address; TLS inside it would use the
    // name (the loopback receiver speaks no TLS, so the attempt fails there).
    app.endpoint(
        &key,
        json!({"url": format!("https://localhost:{port}/webhooks"),
               "event_types": ["payout.*"]}),
    )
    .await;
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.failed", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let detail = app.first_attempted_delivery(&key, event).await;
    assert_ne!(detail["attempts"][0]["error_kind"], "blocked", "{detail:#}");
    // (The attempt failed at TLS, so retries may have tunnelled again.)
    let lines = proxy.lines();
    assert!(lines.len() >= 2, "{lines:?}");
    for line in &lines[1..] {
        assert_eq!(line, &format!("CONNECT 127.0.0.1:{port} HTTP/1.1"));
    }
    assert!(
        lines.iter().all(|line| !line.contains("localhost")),
        "the proxy never saw the name: {lines:?}"
    );
    app.stop().await;
}

async fn ports_outside_the_allowed_list_are_refused_up_front(store: Store) {
    // No private range listed: a name can only be delivered to on the
    // allowed ports. (Nothing here is ever sent: each URL is refused.)
    let mut config = test_config();
    config.allowed_private_cidrs = herald::config::CidrList(Vec::new());
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Ports").await;
    for url in [
        "https://hooks.example.com:25/in",
        "https://93.184.216.34:6379/in",
        "http://[2606:4700::1]:22/in",
    ] {
        let (status, error) = app
            .api(
                Method::POST,
                "/api/v1/endpoints",
                &key,
                Some(json!({"url": url})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("HERALD_ALLOWED_PORTS") && message.starts_with("url:"),
            "{url}: {message}"
        );
        let (status, _) = app
            .ingest(
                json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {},
                           "callback_url": url}),
            )
            .await;
        assert_eq!(status, 422, "callback {url}");
    }
    // The usual ports are fine, and a change to another port is refused.
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": "https://hooks.example.com:8443/in", "enabled": false}),
        )
        .await;
    let (status, error) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"url": "https://hooks.example.com:2525/in"})),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    app.stop().await;
}
