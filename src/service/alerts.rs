//! Telling merchants: each alert the store wrote (an endpoint failing,
//! disabled or recovered; a delivery failed for good) becomes an
//! operational event (`herald.*`), delivered by the engine like any other,
//! and a mail when SMTP is configured and the merchant wants it.
//!
//! Telling runs after the change committed, every second in each process
//! (`run`). Two processes may pick the same alert: its event is ingested
//! with the alert's id as idempotency key, so there is one event; and only
//! the process whose `mark_alert_told` wins sends the mail. A process that
//! stops between the two leaves the mail unsent (at most once, never twice).

use super::ingest::{IngestRequest, Ingested, Ingestor};
use super::mail::{Mail, Mailer, Outbox};
use super::rate_limits::RateLimit;
use super::ServiceError;
use crate::store::{Store, UntoldAlert};
use chrono::{DateTime, Utc};
use herald_app::model::alert::{Actor, Alert, AlertKind, MailPreferences, Notifications};
use herald_app::model::id::MerchantId;
use herald_app::model::member::Permission;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Alerts read and told per round.
const BATCH: u32 = 100;
/// The newest alerts the notifications page lists.
const LISTED: u32 = 100;
/// How often each process looks for alerts to tell.
pub const TELL_EVERY: Duration = Duration::from_secs(1);

/// The telling service; cheap to clone.
#[derive(Clone)]
pub struct Alerts {
    store: Store,
    ingestor: Ingestor,
    /// `None` without SMTP.
    outbox: Option<Outbox>,
    /// Mails per merchant (`HERALD_MAILS_PER_HOUR`).
    mail_limit: RateLimit<MerchantId>,
    /// Where the dashboard is, for the links in mails.
    public_url: String,
}

