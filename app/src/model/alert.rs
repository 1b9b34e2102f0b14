//! What Herald tells a merchant about its own endpoints: operational events
//! (`herald.*`), delivered like any event, and mails.

use super::id::{AlertId, DeliveryId, EndpointId, EventId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The prefix of every event type Herald sends itself; the platform cannot
/// ingest these (except as a test sent to one endpoint).
pub const HERALD_TYPE_PREFIX: &str = "herald.";

/// Whether an event type is one of Herald's own.
pub fn is_herald_type(event_type: &str) -> bool {
    event_type.starts_with(HERALD_TYPE_PREFIX)
}

/// A change Herald tells the merchant about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Every delivery to the endpoint has failed for a while.
    Failing,
    /// The endpoint was disabled (by Herald, an operator or the merchant).
    Disabled,
    /// A delivery succeeded after the endpoint was told failing, or it was enabled again.
    Recovered,
    /// A delivery used its whole retry schedule and failed for good.
    DeliveryFailed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::Failing,
        AlertKind::Disabled,
        AlertKind::Recovered,
        AlertKind::DeliveryFailed,
    ];

    /// The name stored in the database and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Failing => "failing",
            AlertKind::Disabled => "disabled",
            AlertKind::Recovered => "recovered",
            AlertKind::DeliveryFailed => "delivery_failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// The operational event type it is delivered as.
    pub fn event_type(self) -> &'static str {
        match self {
            AlertKind::Failing => "herald.endpoint.failing",
            AlertKind::Disabled => "herald.endpoint.disabled",
            AlertKind::Recovered => "herald.endpoint.recovered",
            AlertKind::DeliveryFailed => "herald.delivery.failed",
        }
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Failing => "Endpoint failing",
            AlertKind::Disabled => "Endpoint disabled",
            AlertKind::Recovered => "Endpoint recovered",
            AlertKind::DeliveryFailed => "Delivery failed for good",
        }
    }

    /// Mailed unless the merchant says otherwise: the endpoint changes, not
    /// each failed delivery (an endpoint that is down fails many at once).
    pub fn mailed_by_default(self) -> bool {
        self != AlertKind::DeliveryFailed
    }
}

/// Who made a change: a merchant is told of the changes it made itself as
/// events (other systems may watch them) but not mailed about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Herald itself: a 410 Gone, or failing for too long.
    Herald,
    Operator,
    Merchant,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Herald => "herald",
            Actor::Operator => "operator",
            Actor::Merchant => "merchant",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Actor::Herald, Actor::Operator, Actor::Merchant]
            .into_iter()
            .find(|by| by.as_str() == value)
    }
}

/// One change told (or about to be told) to the merchant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub kind: AlertKind,
    pub endpoint_id: EndpointId,
    /// The endpoint's URL when the change happened.
    pub url: String,
    /// Who made the change.
    pub actor: Actor,
    /// Disabled: the reason the merchant reads on the endpoint.
    pub reason: Option<String>,
    /// Recovered: how (`delivered`: a delivery succeeded; `enabled`).
    pub how: Option<String>,
    /// Failing: since when; recovered: since when it had failed (or been disabled).
    pub since: Option<DateTime<Utc>>,
    /// Failing: when it will be disabled unless it recovers.
    pub until: Option<DateTime<Utc>>,
    /// Delivery failed: the delivery, its event and how it ended.
    pub delivery_id: Option<DeliveryId>,
    pub about_event_id: Option<EventId>,
    pub about_event_type: Option<String>,
    pub attempts: Option<u32>,
    pub last_status_code: Option<u16>,
    pub created_at: DateTime<Utc>,
    /// When it became an operational event (`event_id`); `None`: not yet.
    pub told_at: Option<DateTime<Utc>>,
    pub event_id: Option<EventId>,
    /// Whether a mail about it was sent.
    pub mailed: bool,
}

