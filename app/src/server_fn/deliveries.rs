//! Deliveries and their attempts, as the merchant sees them.

use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::event::DeliveryDetail;
use crate::model::stats::Stats;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;

/// One page of the merchant's deliveries.
#[server(prefix = "/_fn", endpoint = "deliveries/list", input = Json)]
pub async fn list_deliveries(query: DeliveryQuery) -> Result<DeliveryPage, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        let query = DeliveryQuery {
            merchant_id: None,
            ..query
        };
        backend.list_deliveries(&merchant.own_scope(), query).await
    })
    .await
}

/// Whether the page of deliveries `query` asks for is no longer the one
/// the browser shows (`seen`: its `DeliveryPage::fingerprint`). A list
/// open in a tab asks this every few seconds, a few bytes each way, and
/// fetches the page again only when the answer is `true`.
#[server(prefix = "/_fn", endpoint = "deliveries/changed", input = Json)]
pub async fn deliveries_changed(query: DeliveryQuery, seen: String) -> Result<bool, AppError> {
    Ok(list_deliveries(query).await?.fingerprint() != seen)
}

/// The last 24 hours of the merchant's deliveries, per hour and endpoint;
/// `live_only` leaves test-mode events out.
#[server(prefix = "/_fn", endpoint = "stats/overview")]
pub async fn overview_stats(live_only: bool) -> Result<Stats, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.stats(&merchant.id, live_only).await
    })
    .await
}

/// A delivery with its event and every attempt.
#[server(prefix = "/_fn", endpoint = "deliveries/get")]
pub async fn get_delivery(id: String) -> Result<DeliveryDetail, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .delivery(&merchant.own_scope(), &session::id(&id)?)
            .await
    })
    .await
}

/// A new attempt now.
#[server(prefix = "/_fn", endpoint = "deliveries/retry")]
pub async fn retry_delivery(id: String) -> Result<(), AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .retry_deliveries(&merchant.own_scope(), vec![session::id(&id)?])
            .await
            .map(|_| ())
    })
    .await
}

/// How many of the merchant's deliveries the filters match (up to one
/// bulk retry's worth), for the "Retry all matching" button.
#[server(prefix = "/_fn", endpoint = "deliveries/count", input = Json)]
pub async fn count_deliveries(query: DeliveryQuery) -> Result<u64, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        let query = DeliveryQuery {
            merchant_id: None,
            cursor: None,
            ..query
        };
        backend.count_deliveries(&merchant.own_scope(), query).await
    })
    .await
}

/// Retries the chosen deliveries; how many were queued.
#[server(prefix = "/_fn", endpoint = "deliveries/retry_selected", input = Json)]
pub async fn retry_selected(ids: Vec<String>) -> Result<u64, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        let ids = ids
            .iter()
            .map(|id| session::id(id))
            .collect::<Result<_, _>>()?;
        backend.retry_deliveries(&merchant.own_scope(), ids).await
    })
    .await
}

/// Retries every one of the merchant's deliveries the filters match; how
/// many were queued.
#[server(prefix = "/_fn", endpoint = "deliveries/retry_matching", input = Json)]
pub async fn retry_matching(query: DeliveryQuery) -> Result<u64, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        let query = DeliveryQuery {
            merchant_id: None,
            cursor: None,
            ..query
        };
        backend.retry_matching(&merchant.own_scope(), query).await
    })
    .await
}
