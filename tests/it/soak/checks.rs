//! The soak's verdict: what Herald recorded against what the receiver saw
//! and what the chaos allows, printed as figures and asserted.

use super::chaos_receiver::{Behaviour, Request};
use super::observe::{counter, problems_in_log, recorded_deliveries};
use super::{Merchant, Stored, Timeline, DISABLE_GRACE, LEASE};
use crate::processes::HeraldProcess;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// A process's in-flight places (`HERALD_MAX_IN_FLIGHT`, default): the most
/// attempts a `kill -9` can cut between the request and its record.
const MAX_IN_FLIGHT: usize = 256;

/// Everything the run produced.
pub(super) struct Inputs<'a> {
    pub(super) seconds: u64,
    pub(super) sent: u64,
    pub(super) refusals: usize,
    pub(super) stored: &'a [Stored],
    pub(super) expected: &'a [(String, String)],
    pub(super) merchants: &'a [Merchant],
    pub(super) log: &'a [Request],
    pub(super) timeline: &'a Timeline,
    /// When PostgreSQL was stopped and when it answered again.
    pub(super) postgres_down: Option<(Duration, Duration)>,
    pub(super) rss: &'a [(Duration, u64)],
    pub(super) ingest_took: Duration,
    pub(super) drained_after: Duration,
    pub(super) steady: &'a mut HeraldProcess,
    pub(super) restarted: &'a mut HeraldProcess,
    pub(super) logs: [&'a Path; 2],
}

/// Notes a failed expectation; all are asserted after the figures are
/// printed, so a failing run still shows them.
macro_rules! check {
    ($failures:ident, $ok:expr, $($message:tt)+) => {
        if !$ok {
            $failures.push(format!($($message)+));
        }
    };
}

