//! The database under test: where it lives (a temporary SQLite file, a
//! fresh PostgreSQL database, or a kept one to measure again), and a
//! connection of the bench's own beside Herald's, for the fill and for
//! picking realistic values to ask for.

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::PathBuf;
use std::str::FromStr;

/// The `settings` row that says a kept database is filled, and with what.
const FILL_MARKER: &str = "bench_history_fill";
/// The PostgreSQL database the bench makes (and drops) on the server, unless
/// `BENCH_PG_DATABASE` names another (the server may be shared with other
/// runs).
const PG_DATABASE: &str = "herald_bench_history";

/// The PostgreSQL database of this run: `BENCH_PG_DATABASE` or `PG_DATABASE`.
fn pg_database() -> String {
    std::env::var("BENCH_PG_DATABASE")
        .ok()
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .unwrap_or_else(|| PG_DATABASE.to_owned())
}

/// Runs `$body` with `$pool` bound to the pool of either backend: the same
/// SQL text serves both (sqlx takes `$n` placeholders on SQLite too).
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            crate::db::Db::Sqlite($pool) => $body,
            crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// The bench's own connection to the database under test.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database to fill or reuse, and how Herald reaches it.
pub struct Target {
    pub backend: Backend,
    /// `HERALD_DATABASE_URL` for the herald binary.
    pub url: String,
    /// Where it is, for the report.
    pub location: String,
    /// Kept after the run (`BENCH_KEEP_DB`).
    pub keep: bool,
    /// The temporary directory of a SQLite file that is not kept.
    _temp: Option<tempfile::TempDir>,
    /// The server connection a PostgreSQL database is made and dropped with.
    pg_admin: Option<PgPool>,
}

impl Target {
    /// A SQLite file: under the target directory when kept, else in a
    /// temporary directory removed at the end.
    pub fn sqlite(keep: bool) -> Target {
        let (path, temp) = if keep {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            let dir = PathBuf::from(target).join("bench-history");
            std::fs::create_dir_all(&dir).expect("create the directory of the kept database");
            (dir.join("history.db"), None)
        } else {
            let temp = tempfile::tempdir().expect("temp dir");
            (temp.path().join("history.db"), Some(temp))
        };
        Target {
            backend: Backend::Sqlite,
            url: format!("sqlite:{}", path.display()),
            location: path.display().to_string(),
            keep,
            _temp: temp,
            pg_admin: None,
        }
    }

    /// The `herald_bench_history` database on the server of `admin_url`.
    pub async fn postgres(admin_url: &str, keep: bool) -> Target {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .expect("PostgreSQL (HERALD_TEST_POSTGRES_URL)");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{}", pg_database()),
            None => panic!("HERALD_TEST_POSTGRES_URL needs a database path"),
        };
        Target {
            backend: Backend::Postgres,
            location: redact(&url),
            url,
            keep,
            _temp: None,
            pg_admin: Some(admin),
        }
    }

    /// Whether the database is there already, filled for this size (kept
    /// databases only; anything else is made afresh).
    pub async fn filled_for(&self, expected: &str) -> bool {
        if !self.keep || !self.exists().await {
            return false;
        }
        let db = self.connect().await;
        let marker: Option<String> = on_db!(&db, pool => sqlx::query_scalar(
            "SELECT value FROM settings WHERE name = $1",
        )
        .bind(FILL_MARKER)
        .fetch_optional(pool)
        .await
        .ok()
        .flatten());
        db.close().await;
        marker.as_deref() == Some(expected)
    }

    async fn exists(&self) -> bool {
        match (&self.backend, &self.pg_admin) {
            (Backend::Postgres, Some(admin)) => {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                    .bind(pg_database())
                    .fetch_one(admin)
                    .await
                    .expect("list databases")
                    > 0
            }
            _ => std::path::Path::new(&self.location).exists(),
        }
    }

    /// Removes any previous database and makes an empty one (the schema is
    /// `herald migrate`'s job).
    pub async fn recreate(&self) {
        match &self.pg_admin {
            Some(admin) => {
                sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    pg_database()
                ))
                .execute(admin)
                .await
                .expect("drop the previous bench database");
                sqlx::query(&format!("CREATE DATABASE {}", pg_database()))
                    .execute(admin)
                    .await
                    .expect("create the bench database");
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.location));
                }
            }
        }
    }

    /// A connection for the bench, tuned for bulk writes: on SQLite no
    /// fsync and a large page cache, no foreign-key checks (the rows are
    /// consistent by construction); on PostgreSQL asynchronous commits.
    pub async fn connect(&self) -> Db {
        match self.backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&self.url)
                    .expect("SQLite URL")
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Off)
                    .foreign_keys(false)
                    .busy_timeout(std::time::Duration::from_secs(30))
                    .pragma("cache_size", "-262144")
                    .pragma("temp_store", "memory");
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .expect("open the SQLite database");
                Db::Sqlite(pool)
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&self.url)
                    .await
                    .expect("open the PostgreSQL database");
                Db::Postgres(pool)
            }
        }
    }

    /// Records that the database holds a complete fill of `what`.
    pub async fn mark_filled(&self, db: &Db, what: &str) {
        on_db!(db, pool => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(FILL_MARKER)
        .bind(what)
        .execute(pool)
        .await
        .expect("mark the database filled").rows_affected());
    }

    /// Forgets that the database is filled as generated: what comes next
    /// (ingest, retention) changes it, so a later run fills it again.
    pub async fn unmark_filled(&self, db: &Db) {
        on_db!(db, pool => sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(FILL_MARKER)
            .execute(pool)
            .await
            .expect("unmark the database").rows_affected());
    }

    /// Drops what is not kept (a SQLite temp dir goes with `self`).
    pub async fn finish(self) {
        if self.keep {
            println!("- kept: {}", self.location);
            return;
        }
        if let Some(admin) = &self.pg_admin {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                pg_database()
            ))
            .execute(admin)
            .await;
        }
    }

    /// The database's size on disk (SQLite: the file and its WAL).
    pub async fn size_bytes(&self, db: &Db) -> u64 {
        match db {
            Db::Sqlite(_) => ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{}{s}", self.location)).ok())
                .map(|m| m.len())
                .sum(),
            Db::Postgres(pool) => {
                sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await
                    .expect("database size") as u64
            }
        }
    }
}

impl Db {
    /// Closes the bench's connection (SQLite: lets Herald take the file alone).
    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

/// A URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
