//! The dispatcher: a short loop around `run_once`, which claims due work
//! under a lease and starts one task per delivery.

use super::attempt::{attempt, AttemptContext};
use super::http::{Sender, SenderError};
use super::limits::{EndpointSlots, MerchantShares, RateLimits, SendLimits};
use super::recorder::{self, Recordable};
use super::{EngineConfig, Handoff, Wakeup};
use crate::store::{ClaimRequest, ClaimedDelivery, Destination, Lane, Store};
use chrono::{DateTime, Utc};
use herald_app::model::id::{EndpointId, MerchantId};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The delivery engine of one process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sender: Sender,
    config: EngineConfig,
    /// Names this process's leases.
    owner: String,
    /// New work: ingest left deliveries to claim, a retry or an ordering
    /// key came due, another process committed work.
    wake: Wakeup,
    /// A delivery finished, so its room is free again.
    room: Wakeup,
    /// Claimed-and-unfinished deliveries, all lanes.
    in_flight: Arc<Semaphore>,
    /// The permits `in_flight` started with.
    capacity: u32,
    /// Retries may use only part of the capacity, so first attempts of new
    /// events always find room.
    retries: Arc<Semaphore>,
    /// Deliveries held per endpoint: twice what may be sent at once, so the
    /// next ones are ready when a request finishes.
    slots: EndpointSlots,
    /// Places held per merchant: its share, and turns while places are scarce.
    shares: MerchantShares,
    sending: SendLimits,
    rates: RateLimits,
    recorder: mpsc::Sender<Recordable>,
    tasks: TaskTracker,
}

/// What one round of claims did.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRound {
    /// Deliveries started.
    pub started: usize,
    /// Whether a lane may hold more due work than it could claim at once.
    pub more_due: bool,
    /// Whether due work may have been left for lack of room.
    pub short_of_room: bool,
}

/// What a claim from one lane did.
struct LaneClaim {
    started: usize,
    /// The claim took as many as it asked for.
    full: bool,
    /// Due work may have been left for lack of room: the process or the
    /// lane was full, an endpoint's slots were, or a claimed one found none.
    short_of_room: bool,
}

/// Room for one delivery in this process: a place in flight and, for an
/// endpoint, one of its slots. Given back when dropped, with how long the
/// attempt took if it was made.
pub(super) struct Reservation {
    engine: Engine,
    merchant: MerchantId,
    lane: Lane,
    endpoint: Option<EndpointId>,
    took: Option<Duration>,
    _in_flight: OwnedSemaphorePermit,
    _retry: Option<OwnedSemaphorePermit>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(endpoint) = &self.endpoint {
            self.engine.inner.slots.give_back(endpoint, self.took);
        }
        self.engine
            .inner
            .shares
            .give_back(&self.merchant, self.lane);
    }
}

/// Claim at most this many deliveries per query.
const CLAIM_BATCH: usize = 128;
/// Even with no known work, look again this often (other processes' lapsed leases).
const IDLE_RECHECK: Duration = Duration::from_secs(15);
/// When due work is blocked (full endpoints, ordering), look again this often.
const BLOCKED_RECHECK: Duration = Duration::from_secs(1);
/// While work waits for room, claim again at most this often as deliveries
/// finish: one claim per finished delivery would mostly find nothing.
const ROOM_RECHECK: Duration = Duration::from_millis(10);
/// A delivery is sent only with at least this long left on its lease after
/// the request timeout, for its record to be written.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// At shutdown, how long the records of the last attempts may take to be
/// written before the process stops anyway (their deliveries are then due
/// again when their leases end: at-least-once).
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(10);

impl Engine {
    /// Builds the engine and starts its recorder; `run` starts dispatching.
    pub fn start(store: Store, config: EngineConfig, wake: Wakeup) -> Result<Engine, SenderError> {
        let sender = Sender::new(
            config.policy.clone(),
            config.request_timeout,
            &config.egress,
        )?;
        let (recorder_tx, recorder_rx) = mpsc::channel(4096);
        tokio::spawn(recorder::run(
            store.clone(),
            recorder_rx,
            wake.clone(),
            config.metrics.clone(),
            config.auto_disable_after,
        ));
        let owner = format!("node_{:016x}", rand::thread_rng().gen::<u64>());
        let max = config.max_in_flight.max(2);
        Ok(Engine {
            inner: Arc::new(Inner {
                slots: EndpointSlots::new(config.per_endpoint * 2, CLAIM_BATCH.min(max / 2)),
                shares: MerchantShares::new(max, config.per_merchant),
                sending: SendLimits::new(config.per_endpoint),
                in_flight: Arc::new(Semaphore::new(max)),
                capacity: u32::try_from(max).unwrap_or(u32::MAX),
                retries: Arc::new(Semaphore::new(max / 2)),
                rates: RateLimits::default(),
                recorder: recorder_tx,
                tasks: TaskTracker::new(),
                store,
                sender,
                config,
                owner,
                wake,
                room: Wakeup::default(),
            }),
        })
    }

