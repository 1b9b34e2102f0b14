//! The operators' console. Every function checks, on the server, that the
//! logged-in account is an admin: hiding the menu is not the protection.

use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::event::DeliveryDetail;
use crate::model::merchant::Merchant;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;

/// Deliveries across every merchant.
#[server(prefix = "/_fn", endpoint = "admin/deliveries", input = Json)]
pub async fn admin_deliveries(query: DeliveryQuery) -> Result<DeliveryPage, AppError> {
    session::respond(
        async move {
            session::require_admin().await?;
            session::backend()?.list_deliveries(None, query).await
        }
        .await,
    )
}

/// Any merchant's delivery.
#[server(prefix = "/_fn", endpoint = "admin/delivery")]
pub async fn admin_delivery(id: String) -> Result<DeliveryDetail, AppError> {
    session::respond(
        async move {
            session::require_admin().await?;
            session::backend()?.delivery(None, &id).await
        }
        .await,
    )
}

/// Every merchant.
#[server(prefix = "/_fn", endpoint = "admin/merchants")]
pub async fn admin_merchants() -> Result<Vec<Merchant>, AppError> {
    session::respond(
        async move {
            session::require_admin().await?;
            session::backend()?.list_merchants().await
        }
        .await,
    )
}

/// Retries the chosen deliveries; how many were queued.
#[server(prefix = "/_fn", endpoint = "admin/retry", input = Json)]
pub async fn admin_retry(ids: Vec<String>) -> Result<u64, AppError> {
    session::respond(
        async move {
            session::require_admin().await?;
            session::backend()?.retry_deliveries(None, ids).await
        }
        .await,
    )
}

/// Retries everything the filter matches; how many were queued.
#[server(prefix = "/_fn", endpoint = "admin/retry_matching", input = Json)]
pub async fn admin_retry_matching(query: DeliveryQuery) -> Result<u64, AppError> {
    session::respond(
        async move {
            session::require_admin().await?;
            session::backend()?.retry_matching(query).await
        }
        .await,
    )
}
