//! Browser sessions, kept in Herald's own database by tower-sessions' SQL
//! stores, behind a wrapper that stores only a hash of each session id and
//! ends every session a fixed time after log-in.
//!
//! The cookie carries the session id; the table is keyed by SHA-256 of it,
//! so a copy of the database (a backup, a dump) holds no usable session.
//! The id is 128 random bits, so an unsalted hash is enough: there is nothing
//! to guess from it.

use super::StoreResult;
use crate::store::Store;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore as _};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The table sessions live in (migration 0004 dropped the older
/// `tower_sessions`, which held the ids themselves).
const TABLE: &str = "herald_sessions";

/// The session data key holding when the session began (Unix milliseconds):
/// stamped when the store is first asked to keep it, i.e. at log-in, where
/// the id is cycled.
pub const STARTED_AT: &str = "herald.started_at";

/// The key a session is stored under: the first 128 bits of SHA-256 of its id.
pub fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(bytes))
}

/// The session store for whichever database Herald runs on.
#[derive(Clone, Debug)]
enum SqlSessions {
    /// Sessions in the SQLite file.
    Sqlite(SqliteStore),
    /// Sessions in PostgreSQL, in Herald's own schema.
    Postgres(PostgresStore),
}

/// Herald's session store: hashed ids, an absolute lifetime.
#[derive(Clone, Debug)]
pub struct SessionStore {
    inner: SqlSessions,
    /// A session this old is over, however active (`HERALD_SESSION_MAX_AGE`).
    max_age: Duration,
}

impl Store {
    /// The session store over this database, with its table created;
    /// sessions end `max_age` after they began.
    pub async fn session_store(&self, max_age: Duration) -> StoreResult<SessionStore> {
        let inner = match self {
            Store::Sqlite(pools) => {
                let store = SqliteStore::new(pools.main.clone())
                    .with_table_name(TABLE)
                    .map_err(super::StoreError::Corrupt)?;
                store.migrate().await?;
                SqlSessions::Sqlite(store)
            }
            Store::Postgres(pools) => {
                let pool = &pools.main;
                // Keep the table beside Herald's own (the schema on the
                // search path) rather than in a shared `tower_sessions` schema.
                let (schema,): (String,) = sqlx::query_as("SELECT current_schema()")
                    .fetch_one(pool)
                    .await?;
                let store = PostgresStore::new(pool.clone())
                    .with_schema_name(&schema)
                    .map_err(super::StoreError::Corrupt)?
                    .with_table_name(TABLE)
                    .map_err(super::StoreError::Corrupt)?;
                store.migrate().await?;
                SqlSessions::Postgres(store)
            }
        };
        Ok(SessionStore { inner, max_age })
    }
}

impl SessionStore {
    /// When a session that began at `started_at` (Unix milliseconds) is over.
    fn ends_at(&self, started_at: i64) -> OffsetDateTime {
        let max_age = i64::try_from(self.max_age.as_millis()).unwrap_or(i64::MAX);
        let ends = i128::from(started_at.saturating_add(max_age)) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(ends).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// `record` as stored: under the hash of its id, and expiring no later
    /// than its absolute end, so the expired-session sweep removes it then.
    fn to_stored(&self, record: &Record) -> Record {
        let mut stored = record.clone();
        stored.id = stored_id(&record.id);
        if let Some(started_at) = started_at(record) {
            stored.expiry_date = stored.expiry_date.min(self.ends_at(started_at));
        }
        stored
    }

    async fn inner_save(&self, record: &Record) -> session_store::Result<()> {
        match &self.inner {
            SqlSessions::Sqlite(s) => s.save(record).await,
            SqlSessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn inner_load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.inner {
            SqlSessions::Sqlite(s) => s.load(id).await,
            SqlSessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn inner_delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.inner {
            SqlSessions::Sqlite(s) => s.delete(id).await,
            SqlSessions::Postgres(s) => s.delete(id).await,
        }
    }
}

/// When the session began (Unix milliseconds), if it says.
fn started_at(record: &Record) -> Option<i64> {
    record
        .data
        .get(STARTED_AT)
        .and_then(serde_json::Value::as_i64)
}

#[async_trait]
impl session_store::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id is a new session (log-in cycles the id): its absolute
        // lifetime starts now.
        let now_ms = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        record.data.insert(
            STARTED_AT.to_owned(),
            i64::try_from(now_ms).unwrap_or(i64::MAX).into(),
        );
        // Ids are 128 random bits; a collision is all but impossible, but a
        // taken one is never shared.
        while self.inner_load(&stored_id(&record.id)).await?.is_some() {
            record.id = Id::default();
        }
        self.inner_save(&self.to_stored(record)).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner_save(&self.to_stored(record)).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = stored_id(id);
        let Some(mut record) = self.inner_load(&key).await? else {
            return Ok(None);
        };
        // A session with no start (none should exist) counts as over.
        let over = started_at(&record)
            .is_none_or(|started| self.ends_at(started) <= OffsetDateTime::now_utc());
        if over {
            self.inner_delete(&key).await?;
            return Ok(None);
        }
        // The session works with its real id (it cycles and deletes by it).
        record.id = *id;
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.inner_delete(&stored_id(id)).await
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.inner {
            SqlSessions::Sqlite(s) => s.delete_expired().await,
            SqlSessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_key_is_a_hash_of_the_id_not_the_id() {
        let id = Id(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let key = stored_id(&id);
        assert_ne!(key, id);
        assert_eq!(key, stored_id(&id), "the same id finds the same row");
        assert_ne!(key, stored_id(&Id(id.0 + 1)));
        // SHA-256 of the id's 16 bytes (little-endian), first 16 bytes.
        let digest = Sha256::digest(id.0.to_le_bytes());
        assert_eq!(key.0.to_le_bytes(), digest[..16]);
    }
}