impl Alert {
    /// The operational event's `data`: what a receiver of
    /// `herald.endpoint.*` / `herald.delivery.failed` reads.
    pub fn event_data(&self) -> serde_json::Value {
        let mut data = serde_json::json!({
            "endpoint_id": self.endpoint_id,
            "url": self.url,
        });
        let fields = match self.kind {
            AlertKind::Failing => serde_json::json!({
                "failing_since": self.since,
                "disables_at": self.until,
            }),
            AlertKind::Disabled => serde_json::json!({
                "disabled_at": self.created_at,
                "disabled_by": self.actor,
                "reason": self.reason,
            }),
            AlertKind::Recovered => serde_json::json!({
                "recovered_at": self.created_at,
                "how": self.how,
                "by": self.actor,
                "failing_since": self.since,
            }),
            AlertKind::DeliveryFailed => serde_json::json!({
                "delivery_id": self.delivery_id,
                "event_id": self.about_event_id,
                "event_type": self.about_event_type,
                "attempts": self.attempts,
                "last_status_code": self.last_status_code,
                "failed_at": self.created_at,
            }),
        };
        if let (Some(data), serde_json::Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        data
    }

    /// Whether the merchant gets a mail about it: a kind it wants, and not a
    /// change it made itself.
    pub fn mailed_to(&self, preferences: &MailPreferences) -> bool {
        preferences.wants(self.kind) && self.actor != Actor::Merchant
    }

    /// One line saying what happened, for the notifications list and a mail's subject.
    pub fn summary(&self) -> String {
        match self.kind {
            AlertKind::Failing => format!("Deliveries to {} are failing", self.url),
            AlertKind::Disabled => format!("{} was disabled", self.url),
            AlertKind::Recovered => format!("{} is receiving deliveries again", self.url),
            AlertKind::DeliveryFailed => format!(
                "A {} delivery to {} failed for good",
                self.about_event_type.as_deref().unwrap_or("webhook"),
                self.url
            ),
        }
    }
}

/// Which alerts a merchant wants by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPreferences {
    pub kinds: Vec<AlertKind>,
}

impl Default for MailPreferences {
    fn default() -> Self {
        MailPreferences {
            kinds: AlertKind::ALL
                .into_iter()
                .filter(|kind| kind.mailed_by_default())
                .collect(),
        }
    }
}

impl MailPreferences {
    pub fn wants(&self, kind: AlertKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// As stored: the kinds, comma-separated.
    pub fn to_stored(&self) -> String {
        let mut kinds = self.kinds.clone();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// From the stored text (`None`: the defaults); unknown names are skipped.
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored {
            None => MailPreferences::default(),
            Some(text) => MailPreferences {
                kinds: text
                    .split(',')
                    .filter_map(|name| AlertKind::parse(name.trim()))
                    .collect(),
            },
        }
    }
}

/// The dashboard's notifications page: where mail goes, whether it can go
/// at all, what the merchant wants, and what was told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notifications {
    /// The merchant's address (mails go there).
    pub email: String,
    /// Whether this Herald can send mail (`HERALD_SMTP_URL` is set).
    pub mail_configured: bool,
    pub preferences: MailPreferences,
    /// The newest first.
    pub alerts: Vec<Alert>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_round_trip_and_default_leaves_out_per_delivery_mail() {
        let default = MailPreferences::default();
        assert!(default.wants(AlertKind::Failing));
        assert!(!default.wants(AlertKind::DeliveryFailed));
        assert_eq!(MailPreferences::from_stored(None), default);
        let none = MailPreferences::from_stored(Some(""));
        assert!(none.kinds.is_empty());
        let some = MailPreferences {
            kinds: vec![AlertKind::DeliveryFailed, AlertKind::Disabled],
        };
        assert_eq!(some.to_stored(), "disabled,delivery_failed");
        assert_eq!(
            MailPreferences::from_stored(Some(&some.to_stored()))
                .kinds
                .len(),
            2
        );
    }

    #[test]
    fn every_kind_is_a_herald_type() {
        for kind in AlertKind::ALL {
            assert!(is_herald_type(kind.event_type()));
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
        }
        assert!(!is_herald_type("payin.succeeded"));
    }
}
