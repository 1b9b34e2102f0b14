//! The only place SQL lives: one `Store` API over SQLite and PostgreSQL.
//!
//! Most statements are written once and run on both databases (`$1`-style
//! parameters work in both); `on_pool!` expands a body once per backend so
//! the compiler checks each. Where the dialects really differ, a method
//! matches on the backend and says why.

mod alerts;
mod api_keys;
mod attempt_records;
mod audit_log;
mod conditions;
mod deliveries;
mod delivery_views;
mod endpoints;
mod event_types;
mod events;
mod ingest_plan;
mod invitations;
mod login_links;
mod members;
mod merchants;
mod notifications;
mod operator_views;
mod passwords;
mod profiles;
mod query_plans;
mod recovery;
mod retention;
mod sessions;
mod settings;
mod stats;
mod stats_fold;
mod stored_secrets;

pub use alerts::UntoldAlert;
pub use api_keys::{ApiKeyOwner, ApiKeySummary, NewApiKey};
pub use attempt_records::{AttemptRecord, DeliveryUpdate, EndpointHealth, RecordedBatch};
pub use audit_log::NewAuditEntry;
pub use deliveries::{ClaimRequest, ClaimedDelivery, Destination, Lane};
pub use delivery_views::DeliveryFilter;
pub use endpoints::{EncryptionChange, EndpointSecrets, EndpointSettings, KeyChange};
pub use event_types::EventTypeSeed;
pub use events::{
    EventFilter, FanOut, IngestRefusal, Ingested, IngestedBatch, LeaseOffer, NewEvent,
};
pub use invitations::{NewInvitation, OpenInvitation};
pub use login_links::{LoginLinkState, NewLoginLink, UsedLoginLink};
pub use members::{MemberRecord, NewMember};
pub use merchants::{CallbackSecrets, MerchantRecord, NewMerchant};
pub use notifications::WorkListener;
pub use operator_views::{EndpointState, MerchantCounts, OverviewFilter, OverviewRow};
pub use passwords::{NewPasswordReset, PasswordResetState};
pub use recovery::{MissedEvent, MissedQuery};
pub use retention::StoredCounts;
pub use sessions::{
    stored_id as stored_session_id, SessionStore, STARTED_AT as SESSION_STARTED_AT,
};
pub use stats::{latency_bucket, latency_bucket_upper, HourCount, LatencyCount};
pub use stats_fold::{FoldCursor, FoldStep};
pub use stored_secrets::{SecretColumn, StoredSecret};

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to one of the store's pools, whichever
/// backend it is: `main` unless another (`queue`) is named.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::store::on_pool!($store, main, $pool => $body)
    };
    ($store:expr, $which:ident, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pools) => {
                let $pool = &pools.$which;
                $body
            }
            $crate::store::Store::Postgres(pools) => {
                let $pool = &pools.$which;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// A handle on Herald's database; cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded default: one file, one process.
    Sqlite(Pools<SqlitePool>),
    /// For scale: several Herald processes share it.
    Postgres(Pools<PgPool>),
}

/// The connections to one database, in two pools that differ in when a
/// commit returns.
///
/// `main` serves everything and commits durably: an accepted event is on
/// disk before its 202. `queue` serves only the engine's own bookkeeping
/// (claims, releases, attempt records), whose commits return before they
/// reach the disk (SQLite `synchronous=NORMAL` in WAL mode, PostgreSQL
/// `synchronous_commit=off`). A power cut or a database crash can lose the
/// last of those, never an event: a lost claim or record leaves the
/// delivery due again and it is sent again, which at-least-once delivery
/// and the `webhook-id` already allow for. Commits stay in order, so a
/// durable ingest after them also makes them durable. Neither database
/// can lose them on a crash of Herald itself.
#[derive(Clone, Debug)]
pub struct Pools<P> {
    /// Durable commits: everything but the engine's bookkeeping.
    pub main: P,
    /// Commits that do not wait for the disk: claims, releases, attempts.
    pub queue: P,
    turn: WriteTurn,
}

/// Queues this process's busiest write transactions on SQLite: ingest
/// batches, claims and attempt records.
///
/// SQLite lets one writer in at a time. Without this, a writer that finds
/// the lock taken sleeps in SQLite's busy handler (1, 2, 5, 10, … ms) and
/// the lock often sits free while everyone sleeps; waiting here instead is a
/// queue that hands the lock on the moment it is released.
#[derive(Clone, Debug, Default)]
struct WriteTurn(Arc<tokio::sync::Mutex<()>>);

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

impl StoreError {
    /// Whether trying the same thing again later may succeed: the database
    /// is unreachable, restarting, out of resources, busy, or chose this
    /// transaction as a deadlock victim. Anything else (a constraint, bad
    /// data, a corrupt row) fails the same way every time, so a loop that
    /// retries it would wait forever on one poisoned item.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => is_transient(e),
            StoreError::Conflict(_)
            | StoreError::BadUrl(_)
            | StoreError::Corrupt(_)
            | StoreError::Migrate(_) => false,
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached at all (no connection to
    /// be had, or the pool is closing): the caller is told to retry shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            )
        )
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                // SQLSTATE classes: 08 connection, 40 serialization failure
                // and deadlock, 53 insufficient resources, 57 operator
                // intervention (shutdown, restart), 58 system error.
                matches!(&pg.code()[..2], "08" | "40" | "53" | "57" | "58")
            } else {
                // SQLite extended result codes; the primary code is the low
                // byte: 5 BUSY, 6 LOCKED, 10 IOERR, 13 FULL, 14 CANTOPEN.
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 13 | 14))
            }
        }
        _ => false,
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
        let main = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        // The dispatcher and the recorder write one at a time each.
        let queue = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await?;
        Ok(Store::Sqlite(Pools {
            main,
            queue,
            turn: WriteTurn::default(),
        }))
    }

    /// Opens PostgreSQL.
    pub async fn connect_postgres(options: PgConnectOptions) -> StoreResult<Store> {
        let main = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        let queue = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.options([("synchronous_commit", "off")]))
            .await?;
        Ok(Store::Postgres(Pools {
            main,
            queue,
            turn: WriteTurn::default(),
        }))
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(pools) => SQLITE_MIGRATIONS.run(&pools.main).await?,
            Store::Postgres(pools) => POSTGRES_MIGRATIONS.run(&pools.main).await?,
        }
        Ok(())
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Waits for this process's turn to write on SQLite (see `WriteTurn`);
    /// PostgreSQL has row locks and needs none.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self {
            Store::Sqlite(pools) => Some(pools.turn.0.lock().await),
            Store::Postgres(_) => None,
        }
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
        on_pool!(self, queue, pool => pool.close().await);
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
