//! LISTEN/NOTIFY: how a commit that makes work due wakes the dispatchers of
//! the other Herald processes sharing one PostgreSQL database. SQLite has
//! one Herald process, whose dispatcher is woken in-process (`Wakeup`).

use super::{Store, StoreResult};
use sqlx::postgres::PgListener;

/// The one channel: notified by every commit that makes work due, listened
/// to by every process's dispatcher. The payload is empty.
const WORK_CHANNEL: &str = "herald_work";

/// Tells the other Herald processes that work is due, when the transaction
/// this runs in commits (and only if it does).
pub(crate) trait NotifyWork {
    /// Queues the notification in the current transaction.
    async fn notify_work(&mut self) -> sqlx::Result<()>;
}

impl NotifyWork for sqlx::PgConnection {
    async fn notify_work(&mut self) -> sqlx::Result<()> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(WORK_CHANNEL)
            .execute(self)
            .await?;
        Ok(())
    }
}

impl NotifyWork for sqlx::SqliteConnection {
    /// Nothing: no other process shares a SQLite database.
    async fn notify_work(&mut self) -> sqlx::Result<()> {
        Ok(())
    }
}

/// A connection listening for work that other processes commit.
pub struct WorkListener(PgListener);

impl WorkListener {
    /// Waits for the next notification. An error means the connection is
    /// lost: listen again (notifications sent meanwhile are not kept).
    pub async fn recv(&mut self) -> StoreResult<()> {
        self.0.recv().await?;
        Ok(())
    }
}

impl Store {
    /// Starts listening for work that other processes commit: `None` on
    /// SQLite, which no other process shares.
    pub async fn listen_for_work(&self) -> StoreResult<Option<WorkListener>> {
        let Store::Postgres(pools) = self else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(&pools.main).await?;
        listener.listen(WORK_CHANNEL).await?;
        Ok(Some(WorkListener(listener)))
    }
}
