//! Alerts: the changes told to merchants (`herald.*` events and mails).
//!
//! An alert row is written in the same transaction as the change it tells
//! (an attempt's record, an endpoint enabled or disabled), by the statements
//! below. `(subject_id, kind, episode)` is unique and every insert is `ON
//! CONFLICT DO NOTHING`, so a change seen by two processes at once, or
//! recorded twice, is told once. Telling (turning the row into an event and
//! a mail) happens after the commit, in `service::alerts`.

use super::{from_millis, on_pool, to_millis, Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use herald_app::model::alert::{Actor, Alert, AlertKind, MailPreferences};
use herald_app::model::id::{AlertId, DeliveryId, EndpointId, EventId, MerchantId};

/// An endpoint failing since before `$5` (and still enabled) is told once
/// per failing run: its episode is when the run started.
/// Binds: alert id, endpoint, auto-disable after (ms), now, failing since before.
pub(super) const FAILING: &str =
    "INSERT INTO alerts (id, merchant_id, kind, subject_id, episode, endpoint_id, url, actor, \
                         since_at, until_at, created_at) \
     SELECT $1, merchant_id, 'failing', id, failing_since, id, url, 'herald', \
            failing_since, failing_since + $3, $4 \
     FROM endpoints \
     WHERE id = $2 AND disabled_at IS NULL AND failing_since IS NOT NULL AND failing_since <= $5 \
     ON CONFLICT (subject_id, kind, episode) DO NOTHING";

/// An endpoint just disabled (run only by the transaction that disabled
/// it); its episode is when. Binds: alert id, endpoint, actor, now.
pub(super) const DISABLED: &str =
    "INSERT INTO alerts (id, merchant_id, kind, subject_id, episode, endpoint_id, url, actor, \
                         reason, since_at, created_at) \
     SELECT $1, merchant_id, 'disabled', id, disabled_at, id, url, $3, \
            disabled_reason, failing_since, $4 \
     FROM endpoints \
     WHERE id = $2 AND disabled_at IS NOT NULL \
     ON CONFLICT (subject_id, kind, episode) DO NOTHING";

/// A success ends a failing run that was told: run before the run's
/// `failing_since` is cleared, whose value is the episode. A run too short
/// to be told ends silently. Binds: alert id, endpoint, now.
pub(super) const RECOVERED_BY_DELIVERY: &str =
    "INSERT INTO alerts (id, merchant_id, kind, subject_id, episode, endpoint_id, url, actor, \
                         how, since_at, created_at) \
     SELECT $1, ep.merchant_id, 'recovered', ep.id, ep.failing_since, ep.id, ep.url, 'herald', \
            'delivered', ep.failing_since, $3 \
     FROM endpoints ep \
     WHERE ep.id = $2 AND ep.failing_since IS NOT NULL \
       AND EXISTS (SELECT 1 FROM alerts a WHERE a.subject_id = ep.id AND a.kind = 'failing' \
                                             AND a.episode = ep.failing_since) \
     ON CONFLICT (subject_id, kind, episode) DO NOTHING";

/// Enabling a disabled endpoint ends its disabled period, whose start is
/// the episode: run before `disabled_at` is cleared.
/// Binds: alert id, endpoint, actor, now, merchant (NULL: an operator).
pub(super) const RECOVERED_BY_ENABLING: &str =
    "INSERT INTO alerts (id, merchant_id, kind, subject_id, episode, endpoint_id, url, actor, \
                         how, since_at, created_at) \
     SELECT $1, merchant_id, 'recovered', id, disabled_at, id, url, $3, \
            'enabled', COALESCE(failing_since, disabled_at), $4 \
     FROM endpoints \
     WHERE id = $2 AND disabled_at IS NOT NULL AND ($5 IS NULL OR merchant_id = $5) \
     ON CONFLICT (subject_id, kind, episode) DO NOTHING";

/// A delivery that used its whole schedule, written by the transaction that
/// failed it (`failed_at` is that transaction's time); Herald's own events
/// are left out, so a failure to tell never tells again.
/// Binds: alert id, delivery, now.
pub(super) const DELIVERY_FAILED: &str =
    "INSERT INTO alerts (id, merchant_id, kind, subject_id, episode, endpoint_id, url, actor, \
                         about_event_id, about_event_type, attempts, last_status_code, created_at) \
     SELECT $1, d.merchant_id, 'delivery_failed', d.id, d.failed_at, ep.id, ep.url, 'herald', \
            d.event_id, d.event_type, d.attempt_count, d.last_status_code, $3 \
     FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id \
     WHERE d.id = $2 AND d.status = 'failed' AND d.failed_at = $3 \
       AND d.event_type NOT LIKE 'herald.%' \
     ON CONFLICT (subject_id, kind, episode) DO NOTHING";

const ALERT_COLUMNS: &str = "a.id, a.kind, a.subject_id, a.endpoint_id, a.url, a.actor, a.reason, \
     a.how, a.since_at, a.until_at, a.about_event_id, a.about_event_type, a.attempts, \
     a.last_status_code, a.created_at, a.told_at, a.event_id, a.mailed";

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: String,
    kind: String,
    subject_id: String,
    endpoint_id: String,
    url: String,
    actor: String,
    reason: Option<String>,
    how: Option<String>,
    since_at: Option<i64>,
    until_at: Option<i64>,
    about_event_id: Option<String>,
    about_event_type: Option<String>,
    attempts: Option<i64>,
    last_status_code: Option<i64>,
    created_at: i64,
    told_at: Option<i64>,
    event_id: Option<String>,
    mailed: bool,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("alert {what}: {e}"))
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;
    fn try_from(row: AlertRow) -> StoreResult<Alert> {
        let kind = AlertKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?;
        let event = |id: Option<String>| {
            id.map(|id| EventId::parse(&id).map_err(|e| corrupt("event id", e)))
                .transpose()
        };
        Ok(Alert {
            id: AlertId::parse(&row.id).map_err(|e| corrupt("id", e))?,
            kind,
            endpoint_id: EndpointId::parse(&row.endpoint_id)
                .map_err(|e| corrupt("endpoint id", e))?,
            url: row.url,
            actor: Actor::parse(&row.actor).ok_or_else(|| corrupt("actor", &row.actor))?,
            reason: row.reason,
            how: row.how,
            since: row.since_at.map(from_millis).transpose()?,
            until: row.until_at.map(from_millis).transpose()?,
            delivery_id: match kind {
                AlertKind::DeliveryFailed => Some(
                    DeliveryId::parse(&row.subject_id).map_err(|e| corrupt("delivery id", e))?,
                ),
                _ => None,
            },
            about_event_id: event(row.about_event_id)?,
            about_event_type: row.about_event_type,
            attempts: row.attempts.and_then(|n| u32::try_from(n).ok()),
            last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
            created_at: from_millis(row.created_at)?,
            told_at: row.told_at.map(from_millis).transpose()?,
            event_id: event(row.event_id)?,
            mailed: row.mailed,
        })
    }
}