pub(super) async fn run(inputs: Inputs<'_>) {
    let Inputs {
        seconds,
        sent,
        refusals,
        stored,
        expected,
        merchants,
        log,
        timeline,
        postgres_down,
        rss,
        ingest_took,
        drained_after,
        steady,
        restarted,
        logs,
    } = inputs;
    for process in [&mut *steady, &mut *restarted] {
        assert!(
            process.child.try_wait().expect("wait").is_none(),
            "a Herald process died during the soak"
        );
    }
    let mut failures: Vec<String> = Vec::new();
    let deleted: HashSet<&str> = merchants.iter().map(|m| m.deleted.0.as_str()).collect();
    let label_of: HashMap<&str, &str> = merchants
        .iter()
        .flat_map(|m| [&m.kept, &m.deleted, &m.disabled])
        .map(|(label, id)| (id.as_str(), label.as_str()))
        .collect();
    // Accepted while the merchant's endpoint was disabled: no delivery there.
    let skipped: HashSet<(&str, &str)> = stored
        .iter()
        .filter(|e| e.accepted && !e.to_disabled_endpoint)
        .map(|e| {
            let label = merchants[e.merchant].disabled.0.as_str();
            (label, e.id.as_str())
        })
        .collect();

    // The records, merchant by merchant.
    let mut deliveries = 0usize;
    let mut listed: HashSet<(String, String)> = HashSet::new();
    let mut records: HashMap<(String, u32), usize> = HashMap::new();
    let mut recorded_attempts = 0usize;
    let tries: HashMap<(String, u32), Vec<Behaviour>> =
        log.iter().fold(HashMap::new(), |mut tries, r| {
            tries
                .entry((r.delivery.clone(), r.attempt))
                .or_default()
                .push(r.behaviour);
            tries
        });
    for merchant in merchants {
        for delivery in recorded_deliveries(&steady.base, &merchant.key).await {
            deliveries += 1;
            let endpoint = delivery["endpoint_id"].as_str().unwrap_or_default();
            let label = label_of.get(endpoint).copied().unwrap_or("?");
            let event = delivery["event_id"].as_str().unwrap_or_default();
            check!(
                failures,
                !deleted.contains(label),
                "a delivery to a deleted endpoint outlived it: {delivery:#}"
            );
            check!(
                failures,
                !skipped.contains(&(label, event)),
                "an event accepted while {label} was disabled has a delivery to it: {delivery:#}"
            );
            check!(
                failures,
                delivery["status"] == "succeeded",
                "not succeeded: {delivery:#}"
            );
            listed.insert((label.to_owned(), event.to_owned()));
            let id = delivery["id"].as_str().unwrap_or_default().to_owned();
            for attempt in delivery["attempts"].as_array().cloned().unwrap_or_default() {
                recorded_attempts += 1;
                let number =
                    u32::try_from(attempt["attempt_number"].as_u64().unwrap_or(0)).unwrap_or(0);
                let key = (id.clone(), number);
                if let Some(status) = attempt["status_code"].as_u64() {
                    let seen = tries.get(&key).cloned().unwrap_or_default();
                    check!(
                        failures,
                        seen.iter()
                            .any(|b| b.answered().map(u64::from) == Some(status)),
                        "attempt {key:?} recorded {status}, the receiver did {seen:?}"
                    );
                }
                *records.entry(key).or_insert(0) += 1;
            }
        }
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|(label, event)| !listed.contains(&(label.clone(), event.clone())))
        .collect();
    check!(
        failures,
        missing.is_empty(),
        "expected deliveries not listed: {missing:?}"
    );
    // Beyond those, only events whose 202 was lost (stored on a try the
    // soak saw refused) may have a delivery to the disabled endpoint.
    let accepted_ids: HashSet<&str> = stored
        .iter()
        .filter(|e| e.accepted)
        .map(|e| e.id.as_str())
        .collect();
    let expected_set: HashSet<&(String, String)> = expected.iter().collect();
    let extra: Vec<_> = listed
        .iter()
        .filter(|pair| !expected_set.contains(pair))
        .collect();
    let unexplained: Vec<_> = extra
        .iter()
        .filter(|(_, event)| accepted_ids.contains(event.as_str()))
        .collect();
    check!(
        failures,
        unexplained.is_empty(),
        "deliveries of accepted events that should not exist: {unexplained:?}"
    );

    // Requests that left no record: only the kill -9 can cut them (the
    // database restart delays records, it does not lose them).
    let mut unrecorded = 0usize;
    let mut to_deleted = 0usize;
    let mut per_key: HashMap<(&str, u32), (&str, usize)> = HashMap::new();
    for r in log {
        if deleted.contains(r.endpoint.as_str()) {
            to_deleted += 1;
            continue;
        }
        per_key
            .entry((r.delivery.as_str(), r.attempt))
            .or_insert((r.endpoint.as_str(), 0))
            .1 += 1;
    }
    for ((delivery, attempt), (_, sent_times)) in &per_key {
        let kept = records
            .get(&((*delivery).to_owned(), *attempt))
            .copied()
            .unwrap_or(0);
        unrecorded += sent_times.saturating_sub(kept);
    }
    check!(
        failures,
        unrecorded <= MAX_IN_FLIGHT,
        "{unrecorded} requests left no record: more than one process's in-flight places"
    );

    // Duplicates: an event answered 200 more than once at one endpoint.
    // Herald sends again after a 200 only when that 200's record was lost,
    // so there are no more duplicates than unrecorded requests.
    let mut oks: HashMap<(&str, &str), usize> = HashMap::new();
    for r in log.iter().filter(|r| r.behaviour == Behaviour::Ok) {
        *oks.entry((r.endpoint.as_str(), r.event.as_str()))
            .or_insert(0) += 1;
    }
    let duplicates = oks
        .iter()
        .filter(|((endpoint, _), n)| **n > 1 && !deleted.contains(endpoint))
        .count();
    let duplicates_at_deleted = oks
        .iter()
        .filter(|((endpoint, _), n)| **n > 1 && deleted.contains(endpoint))
        .count();
    check!(
        failures,
        duplicates <= unrecorded,
        "{duplicates} events delivered twice to one endpoint, more than the {unrecorded} \
         requests whose record a crash could lose"
    );

    // Disabled endpoints: nothing starts after an in-flight grace, except
    // (noted, not asserted) a delivery the killed process held: its lease
    // lapses and the claim does not look at the endpoint.
    let lapse = timeline.killed_at.map(|at| {
        (
            at + LEASE - Duration::from_secs(1),
            at + LEASE + Duration::from_secs(5),
        )
    });
    let (mut late_lapsed, mut late_other) = (0usize, Vec::new());
    for (m, (from, to)) in &timeline.disabled {
        let label = &merchants[*m].disabled.0;
        for r in log
            .iter()
            .filter(|r| &r.endpoint == label && r.at > *from + DISABLE_GRACE && r.at < *to)
        {
            match lapse {
                Some((start, end)) if r.at >= start && r.at <= end => late_lapsed += 1,
                _ => late_other.push(r.clone()),
            }
        }
    }
    check!(
        failures,
        late_other.is_empty(),
        "requests to disabled endpoints well after they were disabled: {late_other:?}"
    );

    // The deleted endpoints' attempts: dropped and counted, without errors.
    let dropped_line = "herald_attempt_records_dropped_total{reason=\"delivery_gone\"}";
    let dropped_by = [
        counter(&steady.base, dropped_line).await,
        counter(&restarted.base, dropped_line).await,
    ];
    let dropped = dropped_by[0] + dropped_by[1];
    let leases_lost_line = "herald_leases_lost_total";
    let leases_lost = counter(&steady.base, leases_lost_line).await
        + counter(&restarted.base, leases_lost_line).await;
    let (mut errors, mut warnings) = (Vec::new(), 0usize);
    for log_file in logs {
        let (e, w) = problems_in_log(log_file);
        errors.extend(e);
        warnings += w.len();
    }
    let constraint_errors: Vec<&String> = errors
        .iter()
        .filter(|l| l.contains("foreign key") || l.contains("violates"))
        .collect();
    check!(
        failures,
        constraint_errors.is_empty(),
        "constraint errors in the logs: {constraint_errors:#?}"
    );

    let accepted = stored.iter().filter(|e| e.accepted).count();
    let requests = log.len();
    let answered = log
        .iter()
        .filter(|r| r.behaviour.answered().is_some())
        .count();
    println!(
        "soak: {seconds} s of ingest at {} events/s for {} merchants",
        super::RATE,
        merchants.len()
    );
    println!(
        "  events sent {sent}, accepted (202) {accepted}, stored on a repeat or after the run {}, \
         ingest refusals (503 or no answer) {refusals}",
        stored.len() - accepted
    );
    println!(
        "  expected deliveries {} (0 lost), deliveries listed {deliveries} ({} beyond: events \
         whose 202 was lost), drained in {:.1} s",
        expected.len(),
        extra.len(),
        drained_after.as_secs_f64()
    );
    println!(
        "  receiver: {requests} requests, {answered} answered (200/500), {to_deleted} to \
         endpoints later deleted; {recorded_attempts} attempts recorded; {unrecorded} requests \
         without a record (kill -9)"
    );
    println!(
        "  duplicates (200 twice, same endpoint): {duplicates} (bound: {unrecorded}); at deleted \
         endpoints {duplicates_at_deleted}"
    );
    println!(
        "  deletes/disables with an attempt in flight: {} of {}; attempt records dropped \
         (delivery_gone): {dropped} (steady {}, restarted {}; the killed one's count died \
         with it); leases lost: {leases_lost}",
        timeline.held.0, timeline.held.1, dropped_by[0], dropped_by[1]
    );
    println!(
        "  requests to disabled endpoints after {} s of grace: {late_lapsed} (all at the killed \
         process's lease lapse)",
        DISABLE_GRACE.as_secs()
    );
    if let Some((from, to)) = postgres_down {
        println!(
            "  PostgreSQL restarted: stopped at {:.1} s, back at {:.1} s",
            from.as_secs_f64(),
            to.as_secs_f64()
        );
    }
    println!("  log lines: {} ERROR, {warnings} WARN", errors.len());
    for line in &errors {
        println!("    {line}");
    }
    check!(
        failures,
        dropped >= 1 || timeline.held.0 == 0,
        "an endpoint was deleted with an attempt in flight, yet no record was dropped"
    );

    // Memory: the surviving process's RSS in the last third of the run is
    // not far above the first third's.
    println!("  RSS of the surviving process:");
    for tenth in 1..=10u32 {
        let at = ingest_took * tenth / 10;
        if let Some((when, kib)) = rss.iter().min_by_key(|(when, _)| when.abs_diff(at)) {
            println!(
                "    {:>3}%  {:>5.0} s  {:>6.1} MiB",
                tenth * 10,
                when.as_secs_f64(),
                *kib as f64 / 1024.0
            );
        }
    }
    let third = ingest_took / 3;
    let peak = |from: Duration, to: Duration| {
        rss.iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
    };
    let early = peak(Duration::ZERO, third);
    let late = peak(third * 2, ingest_took + Duration::from_secs(1));
    println!(
        "  RSS peak: first third {:.1} MiB, last third {:.1} MiB",
        early as f64 / 1024.0,
        late as f64 / 1024.0
    );
    check!(
        failures,
        late <= early + early / 2 + 16 * 1024,
        "memory grew: {early} KiB early, {late} KiB late"
    );
    assert!(
        failures.is_empty(),
        "{} expectations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
