//! Deliveries: the lists, a delivery's detail, retries one by one or by
//! filter, replays and test events. The REST API, the dashboard and the
//! operators' console all come through here, so each rule (who may see what,
//! how a filter is read, how many one call may queue) is written once.

use super::endpoints::Endpoints;
use super::ingest::{IngestRequest, Ingestor};
use super::pagination::{decode_cursor_as, page, Page};
use super::rate_limits::{RateLimit, RateLimits};
use super::ServiceError;
use crate::engine::Wakeup;
use crate::store::{DeliveryFilter, Ingested, Store};
use chrono::{DateTime, Utc};
use herald_app::model::dashboard::{DeliveryQuery as DashboardQuery, CALLBACKS};
use herald_app::model::delivery::{DeliveryStatus, StatusCodeFilter};
use herald_app::model::event::{is_valid_tag, Delivery, DeliveryDetail, MAX_TAG_LEN};
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};
use herald_app::model::member::Permission;
use herald_app::model::merchant::FieldError;
use herald_app::model::scope::Scope;

/// The most deliveries one call queues again: a bulk retry (by ids or by
/// filter) or a replay. Larger backlogs take several calls, so one request
/// never holds the database for long.
pub const MAX_RETRY_BATCH: u32 = 10_000;

/// What a delivery list or an operator's bulk retry is narrowed to, as the
/// caller received it (query string or dashboard form). Read once, here.
#[derive(Debug, Clone, Default)]
pub struct DeliverySearch {
    /// Operators only: one merchant's deliveries.
    pub merchant_id: Option<String>,
    pub endpoint_id: Option<String>,
    pub event_id: Option<String>,
    /// `pending`, `succeeded`, `failed` or `cancelled`.
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// `true`: live events only; `false`: test-mode events only.
    pub live_mode: Option<bool>,
    /// `true`: deliveries to events' callback URLs only; `false`: to endpoints only.
    pub callback: Option<bool>,
    /// Deliveries of events carrying this tag.
    pub tag: Option<String>,
    /// Deliveries of the event with this idempotency key.
    pub idempotency_key: Option<String>,
    /// Deliveries made before this.
    pub until: Option<DateTime<Utc>>,
    /// The latest attempt's answer: `503`, `5xx` or `none`.
    pub status_code: Option<String>,
}

impl DeliverySearch {
    /// The dashboard's filters (as in the page's URL) as a search.
    pub fn from_form(form: &DashboardQuery, now: DateTime<Utc>) -> Result<Self, FieldError> {
        // The endpoint picker's "Callbacks" entry is not an endpoint id.
        let endpoint_id = DashboardQuery::given(&form.endpoint_id);
        let callbacks = endpoint_id.as_deref() == Some(CALLBACKS);
        Ok(DeliverySearch {
            merchant_id: DashboardQuery::given(&form.merchant_id),
            endpoint_id: endpoint_id.filter(|_| !callbacks),
            callback: callbacks.then_some(true),
            event_id: None,
            status: DashboardQuery::given(&form.status),
            event_type: DashboardQuery::given(&form.event_type),
            since: form.since_time(now)?,
            live_mode: form.live_mode()?,
            tag: DashboardQuery::given(&form.tag).map(|tag| tag.trim().to_owned()),
            idempotency_key: None,
            until: form.until_time(now)?,
            status_code: DashboardQuery::given(&form.status_code),
        })
    }