impl Alerts {
    /// Starts the mail outbox when there is a mailer.
    pub fn new(
        store: Store,
        ingestor: Ingestor,
        mailer: Option<Mailer>,
        mail_limit: RateLimit<MerchantId>,
        public_url: String,
    ) -> Self {
        Alerts {
            outbox: mailer.map(|mailer| Outbox::start(mailer, store.clone())),
            store,
            ingestor,
            mail_limit,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Waits until the mails of the alerts told so far were sent (or given up).
    pub async fn mail_settled(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.settled().await;
        }
    }

    /// Tells every alert not told yet; how many this process told.
    pub async fn tell_pending(&self) -> Result<usize, ServiceError> {
        let mut told = 0;
        loop {
            let untold = self.store.untold_alerts(BATCH).await?;
            let full = untold.len() == BATCH as usize;
            for alert in untold {
                if self.tell(alert).await? {
                    told += 1;
                }
            }
            if !full {
                return Ok(told);
            }
        }
    }

    /// Tells alerts every `TELL_EVERY` until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(TELL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.tell_pending().await {
                tracing::warn!(error = %e, "telling merchants about their endpoints failed; trying again shortly");
            }
        }
    }

    /// One alert: its event, then (if this process told it) its mail.
    async fn tell(&self, untold: UntoldAlert) -> Result<bool, ServiceError> {
        let UntoldAlert {
            alert,
            merchant_id,
            email,
            preferences,
        } = untold;
        let request = IngestRequest {
            merchant_id: merchant_id.to_string(),
            event_type: alert.kind.event_type().to_owned(),
            data: alert.event_data(),
            idempotency_key: Some(alert.id.to_string()),
            callback_url: None,
            ordering_key: None,
            live_mode: true,
            only_endpoint: None,
            about_endpoint: Some(alert.endpoint_id.clone()),
            // Searching for the endpoint finds what Herald told about it.
            tags: vec![alert.endpoint_id.to_string()],
            previous_data: None,
        };
        let event = match self.ingestor.ingest(request).await {
            Ok(Ingested::Created { id, .. } | Ingested::Duplicate { id, .. }) => Some(id),
            // An operator archived the type: no event, the mail still goes.
            Err(ServiceError::Validation { .. }) => None,
            Err(e) => return Err(e),
        };
        if !self
            .store
            .mark_alert_told(&alert.id, event.as_ref(), Utc::now())
            .await?
        {
            return Ok(false);
        }
        if let Some(outbox) = &self.outbox {
            if alert.mailed_to(&preferences) {
                if let Err(over) = self.mail_limit.check(&merchant_id) {
                    tracing::warn!(alert = %alert.id, merchant = %merchant_id, "not mailed: {over}");
                } else if !outbox.offer(alert.id.clone(), self.mail(&alert, email)) {
                    tracing::warn!(alert = %alert.id, merchant = %merchant_id, "not mailed: the outbox is full (the SMTP server is slow or unreachable)");
                }
            }
        }
        Ok(true)
    }

    /// The mail telling `alert` to `to`: short ASCII lines, links on their own.
    fn mail(&self, alert: &Alert, to: String) -> Mail {
        let base = &self.public_url;
        let endpoint_link = format!("{base}/endpoints/{}", alert.endpoint_id);
        let mut lines = vec![format!("{}.", alert.summary()), String::new()];
        match alert.kind {
            AlertKind::Failing => {
                lines.push(format!(
                    "Every delivery has failed since {}.",
                    when(alert.since)
                ));
                if let Some(until) = alert.until {
                    lines.push(format!(
                        "Herald will disable it on {} unless a delivery succeeds first.",
                        when(Some(until))
                    ));
                }
            }
            AlertKind::Disabled => {
                lines.push(format!("Disabled on {}.", when(Some(alert.created_at))));
                if let Some(reason) = &alert.reason {
                    lines.push(reason.clone());
                }
                lines.push(
                    "Its deliveries wait until it is enabled again; events it misses \
                     meanwhile can be recovered from its page."
                        .to_owned(),
                );
            }
            AlertKind::Recovered => match alert.how.as_deref() {
                Some("enabled") => lines.push(format!(
                    "It was enabled again on {} by {}.",
                    when(Some(alert.created_at)),
                    match alert.actor {
                        Actor::Operator => "an operator",
                        Actor::Merchant => "you",
                        Actor::Herald => "Herald",
                    }
                )),
                _ => lines.push(format!(
                    "A delivery succeeded on {}; it had failed since {}.",
                    when(Some(alert.created_at)),
                    when(alert.since)
                )),
            },
            AlertKind::DeliveryFailed => {
                lines.push(format!(
                    "Event {} ({}) failed after {} attempts; the last answer was {}.",
                    alert
                        .about_event_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    alert.about_event_type.as_deref().unwrap_or("unknown type"),
                    alert.attempts.unwrap_or_default(),
                    alert
                        .last_status_code
                        .map_or("no HTTP response".to_owned(), |code| format!("HTTP {code}")),
                ));
                if let Some(delivery) = &alert.delivery_id {
                    lines.push("Retry it from its page:".to_owned());
                    lines.push(format!("{base}/deliveries/{delivery}"));
                }
            }
        }
        lines.extend([
            String::new(),
            "Endpoint:".to_owned(),
            alert.url.clone(),
            endpoint_link,
            String::new(),
            "Choose which mails you get:".to_owned(),
            format!("{base}/notifications"),
        ]);
        Mail {
            to,
            subject: format!("[Herald] {}", alert.summary()),
            body: lines.join("\r\n") + "\r\n",
        }
    }

    /// The notifications page: the merchant's address, whether mail can go
    /// out, what it wants mailed, and the newest alerts.
    pub async fn notifications(
        &self,
        merchant: &MerchantId,
    ) -> Result<Notifications, ServiceError> {
        let account = self
            .store
            .merchant_by_id(merchant)
            .await?
            .ok_or(ServiceError::NotFound("merchant"))?;
        let preferences = self
            .store
            .mail_preferences(merchant)
            .await?
            .ok_or(ServiceError::NotFound("merchant"))?;
        Ok(Notifications {
            email: account.email,
            mail_configured: self.outbox.is_some(),
            preferences,
            alerts: self.store.merchant_alerts(merchant, LISTED).await?,
        })
    }

    /// Sets which alerts the merchant wants mailed.
    pub async fn set_mail_preferences(
        &self,
        merchant: &MerchantId,
        preferences: MailPreferences,
    ) -> Result<MailPreferences, ServiceError> {
        super::access::require(Permission::Change)?;
        if !self
            .store
            .set_mail_preferences(merchant, &preferences)
            .await?
        {
            return Err(ServiceError::NotFound("merchant"));
        }
        self.store
            .mail_preferences(merchant)
            .await?
            .ok_or(ServiceError::NotFound("merchant"))
    }
}

/// A time as a mail says it.
fn when(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "an unknown time".to_owned(),
        |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}
