//! History kept bounded (`HERALD_RETENTION`): events older than the
//! retention are deleted with their deliveries and attempts, in small
//! batches in the background, never one with a delivery still pending; the
//! statistics rollups of finished hours folded (`Store::fold_attempt_latency`)
//! by the same background task; and what is stored, for operators.

use super::ServiceError;
use crate::metrics::Metrics;
use crate::store::{FoldCursor, FoldStep, Store};
use chrono::Utc;
use herald_app::model::duration::format_duration;
use herald_app::model::event::StorageStats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Events deleted per statement (each with its deliveries, attempts and
/// tags, about ten rows): short transactions that never hold the database
/// (or, on SQLite, its one writer) from ingest for long.
const BATCH: u32 = 200;
/// How often each process sweeps.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// After each batch a sweep waits this many times as long as the batch took,
/// so deleting takes at most a twentieth of the database's time and ingest
/// keeps the rest. Measured on a million events (BENCHMARKS.md): with a
/// fixed 20 ms pause, SQLite ingested at 13 % of its rate while a backlog
/// was deleted. A batch that takes 100 ms still deletes 100 events a
/// second, 8.6 million a day: more than a day of what one Herald ingests.
const YIELD_FACTOR: u32 = 19;
/// The shortest pause between batches.
const MIN_PAUSE: Duration = Duration::from_millis(20);
/// Latency histograms of an hour are folded once this many hours have
/// begun since: an attempt is recorded within seconds of its start, so
/// rows for a folded hour are rare (and counted where they are until the
/// next fold takes them).
const FOLD_MARGIN_HOURS: i64 = 2;
/// Hourly latency rows moved per fold transaction: a few milliseconds of
/// the database's time, paused after like a retention batch.
const FOLD_BATCH: u32 = 2000;
const HOUR_MS: i64 = 3_600_000;

/// The retention service; cheap to clone.
#[derive(Clone, Debug)]
pub struct Retention {
    store: Store,
    /// `None`: history is kept forever.
    keep: Option<Duration>,
    metrics: Metrics,
    /// Events this process deleted since it started.
    purged: Arc<AtomicU64>,
}

impl Retention {
    pub fn new(store: Store, keep: Option<Duration>, metrics: Metrics) -> Self {
        Retention {
            store,
            keep,
            metrics,
            purged: Arc::default(),
        }
    }

    /// Deletes every event older than the retention that nothing is
    /// pending for, batch by batch; how many went.
    pub async fn sweep(&self) -> Result<u64, ServiceError> {
        let Some(keep) = self.keep else {
            return Ok(0);
        };
        let Some(before) = chrono::Duration::from_std(keep)
            .ok()
            .and_then(|keep| Utc::now().checked_sub_signed(keep))
        else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            let started = Instant::now();
            let deleted = self.store.purge_events_before(before, BATCH).await?;
            total += deleted;
            self.purged.fetch_add(deleted, Ordering::Relaxed);
            self.metrics.events_purged(deleted);
            if deleted < u64::from(BATCH) {
                return Ok(total);
            }
            tokio::time::sleep((started.elapsed() * YIELD_FACTOR).max(MIN_PAUSE)).await;
        }
    }

    /// Folds the latency histograms of every hour before `before_hour`
    /// (hours since the epoch) into packed rows, batch by batch, pausing
    /// after each as a sweep does; how many hourly rows it moved. Stops
    /// early when another process is folding (PostgreSQL).
    pub async fn fold_latency_before(&self, before_hour: i64) -> Result<u64, ServiceError> {
        let mut cursor = FoldCursor::default();
        let mut total = 0;
        loop {
            let started = Instant::now();
            match self
                .store
                .fold_attempt_latency(before_hour, &cursor, FOLD_BATCH)
                .await?
            {
                FoldStep::Folded { moved, next, .. } => {
                    total += moved;
                    cursor = next;
                }
                FoldStep::Done | FoldStep::Busy => return Ok(total),
            }
            tokio::time::sleep((started.elapsed() * YIELD_FACTOR).max(MIN_PAUSE)).await;
        }
    }

    /// `fold_latency_before` the hours finished `FOLD_MARGIN_HOURS` ago.
    pub async fn fold_finished_hours(&self) -> Result<u64, ServiceError> {
        let current_hour = Utc::now().timestamp_millis().div_euclid(HOUR_MS);
        self.fold_latency_before(current_hour - FOLD_MARGIN_HOURS)
            .await
    }

    /// Every `SWEEP_EVERY` until `stop`: sweeps (when history is bounded),
    /// then folds finished hours, which also nets out what the sweep
    /// subtracted from hours already folded.
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            // A backlog (the first fold of a long history, a sweep after
            // the retention was shortened) takes many batches: shutting
            // down drops it where it waits, its transaction rolled back.
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.sweep_and_fold() => {}
            }
        }
    }

    async fn sweep_and_fold(&self) {
        match self.sweep().await {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(deleted, "deleted events older than HERALD_RETENTION")
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention sweep failed; trying again at the next one")
            }
        }
        match self.fold_finished_hours().await {
            Ok(0) => {}
            Ok(moved) => tracing::debug!(moved, "folded finished hours of latency histograms"),
            Err(e) => {
                tracing::warn!(error = %e, "folding latency histograms failed; trying again at the next sweep")
            }
        }
    }

    /// What is stored, and how long it is kept.
    pub async fn storage(&self) -> Result<StorageStats, ServiceError> {
        let counts = self.store.stored_counts().await?;
        Ok(StorageStats {
            events: counts.events,
            deliveries: counts.deliveries,
            attempts: counts.attempts,
            oldest_event_at: counts.oldest_event_at,
            database_bytes: self.store.database_bytes().await?,
            retention: self.keep.map_or_else(|| "off".to_owned(), format_duration),
            purged_events: self.purged.load(Ordering::Relaxed),
        })
    }
}
