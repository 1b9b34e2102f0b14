//! Finished hours of the attempt latency histograms, folded into one packed
//! row per merchant, hour, endpoint and mode (migration 0015).
//!
//! The triggers of migration 0009 keep a row per latency bucket: a busy
//! endpoint's hour is ~60 rows, so a week of a big merchant was ~28,000 rows
//! to read (on PostgreSQL spread over ~19,000 heap pages, each written at a
//! different moment). Once an hour is over, nothing but a late attempt or
//! retention changes it, so a background pass moves its bucket rows into
//! `attempt_latency_packed`, whose `buckets` holds them as text
//! (`bucket_ms:n,…`, ascending). A reader adds the packed rows and whatever
//! hourly rows are left, so a row written after its hour was folded (an
//! attempt recorded late, retention's negative count for what it deleted)
//! counts at once and is folded by the next pass.
//!
//! Why a batch cannot count a row twice or lose one, on either database:
//! - each batch is one transaction that deletes hourly rows with `DELETE …
//!   RETURNING` and adds exactly what was returned: a row another
//!   transaction deleted first is not returned, and an update committed
//!   before the delete is in the value returned (PostgreSQL re-reads a row
//!   it waited for; SQLite has one writer);
//! - packed rows are read, merged and written back only by a fold, and
//!   folds never run at once: SQLite's transaction holds the write lock
//!   from its start (`BEGIN IMMEDIATE`); on PostgreSQL each batch first
//!   takes a transaction advisory lock, and a process that does not get it
//!   leaves the batch to the one that has it;
//! - on PostgreSQL the batch skips hourly rows other transactions hold
//!   (`FOR UPDATE SKIP LOCKED`): it never waits for ingest, retention or an
//!   endpoint being deleted, so it cannot deadlock with them; what it skips
//!   is folded by a later pass.

use super::{on_pool, Store, StoreError, StoreResult};
use std::collections::BTreeMap;

/// The first key of the `pg_try_advisory_xact_lock(int, int)` that folds
/// take on PostgreSQL (any number no other lock of Herald's uses); the
/// second is the schema's, so Herald deployments in different schemas of
/// one database (the test suite's) do not keep each other out.
const FOLD_LOCK_KEY: i32 = 0x6865_0f01;

/// Where a fold pass stands: the merchant it is in and the first hour of
/// it left to look at. Start with `FoldCursor::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldCursor {
    merchant_id: String,
    hour: i64,
    /// The last batch was full: the same merchant may have more.
    more: bool,
}

/// What one fold batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldStep {
    /// Moved `moved` hourly rows into `packed` packed rows (written or
    /// updated); carry on from `next`.
    Folded {
        moved: u64,
        packed: u64,
        next: FoldCursor,
    },
    /// Nothing is left to fold before the hour asked.
    Done,
    /// Another process is folding now (PostgreSQL): leave it to that one.
    Busy,
}

/// A histogram's counts by bucket (lower bound in ms), as packed rows hold
/// them: no zero counts. Counts are signed: retention's subtractions come
/// as negative hourly rows, and are netted when folded.
pub type PackedBuckets = BTreeMap<u64, i64>;

/// The text of a packed row: `bucket_ms:n` pairs in ascending bucket order,
/// joined by commas, zero counts left out (empty when every count is zero).
pub fn pack_buckets(buckets: &PackedBuckets) -> String {
    let mut text = String::new();
    for (bucket, n) in buckets.iter().filter(|(_, n)| **n != 0) {
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(&format!("{bucket}:{n}"));
    }
    text
}

/// Adds the counts of `text` (`bucket_ms:n,…`, as `pack_buckets` writes it
/// and as the hourly read joins bucket rows) into `into`; `None` when a pair
/// does not read.
pub fn add_packed(into: &mut PackedBuckets, text: &str) -> Option<()> {
    for (bucket, n) in packed_pairs(text) {
        let (bucket, n) = (bucket?, n);
        *into.entry(bucket).or_default() += n;
    }
    Some(())
}

