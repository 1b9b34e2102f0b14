//! Login links: single-use tokens the platform hands a merchant, stored as
//! a hash only.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::MerchantId;

/// A link to store; the service makes the token and hashes it.
#[derive(Debug)]
pub struct NewLoginLink {
    pub token_hash: String,
    pub merchant_id: MerchantId,
    pub member_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Whom a link just used logs in.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedLoginLink {
    pub merchant_id: MerchantId,
    pub member_email: Option<String>,
}

/// A stored link that could not be used, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLinkState {
    pub used: bool,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Stores a new login link.
    pub async fn insert_login_link(&self, link: &NewLoginLink) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO login_links (token_hash, merchant_id, member_email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&link.token_hash)
        .bind(link.merchant_id.as_str())
        .bind(&link.member_email)
        .bind(to_millis(link.created_at))
        .bind(to_millis(link.expires_at))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks the link with this hash used at `now`, if it is unused and
    /// not expired then; whom it logs in. One statement, so two requests
    /// racing with the same link never both get it.
    pub async fn use_login_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UsedLoginLink>> {
        let row: Option<(String, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "UPDATE login_links SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING merchant_id, member_email",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(pool)
        .await)?;
        row.map(|(merchant_id, member_email)| {
            Ok(UsedLoginLink {
                merchant_id: MerchantId::parse(&merchant_id)
                    .map_err(|e| StoreError::Corrupt(format!("login link: {e}")))?,
                member_email,
            })
        })
        .transpose()
    }

    /// The link with this hash as stored (to say why it was refused).
    pub async fn login_link_state(&self, token_hash: &str) -> StoreResult<Option<LoginLinkState>> {
        let row: Option<(Option<i64>, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT used_at, expires_at FROM login_links WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await)?;
        row.map(|(used_at, expires_at)| {
            Ok(LoginLinkState {
                used: used_at.is_some(),
                expires_at: from_millis(expires_at)?,
            })
        })
        .transpose()
    }
}
