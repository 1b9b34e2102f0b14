//! The delivery engine: claims due deliveries, sends them, records what
//! happened. Runs in the `herald serve` process beside the web server.
//!
//! Work lives in the database (the `deliveries` table is the queue); this
//! process only holds leases on what it is sending. New work wakes the
//! dispatcher at once (in-process, and over LISTEN/NOTIFY on PostgreSQL); a
//! timer covers scheduled retries and leases that other processes let lapse.

mod attempt;
mod config;
mod dispatcher;
mod handoff;
pub mod http;
mod limits;
mod proxy;
mod recorder;
pub mod rendering;
pub mod retry;
pub mod ssrf;

pub use attempt::RESERVED_HEADERS;
pub use config::EngineConfig;
pub use dispatcher::{ClaimRound, Engine};
pub use handoff::{Handoff, HandoffBatch};

use futures::FutureExt;
use std::sync::Arc;
use tokio::sync::Notify;

/// Tells the dispatcher that there may be work now.
#[derive(Clone, Debug, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    /// Wakes the dispatcher (or makes its next wait return at once).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits for a wake-up.
    pub async fn woken(&self) {
        self.0.notified().await;
    }

    /// Takes a wake-up that was given while nobody waited, if there is one,
    /// without waiting.
    pub fn take_pending(&self) -> bool {
        self.0.notified().now_or_never().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::Wakeup;

    #[tokio::test]
    async fn a_wake_up_given_while_nobody_waited_is_taken_once() {
        let wake = Wakeup::default();
        assert!(!wake.take_pending(), "nothing was given yet");
        wake.wake();
        wake.wake();
        assert!(wake.take_pending(), "the wake-up waits to be taken");
        assert!(!wake.take_pending(), "wake-ups given together count once");
        wake.wake();
        tokio::time::timeout(std::time::Duration::from_secs(1), wake.woken())
            .await
            .expect("a waiting wake-up ends the next wait at once");
    }
}
