//! Recording attempts: each finished attempt's row, its delivery's new
//! state and its endpoint's health, a whole batch in one transaction.
//!
//! A batch costs a handful of statements, not three per attempt: one
//! multi-row insert for the attempts, one multi-row update for their
//! deliveries, and per endpoint one update for each change of health (a
//! run of 500 successes clears `failing_since` once).

use super::alerts;
use super::{on_pool, to_millis, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::alert::Actor;
use herald_app::model::audit::{ActorKind, AuditAction};
use herald_app::model::delivery::{DeliveryStatus, ErrorKind};
use herald_app::model::endpoint::DisableReason;
use herald_app::model::id::{AlertId, AttemptId, AuditEntryId, DeliveryId, EndpointId};
use std::collections::HashMap;

/// Rows per multi-row statement: the attempts insert binds 12 values a
/// row, well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const ROWS_PER_STATEMENT: usize = 512;

/// How a delivery stands after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryUpdate {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// What an attempt does to its endpoint's health.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointHealth {
    /// It answered 2xx: no longer failing.
    Healthy,
    /// It failed; tell the merchant if it has been failing since before
    /// `tell_if_failing_since`, disable it if since before `disable_if_failing_since`.
    Failing {
        tell_if_failing_since: DateTime<Utc>,
        disable_if_failing_since: DateTime<Utc>,
    },
    /// Disable it now (410 Gone).
    Disable { reason: DisableReason },
}

/// One finished attempt, to be written with the others of its batch.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub endpoint_id: Option<EndpointId>,
    pub owner: String,
    pub attempt_number: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub request_headers: String,
    pub status_code: Option<u16>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    pub manual: bool,
    /// The delivery has an ordering key (see `ClaimedDelivery::ordered`).
    pub ordered: bool,
    pub update: DeliveryUpdate,
    pub health: EndpointHealth,
}

/// What writing a batch of attempt records did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedBatch {
    /// Endpoints disabled by the batch's failures.
    pub disabled: u64,
    /// Records left out because their delivery no longer exists.
    pub deliveries_gone: usize,
    /// Alerts written for the merchants (to be told by `service::alerts`).
    pub alerts: u64,
}

/// An endpoint's health change, with a run of the same kind folded into one.
#[derive(Debug, Clone, PartialEq)]
enum HealthChange<'a> {
    Healthy,
    /// Failing since `since` (the run's first attempt), unless it already
    /// was; told if failing since before `tell_if_failing_since`, disabled
    /// if since before `disable_if_failing_since` (the latest thresholds of
    /// the run, which include the earlier ones).
    Failing {
        since: DateTime<Utc>,
        tell_if_failing_since: DateTime<Utc>,
        disable_if_failing_since: DateTime<Utc>,
    },
    Disable {
        reason: &'a DisableReason,
    },
}

/// Each endpoint's health changes in the batch, in order, folding runs of
/// the same kind: applying the folded list leaves the endpoint exactly as
/// applying every record one by one would.
fn health_changes(records: &[AttemptRecord]) -> Vec<(&EndpointId, Vec<HealthChange<'_>>)> {
    let mut order: Vec<&EndpointId> = Vec::new();
    let mut changes: HashMap<&EndpointId, Vec<HealthChange<'_>>> = HashMap::new();
    for record in records {
        let Some(endpoint) = &record.endpoint_id else {
            continue;
        };
        let change = match &record.health {
            EndpointHealth::Healthy => HealthChange::Healthy,
            EndpointHealth::Failing {
                tell_if_failing_since,
                disable_if_failing_since,
            } => HealthChange::Failing {
                since: record.started_at,
                tell_if_failing_since: *tell_if_failing_since,
                disable_if_failing_since: *disable_if_failing_since,
            },
            EndpointHealth::Disable { reason } => HealthChange::Disable { reason },
        };
        let list = changes.entry(endpoint).or_insert_with(|| {
            order.push(endpoint);
            Vec::new()
        });
        match (list.last_mut(), &change) {
            (Some(HealthChange::Healthy), HealthChange::Healthy)
            | (Some(HealthChange::Disable { .. }), HealthChange::Disable { .. }) => {}
            (
                Some(HealthChange::Failing {
                    tell_if_failing_since: last_tell,
                    disable_if_failing_since: last_disable,
                    ..
                }),
                HealthChange::Failing {
                    tell_if_failing_since: next_tell,
                    disable_if_failing_since: next_disable,
                    ..
                },
            ) => {
                *last_tell = (*last_tell).max(*next_tell);
                *last_disable = (*last_disable).max(*next_disable);
            }
            _ => list.push(change),
        }
    }
    order
        .into_iter()
        .map(|endpoint| (endpoint, changes.remove(endpoint).unwrap_or_default()))
        .collect()
}

