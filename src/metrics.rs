//! The process's counters, rendered as Prometheus text at `GET /metrics`.
//!
//! Counters are per process (what this process ingested and attempted), as
//! Prometheus expects: with several Herald processes on one database, each is
//! scraped and the sums are taken in the query. The queue depth (from the
//! index of pending deliveries) and what is stored (from the row counts the
//! database keeps by trigger, migration 0009) are read from the database at
//! scrape time, so every process reports the same database-wide figures,
//! and a scrape costs a few index reads however long the history.
//!
//! Written by hand rather than with `prometheus-client`: that crate writes
//! OpenMetrics, which would change the exposition (counter families typed
//! without their `_total`, `le="1.0"` for `le="1"`, a trailing `# EOF`).

use herald_app::model::delivery::ErrorKind;
use herald_app::model::event::StorageStats;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Upper bounds (seconds) of the attempt-duration histogram buckets: from a
/// fast receiver on the same network to the longest timeout anyone sets.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How an attempt ended, as the `outcome` label says it.
const ATTEMPT_OUTCOMES: [&str; 6] = [
    "succeeded",
    "status",
    "timeout",
    "connect",
    "tls",
    "blocked",
];

/// The counters; clones share them.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    events_ingested: AtomicU64,
    attempts: [AtomicU64; ATTEMPT_OUTCOMES.len()],
    deliveries_succeeded: AtomicU64,
    deliveries_failed: AtomicU64,
    /// Cumulative counts per bucket are computed at render time; these are
    /// per-bucket counts, the last one for "above every bound".
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    duration_sum_micros: AtomicU64,
    /// Attempt records not written, by `DroppedRecords`.
    records_dropped: [AtomicU64; DroppedRecords::ALL.len()],
    /// Deliveries not sent because their lease had passed to another
    /// process while they waited for their endpoint.
    leases_lost: AtomicU64,
    /// Events deleted by retention.
    events_purged: AtomicU64,
}

/// Why an attempt record was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DroppedRecords {
    /// Its delivery was deleted (with its endpoint) while it was in flight.
    DeliveryGone,
    /// The database refused it for a reason trying again would not cure.
    Refused,
}

impl DroppedRecords {
    const ALL: [DroppedRecords; 2] = [DroppedRecords::DeliveryGone, DroppedRecords::Refused];

    fn label(self) -> &'static str {
        match self {
            DroppedRecords::DeliveryGone => "delivery_gone",
            DroppedRecords::Refused => "refused",
        }
    }
}

/// How one recorded attempt ended, for the counters.
#[derive(Debug, Clone, Copy)]
pub struct AttemptOutcome {
    /// `None` when the endpoint answered 2xx.
    pub error: Option<ErrorKind>,
    pub duration_ms: u64,
    /// The delivery is finished by this attempt: `Some(true)` succeeded,
    /// `Some(false)` failed for good, `None` it will be retried.
    pub finished: Option<bool>,
}

/// The database's view at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueDepth {
    /// Pending deliveries whose attempt is due now (or leased right now).
    pub due: u64,
    /// Pending deliveries waiting for a later retry time.
    pub scheduled: u64,
}

