//! The hand-off from ingest to this process's dispatcher: new deliveries
//! that the engine has room for are written already leased to it, in the
//! event's own transaction, and start as soon as that commits.
//!
//! Without it, every first attempt costs a claim (an `UPDATE` of the row
//! just inserted, and a read of the event and endpoint just written). What
//! the engine has no room for, or what must wait for an earlier event with
//! its ordering key, is written unleased and claimed as before. A crash
//! loses nothing: a leased delivery that never started is due again when
//! its lease runs out (on SQLite, at the next start).

use super::dispatcher::{Engine, Reservation};
use herald_app::model::id::{EndpointId, MerchantId};
use std::sync::{Arc, Mutex, PoisonError};

/// Where ingest offers new deliveries to the engine of its process; cheap
/// to clone. Offers nothing until an engine runs (`attach`).
#[derive(Clone, Default)]
pub struct Handoff {
    engine: Arc<Mutex<Option<Engine>>>,
}

impl Handoff {
    /// From now on, offers go to `engine`.
    pub(super) fn attach(&self, engine: &Engine) {
        *self.slot() = Some(engine.clone());
    }

    /// Offers stop (the engine is shutting down).
    pub(super) fn detach(&self) {
        *self.slot() = None;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Engine>> {
        // An `Option` cannot be left half-written by a panic.
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room for one batch of new deliveries, if an engine is running.
    pub fn offer(&self) -> Option<HandoffBatch> {
        let engine = self.slot().clone()?;
        Some(HandoffBatch {
            engine,
            reserved: Vec::new(),
        })
    }
}

/// The deliveries of one ingest batch the engine has made room for. Dropped
/// without `start` (the batch failed), it gives the room back.
pub struct HandoffBatch {
    engine: Engine,
    reserved: Vec<Reservation>,
}

impl HandoffBatch {
    /// Who the leases are written for.
    pub fn owner(&self) -> &str {
        self.engine.owner()
    }

    /// When a lease written now runs out.
    pub fn lease_until(&self) -> chrono::DateTime<chrono::Utc> {
        self.engine.lease_until(chrono::Utc::now())
    }

    /// Makes room for one more delivery of `merchant` to `endpoint`, if the
    /// engine has it (a free place in flight within the merchant's share,
    /// and a free slot of that endpoint).
    pub fn take(&mut self, merchant: &MerchantId, endpoint: &EndpointId) -> bool {
        match self.engine.reserve(merchant, endpoint) {
            Some(reservation) => {
                self.reserved.push(reservation);
                true
            }
            None => false,
        }
    }

    /// Starts the deliveries, leased and committed, one per `take` that said
    /// yes and in the same order. Fewer is possible (the store wrote the
    /// batch again without the offer): the room left over is given back.
    pub fn start(self, deliveries: Vec<crate::store::ClaimedDelivery>) {
        if deliveries.len() > self.reserved.len() {
            // A bug: the ones without room are due again when their lease
            // runs out.
            tracing::error!(
                reserved = self.reserved.len(),
                leased = deliveries.len(),
                "hand-off: leased deliveries do not match the room taken"
            );
        }
        for (reservation, delivery) in self.reserved.into_iter().zip(deliveries) {
            self.engine.launch(delivery, reservation);
        }
    }
}