    /// The lease owner name of this process.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The lease: long enough for the slowest attempt plus writing its record.
    fn lease(&self) -> Duration {
        self.inner.config.request_timeout * 2 + Duration::from_secs(10)
    }

    /// One round of the dispatch loop: claims what is due now in both lanes
    /// and starts sending it, without waiting for the sends. `run` repeats
    /// it; tests call it themselves, with `settle`, to run the engine step
    /// by step.
    pub async fn run_once(&self) -> Result<ClaimRound, crate::store::StoreError> {
        let first = self.claim(Lane::First).await?;
        let retries = self.claim(Lane::Retry).await?;
        Ok(ClaimRound {
            started: first.started + retries.started,
            // A lane that filled its batch may hold more; one that came back
            // short was drained (or what is left is blocked, and a finishing
            // attempt wakes the loop), so claiming again at once would only
            // cost empty statements.
            more_due: first.full || retries.full,
            short_of_room: first.short_of_room || retries.short_of_room,
        })
    }

    async fn claim(&self, lane: Lane) -> Result<LaneClaim, crate::store::StoreError> {
        let inner = &self.inner;
        let lane_limit = match lane {
            Lane::First => inner.in_flight.available_permits(),
            Lane::Retry => inner
                .in_flight
                .available_permits()
                .min(inner.retries.available_permits()),
        };
        let limit = lane_limit.min(CLAIM_BATCH);
        if limit == 0 {
            return Ok(LaneClaim {
                started: 0,
                full: false,
                short_of_room: true,
            });
        }
        let now = Utc::now();
        let busy = inner.slots.full();
        let busy_merchants = inner.shares.busy(lane, inner.in_flight.available_permits());
        let claimed = inner
            .store
            .claim_due_deliveries(&ClaimRequest {
                owner: &inner.owner,
                now,
                lease_until: self.lease_until(now),
                limit: u32::try_from(limit).unwrap_or(u32::MAX),
                lane,
                busy_endpoints: &busy,
                busy_merchants: &busy_merchants,
            })
            .await?;
        let full = claimed.len() >= limit;
        let mut excess = Vec::new();
        let mut started = 0;
        for delivery in claimed {
            let endpoint = match &delivery.destination {
                Destination::Endpoint { id, .. } => Some(id),
                Destination::Callback { .. } => None,
            };
            match self.reserve_room(&delivery.merchant_id, endpoint, lane) {
                Some(reservation) => {
                    self.launch(delivery, reservation);
                    started += 1;
                }
                None => excess.push(delivery.id),
            }
        }
        if !excess.is_empty() {
            // More than an endpoint may take at once: give them back now
            // rather than hold them waiting for a slot.
            inner
                .store
                .release_deliveries(&inner.owner, &excess, now)
                .await?;
        }
        Ok(LaneClaim {
            started,
            full,
            short_of_room: !busy.is_empty() || !busy_merchants.is_empty() || !excess.is_empty(),
        })
    }

