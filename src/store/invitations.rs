//! Invitations to join a merchant's team, stored with a hash of their
//! link's token only.

use super::members::{MemberRecord, INSERT_MEMBER};
use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::{InvitationId, MemberId, MerchantId};
use herald_app::model::member::{Invitation, Member, MemberRole};

/// An invitation to store; the service makes the token and hashes it.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub invitation: Invitation,
    pub token_hash: String,
    pub merchant_id: MerchantId,
}

/// An open invitation, found by its token.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    pub invitation: Invitation,
    pub merchant_id: MerchantId,
}

type InvitationRow = (String, String, String, String, i64, i64);

fn invitation(row: InvitationRow) -> StoreResult<OpenInvitation> {
    let (id, merchant_id, email, role, created_at, expires_at) = row;
    let corrupt = |e: String| StoreError::Corrupt(format!("invitation: {e}"));
    Ok(OpenInvitation {
        invitation: Invitation {
            id: InvitationId::parse(&id).map_err(|e| corrupt(e.to_string()))?,
            email,
            role: MemberRole::parse(&role).ok_or_else(|| corrupt(format!("role `{role}`")))?,
            created_at: from_millis(created_at)?,
            expires_at: from_millis(expires_at)?,
        },
        merchant_id: MerchantId::parse(&merchant_id).map_err(|e| corrupt(e.to_string()))?,
    })
}

const COLUMNS: &str = "id, merchant_id, email, role, created_at, expires_at";

impl Store {
    /// Stores a new invitation.
    pub async fn insert_invitation(&self, new: &NewInvitation) -> StoreResult<()> {
        let i = &new.invitation;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO invitations (id, token_hash, merchant_id, email, role, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(i.id.as_str())
        .bind(&new.token_hash)
        .bind(new.merchant_id.as_str())
        .bind(&i.email)
        .bind(i.role.as_str())
        .bind(to_millis(i.created_at))
        .bind(to_millis(i.expires_at))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The merchant's invitations neither accepted nor expired at `now`,
    /// newest first.
    pub async fn open_invitations(
        &self,
        merchant: &MerchantId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Invitation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitations \
             WHERE merchant_id = $1 AND accepted_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<InvitationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .bind(to_millis(now))
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| invitation(row).map(|o| o.invitation))
            .collect()
    }

    /// The open invitation with this token hash at `now`, if any.
    pub async fn open_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<OpenInvitation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitations \
             WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2"
        );
        let row: Option<InvitationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(to_millis(now))
            .fetch_optional(pool)
            .await)?;
        row.map(invitation).transpose()
    }

    /// Accepts the invitation with this token hash, if it is open at `now`:
    /// in one transaction, marks it accepted and adds its member with
    /// `password_hash`. `None` if it was not open (a racing second accept
    /// gets `None`); `Conflict` if the email became a member meanwhile.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        member: MemberId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<MemberRecord>> {
        let at = to_millis(now);
        let accepted: Option<(String, String, String)> = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row: Option<(String, String, String)> = sqlx::query_as(
                "UPDATE invitations SET accepted_at = $2 \
                 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 \
                 RETURNING merchant_id, email, role",
            )
            .bind(token_hash)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((merchant_id, email, role)) = &row {
                sqlx::query(INSERT_MEMBER)
                    .bind(member.as_str())
                    .bind(merchant_id)
                    .bind(email)
                    .bind(password_hash)
                    .bind(role)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row
        });
        let Some((merchant_id, email, role)) = accepted else {
            return Ok(None);
        };
        let corrupt = |e: String| StoreError::Corrupt(format!("invitation: {e}"));
        Ok(Some(MemberRecord {
            member: Member {
                id: member,
                email,
                role: MemberRole::parse(&role).ok_or_else(|| corrupt(format!("role `{role}`")))?,
                created_at: from_millis(at)?,
            },
            merchant_id: MerchantId::parse(&merchant_id).map_err(|e| corrupt(e.to_string()))?,
            password_hash: Some(password_hash.to_owned()),
            sessions_valid_from: None,
        }))
    }

    /// Withdraws one of the merchant's open invitations; false if there is
    /// none with this id.
    pub async fn revoke_invitation(
        &self,
        merchant: &MerchantId,
        id: &InvitationId,
    ) -> StoreResult<bool> {
        let removed = on_pool!(self, pool => sqlx::query(
            "DELETE FROM invitations WHERE id = $1 AND merchant_id = $2 AND accepted_at IS NULL",
        )
        .bind(id.as_str())
        .bind(merchant.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(removed == 1)
    }
}