    /// The store filter for `scope`: a merchant's search is always narrowed
    /// to its own deliveries, and may not name a merchant.
    fn to_filter(&self, scope: &Scope, limit: u32) -> Result<DeliveryFilter, ServiceError> {
        let merchant_id = match (scope, &self.merchant_id) {
            (Scope::Merchant(own), None) => Some(own.clone()),
            (Scope::Merchant(_), Some(_)) => {
                return Err(ServiceError::invalid(
                    "merchant_id",
                    "only the admin API filters by merchant",
                ))
            }
            (Scope::Operator, named) => named
                .as_deref()
                .map(MerchantId::parse)
                .transpose()
                .map_err(|e| ServiceError::invalid("merchant_id", e.to_string()))?,
        };
        Ok(DeliveryFilter {
            merchant_id,
            endpoint_id: self
                .endpoint_id
                .as_deref()
                .map(EndpointId::parse)
                .transpose()
                .map_err(|e| ServiceError::invalid("endpoint_id", e.to_string()))?,
            event_id: self
                .event_id
                .as_deref()
                .map(EventId::parse)
                .transpose()
                .map_err(|e| ServiceError::invalid("event_id", e.to_string()))?,
            status: self
                .status
                .as_deref()
                .map(|s| {
                    DeliveryStatus::parse(s).ok_or_else(|| {
                        ServiceError::invalid(
                            "status",
                            "one of pending, succeeded, failed, cancelled",
                        )
                    })
                })
                .transpose()?,
            event_type: check_type_filter("event_type", self.event_type.as_deref())?,
            since: self.since,
            live_mode: self.live_mode,
            callback: self.callback,
            tag: check_tag_filter(self.tag.as_deref())?,
            idempotency_key: self.idempotency_key.clone(),
            until: self.until,
            status_code: check_status_code_filter(self.status_code.as_deref())?,
            before: None,
            limit,
        })
    }
}

/// A `tag` filter, checked like the tags ingest accepts (422 `tag` if not one).
pub fn check_tag_filter(tag: Option<&str>) -> Result<Option<String>, ServiceError> {
    match tag {
        None => Ok(None),
        Some(tag) if is_valid_tag(tag) => Ok(Some(tag.to_owned())),
        Some(_) => Err(ServiceError::invalid(
            "tag",
            format!("1 to {MAX_TAG_LEN} letters, digits and _.:@/- (a tag as sent at ingest)"),
        )),
    }
}

/// A response-code filter (`503`, `5xx`, `none`); 422 `status_code` if not one.
pub fn check_status_code_filter(
    given: Option<&str>,
) -> Result<Option<StatusCodeFilter>, ServiceError> {
    match given.map(str::trim).filter(|code| !code.is_empty()) {
        None => Ok(None),
        Some(code) => StatusCodeFilter::parse(code)
            .map(Some)
            .ok_or_else(|| ServiceError::invalid("status_code", StatusCodeFilter::RULE)),
    }
}

/// An event-type filter: a type (`payout.failed`), or a category with the
/// wildcard subscriptions use (`payout.*`); `*` alone is no filter. Any
/// other `*` is a 422 naming `field` (`event_type` for deliveries, `type`
/// for events, as their lists call it).
pub fn check_type_filter(
    field: &str,
    event_type: Option<&str>,
) -> Result<Option<String>, ServiceError> {
    let Some(given) = event_type
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "*")
    else {
        return Ok(None);
    };
    let wildcard_ok = match given.find('*') {
        None => true,
        Some(at) => at == given.len() - 1 && given.len() > 2 && given.ends_with(".*"),
    };
    if !wildcard_ok {
        return Err(ServiceError::invalid(
            field,
            "an event type such as payin.succeeded, or a category such as payin.* (the * only at the end)",
        ));
    }
    Ok(Some(given.to_owned()))
}

/// Which of an endpoint's deliveries a replay sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayStatus {
    /// Only those that failed (the default).
    Failed,
    /// Every delivery since then, whatever its outcome.
    All,
}

impl ReplayStatus {
    /// Reads `failed` or `all`.
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        match text {
            "failed" => Ok(ReplayStatus::Failed),
            "all" => Ok(ReplayStatus::All),
            _ => Err(ServiceError::invalid("status", "must be `failed` or `all`")),
        }
    }
}

/// The delivery operations.
#[derive(Clone)]
pub struct Deliveries {
    pub(super) store: Store,
    pub(super) endpoints: Endpoints,
    ingestor: Ingestor,
    /// Wakes this process's engine when deliveries become due now.
    pub(super) wakeup: Wakeup,
    /// Test events a merchant sends.
    test_events: RateLimit<MerchantId>,
    /// Replays, recovers and bulk retries a merchant starts (each may queue
    /// up to `MAX_RETRY_BATCH`).
    pub(super) replays: RateLimit<MerchantId>,
}

