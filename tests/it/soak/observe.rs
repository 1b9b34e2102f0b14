//! What the soak reads back from Herald and the system: the merchant's
//! deliveries and attempts (REST API), counters (`/metrics`), process
//! memory and liveness, and warnings in the process logs.

use crate::helpers::client;
use serde_json::Value;
use std::time::Duration;

/// Resident memory of a process, in KiB (Linux).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A GET of the merchant API that rides out a short database outage: a 5xx
/// or no answer is tried again, for at most a minute.
async fn get_json(url: &str, key: &str) -> Value {
    for _ in 0..120 {
        let answer = client()
            .get(url)
            .bearer_auth(key)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(answer) = answer {
            let status = answer.status().as_u16();
            assert!(status < 400 || status >= 500, "GET {url}: {status}");
            if status < 300 {
                return answer.json().await.expect("JSON body");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("GET {url} failed for a minute");
}

/// Every delivery of the merchant with its attempts.
pub(crate) async fn recorded_deliveries(base: &str, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    // Bounded: 10,000 pages of 250 is far beyond any soak.
    for _ in 0..10_000 {
        let mut url = format!("{base}/api/v1/deliveries?limit=250");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = get_json(&url, key).await;
        for delivery in page["data"].as_array().cloned().unwrap_or_default() {
            let id = delivery["id"].as_str().unwrap_or_default();
            all.push(get_json(&format!("{base}/api/v1/deliveries/{id}"), key).await);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
    panic!("more than 10,000 pages of deliveries");
}

/// An event's deliveries as the merchant sees them (for a failure message).
pub(crate) async fn deliveries_of_event(base: &str, key: &str, event: &str) -> Value {
    let page = get_json(&format!("{base}/api/v1/deliveries?event_id={event}"), key).await;
    let brief: Vec<Value> = page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            serde_json::json!({
                "endpoint": d["endpoint_id"], "status": d["status"],
                "attempts": d["attempt_count"], "next": d["next_attempt_at"],
                "last": d["last_attempt_at"], "code": d["last_status_code"],
            })
        })
        .collect();
    Value::Array(brief)
}

/// The value of one counter line (name with labels, exactly) in a process's
/// `/metrics`; 0 when absent (never counted).
pub(crate) async fn counter(base: &str, line: &str) -> u64 {
    let text = client()
        .get(format!("{base}/metrics"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The ERROR and WARN lines of a process log, without colour codes.
pub(crate) fn problems_in_log(log: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let raw = std::fs::read_to_string(log).unwrap_or_default();
    let text = strip_colours(&raw);
    let of_level = |level: &str| {
        text.lines()
            .filter(|line| line.contains(level))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    (of_level(" ERROR "), of_level(" WARN "))
}

/// The text without ANSI colour codes (`ESC [ ... m`).
fn strip_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}
