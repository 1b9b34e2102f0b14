//! Operator routes (platform token, or an admin's dashboard session): merchants.

use super::auth::Admin;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use herald_app::model::id::MerchantId;
use herald_app::model::merchant::{Merchant, Role};
use serde::{Deserialize, Serialize};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/admin/merchants",
        get(list_merchants).post(create_merchant),
    )
}

async fn list_merchants(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let merchants: Vec<Merchant> = state.store.list_merchants().await?;
    Ok(ApiJson(
        serde_json::json!({ "data": merchants, "next_cursor": null }),
    ))
}

/// `POST /api/v1/admin/merchants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    name: String,
    email: String,
    password: Option<String>,
}

/// A merchant just created, with its first API key (shown once).
#[derive(Debug, Serialize)]
pub struct CreatedMerchant {
    id: MerchantId,
    name: String,
    email: String,
    api_key: String,
}

async fn create_merchant(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateMerchant>,
) -> Result<(StatusCode, ApiJson<CreatedMerchant>), ApiError> {
    let (merchant, key) = state
        .accounts
        .create_merchant(&body.name, &body.email, body.password, Role::Merchant)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedMerchant {
            id: merchant.id,
            name: merchant.name,
            email: merchant.email,
            api_key: key.key,
        }),
    ))
}
