//! The chaos soak: two `herald serve` processes on one PostgreSQL (a private
//! cluster the test starts, so it can restart it) ingest at a steady rate
//! for three merchants, each with three endpoints on one misbehaving server
//! (500s, answers past the timeout, connection resets, two outages). During
//! the run each merchant deletes one endpoint and disables another, each
//! time with an attempt to it in flight, and enables it again later; one
//! process is `kill -9`ed and restarted; PostgreSQL is restarted.
//!
//! At the end: every accepted event reached every endpoint that should have
//! it, duplicates are no more than the crash can explain, every recorded
//! answer is one the receiver gave, the deleted endpoints' attempts were
//! dropped without errors, and the surviving process's memory stayed flat.
//!
//! CI runs a short variant (20 s of ingest, about 2 minutes in all). The
//! long run, with its figures in BENCHMARKS.md:
//!     HERALD_SOAK_SECS=180 cargo test --release --test it soak -- --nocapture
//! Everything stays on 127.0.0.1; the run is bounded by the duration above
//! plus the drain (`DRAIN`) and the read-back.

mod chaos_receiver;
mod checks;
mod observe;
mod private_postgres;

use crate::helpers::{client, PLATFORM_TOKEN};
use crate::processes::{create_endpoint, create_merchant_as, HeraldProcess};
use chaos_receiver::{Behaviour, ChaosReceiver};
use observe::rss_kib;
use private_postgres::PrivatePostgres;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Ingest rate, events per second, across both processes and the three
/// merchants; each event fans out to its merchant's enabled endpoints.
const RATE: u64 = 30;
const MERCHANTS: usize = 3;
/// Retries quick enough for a soak: 8 attempts outlast 3 bad answers, a
/// held attempt, a 2-second outage and a restart of the database.
const SCHEDULE: &str = "0s,200ms,1s,2s,3s,3s,3s,3s";
/// A lease: twice the 1 s request timeout plus 10 s (the dispatcher's rule).
const LEASE: Duration = Duration::from_secs(12);
/// After ingest stops, how long everything may take to arrive. The
/// receiver hangs at most once per event and endpoint, and a timed-out
/// attempt waits a minute (`SLOW_DOWN_FLOOR`, no jitter above it) before its
/// retry, by design: an event ingested last may take its 1 s timeout, the
/// minute, the schedule's other steps (at most 12.2 s) and a lapsed lease
/// of a killed process (12 s) – 86 s – plus room for a loaded machine.
const DRAIN: Duration = Duration::from_secs(110);
/// An attempt already under way when its endpoint is disabled may still
/// start a request this long after: a claimed delivery waits its endpoint's
/// turn (4 at a time, each at most the 1 s timeout).
const DISABLE_GRACE: Duration = Duration::from_secs(3);
/// How long the receiver's port stays closed, whatever the run's length: the
/// schedule's 8 attempts span about 15 s, so an outage of a tenth of a long
/// run would fail deliveries by design (a 180 s run with 18 s outages did).
const OUTAGE: Duration = Duration::from_secs(2);
/// How long to wait for an attempt to be in flight before acting.
const HOLD_WAIT: Duration = Duration::from_secs(3);

/// One thing done to the system during the run, at a fraction of it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chaos {
    Disable(usize),
    Enable(usize),
    Delete(usize),
    Kill,
    Restart,
    /// The receiver's port closes for `OUTAGE`.
    ReceiverDown,
    RestartPostgres,
}

/// Spread so that, in the 20 s run too, no delete or disable falls in a
/// receiver outage (it needs an attempt in flight) and each outage ends
/// before the next; in long runs the kill's lapsed leases fall in a
/// disabled window.
const PLAN: [(f64, Chaos); 14] = [
    (0.10, Chaos::Disable(0)),
    (0.20, Chaos::Delete(0)),
    (1.0 / 3.0, Chaos::Kill),
    (0.36, Chaos::ReceiverDown),
    (0.47, Chaos::Enable(0)),
    (0.47, Chaos::Disable(1)),
    (0.50, Chaos::Restart),
    (0.55, Chaos::Delete(1)),
    (0.62, Chaos::RestartPostgres),
    (0.68, Chaos::ReceiverDown),
    (0.80, Chaos::Enable(1)),
    (0.80, Chaos::Disable(2)),
    (0.86, Chaos::Delete(2)),
    (0.93, Chaos::Enable(2)),
];

