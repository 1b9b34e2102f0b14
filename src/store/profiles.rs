//! Delivery profiles, kept as their JSON.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::delivery_profiles::StoredProfile;
use herald_app::model::profile::DeliveryProfile;

#[derive(sqlx::FromRow)]
struct ProfileRow {
    name: String,
    profile: String,
    bundled: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProfileRow> for StoredProfile {
    type Error = StoreError;
    fn try_from(row: ProfileRow) -> StoreResult<Self> {
        Ok(StoredProfile {
            profile: serde_json::from_str::<DeliveryProfile>(&row.profile)
                .map_err(|e| StoreError::Corrupt(format!("profile {}: {e}", row.name)))?,
            bundled: row.bundled,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

fn profile_json(profile: &DeliveryProfile) -> StoreResult<String> {
    serde_json::to_string(profile)
        .map_err(|e| StoreError::Corrupt(format!("profile {}: {e}", profile.name)))
}

impl Store {
    /// Inserts the bundled profiles, or brings stored ones up to this
    /// binary's version, in one transaction; returns how many changed.
    pub async fn refresh_bundled_profiles(
        &self,
        profiles: &[DeliveryProfile],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut rows = Vec::with_capacity(profiles.len());
        for profile in profiles {
            rows.push((profile.name.as_str(), profile_json(profile)?));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut changed = 0;
            for (name, json) in &rows {
                changed += sqlx::query(
                    "INSERT INTO delivery_profiles (name, profile, bundled, created_at, updated_at) \
                     VALUES ($1, $2, TRUE, $3, $3) \
                     ON CONFLICT (name) DO UPDATE SET profile = excluded.profile, bundled = TRUE, \
                         updated_at = excluded.updated_at \
                     WHERE delivery_profiles.profile <> excluded.profile \
                        OR NOT delivery_profiles.bundled",
                )
                .bind(*name)
                .bind(json)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(changed)
        })
    }

    /// Every profile, by name.
    pub async fn list_profiles(&self) -> StoreResult<Vec<StoredProfile>> {
        let rows: Vec<ProfileRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT name, profile, bundled, created_at, updated_at \
             FROM delivery_profiles ORDER BY name",
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(StoredProfile::try_from).collect()
    }

    /// One profile by name.
    pub async fn profile(&self, name: &str) -> StoreResult<Option<StoredProfile>> {
        let row: Option<ProfileRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT name, profile, bundled, created_at, updated_at \
             FROM delivery_profiles WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await)?;
        row.map(StoredProfile::try_from).transpose()
    }

    /// Adds an operator's profile; `false` when the name is taken.
    pub async fn insert_profile(
        &self,
        profile: &DeliveryProfile,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let json = profile_json(profile)?;
        let inserted = on_pool!(self, pool => sqlx::query(
            "INSERT INTO delivery_profiles (name, profile, bundled, created_at, updated_at) \
             VALUES ($1, $2, FALSE, $3, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&profile.name)
        .bind(&json)
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Replaces an operator's profile (never a bundled one); `false` when
    /// there is no operator's profile of that name.
    pub async fn update_profile(
        &self,
        profile: &DeliveryProfile,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let json = profile_json(profile)?;
        let updated = on_pool!(self, pool => sqlx::query(
            "UPDATE delivery_profiles SET profile = $2, updated_at = $3 \
             WHERE name = $1 AND NOT bundled",
        )
        .bind(&profile.name)
        .bind(&json)
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(updated == 1)
    }

    /// How many endpoints send in this profile, and merchants send their
    /// callbacks in it.
    pub async fn uses_of_profile(&self, name: &str) -> StoreResult<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM endpoints WHERE profile = $1) \
                  + (SELECT COUNT(*) FROM merchants WHERE callback_profile = $1)",
        )
        .bind(name)
        .fetch_one(pool)
        .await)?)
    }
}