impl Deliveries {
    /// Delivery operations over `store`; test events go through `ingestor`;
    /// merchants' test events and replays are held to `limits`.
    pub fn new(
        store: Store,
        endpoints: Endpoints,
        ingestor: Ingestor,
        wakeup: Wakeup,
        limits: &RateLimits,
    ) -> Self {
        Deliveries {
            store,
            endpoints,
            ingestor,
            wakeup,
            test_events: limits.test_events.clone(),
            replays: limits.replays.clone(),
        }
    }

    /// One page of deliveries matching `search`, newest first, after `cursor`.
    pub async fn list(
        &self,
        scope: &Scope,
        search: &DeliverySearch,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Delivery>, ServiceError> {
        let mut filter = search.to_filter(scope, limit)?;
        filter.before = decode_cursor_as(cursor, DeliveryId::parse)?;
        let deliveries = self.store.list_deliveries(&filter).await?;
        Ok(page(deliveries, limit, |d| {
            (d.created_at, d.id.to_string())
        }))
    }

    /// A delivery with its event and every attempt (`NotFound` outside `scope`).
    pub async fn detail(
        &self,
        scope: &Scope,
        id: &DeliveryId,
    ) -> Result<DeliveryDetail, ServiceError> {
        let (delivery, event, attempts) = self
            .store
            .delivery_detail(scope, id)
            .await?
            .ok_or(ServiceError::NotFound("delivery"))?;
        Ok(DeliveryDetail {
            delivery,
            event,
            attempts,
        })
    }

    /// Makes deliveries due now, whatever their status. A merchant may only
    /// name its own (`NotFound` otherwise, as if they did not exist).
    /// Returns how many were queued: those being attempted right now, or
    /// whose endpoint is disabled, are not.
    pub async fn retry(&self, scope: &Scope, ids: &[DeliveryId]) -> Result<u64, ServiceError> {
        super::access::require(Permission::Change)?;
        if ids.len() > MAX_RETRY_BATCH as usize {
            return Err(ServiceError::invalid(
                "ids",
                format!("at most {MAX_RETRY_BATCH} at once"),
            ));
        }
        if let Scope::Merchant(merchant) = scope {
            if ids.len() > 1 {
                self.replays.check(merchant)?;
            }
            for id in ids {
                if self.store.delivery_detail(scope, id).await?.is_none() {
                    return Err(ServiceError::NotFound("delivery"));
                }
            }
        }
        self.queue_now(scope, ids).await
    }

    /// Retries one delivery; `Conflict` when it cannot be queued now.
    pub async fn retry_one(&self, scope: &Scope, id: &DeliveryId) -> Result<(), ServiceError> {
        super::access::require(Permission::Change)?;
        match self.retry(scope, std::slice::from_ref(id)).await? {
            0 => Err(ServiceError::Conflict(
                "The delivery is being attempted right now, or its endpoint is disabled.".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Retries every delivery within `scope` matching `search`, newest
    /// first, up to `MAX_RETRY_BATCH` of them (a merchant's bulk retry
    /// counts against its replay limit).
    pub async fn retry_matching(
        &self,
        scope: &Scope,
        search: &DeliverySearch,
    ) -> Result<u64, ServiceError> {
        super::access::require(Permission::Change)?;
        let filter = search.to_filter(scope, MAX_RETRY_BATCH)?;
        if let Scope::Merchant(merchant) = scope {
            self.replays.check(merchant)?;
        }
        let ids = self.store.delivery_ids(&filter).await?;
        self.queue_now(scope, &ids).await
    }

    /// How many deliveries within `scope` match `search`, counted up to
    /// `MAX_RETRY_BATCH`: what `retry_matching` would take.
    pub async fn count_matching(
        &self,
        scope: &Scope,
        search: &DeliverySearch,
    ) -> Result<u64, ServiceError> {
        let filter = search.to_filter(scope, MAX_RETRY_BATCH)?;
        Ok(self.store.count_deliveries(&filter).await?)
    }

    /// Sends one of the merchant's endpoints its deliveries since `since`
    /// again (`failed` ones, or all), up to `MAX_RETRY_BATCH`.
    pub async fn replay(
        &self,
        merchant: &MerchantId,
        endpoint: &EndpointId,
        since: DateTime<Utc>,
        which: ReplayStatus,
    ) -> Result<u64, ServiceError> {
        super::access::require(Permission::Change)?;
        let endpoint = self.endpoints.get(merchant, endpoint).await?;
        self.replays.check(merchant)?;
        let ids = self
            .store
            .delivery_ids(&DeliveryFilter {
                merchant_id: Some(merchant.clone()),
                endpoint_id: Some(endpoint.id),
                status: (which == ReplayStatus::Failed).then_some(DeliveryStatus::Failed),
                since: Some(since),
                limit: MAX_RETRY_BATCH,
                ..DeliveryFilter::default()
            })
            .await?;
        self.queue_now(&Scope::Merchant(merchant.clone()), &ids)
            .await
    }

    /// Sends an event of `event_type` to one endpoint only, in test mode
    /// (`live_mode: false`), with `data` or else the catalog's example.
    pub async fn send_test_event(
        &self,
        merchant: &MerchantId,
        endpoint: &EndpointId,
        event_type: &str,
        data: Option<serde_json::Value>,
    ) -> Result<(EventId, u64), ServiceError> {
        super::access::require(Permission::Change)?;
        let endpoint = self.endpoints.get(merchant, endpoint).await?;
        if !endpoint.enabled {
            return Err(ServiceError::Conflict(
                "The endpoint is disabled; enable it to send a test event.".into(),
            ));
        }
        self.test_events.check(merchant)?;
        let data = match data {
            Some(data) => data,
            None => self
                .store
                .list_event_types()
                .await?
                .into_iter()
                .find(|t| t.name == event_type)
                .map(|t| t.example)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "event_type",
                        format!("unknown event type `{event_type}`"),
                    )
                })?,
        };
        let result = self
            .ingestor
            .ingest(IngestRequest {
                merchant_id: merchant.to_string(),
                event_type: event_type.to_owned(),
                data,
                idempotency_key: None,
                callback_url: None,
                ordering_key: None,
                live_mode: false,
                only_endpoint: Some(endpoint.id),
                about_endpoint: None,
                tags: Vec::new(),
                previous_data: None,
            })
            .await?;
        let (Ingested::Created { id, deliveries } | Ingested::Duplicate { id, deliveries }) =
            result;
        Ok((id, deliveries))
    }

    /// Makes `ids` (already checked against `scope`) due now and wakes the
    /// engine if any were.
    async fn queue_now(&self, scope: &Scope, ids: &[DeliveryId]) -> Result<u64, ServiceError> {
        let queued = self.store.retry_deliveries(scope, ids, Utc::now()).await?;
        if queued > 0 {
            self.wakeup.wake();
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_filter_is_a_type_or_a_category() {
        assert_eq!(check_type_filter("event_type", None).ok(), Some(None));
        assert_eq!(check_type_filter("event_type", Some(" ")).ok(), Some(None));
        assert_eq!(
            check_type_filter("event_type", Some("*")).ok(),
            Some(None),
            "everything"
        );
        assert_eq!(
            check_type_filter("event_type", Some("payout.failed")).ok(),
            Some(Some("payout.failed".to_owned()))
        );
        assert_eq!(
            check_type_filter("event_type", Some(" payout.* ")).ok(),
            Some(Some("payout.*".to_owned()))
        );
        for refused in ["pay*", "payout.*.x", "*.failed", ".*", "payout*"] {
            match check_type_filter("event_type", Some(refused)) {
                Err(ServiceError::Validation { field, .. }) => assert_eq!(field, "event_type"),
                other => panic!("{refused}: {other:?}"),
            }
        }
    }
}
