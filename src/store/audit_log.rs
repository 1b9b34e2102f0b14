//! The audit log's table: inserted into, read, never updated or deleted.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::audit::{ActorKind, AuditAction, AuditEntry};
use herald_app::model::id::{AuditEntryId, MerchantId};

/// An entry to append.
#[derive(Debug)]
pub struct NewAuditEntry {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    pub merchant_id: Option<MerchantId>,
    pub actor_kind: ActorKind,
    pub actor: Option<String>,
    pub action: AuditAction,
    pub object_id: Option<String>,
    pub detail: Option<String>,
    pub client_address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    merchant_id: Option<String>,
    actor_kind: String,
    actor: Option<String>,
    action: String,
    object_id: Option<String>,
    detail: Option<String>,
    client_address: Option<String>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("audit log: {what} `{value}`"))
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> StoreResult<Self> {
        Ok(AuditEntry {
            id: AuditEntryId::parse(&row.id).map_err(|_| corrupt("id", &row.id))?,
            at: from_millis(row.at)?,
            merchant_id: row
                .merchant_id
                .map(|id| MerchantId::parse(&id).map_err(|_| corrupt("merchant", &id)))
                .transpose()?,
            actor_kind: ActorKind::parse(&row.actor_kind)
                .ok_or_else(|| corrupt("actor kind", &row.actor_kind))?,
            actor: row.actor,
            action: AuditAction::parse(&row.action)
                .ok_or_else(|| corrupt("action", &row.action))?,
            object_id: row.object_id,
            detail: row.detail,
            client_address: row.client_address,
        })
    }
}

const COLUMNS: &str =
    "id, at, merchant_id, actor_kind, actor, action, object_id, detail, client_address";

impl Store {
    /// Appends an entry.
    pub async fn insert_audit_entry(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO audit_log \
             (id, at, merchant_id, actor_kind, actor, action, object_id, detail, client_address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(entry.id.as_str())
        .bind(to_millis(entry.at))
        .bind(entry.merchant_id.as_ref().map(MerchantId::as_str))
        .bind(entry.actor_kind.as_str())
        .bind(&entry.actor)
        .bind(entry.action.as_str())
        .bind(&entry.object_id)
        .bind(&entry.detail)
        .bind(&entry.client_address)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Entries newest first: `merchant`'s only when given, else all; older
    /// than `before` (a page cursor); at most `limit`.
    pub async fn audit_entries(
        &self,
        merchant: Option<&MerchantId>,
        before: Option<&(DateTime<Utc>, AuditEntryId)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log \
             WHERE ($1 IS NULL OR merchant_id = $1) \
               AND ($2 IS NULL OR at < $2 OR (at = $2 AND id < $3)) \
             ORDER BY at DESC, id DESC LIMIT $4"
        );
        let rows: Vec<AuditRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.map(MerchantId::as_str))
            .bind(before.map(|(at, _)| to_millis(*at)))
            .bind(before.map(|(_, id)| id.as_str()))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}
