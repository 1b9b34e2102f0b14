//! The merchant's endpoints.

use crate::model::endpoint::Endpoint;
use crate::model::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// The logged-in merchant's endpoints, newest first.
#[server(prefix = "/_fn", endpoint = "endpoints/list")]
pub async fn list_endpoints() -> Result<Vec<Endpoint>, AppError> {
    session::respond(
        async move {
            let merchant = session::require_merchant().await?;
            session::backend()?.list_endpoints(&merchant.id).await
        }
        .await,
    )
}
