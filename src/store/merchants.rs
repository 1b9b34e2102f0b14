//! Merchant accounts.

use super::{from_millis, json_list, json_values, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::{MemberId, MerchantId};
use herald_app::model::member::MemberRole;
use herald_app::model::merchant::{Merchant, Role};

/// A merchant to insert; the password hash is computed by the service.
#[derive(Debug)]
pub struct NewMerchant {
    pub id: MerchantId,
    pub name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// The id of a merchant's first owner: the merchant's id under the
/// member prefix (migration 0012 gave existing merchants' owners the same).
pub fn first_owner_id(merchant: &MerchantId) -> MemberId {
    let body = &merchant.as_str()[MerchantId::PREFIX.len()..];
    MemberId::parse(&format!("{}{body}", MemberId::PREFIX)).unwrap_or_else(|_| MemberId::generate())
}

/// A merchant with its legacy password hash (members hold passwords since
/// migration 0012; this is `None` for every merchant).
#[derive(Debug)]
pub struct MerchantRecord {
    pub merchant: Merchant,
    /// `None` for accounts created without a password (API only).
    pub password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MerchantRow {
    id: String,
    name: String,
    email: String,
    password_hash: Option<String>,
    role: String,
    created_at: i64,
}

impl TryFrom<MerchantRow> for MerchantRecord {
    type Error = StoreError;
    fn try_from(row: MerchantRow) -> StoreResult<Self> {
        let merchant = Merchant {
            id: MerchantId::parse(&row.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            name: row.name,
            email: row.email,
            role: Role::parse(&row.role)
                .ok_or_else(|| StoreError::Corrupt(format!("role `{}`", row.role)))?,
            created_at: from_millis(row.created_at)?,
        };
        Ok(MerchantRecord {
            merchant,
            password_hash: row.password_hash,
        })
    }
}

const COLUMNS: &str = "id, name, email, password_hash, role, created_at";

impl Store {
    /// Inserts a merchant and its first owner (the same email, with the
    /// password hash), in one transaction; `Conflict` if the email is taken
    /// by a merchant or a member.
    pub async fn insert_merchant(&self, new: &NewMerchant) -> StoreResult<Merchant> {
        let owner = first_owner_id(&new.id);
        let created_at = to_millis(new.created_at);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO merchants (id, name, email, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.id.as_str())
            .bind(&new.name)
            .bind(&new.email)
            .bind(new.role.as_str())
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(super::members::INSERT_MEMBER)
                .bind(owner.as_str())
                .bind(new.id.as_str())
                .bind(&new.email)
                .bind(&new.password_hash)
                .bind(MemberRole::Owner.as_str())
                .bind(created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(Merchant {
            id: new.id.clone(),
            name: new.name.clone(),
            email: new.email.clone(),
            role: new.role,
            created_at: new.created_at,
        })
    }

    /// The merchant with this (already normalised) email, with its hash.
    pub async fn merchant_by_email(&self, email: &str) -> StoreResult<Option<MerchantRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM merchants WHERE email = $1");
        let row: Option<MerchantRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await)?;
        row.map(MerchantRecord::try_from).transpose()
    }

    /// The merchant with this id.
    pub async fn merchant_by_id(&self, id: &MerchantId) -> StoreResult<Option<Merchant>> {
        let sql = format!("SELECT {COLUMNS} FROM merchants WHERE id = $1");
        let row: Option<MerchantRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)?;
        Ok(row
            .map(MerchantRecord::try_from)
            .transpose()?
            .map(|r| r.merchant))
    }

    /// Each of `ids` that is a merchant, with its name, in one read.
    pub async fn merchant_names(
        &self,
        ids: &[&MerchantId],
    ) -> StoreResult<Vec<(MerchantId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, name FROM merchants WHERE id IN ({})",
            json_values(self, 1)
        );
        let rows: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(json_list(ids))
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(id, name)| {
                MerchantId::parse(&id)
                    .map(|id| (id, name))
                    .map_err(|e| StoreError::Corrupt(format!("merchant: {e}")))
            })
            .collect()
    }

    /// Every merchant, newest first.
    pub async fn list_merchants(&self) -> StoreResult<Vec<Merchant>> {
        let sql = format!("SELECT {COLUMNS} FROM merchants ORDER BY created_at DESC, id DESC");
        let rows: Vec<MerchantRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| MerchantRecord::try_from(row).map(|r| r.merchant))
            .collect()
    }
}

/// A merchant's callback signing secrets as stored (maybe sealed).
#[derive(Debug, Clone)]
pub struct CallbackSecrets {
    pub current: Option<String>,
    pub previous: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The merchant's callback secrets; `None` if there is no such merchant.
    pub async fn callback_secrets(
        &self,
        merchant: &MerchantId,
    ) -> StoreResult<Option<CallbackSecrets>> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT callback_secret, callback_previous_secret, callback_previous_secret_expires_at \
             FROM merchants WHERE id = $1",
        )
        .bind(merchant.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(|(current, previous, expires)| {
            Ok(CallbackSecrets {
                current,
                previous,
                previous_expires_at: expires.map(from_millis).transpose()?,
            })
        })
        .transpose()
    }

    /// Makes `secret` the merchant's callback secret; the one it replaces
    /// (if any) keeps signing until `previous_until`. False if there is no
    /// such merchant.
    pub async fn rotate_callback_secret(
        &self,
        merchant: &MerchantId,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE merchants SET callback_previous_secret = callback_secret, \
                 callback_previous_secret_expires_at = \
                     CASE WHEN callback_secret IS NULL THEN NULL ELSE $3 END, \
                 callback_secret = $2 \
             WHERE id = $1",
        )
        .bind(merchant.as_str())
        .bind(secret)
        .bind(to_millis(previous_until))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// The profile of the merchant's callback deliveries (`standard` when
    /// never chosen); `None` if there is no such merchant.
    pub async fn callback_profile(&self, merchant: &MerchantId) -> StoreResult<Option<String>> {
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT COALESCE(callback_profile, 'standard') FROM merchants WHERE id = $1",
        )
        .bind(merchant.as_str())
        .fetch_optional(pool)
        .await)?)
    }

    /// Sends the merchant's callback deliveries in `profile` from now on
    /// (deliveries already queued too: the profile is read at each attempt).
    /// False if there is no such merchant.
    pub async fn set_callback_profile(
        &self,
        merchant: &MerchantId,
        profile: &str,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE merchants SET callback_profile = $2 WHERE id = $1",
        )
        .bind(merchant.as_str())
        .bind(profile)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Gives the merchant `secret` as its callback signing secret, unless it has one.
    pub async fn ensure_callback_secret(
        &self,
        merchant: &MerchantId,
        secret: &str,
    ) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE merchants SET callback_secret = $2 WHERE id = $1 AND callback_secret IS NULL",
        )
        .bind(merchant.as_str())
        .bind(secret)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
