//! The only place SQL lives: one `Store` API over SQLite and PostgreSQL.
//!
//! Most statements are written once and run on both databases (`$1`-style
//! parameters work in both); `on_pool!` expands a body once per backend so
//! the compiler checks each. Where the dialects really differ, a method
//! matches on the backend and says why.

mod api_keys;
mod deliveries;
mod delivery_views;
mod endpoints;
mod event_types;
mod events;
mod merchants;
mod sessions;
mod settings;
mod stats;
mod stored_secrets;

pub use api_keys::{ApiKeyOwner, ApiKeySummary, NewApiKey};
pub use deliveries::{
    AttemptRecord, ClaimRequest, ClaimedDelivery, DeliveryUpdate, Destination, EndpointHealth, Lane,
};
pub use delivery_views::DeliveryFilter;
pub use endpoints::{EndpointSecrets, EndpointSettings, KeyChange};
pub use event_types::EventTypeSeed;
pub use events::{EventFilter, FanOut, Ingested, NewEvent};
pub use merchants::{MerchantRecord, NewMerchant};
pub use sessions::SessionStore;
pub use stats::{AttemptDuration, HourCount};
pub use stored_secrets::{SecretColumn, StoredSecret};

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A handle on Herald's database; cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded default: one file, one process.
    Sqlite(SqlitePool),
    /// For scale: several Herald processes share it.
    Postgres(PgPool),
}

/// What can go wrong in the store, in the terms the services care about.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. an email already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL is not one Herald understands.
    #[error("{0}")]
    BadUrl(String),
    /// Stored data that cannot be read back into a model (corruption or a bug).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error(transparent)]
    Database(sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database at `url` (`sqlite:…` or `postgres://…`); a SQLite
    /// file is created if missing.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(format!("invalid SQLite URL `{url}`: {e}")))?;
            Self::connect_sqlite(options).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(format!("invalid PostgreSQL URL: {e}")))?;
            Self::connect_postgres(options).await
        } else {
            Err(StoreError::BadUrl(format!(
                "unsupported database URL `{url}`: use sqlite:PATH or postgres://USER@HOST/DB"
            )))
        }
    }

    /// Opens SQLite with the settings Herald relies on.
    pub async fn connect_sqlite(options: SqliteConnectOptions) -> StoreResult<Store> {
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets the dashboard read while the engine writes; FULL makes
            // every commit durable before ingest answers 202, even on power loss.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store::Sqlite(pool))
    }

    /// Opens PostgreSQL.
    pub async fn connect_postgres(options: PgConnectOptions) -> StoreResult<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Store::Postgres(pool))
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Which backend this is, for logs.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// SQL that expands a JSON array parameter (`$param`) into rows of text, per
/// dialect: how a list of ids is bound as one parameter on both databases.
pub(crate) fn json_values(store: &Store, param: usize) -> String {
    match store {
        Store::Sqlite(_) => format!("SELECT value FROM json_each(${param})"),
        Store::Postgres(_) => format!("SELECT jsonb_array_elements_text(${param}::jsonb)"),
    }
}

/// A list of ids as the JSON array `json_values` expands.
pub(crate) fn json_list<T: AsRef<str>>(items: &[T]) -> String {
    serde_json::Value::from(
        items
            .iter()
            .map(|i| i.as_ref().to_owned())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// A keyset cursor's bind values: (created_at in ms, id), or NULLs for the first page.
pub(crate) fn keyset<I: AsRef<str>>(
    before: &Option<(DateTime<Utc>, I)>,
) -> (Option<i64>, Option<String>) {
    match before {
        Some((at, id)) => (Some(to_millis(*at)), Some(id.as_ref().to_owned())),
        None => (None, None),
    }
}

/// A time as the database stores it: milliseconds since the Unix epoch.
pub(crate) fn to_millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A stored time back as a `DateTime`.
pub(crate) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}