/// The `(bucket_ms, n)` pairs of a packed text, in its order; a pair that
/// does not read comes as `(None, 0)`. An empty text has none.
pub(crate) fn packed_pairs(text: &str) -> impl Iterator<Item = (Option<u64>, i64)> + '_ {
    text.split(',').filter(|pair| !pair.is_empty()).map(|pair| {
        pair.split_once(':')
            .and_then(|(bucket, n)| Some((Some(bucket.parse().ok()?), n.parse().ok()?)))
            .unwrap_or((None, 0))
    })
}

/// One packed row's key within a merchant: hour, endpoint, live mode.
type GroupKey = (i64, String, bool);

impl Store {
    /// Folds up to `batch` hourly latency rows of hours before `before_hour`
    /// (hours since the epoch) into packed rows, merchant by merchant from
    /// `cursor` on, in one transaction. A pass calls it from
    /// `FoldCursor::default()` with the cursor each step returns until
    /// `Done` (or `Busy`); rows written behind the cursor meanwhile wait
    /// for the next pass (readers count them where they are).
    pub async fn fold_attempt_latency(
        &self,
        before_hour: i64,
        cursor: &FoldCursor,
        batch: u32,
    ) -> StoreResult<FoldStep> {
        let batch = batch.max(1);
        let _turn = self.write_turn().await;
        let postgres = matches!(self, Store::Postgres(_));
        // Rows of one merchant from one hour on, in key order; PostgreSQL
        // skips rows another transaction holds rather than waiting.
        let delete = format!(
            "DELETE FROM attempt_latency_hourly \
             WHERE (merchant_id, hour, endpoint_id, live_mode, bucket_ms) IN ( \
               SELECT merchant_id, hour, endpoint_id, live_mode, bucket_ms \
               FROM attempt_latency_hourly \
               WHERE merchant_id = $1 AND hour >= $2 AND hour < $3 \
               ORDER BY hour, endpoint_id, live_mode, bucket_ms LIMIT $4{}) \
             RETURNING hour, endpoint_id, live_mode, bucket_ms, n",
            if postgres {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            }
        );
        let step = on_pool!(self, pool => {
            let mut tx = pool
                .begin_with(if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" })
                .await?;
            if postgres {
                let locked: bool = sqlx::query_scalar(
                    "SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema()))",
                )
                    .bind(FOLD_LOCK_KEY)
                    .fetch_one(&mut *tx)
                    .await?;
                if !locked {
                    return Ok(FoldStep::Busy);
                }
            }
            let mut next = cursor.clone();
            let (mut moved, mut packed) = (0u64, 0u64);
            // Merchant after merchant until the batch is full: in steady
            // state each has an hour of a few rows to fold.
            while moved < u64::from(batch) {
                // The same merchant again after a full batch, else the next
                // merchant with an hour to fold (a range of the primary key).
                let target: Option<(String, i64)> = if next.more {
                    Some((next.merchant_id.clone(), next.hour))
                } else {
                    sqlx::query_as(
                        "SELECT merchant_id, hour FROM attempt_latency_hourly \
                         WHERE merchant_id > $1 AND hour < $2 \
                         ORDER BY merchant_id, hour LIMIT 1",
                    )
                    .bind(&next.merchant_id)
                    .bind(before_hour)
                    .fetch_optional(&mut *tx)
                    .await?
                };
                let Some((merchant, from_hour)) = target else {
                    if moved == 0 {
                        return Ok(FoldStep::Done);
                    }
                    break;
                };
                let room = u64::from(batch) - moved;
                let rows: Vec<(i64, String, bool, i64, i64)> = sqlx::query_as(&delete)
                    .bind(&merchant)
                    .bind(from_hour)
                    .bind(before_hour)
                    .bind(i64::try_from(room).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await?;
                let taken = rows.len() as u64;
                moved += taken;
                next = FoldCursor {
                    merchant_id: merchant.clone(),
                    hour: rows.iter().map(|r| r.0).max().unwrap_or(from_hour),
                    more: taken >= room,
                };
                let mut deltas: BTreeMap<GroupKey, PackedBuckets> = BTreeMap::new();
                for (hour, endpoint, live, bucket, n) in rows {
                    let Ok(bucket) = u64::try_from(bucket) else {
                        return Err(StoreError::Corrupt(format!(
                            "latency bucket {bucket} below zero"
                        )));
                    };
                    *deltas
                        .entry((hour, endpoint, live))
                        .or_default()
                        .entry(bucket)
                        .or_default() += n;
                }
                let (Some(first), Some(last)) = (deltas.keys().next(), deltas.keys().next_back())
                else {
                    continue;
                };
                let existing: Vec<(i64, String, bool, String)> = sqlx::query_as(
                    "SELECT hour, endpoint_id, live_mode, buckets FROM attempt_latency_packed \
                     WHERE merchant_id = $1 AND hour >= $2 AND hour <= $3",
                )
                .bind(&merchant)
                .bind(first.0)
                .bind(last.0)
                .fetch_all(&mut *tx)
                .await?;
                let mut stored: BTreeMap<GroupKey, String> = existing
                    .into_iter()
                    .map(|(hour, endpoint, live, buckets)| ((hour, endpoint, live), buckets))
                    .collect();
                // In key order, as every writer of these rows goes.
                for (key, delta) in deltas {
                    let mut merged = PackedBuckets::new();
                    let old = stored.remove(&key);
                    if let Some(text) = &old {
                        if add_packed(&mut merged, text).is_none() {
                            return Err(StoreError::Corrupt(format!(
                                "packed latency `{text}` of hour {}",
                                key.0
                            )));
                        }
                    }
                    for (bucket, n) in delta {
                        *merged.entry(bucket).or_default() += n;
                    }
                    let text = pack_buckets(&merged);
                    let (hour, endpoint, live) = key;
                    if text.is_empty() {
                        // Everything of this hour was deleted since.
                        if old.is_some() {
                            sqlx::query(
                                "DELETE FROM attempt_latency_packed WHERE merchant_id = $1 \
                                 AND hour = $2 AND endpoint_id = $3 AND live_mode = $4",
                            )
                            .bind(&merchant)
                            .bind(hour)
                            .bind(&endpoint)
                            .bind(live)
                            .execute(&mut *tx)
                            .await?;
                        }
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO attempt_latency_packed \
                           (merchant_id, hour, endpoint_id, live_mode, buckets) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (merchant_id, hour, endpoint_id, live_mode) \
                         DO UPDATE SET buckets = excluded.buckets",
                    )
                    .bind(&merchant)
                    .bind(hour)
                    .bind(&endpoint)
                    .bind(live)
                    .bind(&text)
                    .execute(&mut *tx)
                    .await?;
                    packed += 1;
                }
            }
            tx.commit().await?;
            Ok::<FoldStep, StoreError>(FoldStep::Folded { moved, packed, next })
        })?;
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(u64, i64)]) -> PackedBuckets {
        pairs.iter().copied().collect()
    }

    #[test]
    fn packed_text_is_ascending_pairs_without_zeros_and_reads_back() {
        let histogram = buckets(&[(992, 1), (7, 3), (64, 0), (4992, 12)]);
        let text = pack_buckets(&histogram);
        assert_eq!(text, "7:3,992:1,4992:12");
        let mut read = PackedBuckets::new();
        assert_eq!(add_packed(&mut read, &text), Some(()));
        assert_eq!(read, buckets(&[(7, 3), (992, 1), (4992, 12)]));
        assert_eq!(pack_buckets(&PackedBuckets::new()), "");
        let mut none = PackedBuckets::new();
        assert_eq!(add_packed(&mut none, ""), Some(()));
        assert!(none.is_empty());
    }

    #[test]
    fn merging_adds_counts_and_nets_out_subtractions() {
        // A folded hour, then a late attempt (+1 at 7 ms) and retention's
        // subtraction of what it deleted (-3 at 7 ms, -1 at 992 ms).
        let mut merged = PackedBuckets::new();
        for text in ["7:3,992:1,4992:12", "7:1", "7:-3,992:-1"] {
            assert_eq!(add_packed(&mut merged, text), Some(()));
        }
        assert_eq!(pack_buckets(&merged), "7:1,4992:12");
        // Everything subtracted: nothing left to store.
        assert_eq!(add_packed(&mut merged, "7:-1,4992:-12"), Some(()));
        assert_eq!(pack_buckets(&merged), "");
    }

    #[test]
    fn a_pair_that_does_not_read_is_refused() {
        for bad in ["7", "7:x", "-1:3", ":3", "7:3,,8:1x"] {
            let mut into = PackedBuckets::new();
            assert_eq!(add_packed(&mut into, bad), None, "{bad}");
        }
    }
}