    /// When a lease taken at `now` runs out.
    pub(super) fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.lease()).unwrap_or(chrono::Duration::minutes(5))
    }

    /// Room for one new delivery of `merchant` to `endpoint`, for the
    /// ingest hand-off: the same rules as a claim.
    pub(super) fn reserve(
        &self,
        merchant: &MerchantId,
        endpoint: &EndpointId,
    ) -> Option<Reservation> {
        self.reserve_room(merchant, Some(endpoint), Lane::First)
    }

    /// A place in flight within `merchant`'s share and, for an endpoint, one
    /// of its slots; `None` if any is full.
    fn reserve_room(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        lane: Lane,
    ) -> Option<Reservation> {
        let inner = &self.inner;
        let in_flight = inner.in_flight.clone().try_acquire_owned().ok()?;
        if !inner
            .shares
            .try_take(merchant, lane, inner.in_flight.available_permits())
        {
            return None;
        }
        if let Some(endpoint) = endpoint {
            if !inner.slots.try_take(endpoint) {
                inner.shares.give_back(merchant, lane);
                return None;
            }
        }
        Some(Reservation {
            engine: self.clone(),
            merchant: merchant.clone(),
            lane,
            endpoint: endpoint.cloned(),
            took: None,
            _in_flight: in_flight,
            // Retries count against their share too, as far as it goes.
            _retry: match lane {
                Lane::Retry => inner.retries.clone().try_acquire_owned().ok(),
                Lane::First => None,
            },
        })
    }

    /// Starts sending a delivery this process holds the lease of.
    pub(super) fn launch(&self, delivery: ClaimedDelivery, mut reservation: Reservation) {
        let engine = self.clone();
        self.inner.tasks.spawn(async move {
            reservation.took = Some(engine.deliver(delivery).await);
            drop(reservation);
            engine.inner.room.wake();
        });
    }

    /// Sends one attempt and hands its record to the recorder; returns how
    /// long the attempt took.
    async fn deliver(&self, mut delivery: ClaimedDelivery) -> Duration {
        let inner = &self.inner;
        // Held until the attempt is sent and answered.
        let mut _sending = None;
        if let Destination::Endpoint {
            id,
            rate_limit_per_s,
            ..
        } = &delivery.destination
        {
            _sending = inner.sending.acquire(id).await;
            if let Some(rate) = rate_limit_per_s {
                let wait = inner.rates.reserve(id, *rate, Instant::now());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        if !self.hold_lease_for_send(&mut delivery).await {
            return Duration::ZERO;
        }
        let jitter = rand::thread_rng().gen::<f64>();
        let ctx = AttemptContext {
            sender: &inner.sender,
            schedule: &inner.config.schedule,
            owner: &inner.owner,
            auto_disable_after: inner.config.auto_disable_after,
            failing_alert_after: inner.config.failing_alert_after,
            jitter,
            secrets: &inner.config.secrets,
        };
        let record = attempt(&delivery, &ctx).await;
        let took = Duration::from_millis(record.duration_ms);
        if inner
            .recorder
            .send(Recordable::Attempt(Box::new(record)))
            .await
            .is_err()
        {
            tracing::error!(delivery = %delivery.id, "recorder stopped; the lease will expire and the delivery retry");
        }
        took
    }

    /// Whether this process may send `delivery` now: its lease covers the
    /// request and its record, renewed first if waiting for the endpoint's
    /// turn or rate limit used it up. Renewal is fenced by the lease's end
    /// as claimed: once the lease ran out and the delivery was claimed
    /// again, by another process or by this one, this copy is not sent.
    async fn hold_lease_for_send(&self, delivery: &mut ClaimedDelivery) -> bool {
        let inner = &self.inner;
        let now = Utc::now();
        // The endpoint's own timeout (up to a minute) may outlast the lease
        // a claim gives (twice the server's): renewed for it first.
        let timeout = match &delivery.destination {
            Destination::Endpoint {
                timeout: Some(own), ..
            } => *own,
            _ => inner.config.request_timeout,
        };
        let needed = chrono::Duration::from_std(timeout + LEASE_MARGIN)
            .unwrap_or(chrono::Duration::minutes(5));
        if delivery.lease_until - now > needed {
            return true;
        }
        let until = self
            .lease_until(now)
            .max(now + needed + chrono::Duration::from_std(timeout).unwrap_or_default());
        match inner
            .store
            .renew_lease(&inner.owner, &delivery.id, delivery.lease_until, until)
            .await
        {
            Ok(true) => {
                delivery.lease_until = until;
                true
            }
            Ok(false) => {
                inner.config.metrics.lease_lost();
                tracing::info!(delivery = %delivery.id, "not sent: its lease ran out while it waited for its endpoint, and it was taken over");
                false
            }
            Err(e) => {
                // Unknown whether the lease still holds: sending could be a
                // duplicate; not sending only delays it until the lease ends.
                tracing::warn!(delivery = %delivery.id, error = %e, "renewing a lease failed; the delivery is due again when it ends");
                false
            }
        }
    }

    /// Waits until no delivery this process started is in flight any more,
    /// then until their attempts are written (tests).
    pub async fn settle(&self) {
        // Every started delivery holds a place in flight until its record is
        // queued for the recorder; holding them all means none is left.
        if let Ok(all) = self.inner.in_flight.acquire_many(self.inner.capacity).await {
            drop(all);
        }
        self.flush().await;
    }

    /// Waits until every attempt started so far is written (tests, shutdown).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self
            .inner
            .recorder
            .send(Recordable::Flush(done))
            .await
            .is_ok()
        {
            let _ = written.await;
        }
    }

    /// The dispatch loop, until `cancel`, taking what ingest hands off
    /// meanwhile; then stops claiming and taking, lets the attempts in
    /// flight finish (bounded by the request timeout), records them, and
    /// gives back any lease still held.
    pub async fn run(self, cancel: CancellationToken, handoff: Handoff) {
        let inner = &self.inner;
        if matches!(inner.store, Store::Sqlite(_)) {
            // SQLite has one Herald process: leases left are from a crash.
            match inner.store.release_all_leases(Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "resumed deliveries interrupted by a crash"),
                Err(e) => tracing::error!(error = %e, "releasing stale leases"),
            }
        }
        tokio::spawn(listen_for_work(
            inner.store.clone(),
            inner.wake.clone(),
            cancel.clone(),
        ));
        // After the start-up release: a lease handed off from now on is live.
        handoff.attach(&self);
        loop {
            let mut failed = false;
            let mut short_of_room = false;
            let claimed_at = tokio::time::Instant::now();
            loop {
                match self.run_once().await {
                    Ok(round) => {
                        short_of_room = round.short_of_room;
                        if round.started == 0 || !round.more_due {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "claiming deliveries failed");
                        failed = true;
                        break;
                    }
                }
                if cancel.is_cancelled() {
                    break;
                }
            }
            if cancel.is_cancelled() {
                break;
            }
            if failed {
                // The database is failing: wake-ups would only repeat the
                // error at once, so wait a moment whatever arrives.
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(BLOCKED_RECHECK) => continue,
                }
            }
            // Under load, work arrives while the claims run: claim again
            // rather than ask the database when the next retry is due.
            if inner.wake.take_pending() {
                continue;
            }
            // Work left for lack of room is due now: finishing deliveries
            // wake us, and the timer only covers what they do not free.
            let wait = if short_of_room {
                BLOCKED_RECHECK
            } else {
                self.time_to_next_due().await
            };
            let room_freed = async {
                inner.room.woken().await;
                tokio::time::sleep_until(claimed_at + ROOM_RECHECK).await;
            };
            tokio::select! {
                () = cancel.cancelled() => break,
                () = inner.wake.woken() => {},
                () = room_freed, if short_of_room => {},
                () = tokio::time::sleep(wait) => {},
            }
        }
        handoff.detach();
        inner.tasks.close();
        let grace = inner.config.request_timeout + Duration::from_secs(5);
        if tokio::time::timeout(grace, inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("attempts still running at shutdown; their leases will be given back");
        }
        if tokio::time::timeout(SHUTDOWN_FLUSH, self.flush())
            .await
            .is_err()
        {
            tracing::warn!("attempt records still unwritten at shutdown (is the database down?); their deliveries are due again when their leases end");
        }
        match inner
            .store
            .release_deliveries_of(&inner.owner, Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "gave back unfinished deliveries"),
            Err(e) => tracing::error!(error = %e, "giving back leases at shutdown"),
        }
    }

    /// How long to sleep when nothing more can be claimed right now.
    async fn time_to_next_due(&self) -> Duration {
        let next = match self.inner.store.next_due_at().await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "reading the next due time");
                return Duration::from_secs(1);
            }
        };
        let Some(next) = next else {
            return IDLE_RECHECK;
        };
        match (next - Utc::now()).to_std() {
            Ok(until) if !until.is_zero() => until.min(IDLE_RECHECK),
            // Due now, yet nothing could be claimed: its endpoint or our
            // capacity is full, or an earlier event with its ordering key is
            // still pending. A finishing attempt wakes us; the timer only
            // covers work that another process holds back.
            _ => BLOCKED_RECHECK,
        }
    }
}

/// Wakes the dispatcher when another process commits new work (PostgreSQL only).
async fn listen_for_work(store: Store, wake: Wakeup, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        match store.listen_for_work().await {
            Ok(None) => return,
            Ok(Some(mut listener)) => loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    notification = listener.recv() => match notification {
                        Ok(()) => wake.wake(),
                        Err(e) => {
                            tracing::warn!(error = %e, "notification connection lost");
                            break;
                        }
                    },
                }
            },
            Err(e) => tracing::warn!(error = %e, "connecting the notification listener"),
        }
        // The timer still finds work meanwhile; reconnect shortly.
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(2)) => {},
        }
    }
}