impl Metrics {
    /// Counts an event accepted by ingest (not an idempotent repeat).
    pub fn event_ingested(&self) {
        self.inner.events_ingested.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an attempt once its record is committed.
    pub fn attempt_recorded(&self, attempt: AttemptOutcome) {
        let c = &self.inner;
        let outcome = match attempt.error {
            None => 0,
            Some(ErrorKind::Status) => 1,
            Some(ErrorKind::Timeout) => 2,
            Some(ErrorKind::Connect) => 3,
            Some(ErrorKind::Tls) => 4,
            Some(ErrorKind::Blocked) => 5,
        };
        c.attempts[outcome].fetch_add(1, Ordering::Relaxed);
        match attempt.finished {
            Some(true) => c.deliveries_succeeded.fetch_add(1, Ordering::Relaxed),
            Some(false) => c.deliveries_failed.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
        let seconds = attempt.duration_ms as f64 / 1000.0;
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DURATION_BUCKETS.len());
        c.duration_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        c.duration_sum_micros
            .fetch_add(attempt.duration_ms.saturating_mul(1000), Ordering::Relaxed);
    }

    /// Counts attempt records that were not written.
    pub fn records_dropped(&self, reason: DroppedRecords, count: usize) {
        let index = DroppedRecords::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.inner.records_dropped[index].fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Counts a delivery not sent because its lease was lost while it waited.
    pub fn lease_lost(&self) {
        self.inner.leases_lost.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts events deleted for being older than the retention.
    pub fn events_purged(&self, count: u64) {
        self.inner.events_purged.fetch_add(count, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4), with what the
    /// database stores when it could be read.
    pub fn render(&self, queue: QueueDepth, stored: Option<&StorageStats>) -> String {
        let c = &self.inner;
        let mut out = String::with_capacity(2048);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);

        family(
            &mut out,
            "herald_events_ingested_total",
            "counter",
            "Events accepted by ingest in this process.",
        );
        let _ = writeln!(
            out,
            "herald_events_ingested_total {}",
            load(&c.events_ingested)
        );

        family(
            &mut out,
            "herald_attempts_total",
            "counter",
            "Delivery attempts recorded by this process, by outcome.",
        );
        for (outcome, counter) in ATTEMPT_OUTCOMES.iter().zip(&c.attempts) {
            let _ = writeln!(
                out,
                "herald_attempts_total{{outcome=\"{outcome}\"}} {}",
                load(counter)
            );
        }

        family(&mut out, "herald_deliveries_finished_total", "counter", "Deliveries this process finished, by outcome (failed = retries exhausted or endpoint gone).");
        let _ = writeln!(
            out,
            "herald_deliveries_finished_total{{outcome=\"succeeded\"}} {}",
            load(&c.deliveries_succeeded)
        );
        let _ = writeln!(
            out,
            "herald_deliveries_finished_total{{outcome=\"failed\"}} {}",
            load(&c.deliveries_failed)
        );

        family(
            &mut out,
            "herald_attempt_duration_seconds",
            "histogram",
            "Time from sending a delivery to its answer (or failure).",
        );
        let mut cumulative = 0;
        for (bound, counter) in DURATION_BUCKETS.iter().zip(&c.duration_buckets) {
            cumulative += load(counter);
            let _ = writeln!(
                out,
                "herald_attempt_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += load(&c.duration_buckets[DURATION_BUCKETS.len()]);
        let _ = writeln!(
            out,
            "herald_attempt_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = load(&c.duration_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "herald_attempt_duration_seconds_sum {sum}");
        let _ = writeln!(out, "herald_attempt_duration_seconds_count {cumulative}");

        family(
            &mut out,
            "herald_attempt_records_dropped_total",
            "counter",
            "Attempt records this process did not write: delivery_gone (its endpoint was deleted while it was in flight) or refused (the database refused the record).",
        );
        for (reason, counter) in DroppedRecords::ALL.iter().zip(&c.records_dropped) {
            let _ = writeln!(
                out,
                "herald_attempt_records_dropped_total{{reason=\"{}\"}} {}",
                reason.label(),
                load(counter)
            );
        }

        family(
            &mut out,
            "herald_leases_lost_total",
            "counter",
            "Deliveries this process did not send because another process took them over while they waited for their endpoint.",
        );
        let _ = writeln!(out, "herald_leases_lost_total {}", load(&c.leases_lost));

        family(
            &mut out,
            "herald_queue_depth",
            "gauge",
            "Pending deliveries in the shared database: due now, or scheduled for a later retry.",
        );
        let _ = writeln!(out, "herald_queue_depth{{state=\"due\"}} {}", queue.due);
        let _ = writeln!(
            out,
            "herald_queue_depth{{state=\"scheduled\"}} {}",
            queue.scheduled
        );

        family(
            &mut out,
            "herald_retention_purged_events_total",
            "counter",
            "Events this process deleted for being older than HERALD_RETENTION (with their deliveries and attempts).",
        );
        let _ = writeln!(
            out,
            "herald_retention_purged_events_total {}",
            load(&c.events_purged)
        );
        if let Some(stored) = stored {
            for (name, help, value) in [
                (
                    "herald_stored_events",
                    "Events in the shared database.",
                    stored.events,
                ),
                (
                    "herald_stored_deliveries",
                    "Deliveries in the shared database.",
                    stored.deliveries,
                ),
                (
                    "herald_stored_attempts",
                    "Attempts in the shared database.",
                    stored.attempts,
                ),
            ] {
                family(&mut out, name, "gauge", help);
                let _ = writeln!(out, "{name} {value}");
            }
            family(
                &mut out,
                "herald_oldest_event_age_seconds",
                "gauge",
                "Age of the oldest stored event (0 when there is none).",
            );
            let age = stored
                .oldest_event_at
                .map_or(0, |at| (chrono::Utc::now() - at).num_seconds().max(0));
            let _ = writeln!(out, "herald_oldest_event_age_seconds {age}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
    }

    #[test]
    fn counts_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.event_ingested();
        metrics.event_ingested();
        let ok = AttemptOutcome {
            error: None,
            duration_ms: 3,
            finished: Some(true),
        };
        metrics.attempt_recorded(ok);
        metrics.attempt_recorded(AttemptOutcome {
            error: Some(ErrorKind::Timeout),
            duration_ms: 40_000,
            finished: None,
        });
        metrics.attempt_recorded(AttemptOutcome {
            error: Some(ErrorKind::Status),
            duration_ms: 200,
            finished: Some(false),
        });
        metrics.records_dropped(DroppedRecords::DeliveryGone, 2);
        metrics.lease_lost();
        metrics.events_purged(3);
        let stored = StorageStats {
            events: 12,
            deliveries: 20,
            attempts: 31,
            oldest_event_at: Some(chrono::Utc::now() - chrono::Duration::seconds(90)),
            ..StorageStats::default()
        };
        let text = metrics.render(
            QueueDepth {
                due: 4,
                scheduled: 7,
            },
            Some(&stored),
        );
        assert!(text.contains("herald_retention_purged_events_total 3\n"));
        assert!(text.contains("herald_stored_events 12\n"));
        assert!(text.contains("herald_stored_attempts 31\n"));
        let age: i64 = line(&text, "herald_oldest_event_age_seconds ")
            .trim_start_matches("herald_oldest_event_age_seconds ")
            .parse()
            .expect("a number");
        assert!((90..100).contains(&age), "{age}");

        assert_eq!(
            line(&text, "herald_events_ingested_total "),
            "herald_events_ingested_total 2"
        );
        assert!(text.contains("herald_attempts_total{outcome=\"succeeded\"} 1\n"));
        assert!(text.contains("herald_attempts_total{outcome=\"timeout\"} 1\n"));
        assert!(text.contains("herald_attempts_total{outcome=\"status\"} 1\n"));
        assert!(text.contains("herald_attempts_total{outcome=\"blocked\"} 0\n"));
        assert!(text.contains("herald_deliveries_finished_total{outcome=\"succeeded\"} 1\n"));
        assert!(text.contains("herald_deliveries_finished_total{outcome=\"failed\"} 1\n"));
        // Buckets are cumulative: 3 ms is under 5 ms, 200 ms under 250 ms,
        // 40 s above every bound.
        assert!(text.contains("herald_attempt_duration_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("herald_attempt_duration_seconds_bucket{le=\"0.1\"} 1\n"));
        assert!(text.contains("herald_attempt_duration_seconds_bucket{le=\"0.25\"} 2\n"));
        assert!(text.contains("herald_attempt_duration_seconds_bucket{le=\"30\"} 2\n"));
        assert!(text.contains("herald_attempt_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("herald_attempt_duration_seconds_count 3\n"));
        assert!(text.contains("herald_attempt_duration_seconds_sum 40.203\n"));
        assert!(text.contains("herald_attempt_records_dropped_total{reason=\"delivery_gone\"} 2\n"));
        assert!(text.contains("herald_attempt_records_dropped_total{reason=\"refused\"} 0\n"));
        assert!(text.contains("herald_leases_lost_total 1\n"));
        assert!(text.contains("herald_queue_depth{state=\"due\"} 4\n"));
        assert!(text.contains("herald_queue_depth{state=\"scheduled\"} 7\n"));
        // Every sample belongs to a family declared with HELP and TYPE.
        for sample in text.lines().filter(|l| !l.starts_with('#')) {
            let name = sample.split(['{', ' ']).next().unwrap_or_default();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{name} has no TYPE"
            );
        }
    }
}
