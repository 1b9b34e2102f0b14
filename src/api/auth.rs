//! Who is calling: extractors for the three kinds of credentials of API.md.
//!
//! - `Platform`: the platform token (ingest and `/api/v1/admin/*`), or the
//!   dashboard session of an admin for the admin routes.
//! - `MerchantAuth`: a merchant API key (`hk_…`) or the dashboard session.

use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use herald_app::model::id::MerchantId;
use herald_app::model::scope::Scope;
use herald_app::server_fn::SESSION_MERCHANT_KEY;
use tower_sessions::Session;

/// The bearer token of the request, if any.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The merchant logged in through the dashboard's session cookie, if any.
async fn session_merchant(parts: &mut Parts, state: &AppState) -> Option<MerchantId> {
    let session = Session::from_request_parts(parts, state).await.ok()?;
    session
        .get::<MerchantId>(SESSION_MERCHANT_KEY)
        .await
        .ok()
        .flatten()
}

/// A request made with the platform's credentials.
#[derive(Debug, Clone, Copy)]
pub struct Platform;

impl FromRequestParts<AppState> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts) {
            Some(token) if state.auth.is_platform_token(token) => {
                state.auth.admit_platform_request()?;
                Ok(Platform)
            }
            Some(token) if token.starts_with("hk_") => {
                // A valid merchant key is authenticated but not allowed here.
                if state.auth.is_api_key(token).await? {
                    Err(ApiError::forbidden(
                        "merchant API keys cannot call platform routes",
                    ))
                } else {
                    Err(ApiError::unauthenticated("invalid API key"))
                }
            }
            Some(_) => Err(ApiError::unauthenticated("invalid platform token")),
            None => Err(ApiError::unauthenticated(
                "missing credentials: send `Authorization: Bearer <platform token>`",
            )),
        }
    }
}

/// An operator: the platform token, or an admin's dashboard session.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_some() {
            return Platform::from_request_parts(parts, state)
                .await
                .map(|_| Admin);
        }
        let Some(id) = session_merchant(parts, state).await else {
            return Err(ApiError::unauthenticated("missing credentials"));
        };
        match state.accounts.merchant(&id).await? {
            Some(merchant) if merchant.is_admin() => Ok(Admin),
            Some(_) => Err(ApiError::forbidden("admin routes are for operators")),
            None => Err(ApiError::unauthenticated("session ended")),
        }
    }
}

/// A merchant acting on its own data, by API key or dashboard session.
#[derive(Debug, Clone)]
pub struct MerchantAuth {
    pub merchant_id: MerchantId,
}

impl MerchantAuth {
    /// What this caller may see: its own data.
    pub fn scope(&self) -> Scope {
        Scope::Merchant(self.merchant_id.clone())
    }
}

impl FromRequestParts<AppState> for MerchantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer(parts) {
            if state.auth.is_platform_token(token) {
                return Err(ApiError::forbidden(
                    "the platform token cannot call merchant routes; use a merchant API key",
                ));
            }
            return match state.auth.api_key_merchant(token).await? {
                Some(merchant_id) => Ok(MerchantAuth { merchant_id }),
                None => Err(ApiError::unauthenticated("invalid API key")),
            };
        }
        match session_merchant(parts, state).await {
            Some(merchant_id) => Ok(MerchantAuth { merchant_id }),
            None => Err(ApiError::unauthenticated(
                "missing credentials: send `Authorization: Bearer <API key>`",
            )),
        }
    }
}
