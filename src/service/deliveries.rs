//! Sending deliveries again, and test events: one rule each for the REST
//! API, the dashboard and the operators' console.

use super::endpoints::Endpoints;
use super::ingest::{IngestRequest, Ingestor};
use super::ServiceError;
use crate::engine::Wakeup;
use crate::store::{Ingested, Store};
use chrono::Utc;
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};

/// Makes deliveries due now, whatever their status; a merchant may only
/// name its own (`NotFound` otherwise, as if they did not exist), an
/// operator (`merchant: None`) any. Returns how many were queued: those
/// being attempted right now, or whose endpoint is disabled, are not.
pub async fn retry_deliveries(
    store: &Store,
    wakeup: &Wakeup,
    merchant: Option<&MerchantId>,
    ids: &[DeliveryId],
) -> Result<u64, ServiceError> {
    if let Some(merchant) = merchant {
        for id in ids {
            if store.delivery_detail(Some(merchant), id).await?.is_none() {
                return Err(ServiceError::NotFound("delivery"));
            }
        }
    }
    let queued = store.retry_deliveries(merchant, ids, Utc::now()).await?;
    if queued > 0 {
        wakeup.wake();
    }
    Ok(queued)
}

/// Retries one delivery; `Conflict` when it cannot be queued now.
pub async fn retry_delivery(
    store: &Store,
    wakeup: &Wakeup,
    merchant: Option<&MerchantId>,
    id: &DeliveryId,
) -> Result<(), ServiceError> {
    match retry_deliveries(store, wakeup, merchant, std::slice::from_ref(id)).await? {
        0 => Err(ServiceError::Conflict(
            "The delivery is being attempted right now, or its endpoint is disabled.".into(),
        )),
        _ => Ok(()),
    }
}

/// Sends an event of `event_type` to one endpoint only, in test mode
/// (`live_mode: false`), with `data` or else the catalog's example.
pub async fn send_test_event(
    endpoints: &Endpoints,
    store: &Store,
    ingestor: &Ingestor,
    merchant: &MerchantId,
    endpoint: &EndpointId,
    event_type: &str,
    data: Option<serde_json::Value>,
) -> Result<(EventId, u64), ServiceError> {
    let endpoint = endpoints.get(merchant, endpoint).await?;
    if !endpoint.enabled {
        return Err(ServiceError::Conflict(
            "The endpoint is disabled; enable it to send a test event.".into(),
        ));
    }
    let data = match data {
        Some(data) => data,
        None => store
            .list_event_types()
            .await?
            .into_iter()
            .find(|t| t.name == event_type)
            .map(|t| t.example)
            .ok_or_else(|| {
                ServiceError::invalid("event_type", format!("unknown event type `{event_type}`"))
            })?,
    };
    let result = ingestor
        .ingest(IngestRequest {
            merchant_id: merchant.to_string(),
            event_type: event_type.to_owned(),
            data,
            idempotency_key: None,
            callback_url: None,
            ordering_key: None,
            live_mode: false,
            only_endpoint: Some(endpoint.id),
        })
        .await?;
    let (Ingested::Created { id, deliveries } | Ingested::Duplicate { id, deliveries }) = result;
    Ok((id, deliveries))
}
