//! Writes attempt records in batches: whatever finished while the previous
//! batch was committing goes in the next transaction, so the database sees
//! one commit per batch rather than one per attempt.

use super::Wakeup;
use crate::metrics::{AttemptOutcome, DroppedRecords, Metrics};
use crate::store::{AttemptRecord, DeliveryUpdate, RecordedBatch, Store, StoreError};
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
    auto_disable_after: Duration,
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
            write(&store, &batch, &metrics, auto_disable_after).await;
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

/// Writes one batch. A database that is unreachable (or restarting, or
/// busy) is waited for: the records are what the merchant will read, and
/// their deliveries stay leased meanwhile. Any other error is the batch's
/// own: it is split in halves and each written on its own, so one record
/// the database refuses is dropped and counted alone and never holds back
/// the others. Records whose delivery was deleted meanwhile are dropped by
/// the store itself.
async fn write(
    store: &Store,
    batch: &[AttemptRecord],
    metrics: &Metrics,
    auto_disable_after: Duration,
) {
    let mut parts: Vec<&[AttemptRecord]> = vec![batch];
    while let Some(part) = parts.pop() {
        match write_part(store, part, auto_disable_after).await {
            Ok(written) => {
                if written.disabled > 0 {
                    tracing::warn!(
                        disabled = written.disabled,
                        "disabled endpoints after failures"
                    );
                }
                if written.deliveries_gone > 0 {
                    metrics.records_dropped(DroppedRecords::DeliveryGone, written.deliveries_gone);
                    tracing::info!(
                        dropped = written.deliveries_gone,
                        "attempt records dropped: their deliveries were deleted (endpoint removed) while in flight"
                    );
                }
            }
            Err(e) if part.len() > 1 => {
                tracing::warn!(error = %e, records = part.len(), "recording a batch failed; writing it in halves");
                let (first, second) = part.split_at(part.len() / 2);
                parts.push(second);
                parts.push(first);
            }
            Err(e) => {
                metrics.records_dropped(DroppedRecords::Refused, 1);
                if let Some(record) = part.first() {
                    tracing::error!(
                        error = %e,
                        delivery = %record.delivery_id,
                        "attempt record refused by the database; dropped (the delivery is due again when its lease ends)"
                    );
                }
            }
        }
    }
}

/// Writes one part of a batch, waiting out a database that is down; an
/// error returned is one that trying again would not cure.
async fn write_part(
    store: &Store,
    part: &[AttemptRecord],
    auto_disable_after: Duration,
) -> Result<RecordedBatch, StoreError> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match store
            .record_attempts(part, auto_disable_after, Utc::now())
            .await
        {
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, records = part.len(), "recording attempts failed for a reason that passes (database unreachable, restarting or busy, or a deadlock victim); retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}
