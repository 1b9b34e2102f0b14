//! A merchant API key as its owner sees it in a list (never the key itself).

use super::id::ApiKeyId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A key in a list: enough to recognise it, never enough to use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeySummary {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters (`hk_AbCdEfG`).
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key just created: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub summary: ApiKeySummary,
    pub key: String,
}
