//! The event-type catalog.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::event_type::EventType;

/// One catalog entry to seed.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventTypeSeed {
    pub name: String,
    pub category: String,
    pub description: String,
    pub example: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventTypeRow {
    name: String,
    category: String,
    description: String,
    example: String,
    archived_at: Option<i64>,
    updated_at: i64,
}

impl TryFrom<EventTypeRow> for EventType {
    type Error = StoreError;
    fn try_from(row: EventTypeRow) -> StoreResult<Self> {
        Ok(EventType {
            example: serde_json::from_str(&row.example)
                .map_err(|e| StoreError::Corrupt(format!("example of {}: {e}", row.name)))?,
            name: row.name,
            category: row.category,
            description: row.description,
            archived: row.archived_at.is_some(),
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

impl Store {
    /// Inserts the seeds that are not in the catalog yet, in one transaction;
    /// types an operator edited or archived are left as they are.
    pub async fn seed_event_types(
        &self,
        seeds: &[EventTypeSeed],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for seed in seeds {
                inserted += sqlx::query(
                    "INSERT INTO event_types (name, category, description, example, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&seed.name)
                .bind(&seed.category)
                .bind(&seed.description)
                .bind(seed.example.to_string())
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(inserted)
        })
    }

    /// The whole catalog, by name.
    pub async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
        let rows: Vec<EventTypeRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT name, category, description, example, archived_at, updated_at \
             FROM event_types ORDER BY name",
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(EventType::try_from).collect()
    }
}

impl Store {
    /// Adds one type; false if the name is taken.
    pub async fn insert_event_type(
        &self,
        entry: &EventTypeSeed,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let inserted = on_pool!(self, pool => sqlx::query(
            "INSERT INTO event_types (name, category, description, example, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&entry.name)
        .bind(&entry.category)
        .bind(&entry.description)
        .bind(entry.example.to_string())
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Changes a type's description and example (`None` keeps them); false
    /// if there is no such type.
    pub async fn update_event_type(
        &self,
        name: &str,
        description: Option<&str>,
        example: Option<&serde_json::Value>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE event_types SET description = COALESCE($2, description), \
                 example = COALESCE($3, example), updated_at = $4 WHERE name = $1",
        )
        .bind(name)
        .bind(description)
        .bind(example.map(|e| e.to_string()))
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Every endpoint's event filter (names and `prefix.*` patterns; empty
    /// is every type), to count who a catalog change reaches.
    pub async fn endpoint_event_filters(&self) -> StoreResult<Vec<Vec<String>>> {
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT event_types FROM endpoints",
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(filter,)| {
                serde_json::from_str(&filter)
                    .map_err(|e| StoreError::Corrupt(format!("endpoint event_types: {e}")))
            })
            .collect()
    }

    /// Archives (from `now`) or restores a type; its events and deliveries stay.
    pub async fn set_event_type_archived(
        &self,
        name: &str,
        archived: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE event_types SET archived_at = $2, updated_at = $3 WHERE name = $1",
        )
        .bind(name)
        .bind(archived.then(|| to_millis(now)))
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
