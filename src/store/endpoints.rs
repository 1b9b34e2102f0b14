//! Merchants' endpoints.

use super::{from_millis, on_pool, StoreError, StoreResult};
use crate::store::Store;
use herald_app::model::endpoint::Endpoint;
use herald_app::model::id::{EndpointId, MerchantId};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    merchant_id: String,
    url: String,
    description: String,
    event_types: String,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    rate_limit_per_s: Option<i64>,
    headers: String,
    created_at: i64,
    updated_at: i64,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = StoreError;
    fn try_from(row: EndpointRow) -> StoreResult<Self> {
        Ok(Endpoint {
            id: EndpointId::parse(&row.id).map_err(|e| corrupt("endpoint id", e))?,
            merchant_id: MerchantId::parse(&row.merchant_id).map_err(|e| corrupt("merchant id", e))?,
            url: row.url,
            description: row.description,
            event_types: serde_json::from_str(&row.event_types)
                .map_err(|e| corrupt("event_types", e))?,
            enabled: row.disabled_at.is_none(),
            disabled_reason: row.disabled_reason,
            rate_limit_per_s: row
                .rate_limit_per_s
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt("rate_limit_per_s", e))?,
            headers: serde_json::from_str(&row.headers).map_err(|e| corrupt("headers", e))?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

impl Store {
    /// A merchant's endpoints, newest first.
    pub async fn list_endpoints(&self, merchant: &MerchantId) -> StoreResult<Vec<Endpoint>> {
        let rows: Vec<EndpointRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, merchant_id, url, description, event_types, disabled_at, disabled_reason, \
                    rate_limit_per_s, headers, created_at, updated_at \
             FROM endpoints WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(merchant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(Endpoint::try_from).collect()
    }
}
