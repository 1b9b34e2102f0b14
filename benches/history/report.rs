//! The tables at the end: every request on every backend side by side,
//! what misses the p95 goal, and ingest with and without retention.

use crate::ingest::{DELETES, KEEPS_ALL};
use crate::queries::Outcome;
use crate::BackendResult;

/// Prints the latency table, the requests over `goal_ms` at p95, and the
/// ingest comparison.
/// `repeat` is the timed requests a probe was asked for (fewer are noted).
pub fn print(results: &[BackendResult], goal_ms: f64, repeat: usize) {
    print_latencies(results, goal_ms, repeat);
    print_ingest(results);
}

fn print_latencies(results: &[BackendResult], goal_ms: f64, repeat: usize) {
    let Some(first) = results.iter().find(|r| !r.probes.is_empty()) else {
        return;
    };
    println!();
    let headers: Vec<String> = results
        .iter()
        .map(|r| format!("{} p50 / p95 / max ms", r.backend.label()))
        .collect();
    println!("| request | {} |", headers.join(" | "));
    println!("|---|{}", "---|".repeat(results.len()));
    let mut over = Vec::new();
    for (label, _) in &first.probes {
        let cells: Vec<String> = results
            .iter()
            .map(|r| match outcome(r, label) {
                Some(Outcome::Timed { p50, p95, max, n }) => {
                    if *p95 > goal_ms {
                        over.push(format!("{label} ({} {p95:.0} ms)", r.backend.label()));
                    }
                    let fewer = if *n < repeat {
                        format!(" (n={n})")
                    } else {
                        String::new()
                    };
                    format!("{p50:.1} / {p95:.1} / {max:.1}{fewer}")
                }
                Some(Outcome::Failed(_)) => "FAILED".to_owned(),
                None => "–".to_owned(),
            })
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
    println!();
    if over.is_empty() {
        println!("over {goal_ms:.0} ms p95: none");
    } else {
        println!("over {goal_ms:.0} ms p95: {}", over.join("; "));
    }
}

fn outcome<'a>(result: &'a BackendResult, label: &str) -> Option<&'a Outcome> {
    result
        .probes
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, o)| o)
}

fn print_ingest(results: &[BackendResult]) {
    if results.iter().all(|r| r.ingest.is_empty()) {
        return;
    }
    println!();
    println!(
        "| backend | HERALD_RETENTION | ingest events/s per run | events purged during each run |"
    );
    println!("|---|---|---|---|");
    for result in results {
        for retention in [KEEPS_ALL, DELETES] {
            let runs: Vec<_> = result
                .ingest
                .iter()
                .filter(|r| r.retention == retention)
                .collect();
            let rates: Vec<String> = runs
                .iter()
                .map(|r| format!("{:.0}", r.events_per_s))
                .collect();
            let purged: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.purged)).collect();
            println!(
                "| {} | {retention} | {} | {} |",
                result.backend.label(),
                rates.join(", "),
                purged.join(", ")
            );
        }
    }
    println!();
    for result in results {
        ingest_ratio(result);
    }
}

/// Mean ingest rate while the sweep deleted, against the mean without:
/// bursts during which nothing was purged (the sweep had finished) are
/// left out, as they measure nothing of the sort.
fn ingest_ratio(result: &BackendResult) {
    let mean = |runs: &[&crate::ingest::IngestRun]| {
        runs.iter().map(|r| r.events_per_s).sum::<f64>() / runs.len().max(1) as f64
    };
    let keeping: Vec<_> = result
        .ingest
        .iter()
        .filter(|r| r.retention == KEEPS_ALL)
        .collect();
    let deleting: Vec<_> = result
        .ingest
        .iter()
        .filter(|r| r.retention == DELETES && r.purged > 0.0)
        .collect();
    let name = result.backend.label();
    if keeping.is_empty() || deleting.is_empty() {
        println!("{name}: the sweep deleted nothing during the {DELETES} bursts: no comparison");
        return;
    }
    let purge_rate = deleting.iter().map(|r| r.purged).sum::<f64>()
        / deleting.iter().map(|r| r.seconds).sum::<f64>();
    println!(
        "{name}: ingest while retention deletes ({} of {} bursts; {:.0} events purged/s meanwhile) \
         is {:.0} % of ingest without (goal: 90 % or more)",
        deleting.len(),
        result.ingest.len() - keeping.len(),
        purge_rate,
        100.0 * mean(&deleting) / mean(&keeping)
    );
}

/// Every request that did not answer 200, named with its backend.
pub fn failures(results: &[BackendResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| {
            r.probes
                .iter()
                .filter_map(move |(label, outcome)| match outcome {
                    Outcome::Failed(why) => Some(format!("{} {label}: {why}", r.backend.label())),
                    Outcome::Timed { .. } => None,
                })
        })
        .collect()
}
