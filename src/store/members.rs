//! Members: the people who log in to a merchant's dashboard, with a role.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::{MemberId, MerchantId};
use herald_app::model::member::{Member, MemberRole};

/// A member to insert; the password hash is computed by the service.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub id: MemberId,
    pub merchant_id: MerchantId,
    pub email: String,
    pub password_hash: Option<String>,
    pub role: MemberRole,
    pub created_at: DateTime<Utc>,
}

/// A member with what log-in and sessions need.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub member: Member,
    pub merchant_id: MerchantId,
    /// `None` for members who log in with login links only.
    pub password_hash: Option<String>,
    /// Sessions begun before this are over.
    pub sessions_valid_from: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: String,
    merchant_id: String,
    email: String,
    password_hash: Option<String>,
    role: String,
    sessions_valid_from: Option<i64>,
    created_at: i64,
}

impl TryFrom<MemberRow> for MemberRecord {
    type Error = StoreError;
    fn try_from(row: MemberRow) -> StoreResult<Self> {
        let corrupt = |e: String| StoreError::Corrupt(format!("member: {e}"));
        Ok(MemberRecord {
            member: Member {
                id: MemberId::parse(&row.id).map_err(|e| corrupt(e.to_string()))?,
                email: row.email,
                role: MemberRole::parse(&row.role)
                    .ok_or_else(|| corrupt(format!("role `{}`", row.role)))?,
                created_at: from_millis(row.created_at)?,
            },
            merchant_id: MerchantId::parse(&row.merchant_id).map_err(|e| corrupt(e.to_string()))?,
            password_hash: row.password_hash,
            sessions_valid_from: row.sessions_valid_from.map(from_millis).transpose()?,
        })
    }
}

const COLUMNS: &str =
    "id, merchant_id, email, password_hash, role, sessions_valid_from, created_at";

/// The statement that inserts a member (shared by the merchant's first
/// owner and by accepted invitations).
pub(super) const INSERT_MEMBER: &str =
    "INSERT INTO members (id, merchant_id, email, password_hash, role, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Takes the merchant's row lock (PostgreSQL) before a change that could
/// demote or remove an owner: under READ COMMITTED two owners demoting each
/// other at once would each count the other as still an owner, and the
/// merchant would be left with none. SQLite has one writer, and the count
/// and the change are one statement, so it needs no lock.
const LOCK_TEAM: &str = "SELECT id FROM merchants WHERE id = $1 FOR UPDATE";

/// The members of a merchant that may go while one owner stays: `$1` the
/// member, `$2` the merchant. Used by removals and demotions, so the last
/// owner is never removed or demoted, checked in the same statement.
const NOT_THE_LAST_OWNER: &str = "(role <> 'owner' OR \
     (SELECT COUNT(*) FROM members AS owners WHERE owners.merchant_id = $2 AND owners.role = 'owner') > 1)";

impl Store {
    /// Inserts a member; `Conflict` if the email is taken.
    pub async fn insert_member(&self, new: &NewMember) -> StoreResult<Member> {
        on_pool!(self, pool => sqlx::query(INSERT_MEMBER)
            .bind(new.id.as_str())
            .bind(new.merchant_id.as_str())
            .bind(&new.email)
            .bind(&new.password_hash)
            .bind(new.role.as_str())
            .bind(to_millis(new.created_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Member {
            id: new.id.clone(),
            email: new.email.clone(),
            role: new.role,
            created_at: new.created_at,
        })
    }

    /// The member with this (already normalised) email.
    pub async fn member_by_email(&self, email: &str) -> StoreResult<Option<MemberRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM members WHERE email = $1");
        let row: Option<MemberRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await)?;
        row.map(MemberRecord::try_from).transpose()
    }

    /// The member with this id.
    pub async fn member_by_id(&self, id: &MemberId) -> StoreResult<Option<MemberRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM members WHERE id = $1");
        let row: Option<MemberRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(MemberRecord::try_from).transpose()
    }

    /// The merchant's first owner (whom a login link without a member
    /// logs in as).
    pub async fn first_owner(&self, merchant: &MerchantId) -> StoreResult<Option<MemberRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM members WHERE merchant_id = $1 AND role = 'owner' \
             ORDER BY created_at, id LIMIT 1"
        );
        let row: Option<MemberRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(MemberRecord::try_from).transpose()
    }

    /// The merchant's members, oldest first.
    pub async fn members_of(&self, merchant: &MerchantId) -> StoreResult<Vec<Member>> {
        let sql =
            format!("SELECT {COLUMNS} FROM members WHERE merchant_id = $1 ORDER BY created_at, id");
        let rows: Vec<MemberRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| MemberRecord::try_from(row).map(|r| r.member))
            .collect()
    }

    /// Gives the merchant's member `role`, unless that would leave the
    /// merchant without an owner; false if nothing changed (no such member,
    /// or the last owner).
    pub async fn set_member_role(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
        role: MemberRole,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE members SET role = $3 WHERE id = $1 AND merchant_id = $2 \
             AND ($3 = 'owner' OR {NOT_THE_LAST_OWNER})"
        );
        self.change_team(
            merchant,
            &sql,
            &[member.as_str(), merchant.as_str(), role.as_str()],
        )
        .await
    }

    /// Removes the merchant's member, unless it is the last owner; false if
    /// nothing was removed.
    pub async fn remove_member(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
    ) -> StoreResult<bool> {
        let sql = format!(
            "DELETE FROM members WHERE id = $1 AND merchant_id = $2 AND {NOT_THE_LAST_OWNER}"
        );
        self.change_team(merchant, &sql, &[member.as_str(), merchant.as_str()])
            .await
    }

    /// Runs `sql` (bound to `binds`, in order) in a transaction that first
    /// takes the merchant's row lock on PostgreSQL (`LOCK_TEAM`); true if it
    /// changed one row.
    async fn change_team(
        &self,
        merchant: &MerchantId,
        sql: &str,
        binds: &[&str],
    ) -> StoreResult<bool> {
        let postgres = matches!(self, Store::Postgres(_));
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query(LOCK_TEAM).bind(merchant.as_str()).execute(&mut *tx).await?;
            }
            let mut query = sqlx::query(sql);
            for value in binds {
                query = query.bind(*value);
            }
            let changed = query.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(changed)
        })?;
        Ok(changed == 1)
    }
}
