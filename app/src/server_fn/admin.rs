//! The operators' console. Every function checks, on the server, that the
//! logged-in account is an admin: hiding the menu is not the protection.

use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::endpoint::Endpoint;
use crate::model::error::AppError;
use crate::model::event::{DeliveryDetail, EventDetail, SearchResults, StorageStats};
use crate::model::event_type::EventType;
use crate::model::merchant::Merchant;
use crate::model::operations::{EndpointOverviewPage, EndpointOverviewQuery, MerchantSummary};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;
#[cfg(feature = "ssr")]
use crate::model::scope::Scope;

/// Deliveries across every merchant.
#[server(prefix = "/_fn", endpoint = "admin/deliveries", input = Json)]
pub async fn admin_deliveries(query: DeliveryQuery) -> Result<DeliveryPage, AppError> {
    session::as_admin(move |backend| async move {
        backend.list_deliveries(&Scope::Operator, query).await
    })
    .await
}

/// Any merchant's delivery.
#[server(prefix = "/_fn", endpoint = "admin/delivery")]
pub async fn admin_delivery(id: String) -> Result<DeliveryDetail, AppError> {
    session::as_admin(move |backend| async move {
        backend.delivery(&Scope::Operator, &session::id(&id)?).await
    })
    .await
}

/// Any merchant's event with its deliveries.
#[server(prefix = "/_fn", endpoint = "admin/event")]
pub async fn admin_event(id: String) -> Result<EventDetail, AppError> {
    session::as_admin(move |backend| async move {
        backend
            .event_detail(&Scope::Operator, &session::id(&id)?)
            .await
    })
    .await
}

/// Events and deliveries across merchants whose id, tag or idempotency key
/// is `q`, with the name of each merchant among them.
#[server(prefix = "/_fn", endpoint = "admin/search")]
pub async fn admin_search(q: String) -> Result<SearchResults, AppError> {
    session::as_admin(move |backend| async move { backend.search(&Scope::Operator, &q).await })
        .await
}

/// What the database holds, and how long history is kept.
#[server(prefix = "/_fn", endpoint = "admin/storage")]
pub async fn storage() -> Result<StorageStats, AppError> {
    session::as_admin(move |backend| async move { backend.storage().await }).await
}

/// Every merchant.
#[server(prefix = "/_fn", endpoint = "admin/merchants")]
pub async fn admin_merchants() -> Result<Vec<Merchant>, AppError> {
    session::as_admin(move |backend| async move { backend.list_merchants().await }).await
}

/// Every merchant with its counts.
#[server(prefix = "/_fn", endpoint = "admin/merchant_summaries")]
pub async fn admin_merchant_summaries() -> Result<Vec<MerchantSummary>, AppError> {
    session::as_admin(move |backend| async move { backend.merchant_summaries().await }).await
}

/// A page of the endpoints across merchants matching the filters.
#[server(prefix = "/_fn", endpoint = "admin/endpoints", input = Json)]
pub async fn admin_endpoints(
    query: EndpointOverviewQuery,
) -> Result<EndpointOverviewPage, AppError> {
    session::as_admin(move |backend| async move { backend.endpoint_overview(query).await }).await
}

/// Disables an endpoint with a reason the merchant sees.
#[server(prefix = "/_fn", endpoint = "admin/endpoint_disable")]
pub async fn admin_disable_endpoint(id: String, reason: String) -> Result<Endpoint, AppError> {
    session::as_admin(move |backend| async move {
        backend
            .operator_set_enabled(&session::id(&id)?, Some(reason))
            .await
    })
    .await
}

/// Enables an endpoint again.
#[server(prefix = "/_fn", endpoint = "admin/endpoint_enable")]
pub async fn admin_enable_endpoint(id: String) -> Result<Endpoint, AppError> {
    session::as_admin(move |backend| async move {
        backend.operator_set_enabled(&session::id(&id)?, None).await
    })
    .await
}

/// The whole catalog, archived types included.
#[server(prefix = "/_fn", endpoint = "admin/event_types")]
pub async fn admin_event_types() -> Result<Vec<EventType>, AppError> {
    session::as_admin(move |backend| async move { backend.list_event_types().await }).await
}

/// Adds a type to the catalog.
#[server(prefix = "/_fn", endpoint = "admin/event_type_create")]
pub async fn admin_create_event_type(
    name: String,
    description: String,
    example: String,
) -> Result<EventType, AppError> {
    session::as_admin(move |backend| async move {
        backend
            .create_event_type(&name, &description, &example)
            .await
    })
    .await
}

/// Changes a type's description and example payload (JSON text).
#[server(prefix = "/_fn", endpoint = "admin/event_type_update")]
pub async fn admin_update_event_type(
    name: String,
    description: String,
    example: String,
) -> Result<EventType, AppError> {
    session::as_admin(move |backend| async move {
        backend
            .update_event_type(&name, &description, &example)
            .await
    })
    .await
}

/// How many endpoints receive events of the type now (what archiving stops).
#[server(prefix = "/_fn", endpoint = "admin/event_type_receivers")]
pub async fn admin_event_type_receivers(name: String) -> Result<u64, AppError> {
    session::as_admin(move |backend| async move { backend.event_type_receivers(&name).await }).await
}

/// Archives or restores a type.
#[server(prefix = "/_fn", endpoint = "admin/event_type_archive")]
pub async fn admin_archive_event_type(name: String, archived: bool) -> Result<EventType, AppError> {
    session::as_admin(move |backend| async move {
        backend.set_event_type_archived(&name, archived).await
    })
    .await
}

/// Retries the chosen deliveries; how many were queued.
#[server(prefix = "/_fn", endpoint = "admin/retry", input = Json)]
pub async fn admin_retry(ids: Vec<String>) -> Result<u64, AppError> {
    session::as_admin(move |backend| async move {
        let ids = ids
            .iter()
            .map(|id| session::id(id))
            .collect::<Result<_, _>>()?;
        backend.retry_deliveries(&Scope::Operator, ids).await
    })
    .await
}

/// A new attempt now for one delivery of any merchant, from its page (a
/// `conflict` saying why when it cannot be queued now).
#[server(prefix = "/_fn", endpoint = "admin/retry_delivery")]
pub async fn admin_retry_delivery(id: String) -> Result<(), AppError> {
    session::as_admin(move |backend| async move {
        backend
            .retry_deliveries(&Scope::Operator, vec![session::id(&id)?])
            .await
            .map(|_| ())
    })
    .await
}

/// How many deliveries across merchants the filter matches (up to one bulk
/// retry's worth).
#[server(prefix = "/_fn", endpoint = "admin/count_deliveries", input = Json)]
pub async fn admin_count_deliveries(query: DeliveryQuery) -> Result<u64, AppError> {
    session::as_admin(move |backend| async move {
        let query = DeliveryQuery {
            cursor: None,
            ..query
        };
        backend.count_deliveries(&Scope::Operator, query).await
    })
    .await
}

/// Retries everything the filter matches; how many were queued.
#[server(prefix = "/_fn", endpoint = "admin/retry_matching", input = Json)]
pub async fn admin_retry_matching(query: DeliveryQuery) -> Result<u64, AppError> {
    session::as_admin(move |backend| async move {
        backend.retry_matching(&Scope::Operator, query).await
    })
    .await
}
