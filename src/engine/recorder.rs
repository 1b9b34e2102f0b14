//! Writes attempt records in batches: whatever finished while the previous
//! batch was committing goes in the next transaction, so the database sees
//! one commit per batch rather than one per attempt.

use super::Wakeup;
use crate::metrics::{AttemptOutcome, Metrics};
use crate::store::{AttemptRecord, DeliveryUpdate, Store};
use chrono::Utc;
use std::time::Duration;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

/// Largest batch written in one transaction.
const MAX_BATCH: usize = 512;
/// A batch smaller than this waits up to `LINGER` for more records.
const FULL_ENOUGH: usize = 64;
const LINGER: Duration = Duration::from_millis(5);

/// A message to the recorder.
pub enum Recordable {
    /// An attempt to write.
    Attempt(Box<AttemptRecord>),
    /// Answer once everything sent before this is committed (tests, shutdown).
    Flush(oneshot::Sender<()>),
}

/// Runs until every sender is dropped and the queue is written.
pub async fn run(
    store: Store,
    mut queue: mpsc::Receiver<Recordable>,
    wake: Wakeup,
    metrics: Metrics,
) {
    let mut batch: Vec<AttemptRecord> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = queue.recv().await {
        take(first, &mut batch, &mut flushes);
        // Nobody waits on a record, and a transaction costs about the same
        // whatever its size (on SQLite each one also takes the write turn
        // from ingest for a couple of milliseconds): let a small batch fill
        // for a moment. A flush is written at once.
        let linger_until = tokio::time::Instant::now() + LINGER;
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => take(next, &mut batch, &mut flushes),
                Err(TryRecvError::Empty) if batch.len() < FULL_ENOUGH && flushes.is_empty() => {
                    match tokio::time::timeout_at(linger_until, queue.recv()).await {
                        Ok(Some(next)) => take(next, &mut batch, &mut flushes),
                        Ok(None) | Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            write(&store, &batch).await;
            // A retry may be due sooner than the dispatcher's timer, and a
            // finished delivery with an ordering key lets the next one with
            // its key go: look for work. Other records free nothing a claim
            // could take (the room they held is signalled by their tasks).
            if batch
                .iter()
                .any(|r| r.ordered || matches!(r.update, DeliveryUpdate::RetryAt(_)))
            {
                wake.wake();
            }
            for record in batch.drain(..) {
                metrics.attempt_recorded(AttemptOutcome {
                    error: record.error_kind,
                    duration_ms: record.duration_ms,
                    finished: match record.update {
                        DeliveryUpdate::Succeeded => Some(true),
                        DeliveryUpdate::Failed => Some(false),
                        DeliveryUpdate::RetryAt(_) => None,
                    },
                });
            }
        }
        for flush in flushes.drain(..) {
            let _ = flush.send(());
        }
    }
}

fn take(item: Recordable, batch: &mut Vec<AttemptRecord>, flushes: &mut Vec<oneshot::Sender<()>>) {
    match item {
        Recordable::Attempt(record) => batch.push(*record),
        Recordable::Flush(done) => flushes.push(done),
    }
}

/// Writes one batch, retrying while the database is unreachable: the records
/// are what the merchant will read, and the deliveries stay leased meanwhile.
async fn write(store: &Store, batch: &[AttemptRecord]) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match store.record_attempts(batch, Utc::now()).await {
            Ok(disabled) => {
                if disabled > 0 {
                    tracing::warn!(disabled, "disabled endpoints after failures");
                }
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, records = batch.len(), "recording attempts failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}
