//! History kept bounded (`HERALD_RETENTION`): events older than the
//! retention are deleted with their deliveries and attempts, in small
//! batches in the background, never one with a delivery still pending; and
//! what is stored, for operators.

use super::ServiceError;
use crate::metrics::Metrics;
use crate::store::Store;
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

    /// Sweeps every `SWEEP_EVERY` until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        if self.keep.is_none() {
            return;
        }
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, "deleted events older than HERALD_RETENTION")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention sweep failed; trying again at the next one")
                }
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
