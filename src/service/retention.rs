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
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Events deleted per statement: short transactions that never hold the
/// database (or, on SQLite, the write turn) from ingest for long.
const BATCH: u32 = 500;
/// How often each process sweeps.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// A pause between batches of one sweep, so ingest and the engine get turns.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);

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
            let deleted = self.store.purge_events_before(before, BATCH).await?;
            total += deleted;
            self.purged.fetch_add(deleted, Ordering::Relaxed);
            self.metrics.events_purged(deleted);
            if deleted < u64::from(BATCH) {
                return Ok(total);
            }
            tokio::time::sleep(BETWEEN_BATCHES).await;
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