/// An alert not told yet, with where its mail would go.
#[derive(Debug, Clone)]
pub struct UntoldAlert {
    pub alert: Alert,
    pub merchant_id: MerchantId,
    pub email: String,
    pub preferences: MailPreferences,
}

#[derive(sqlx::FromRow)]
struct UntoldRow {
    #[sqlx(flatten)]
    alert: AlertRow,
    merchant_id: String,
    email: String,
    mail_alerts: Option<String>,
}

impl Store {
    /// The oldest alerts not told yet, at most `limit`.
    pub async fn untold_alerts(&self, limit: u32) -> StoreResult<Vec<UntoldAlert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS}, a.merchant_id, m.email, m.mail_alerts \
             FROM alerts a JOIN merchants m ON m.id = a.merchant_id \
             WHERE a.told_at IS NULL ORDER BY a.created_at, a.id LIMIT $1"
        );
        let rows: Vec<UntoldRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| {
                Ok(UntoldAlert {
                    alert: Alert::try_from(row.alert)?,
                    merchant_id: MerchantId::parse(&row.merchant_id)
                        .map_err(|e| corrupt("merchant id", e))?,
                    email: row.email,
                    preferences: MailPreferences::from_stored(row.mail_alerts.as_deref()),
                })
            })
            .collect()
    }

    /// Records that the alert was told, as `event` (`None`: an operator
    /// archived its type, so no event); false if another process told it
    /// first (then that process mails it, not this one).
    pub async fn mark_alert_told(
        &self,
        id: &AlertId,
        event: Option<&EventId>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE alerts SET told_at = $2, event_id = $3 WHERE id = $1 AND told_at IS NULL",
        )
        .bind(id.as_str())
        .bind(to_millis(now))
        .bind(event.map(EventId::as_str))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Records that the alert's mail went.
    pub async fn mark_alert_mailed(&self, id: &AlertId) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_pool!(self, pool => sqlx::query("UPDATE alerts SET mailed = TRUE WHERE id = $1")
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The merchant's alerts, newest first, at most `limit`.
    pub async fn merchant_alerts(
        &self,
        merchant: &MerchantId,
        limit: u32,
    ) -> StoreResult<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.merchant_id = $1 \
             ORDER BY a.created_at DESC, a.id DESC LIMIT $2"
        );
        let rows: Vec<AlertRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Alert::try_from).collect()
    }

    /// Which alerts the merchant wants mailed (`None`: no such merchant).
    pub async fn mail_preferences(
        &self,
        merchant: &MerchantId,
    ) -> StoreResult<Option<MailPreferences>> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT mail_alerts FROM merchants WHERE id = $1",
        )
        .bind(merchant.as_str())
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(stored,)| MailPreferences::from_stored(stored.as_deref())))
    }

    /// Sets which alerts the merchant wants mailed; false if no such merchant.
    pub async fn set_mail_preferences(
        &self,
        merchant: &MerchantId,
        preferences: &MailPreferences,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE merchants SET mail_alerts = $2 WHERE id = $1",
        )
        .bind(merchant.as_str())
        .bind(preferences.to_stored())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(changed == 1)
    }
}