impl Store {
    /// Writes a batch of attempts with their delivery and endpoint updates
    /// in one transaction, on the queue pool (see `Pools`: a record lost in
    /// a power cut means the delivery is sent again). An attempt whose
    /// delivery is gone (its endpoint was deleted while it was in flight)
    /// is left out and counted, never an error.
    pub async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        auto_disable_after: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<RecordedBatch> {
        if records.is_empty() {
            return Ok(RecordedBatch::default());
        }
        // As for ingest: PostgreSQL keeps the per-size statements, SQLite
        // would keep one per batch size in this process's memory.
        let keep_prepared = matches!(self, Store::Postgres(_));
        let mut health = health_changes(records);
        health.sort_unstable_by(|(a, _), (b, _)| a.as_str().cmp(b.as_str()));
        on_pool!(self, queue, pool => {
            // The connection first: checking it out (sqlx pings it) need
            // not hold the write turn.
            let mut conn = pool.acquire().await?;
            let _turn = self.write_turn().await;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            // Endpoints first (in id order), then deliveries: deleting
            // or disabling an endpoint locks it and then its deliveries, so the
            // other order would deadlock with them. A health change that finds
            // nothing to change takes no lock (the usual case: a healthy
            // endpoint answering 2xx).
            let mut disabled = 0;
            let mut alerts = 0;
            let disable_after_ms = i64::try_from(auto_disable_after.as_millis()).unwrap_or(i64::MAX);
            for (endpoint, changes) in &health {
                for change in changes {
                    // How many rows this change disabled (0 or 1).
                    let cut = match change {
                        HealthChange::Healthy => {
                            alerts += sqlx::query(alerts::RECOVERED_BY_DELIVERY)
                                .bind(AlertId::generate().as_str())
                                .bind(endpoint.as_str())
                                .bind(to_millis(now))
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            sqlx::query(
                                "UPDATE endpoints SET failing_since = NULL \
                                 WHERE id = $1 AND failing_since IS NOT NULL",
                            )
                            .bind(endpoint.as_str())
                            .execute(&mut *tx)
                            .await?;
                            0
                        }
                        HealthChange::Failing { since, tell_if_failing_since, disable_if_failing_since } => {
                            sqlx::query(
                                "UPDATE endpoints SET failing_since = $2 \
                                 WHERE id = $1 AND failing_since IS NULL",
                            )
                            .bind(endpoint.as_str())
                            .bind(to_millis(*since))
                            .execute(&mut *tx)
                            .await?;
                            alerts += sqlx::query(alerts::FAILING)
                                .bind(AlertId::generate().as_str())
                                .bind(endpoint.as_str())
                                .bind(disable_after_ms)
                                .bind(to_millis(now))
                                .bind(to_millis(*tell_if_failing_since))
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            sqlx::query(
                                "UPDATE endpoints SET disabled_at = $2, disabled_reason = $3, updated_at = $2 \
                                 WHERE id = $1 AND disabled_at IS NULL AND failing_since <= $4",
                            )
                            .bind(endpoint.as_str())
                            .bind(to_millis(now))
                            .bind(DisableReason::FailingTooLong.text())
                            .bind(to_millis(*disable_if_failing_since))
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                        }
                        HealthChange::Disable { reason } => {
                            sqlx::query(
                                "UPDATE endpoints SET disabled_at = $2, disabled_reason = $3, updated_at = $2 \
                                 WHERE id = $1 AND disabled_at IS NULL",
                            )
                            .bind(endpoint.as_str())
                            .bind(to_millis(now))
                            .bind(reason.text())
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                        }
                    };
                    // Told by the transaction that disabled it, and only by that one.
                    if cut > 0 {
                        disabled += cut;
                        alerts += sqlx::query(alerts::DISABLED)
                            .bind(AlertId::generate().as_str())
                            .bind(endpoint.as_str())
                            .bind(Actor::Herald.as_str())
                            .bind(to_millis(now))
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        // The audit log says Herald did it, in the same
                        // transaction: a disable is never without its entry.
                        let reason = match change {
                            HealthChange::Disable { reason } => reason.text(),
                            _ => DisableReason::FailingTooLong.text(),
                        };
                        sqlx::query(
                            "INSERT INTO audit_log \
                             (id, at, merchant_id, actor_kind, actor, action, object_id, detail, client_address) \
                             SELECT $1, $2, merchant_id, $3, NULL, $4, id, $5, NULL FROM endpoints WHERE id = $6",
                        )
                        .bind(AuditEntryId::generate().as_str())
                        .bind(to_millis(now))
                        .bind(ActorKind::Herald.as_str())
                        .bind(AuditAction::EndpointDisabled.as_str())
                        .bind(reason)
                        .bind(endpoint.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }

            let mut deliveries_gone = 0;
            for chunk in records.chunks(ROWS_PER_STATEMENT) {
                let mut update = sqlx::QueryBuilder::new(
                    "WITH u (d_id, d_owner, new_status, new_next_at, started_at, code, kind, \
                             succeeded, failed) AS (",
                );
                update.push_values(chunk, |mut row, r| {
                    let (status, next_at, succeeded_at, failed_at) = match &r.update {
                        DeliveryUpdate::Succeeded => (DeliveryStatus::Succeeded, None, Some(now), None),
                        DeliveryUpdate::RetryAt(at) => (DeliveryStatus::Pending, Some(*at), None, None),
                        DeliveryUpdate::Failed => (DeliveryStatus::Failed, None, None, Some(now)),
                    };
                    row.push_bind(r.delivery_id.as_str())
                        .push_bind(r.owner.as_str())
                        .push_bind(status.as_str())
                        .push_bind(next_at.map(to_millis))
                        .push_bind(to_millis(r.started_at))
                        .push_bind(r.status_code.map(i64::from))
                        .push_bind(r.error_kind.map(ErrorKind::as_str))
                        .push_bind(succeeded_at.map(to_millis))
                        .push_bind(failed_at.map(to_millis));
                });
                // Only the lease holder moves the delivery on: if the lease ran
                // out and another process took over, its outcome decides. A
                // disabled endpoint's delivery waits, not due, until enabled.
                update.push(
                    ") UPDATE deliveries SET status = u.new_status, attempt_count = attempt_count + 1, \
                         next_attempt_at = CASE WHEN EXISTS (SELECT 1 FROM endpoints ep \
                             WHERE ep.id = deliveries.endpoint_id AND ep.disabled_at IS NOT NULL) \
                             THEN NULL ELSE u.new_next_at END, \
                         lease_owner = NULL, manual = FALSE, last_attempt_at = u.started_at, \
                         last_status_code = u.code, last_error_kind = u.kind, \
                         succeeded_at = COALESCE(u.succeeded, deliveries.succeeded_at), failed_at = u.failed \
                     FROM u WHERE deliveries.id = u.d_id AND deliveries.lease_owner = u.d_owner",
                );
                update.build().persistent(keep_prepared).execute(&mut *tx).await?;
                // After the update, which holds the row locks of the
                // deliveries it moved on: an endpoint deleted meanwhile
                // cascades to its deliveries only after this commits, or
                // did so before, and then its attempts are left out here
                // rather than fail the whole batch on the foreign key.
                let mut insert = sqlx::QueryBuilder::new(
                    "WITH v (id, delivery_id, attempt_number, started_at, duration_ms, \
                             request_headers, status_code, response_headers, response_body, \
                             error_kind, error_message, manual) AS (",
                );
                insert.push_values(chunk, |mut row, r| {
                    row.push_bind(r.id.as_str())
                        .push_bind(r.delivery_id.as_str())
                        .push_bind(i64::from(r.attempt_number))
                        .push_bind(to_millis(r.started_at))
                        .push_bind(i64::try_from(r.duration_ms).unwrap_or(i64::MAX))
                        .push_bind(r.request_headers.as_str())
                        .push_bind(r.status_code.map(i64::from))
                        .push_bind(r.response_headers.as_deref())
                        .push_bind(r.response_body.as_deref())
                        .push_bind(r.error_kind.map(ErrorKind::as_str))
                        .push_bind(r.error_message.as_deref())
                        .push_bind(r.manual);
                });
                insert.push(
                    ") INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms, \
                         request_headers, status_code, response_headers, response_body, error_kind, \
                         error_message, manual) \
                     SELECT id, delivery_id, attempt_number, started_at, duration_ms, \
                         request_headers, status_code, response_headers, response_body, error_kind, \
                         error_message, manual \
                     FROM v WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.delivery_id)",
                );
                let inserted = insert
                    .build()
                    .persistent(keep_prepared)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                deliveries_gone += chunk.len().saturating_sub(usize::try_from(inserted).unwrap_or(usize::MAX));
            }

            // After the update, which set `failed_at = now` on the deliveries
            // this batch failed for good (and only on those it held).
            for record in records.iter().filter(|r| {
                r.update == DeliveryUpdate::Failed && r.endpoint_id.is_some() && !r.manual
            }) {
                alerts += sqlx::query(alerts::DELIVERY_FAILED)
                    .bind(AlertId::generate().as_str())
                    .bind(record.delivery_id.as_str())
                    .bind(to_millis(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }

            if disabled > 0 {
                // A disabled endpoint's pending deliveries wait, not due,
                // until it is enabled again.
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = NULL \
                     WHERE status = 'pending' AND lease_owner IS NULL AND endpoint_id IN \
                       (SELECT id FROM endpoints WHERE disabled_at IS NOT NULL)",
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(RecordedBatch { disabled, deliveries_gone, alerts })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record(endpoint: &EndpointId, second: i64, health: EndpointHealth) -> AttemptRecord {
        AttemptRecord {
            id: AttemptId::generate(),
            delivery_id: DeliveryId::generate(),
            endpoint_id: Some(endpoint.clone()),
            owner: "node_test".into(),
            attempt_number: 1,
            started_at: at(second),
            duration_ms: 1,
            request_headers: "{}".into(),
            status_code: None,
            response_headers: None,
            response_body: None,
            error_kind: None,
            error_message: None,
            manual: false,
            ordered: false,
            update: DeliveryUpdate::Failed,
            health,
        }
    }

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + second, 0)
            .single()
            .expect("time")
    }

    fn failing(second: i64) -> EndpointHealth {
        EndpointHealth::Failing {
            tell_if_failing_since: at(second + 1),
            disable_if_failing_since: at(second),
        }
    }

    #[test]
    fn runs_of_one_kind_fold_and_changes_keep_their_order() {
        let a = EndpointId::generate();
        let b = EndpointId::generate();
        let records = [
            record(&a, 1, EndpointHealth::Healthy),
            record(&b, 2, failing(-100)),
            record(&a, 3, EndpointHealth::Healthy),
            record(&b, 4, failing(-50)),
            record(&a, 5, failing(-10)),
            record(&b, 6, EndpointHealth::Healthy),
            record(
                &a,
                7,
                EndpointHealth::Disable {
                    reason: DisableReason::Gone,
                },
            ),
            record(
                &a,
                8,
                EndpointHealth::Disable {
                    reason: DisableReason::FailingTooLong,
                },
            ),
        ];
        let changes = health_changes(&records);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].0, &a);
        assert_eq!(
            changes[0].1,
            vec![
                HealthChange::Healthy,
                HealthChange::Failing {
                    since: at(5),
                    tell_if_failing_since: at(-9),
                    disable_if_failing_since: at(-10)
                },
                HealthChange::Disable {
                    reason: &DisableReason::Gone
                },
            ]
        );
        assert_eq!(changes[1].0, &b);
        assert_eq!(
            changes[1].1,
            vec![
                // The run's first failure starts it; its latest threshold decides.
                HealthChange::Failing {
                    since: at(2),
                    tell_if_failing_since: at(-49),
                    disable_if_failing_since: at(-50)
                },
                HealthChange::Healthy,
            ]
        );
    }

    #[test]
    fn callbacks_have_no_endpoint_health() {
        let mut callback = record(&EndpointId::generate(), 1, EndpointHealth::Healthy);
        callback.endpoint_id = None;
        assert!(health_changes(&[callback]).is_empty());
    }
}