/// A merchant and its three endpoints (labels are the receiver's paths).
struct Merchant {
    id: String,
    key: String,
    /// Stays enabled throughout.
    kept: (String, String),
    /// Deleted mid-run.
    deleted: (String, String),
    /// Disabled mid-run and enabled again.
    disabled: (String, String),
    disabled_now: bool,
}

/// An event Herald stored, as far as the soak knows.
struct Stored {
    id: String,
    merchant: usize,
    /// Answered 202 (a repeat of its idempotency key answers 200: stored
    /// on an earlier try whose answer was lost).
    accepted: bool,
    /// Whether the merchant's disabled-then-enabled endpoint was enabled
    /// when the event was accepted.
    to_disabled_endpoint: bool,
}

/// What ingest answered.
enum Ingested {
    Accepted(String),
    Repeat(String),
    Refused,
}

/// Ingests event `n` with its idempotency key, so a retry cannot store it
/// twice; anything but a 202 or 200 (a 503 while the database is down, no
/// answer from a killed process) is `Refused`.
async fn ingest(base: &str, merchant: &str, n: u64) -> Ingested {
    let answer = client()
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(PLATFORM_TOKEN)
        .timeout(Duration::from_secs(10))
        .json(&json!({"merchant_id": merchant, "type": "payout.succeeded",
                      "idempotency_key": format!("soak-{n}"),
                      "data": {"n": n, "note": "soak"}}))
        .send()
        .await;
    let Ok(answer) = answer else {
        return Ingested::Refused;
    };
    let status = answer.status().as_u16();
    let id = match answer.json::<Value>().await {
        Ok(body) => body["id"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    match (status, id) {
        (202, Some(id)) => Ingested::Accepted(id),
        (200, Some(id)) => Ingested::Repeat(id),
        _ => Ingested::Refused,
    }
}

/// Deletes (`None`) or enables/disables an endpoint through the merchant
/// API, riding out a database restart: 5xx and no answer are tried again,
/// for at most 30 s.
async fn change_endpoint(base: &str, key: &str, id: &str, enabled: Option<bool>) {
    let url = format!("{base}/api/v1/endpoints/{id}");
    for _ in 0..60 {
        let request = match enabled {
            None => client().delete(&url),
            Some(enabled) => client().patch(&url).json(&json!({ "enabled": enabled })),
        };
        if let Ok(answer) = request
            .bearer_auth(key)
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            let status = answer.status().as_u16();
            assert!(status < 400 || status >= 500, "{url} {enabled:?}: {status}");
            if status < 300 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{url} {enabled:?}: no success in 30 s");
}

/// Times (receiver clock) and facts of the chaos, for the checks.
#[derive(Default)]
struct Timeline {
    killed_at: Option<Duration>,
    /// Per merchant: (disabled at, enabled at).
    disabled: HashMap<usize, (Duration, Duration)>,
    /// Actions taken with an attempt to the endpoint in flight, of all.
    held: (usize, usize),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_chaos_in_merchants_processes_and_the_database() {
    let seconds: u64 = std::env::var("HERALD_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(10, 3600);
    let run = Duration::from_secs(seconds);
    let postgres = Arc::new(PrivatePostgres::start());
    let url = postgres.url();
    let logs = tempfile::tempdir().expect("log dir");
    let env = [
        ("HERALD_RETRY_SCHEDULE", SCHEDULE),
        ("HERALD_REQUEST_TIMEOUT", "1s"),
        // The checker reads every delivery back with the merchants' keys,
        // far faster than a merchant would: not what the rate limit is for.
        ("HERALD_API_KEY_RATE", "0"),
    ];
    let mut merchants = Vec::new();
    for m in 0..MERCHANTS {
        let (id, key) =
            create_merchant_as(&url, &format!("Soak {m}"), &format!("soak{m}@example.test"));
        merchants.push((id, key));
    }
    let steady_log = logs.path().join("steady.log");
    let crashing_log = logs.path().join("crashing.log");
    let mut steady = HeraldProcess::start_logging(&url, &env, &steady_log).await;
    let mut crashing = Some(HeraldProcess::start_logging(&url, &env, &crashing_log).await);
    let receiver = ChaosReceiver::start().await;
    let mut merchants: Vec<Merchant> = {
        let mut all = Vec::new();
        for (m, (id, key)) in merchants.into_iter().enumerate() {
            let endpoint = |role: &str| format!("m{m}-{role}");
            let (kept, deleted, disabled) =
                (endpoint("kept"), endpoint("deleted"), endpoint("disabled"));
            let kept_id = create_endpoint(&steady.base, &key, &receiver.url(&kept)).await;
            let deleted_id = create_endpoint(&steady.base, &key, &receiver.url(&deleted)).await;
            let disabled_id = create_endpoint(&steady.base, &key, &receiver.url(&disabled)).await;
            all.push(Merchant {
                id,
                key,
                kept: (kept, kept_id),
                deleted: (deleted, deleted_id),
                disabled: (disabled, disabled_id),
                disabled_now: false,
            });
        }
        all
    };

    let started = Instant::now();
    let mut stored: Vec<Stored> = Vec::new();
    // Events refused so far: (n, merchant, tries, when to try again).
    let mut refused: Vec<(u64, usize, u32, Instant)> = Vec::new();
    let mut refusals = 0usize;
    let mut rss: Vec<(Duration, u64)> = Vec::new();
    let mut timeline = Timeline::default();
    let mut postgres_restart: Option<tokio::task::JoinHandle<(Duration, Duration)>> = None;
    let mut plan = PLAN.iter().peekable();
    let mut n = 0u64;
    let tick = Duration::from_millis(1000 / RATE);
    while started.elapsed() < run {
        let elapsed = started.elapsed();
        while let Some((_, chaos)) = plan.next_if(|(at, _)| elapsed >= run.mul_f64(*at)) {
            match *chaos {
                Chaos::Kill => {
                    if let Some(process) = crashing.take() {
                        process.kill_9();
                    }
                    timeline.killed_at = Some(receiver.now());
                }
                Chaos::Restart => {
                    crashing = Some(HeraldProcess::start_logging(&url, &env, &crashing_log).await);
                }
                Chaos::ReceiverDown => {
                    // On its own clock: a step of the loop that blocks (a
                    // process starting on a loaded machine) must not
                    // lengthen the outage.
                    let receiver = receiver.clone();
                    receiver.set_down(true);
                    tokio::spawn(async move {
                        tokio::time::sleep(OUTAGE).await;
                        receiver.set_down(false);
                    });
                }
                Chaos::RestartPostgres => {
                    let (postgres, clock) = (postgres.clone(), receiver.clone());
                    postgres_restart = Some(tokio::task::spawn_blocking(move || {
                        let from = clock.now();
                        postgres.restart(Duration::from_secs(2));
                        (from, clock.now())
                    }));
                }
                Chaos::Delete(m) | Chaos::Disable(m) | Chaos::Enable(m) => {
                    let merchant = &mut merchants[m];
                    let (label, id) = match chaos {
                        Chaos::Delete(_) => merchant.deleted.clone(),
                        _ => merchant.disabled.clone(),
                    };
                    let enabled = match chaos {
                        Chaos::Delete(_) => None,
                        Chaos::Disable(_) => Some(false),
                        _ => Some(true),
                    };
                    if enabled != Some(true) {
                        timeline.held.1 += 1;
                        if receiver.hold_an_attempt(&label, HOLD_WAIT).await {
                            timeline.held.0 += 1;
                        }
                    }
                    let from = receiver.now();
                    change_endpoint(&steady.base, &merchant.key, &id, enabled).await;
                    match enabled {
                        Some(false) => {
                            merchant.disabled_now = true;
                            timeline.disabled.insert(m, (from, Duration::MAX));
                        }
                        Some(true) => {
                            merchant.disabled_now = false;
                            // Closed when the call starts: Herald sends as
                            // soon as it commits, before the answer is back.
                            if let Some(window) = timeline.disabled.get_mut(&m) {
                                window.1 = from;
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        // The new event, and up to two refused earlier that are due again.
        let mut batch = vec![(n, usize::try_from(n).unwrap_or(0) % MERCHANTS, 0u32)];
        for _ in 0..2 {
            match refused.first() {
                Some(first) if first.3 <= Instant::now() => {
                    let (event, m, tries, _) = refused.remove(0);
                    batch.push((event, m, tries));
                }
                _ => break,
            }
        }
        for (event, m, tries) in batch {
            let base = match (&crashing, event % 2) {
                (Some(process), 1) => process.base.clone(),
                _ => steady.base.clone(),
            };
            let merchant = &merchants[m];
            let (id, accepted) = match ingest(&base, &merchant.id, event).await {
                Ingested::Accepted(id) => (id, true),
                Ingested::Repeat(id) => (id, false),
                Ingested::Refused => {
                    refusals += 1;
                    if tries < 20 {
                        let again = Instant::now() + Duration::from_secs(1);
                        refused.push((event, m, tries + 1, again));
                    }
                    continue;
                }
            };
            stored.push(Stored {
                id,
                merchant: m,
                accepted,
                to_disabled_endpoint: accepted && !merchant.disabled_now,
            });
        }
        n += 1;
        if n % RATE == 0 {
            if let Some(kib) = rss_kib(steady.child.id()) {
                rss.push((elapsed, kib));
            }
        }
        let next = started + tick * u32::try_from(n).unwrap_or(u32::MAX);
        tokio::time::sleep_until(next.into()).await;
    }
    let ingest_took = started.elapsed();
    receiver.set_down(false);
    let postgres_down = match postgres_restart {
        Some(restart) => Some(restart.await.expect("PostgreSQL restart")),
        None => None,
    };
    // The last refused events, each tried until the database answers (it
    // is back: the restart above returned).
    for (event, m, _, _) in std::mem::take(&mut refused) {
        let merchant = &merchants[m];
        for _ in 0..20 {
            match ingest(&steady.base, &merchant.id, event).await {
                Ingested::Accepted(id) | Ingested::Repeat(id) => {
                    stored.push(Stored {
                        id,
                        merchant: m,
                        accepted: false,
                        to_disabled_endpoint: false,
                    });
                    break;
                }
                Ingested::Refused => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    // What must arrive: every stored event at its merchant's kept endpoint,
    // and each accepted while the disabled endpoint was enabled at that one
    // too (ingest fans out to enabled endpoints only, issue #17; the
    // deliveries it had wait while it is disabled and go out when enabled).
    let expected: Vec<(String, String)> = stored
        .iter()
        .flat_map(|event| {
            let merchant = &merchants[event.merchant];
            let mut pairs = vec![(merchant.kept.0.clone(), event.id.clone())];
            if event.to_disabled_endpoint {
                pairs.push((merchant.disabled.0.clone(), event.id.clone()));
            }
            pairs
        })
        .collect();
    let deadline = Instant::now() + DRAIN;
    let missing = loop {
        let delivered: HashSet<(String, String)> = receiver
            .log()
            .into_iter()
            .filter(|r| r.behaviour == Behaviour::Ok)
            .map(|r| (r.endpoint, r.event))
            .collect();
        let missing: Vec<&(String, String)> = expected
            .iter()
            .filter(|p| !delivered.contains(*p))
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let drained_after = started.elapsed() - ingest_took;
    if !missing.is_empty() {
        let log = receiver.log();
        println!(
            "ingest ended at {:?} (receiver clock {:?}); killed at {:?}; disabled {:?}; \
             PostgreSQL down {postgres_down:?}",
            ingest_took,
            receiver.now() - drained_after,
            timeline.killed_at,
            timeline.disabled
        );
        for (label, event) in missing.iter().take(20) {
            // Labels are "m<merchant>-<role>".
            let m: usize = label[1..]
                .split('-')
                .next()
                .and_then(|digits| digits.parse().ok())
                .expect("the merchant of an endpoint");
            let merchant = &merchants[m];
            let tries: Vec<_> = log
                .iter()
                .filter(|r| &r.endpoint == label && &r.event == event)
                .map(|r| (r.at, r.attempt, r.behaviour))
                .collect();
            let recorded = observe::deliveries_of_event(&steady.base, &merchant.key, event).await;
            println!("missing {label} {event}: receiver saw {tries:?}; Herald has {recorded}");
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} expected deliveries never arrived in {DRAIN:?} after ingest stopped",
        missing.len(),
        expected.len()
    );
    // Let the last records land before comparing them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = receiver.log();

    checks::run(checks::Inputs {
        seconds,
        sent: n,
        refusals,
        stored: &stored,
        expected: &expected,
        merchants: &merchants,
        log: &log,
        timeline: &timeline,
        postgres_down,
        rss: &rss,
        ingest_took,
        drained_after,
        steady: &mut steady,
        restarted: crashing.as_mut().expect("the restarted process"),
        logs: [steady_log.as_path(), crashing_log.as_path()],
    })
    .await;
    drop(crashing);
    drop(steady);
    drop(postgres);
}
