//! What the operators' probes read: whether the database answers, and how
//! much work is queued.

use super::ServiceError;
use crate::metrics::QueueDepth;
use crate::store::Store;
use chrono::Utc;

/// The health reads.
#[derive(Clone, Debug)]
pub struct Health {
    store: Store,
}

impl Health {
    /// Health reads over `store`.
    pub fn new(store: Store) -> Self {
        Health { store }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    /// How many deliveries are due now, and how many scheduled later.
    pub async fn queue_depth(&self) -> Result<QueueDepth, ServiceError> {
        let (due, scheduled) = self.store.queue_depth(Utc::now()).await?;
        Ok(QueueDepth { due, scheduled })
    }
}
