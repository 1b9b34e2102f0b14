//! Small named values Herald keeps for itself (e.g. the platform token's hash).

use super::{on_pool, StoreResult};
use crate::store::Store;

impl Store {
    /// The setting's value, if set.
    pub async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT value FROM settings WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(value,)| value))
    }

    /// Sets the value only if the setting is absent; returns whether it was
    /// written. Two processes starting at once agree on one value this way.
    pub async fn insert_setting_if_absent(&self, name: &str, value: &str) -> StoreResult<bool> {
        let result = on_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// Sets the value, replacing any previous one.
    pub async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
