//! Browser sessions, kept in Herald's own database by tower-sessions' SQL stores.

use super::StoreResult;
use crate::store::Store;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store for whichever database Herald runs on.
#[derive(Clone, Debug)]
pub enum SessionStore {
    /// Sessions in the SQLite file.
    Sqlite(SqliteStore),
    /// Sessions in PostgreSQL, in Herald's own schema.
    Postgres(PostgresStore),
}

impl Store {
    /// The session store over this database, with its table created.
    pub async fn session_store(&self) -> StoreResult<SessionStore> {
        Ok(match self {
            Store::Sqlite(pools) => {
                let store = SqliteStore::new(pools.main.clone());
                store.migrate().await?;
                SessionStore::Sqlite(store)
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
                    .with_table_name("tower_sessions")
                    .map_err(super::StoreError::Corrupt)?;
                store.migrate().await?;
                SessionStore::Postgres(store)
            }
        })
    }
}

#[async_trait]
impl session_store::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.create(record).await,
            SessionStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.save(record).await,
            SessionStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionStore::Sqlite(s) => s.load(id).await,
            SessionStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.delete(id).await,
            SessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.delete_expired().await,
            SessionStore::Postgres(s) => s.delete_expired().await,
        }
    }
}
