//! The hog-vs-bystander phase (`BENCH_HOG=1`, or `only` to skip the other
//! phases): one merchant's 80 endpoints hang past a 10 s request timeout
//! while another merchant's healthy endpoint should see its events at once.
//! Measures the bystander's 202-to-arrival latency, for a burst of 40 and a
//! steady 10 events/s for 10 s (issue #14: p99 under 1 s).

use super::{
    create_merchant, percentile, post_event, run_load, start_herald_with, start_receiver, Arrivals,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The hog's endpoints, all on the hanging receiver.
const HOG_ENDPOINTS: usize = 80;
/// Events the hog ingests; each fans out to every one of its endpoints.
const HOG_EVENTS: usize = 6;
/// Herald's request timeout for this phase: the hog's attempts hold their
/// places this long.
const REQUEST_TIMEOUT: &str = "10s";
/// The hanging receiver keeps each connection open this long, unanswered:
/// past the timeout, and bounded.
const HANG: Duration = Duration::from_secs(30);

/// A receiver that reads requests and never answers; counts connections.
async fn start_hanging_receiver() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut sink = [0u8; 8192];
                let _ = tokio::time::timeout(HANG, async {
                    while let Ok(n) = stream.read(&mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                })
                .await;
            });
        }
    });
    (addr, connections)
}

/// Runs the phase on its own Herald process over `database_url`.
pub(super) async fn phase(name: &str, database_url: &str) {
    let (mut child, base) =
        start_herald_with(database_url, &[("HERALD_REQUEST_TIMEOUT", REQUEST_TIMEOUT)]).await;
    let client = reqwest::Client::new();
    let (hanging, connections) = start_hanging_receiver().await;
    let (hog, hog_key) = create_merchant(database_url, "Hog");
    for n in 0..HOG_ENDPOINTS {
        let response = client
            .post(format!("{base}/api/v1/endpoints"))
            .bearer_auth(&hog_key)
            .json(&json!({"url": format!("http://{hanging}/hang/{n}")}))
            .send()
            .await
            .expect("create endpoint");
        assert_eq!(response.status().as_u16(), 201);
    }
    for n in 0..HOG_EVENTS {
        post_event(&client, &base, &hog, n).await;
    }
    // Let the hog take every place it can before the bystander starts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = connections.load(Ordering::SeqCst);

    let arrivals = Arrivals::default();
    let healthy = start_receiver(arrivals.clone()).await;
    let (bystander, bystander_key) = create_merchant(database_url, "Bystander");
    let response = client
        .post(format!("{base}/api/v1/endpoints"))
        .bearer_auth(&bystander_key)
        .json(&json!({"url": format!("http://{healthy}/hook")}))
        .send()
        .await
        .expect("create endpoint");
    assert_eq!(response.status().as_u16(), 201);
    let burst = run_load(&base, &bystander, 40, 4, None, &arrivals).await;
    let steady_arrivals = Arrivals::default();
    let steady_receiver = start_receiver(steady_arrivals.clone()).await;
    let (steady_merchant, steady_key) = create_merchant(database_url, "SteadyBystander");
    let response = client
        .post(format!("{base}/api/v1/endpoints"))
        .bearer_auth(&steady_key)
        .json(&json!({"url": format!("http://{steady_receiver}/hook")}))
        .send()
        .await
        .expect("create endpoint");
    assert_eq!(response.status().as_u16(), 201);
    let steady = run_load(&base, &steady_merchant, 100, 4, Some(10), &steady_arrivals).await;
    let hog_requests = connections.load(Ordering::SeqCst);
    let _ = child.kill();
    let _ = child.wait();

    let figures = |latencies: &[f64]| {
        format!(
            "p50 {:.1} / p99 {:.1} / max {:.1} ms",
            percentile(latencies, 50.0),
            percentile(latencies, 99.0),
            latencies.last().copied().unwrap_or(f64::NAN)
        )
    };
    println!("## {name}: one merchant's dead endpoints, another merchant's latency");
    println!(
        "- hog: {HOG_ENDPOINTS} endpoints hanging past a {REQUEST_TIMEOUT} timeout, {HOG_EVENTS} \
         events ({} deliveries); {held} of its requests held after 1 s, {hog_requests} by the end",
        HOG_ENDPOINTS * HOG_EVENTS
    );
    println!(
        "- bystander, burst of 40 (4 senders), 202-to-arrival: {} ({} of 40 arrived)",
        figures(&burst.latencies_ms),
        burst.events
    );
    println!(
        "- bystander, steady 10 events/s for 10 s, 202-to-arrival: {} ({} of 100 arrived)",
        figures(&steady.latencies_ms),
        steady.events
    );
    println!();
}
