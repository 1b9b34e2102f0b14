//! Passwords: changing a member's hash, the reset links mailed to them
//! (stored as a hash only), and the time before which their sessions are over.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::MemberId;

/// The password change itself, inside the caller's transaction `$tx`
/// (a macro: the statements are the same on both backends, the types not).
macro_rules! set_password_in {
    ($tx:expr, $merchant:expr, $hash:expr, $now:expr) => {{
        let changed = sqlx::query(
            "UPDATE members SET password_hash = $2, sessions_valid_from = $3 WHERE id = $1",
        )
        .bind($merchant)
        .bind($hash)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE member_id = $1 AND used_at IS NULL",
        )
        .bind($merchant)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        changed == 1
    }};
}

/// A reset link to store; the service makes the token and hashes it.
#[derive(Debug)]
pub struct NewPasswordReset {
    pub token_hash: String,
    pub member_id: MemberId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A stored reset link, as far as telling why it cannot be used goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordResetState {
    pub used: bool,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Stores a new reset link.
    pub async fn insert_password_reset(&self, reset: &NewPasswordReset) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO password_resets (token_hash, member_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&reset.token_hash)
        .bind(reset.member_id.as_str())
        .bind(to_millis(reset.created_at))
        .bind(to_millis(reset.expires_at))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The reset link with this hash as stored.
    pub async fn password_reset_state(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<PasswordResetState>> {
        let row: Option<(Option<i64>, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT used_at, expires_at FROM password_resets WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await)?;
        row.map(|(used_at, expires_at)| {
            Ok(PasswordResetState {
                used: used_at.is_some(),
                expires_at: from_millis(expires_at)?,
            })
        })
        .transpose()
    }

    /// Uses the reset link with this hash, if it is unused and not expired
    /// at `now`: in one transaction, marks it used, sets the member's
    /// password hash, ends the member's sessions begun before `now`, and
    /// voids their other reset links. Whose password it was; `None` if the
    /// link could not be used (a racing second use gets `None`).
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<MemberId>> {
        let now = to_millis(now);
        let member: Option<String> = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let member: Option<(String,)> = sqlx::query_as(
                "UPDATE password_resets SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                 RETURNING member_id",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((member,)) = &member {
                // The member exists: the link's row references it.
                let _ = set_password_in!(tx, member.as_str(), password_hash, now);
            }
            tx.commit().await?;
            member.map(|(m,)| m)
        });
        member
            .map(|m| {
                MemberId::parse(&m).map_err(|e| StoreError::Corrupt(format!("password reset: {e}")))
            })
            .transpose()
    }

    /// Sets the member's password hash at `now`, ends their sessions begun
    /// before then and voids their reset links; false if there is no such
    /// member.
    pub async fn set_password(
        &self,
        member: &MemberId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let now = to_millis(now);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = set_password_in!(tx, member.as_str(), password_hash, now);
            tx.commit().await?;
            Ok(changed)
        })
    }
}
