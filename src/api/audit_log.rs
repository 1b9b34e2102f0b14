//! The audit log: a merchant's own entries, and every merchant's for operators.

use super::auth::{Admin, MerchantAuth};
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::service::pagination::{self, Page};
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::audit::AuditEntry;
use herald_app::model::scope::Scope;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit log routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit_log))
        .routes(routes!(list_all_audit_log))
}

/// `GET /api/v1/audit-log` query.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/audit-log", tag = "audit-log", security(("api_key" = [])), params(AuditQuery),
    responses((status = 200, description = "Who did what to this merchant's account, newest first", body = Page<AuditEntry>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_audit_log(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<ApiJson<Page<AuditEntry>>, ApiError> {
    let limit = pagination::limit(query.limit)?;
    Ok(ApiJson(
        state
            .audit
            .list(&auth.scope(), None, query.cursor.as_deref(), limit)
            .await?,
    ))
}

/// `GET /api/v1/admin/audit-log` query.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminAuditQuery {
    /// One merchant's entries only (`mer_…`).
    merchant_id: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/admin/audit-log", tag = "admin", security(("platform_token" = [])), params(AdminAuditQuery),
    responses((status = 200, description = "The audit log across merchants, newest first", body = Page<AuditEntry>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_all_audit_log(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AdminAuditQuery>,
) -> Result<ApiJson<Page<AuditEntry>>, ApiError> {
    let limit = pagination::limit(query.limit)?;
    Ok(ApiJson(
        state
            .audit
            .list(
                &Scope::Operator,
                query.merchant_id.as_deref(),
                query.cursor.as_deref(),
                limit,
            )
            .await?,
    ))
}
