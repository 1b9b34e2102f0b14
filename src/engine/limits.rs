//! Isolation inside one process: how many deliveries of each merchant and
//! each endpoint are in flight, and each endpoint's optional rate limit.

use crate::store::Lane;
use herald_app::model::id::{EndpointId, MerchantId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tracks the deliveries this process holds per endpoint (claimed, not yet
/// recorded). A slow endpoint may hold only a few, so it can never tie up the
/// process's capacity; an endpoint that answers fast may hold a deep batch,
/// so a busy merchant is not throttled by claim round trips.
#[derive(Debug)]
pub struct EndpointSlots {
    base: usize,
    deep: usize,
    state: Mutex<HashMap<EndpointId, Held>>,
}

#[derive(Debug, Default)]
struct Held {
    count: usize,
    /// Moving average of recent attempt durations, in milliseconds.
    avg_ms: Option<f64>,
}

/// Below this average, an endpoint counts as fast.
const FAST_MS: f64 = 50.0;

impl EndpointSlots {
    /// Holds up to `base` per endpoint, or `deep` for endpoints that answer fast.
    pub fn new(base: usize, deep: usize) -> Self {
        EndpointSlots {
            base: base.max(1),
            deep: deep.max(base.max(1)),
            state: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, Held>> {
        // The map holds plain counters; a panic elsewhere leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cap(&self, held: &Held) -> usize {
        match held.avg_ms {
            Some(ms) if ms < FAST_MS => self.deep,
            _ => self.base,
        }
    }

    /// Takes a slot for `endpoint` if one is free.
    pub fn try_take(&self, endpoint: &EndpointId) -> bool {
        let mut map = self.map();
        let held = map.entry(endpoint.clone()).or_default();
        if held.count >= self.cap(held) {
            return false;
        }
        held.count += 1;
        true
    }

    /// Gives a slot back, noting how long the attempt took.
    pub fn give_back(&self, endpoint: &EndpointId, took: Option<Duration>) {
        let mut map = self.map();
        if let Some(held) = map.get_mut(endpoint) {
            held.count = held.count.saturating_sub(1);
            if let Some(took) = took {
                let ms = took.as_secs_f64() * 1000.0;
                held.avg_ms = Some(held.avg_ms.map_or(ms, |avg| avg * 0.8 + ms * 0.2));
            }
        }
    }

    /// Endpoints with no free slot: the next claim skips them.
    pub fn full(&self) -> Vec<EndpointId> {
        self.map()
            .iter()
            .filter(|(_, h)| h.count >= self.cap(h))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Places in flight held per merchant in this process, so that one merchant
/// (with many slow or dead endpoints, or a flood of events) can never take
/// the places the others need.
///
/// Three rules: no merchant holds more than `cap` (its share of the
/// process's `total`); while places are scarce (fewer than `cap` free), a
/// merchant already holding an even split of the total takes no more, so
/// the places that free up go to merchants holding fewer: merchants with
/// waiting work are served in turn. The split counts the merchants holding
/// places (the asking one included) and one more, for a merchant whose work
/// is still waiting unseen in the database. And a merchant's retries may
/// hold only half of its limit, so its own new events always find room.
#[derive(Debug)]
pub struct MerchantShares {
    total: usize,
    cap: usize,
    held: Mutex<HashMap<MerchantId, Holding>>,
}

/// What one merchant holds, by lane.
#[derive(Debug, Default, Clone, Copy)]
struct Holding {
    first: usize,
    retries: usize,
}

impl Holding {
    fn all(self) -> usize {
        self.first + self.retries
    }
}

impl MerchantShares {
    /// `cap` of the process's `total` places at most per merchant.
    pub fn new(total: usize, cap: usize) -> Self {
        MerchantShares {
            total: total.max(1),
            cap: cap.clamp(1, total.max(1)),
            held: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<MerchantId, Holding>> {
        // Plain counters: a panic elsewhere leaves them usable.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The most one merchant may hold while `free` places are left and
    /// `holders` merchants (it included) hold some.
    fn limit(&self, holders: usize, free: usize) -> usize {
        if free >= self.cap {
            self.cap
        } else {
            (self.total / (holders + 1)).clamp(1, self.cap)
        }
    }

    /// Whether a merchant holding `held` may take one more place in `lane`.
    fn admits(&self, held: Holding, holders: usize, free: usize, lane: Lane) -> bool {
        let limit = self.limit(holders, free);
        held.all() < limit
            && match lane {
                Lane::First => true,
                Lane::Retry => held.retries < (limit / 2).max(1),
            }
    }

    /// Takes a place in `lane` for `merchant` if it is within its limits,
    /// `free` places being left in the process besides this one.
    pub fn try_take(&self, merchant: &MerchantId, lane: Lane, free: usize) -> bool {
        let mut map = self.map();
        let held = map.get(merchant).copied().unwrap_or_default();
        let holders = map.len() + usize::from(held.all() == 0);
        if !self.admits(held, holders, free, lane) {
            return false;
        }
        let held = map.entry(merchant.clone()).or_default();
        match lane {
            Lane::First => held.first += 1,
            Lane::Retry => held.retries += 1,
        }
        true
    }

    /// Gives a place in `lane` back.
    pub fn give_back(&self, merchant: &MerchantId, lane: Lane) {
        let mut map = self.map();
        if let Some(held) = map.get_mut(merchant) {
            match lane {
                Lane::First => held.first = held.first.saturating_sub(1),
                Lane::Retry => held.retries = held.retries.saturating_sub(1),
            }
            if held.all() == 0 {
                // Only merchants holding places count as holders.
                map.remove(merchant);
            }
        }
    }

    /// Merchants that may take no more in `lane` while `free` places are
    /// left: the next claim of that lane skips their deliveries.
    pub fn busy(&self, lane: Lane, free: usize) -> Vec<MerchantId> {
        let map = self.map();
        let holders = map.len();
        map.iter()
            .filter(|(_, held)| !self.admits(**held, holders, free, lane))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// How many deliveries of each endpoint are sent at once.
#[derive(Debug)]
pub struct SendLimits {
    per_endpoint: usize,
    semaphores: Mutex<HashMap<EndpointId, std::sync::Arc<tokio::sync::Semaphore>>>,
}

impl SendLimits {
    /// At most `per_endpoint` concurrent requests to one endpoint.
    pub fn new(per_endpoint: usize) -> Self {
        SendLimits {
            per_endpoint: per_endpoint.max(1),
            semaphores: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a sending slot of `endpoint`.
    pub async fn acquire(
        &self,
        endpoint: &EndpointId,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let semaphore = {
            let mut map = self
                .semaphores
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Forget endpoints nobody is sending to, so the map stays small.
            map.retain(|_, s| {
                s.available_permits() < self.per_endpoint || std::sync::Arc::strong_count(s) > 1
            });
            map.entry(endpoint.clone())
                .or_insert_with(|| {
                    std::sync::Arc::new(tokio::sync::Semaphore::new(self.per_endpoint))
                })
                .clone()
        };
        semaphore.acquire_owned().await.ok()
    }
}

/// Token buckets for endpoints with a rate limit (requests per second, burst of one second).
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<EndpointId, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    updated: Instant,
}

impl RateLimits {
    /// Reserves one request for `endpoint` at `rate` per second; returns how
    /// long to wait before sending it.
    pub fn reserve(&self, endpoint: &EndpointId, rate: u32, now: Instant) -> Duration {
        let rate = f64::from(rate.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(endpoint.clone()).or_insert(Bucket {
            rate,
            tokens: rate,
            updated: now,
        });
        bucket.rate = rate;
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.updated = now;
        bucket.tokens -= 1.0;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_and_free_and_fast_endpoints_hold_more() {
        let slots = EndpointSlots::new(2, 4);
        let ep = EndpointId::from_u128(1);
        assert!(slots.try_take(&ep));
        assert!(slots.try_take(&ep));
        assert!(!slots.try_take(&ep), "unknown speed: the small cap");
        assert_eq!(slots.full(), vec![ep.clone()]);
        slots.give_back(&ep, Some(Duration::from_millis(3)));
        assert!(slots.full().is_empty());
        for _ in 0..3 {
            assert!(slots.try_take(&ep), "fast: the deep cap");
        }
        assert!(!slots.try_take(&ep));
        for _ in 0..4 {
            slots.give_back(&ep, Some(Duration::from_secs(5)));
        }
        assert!(slots.try_take(&ep));
        assert!(slots.try_take(&ep));
        assert!(!slots.try_take(&ep), "slow again: the small cap");
    }

    #[test]
    fn a_merchant_holds_at_most_its_share() {
        let shares = MerchantShares::new(8, 2);
        let (a, b) = (MerchantId::from_u128(1), MerchantId::from_u128(2));
        assert!(shares.try_take(&a, Lane::First, 7));
        assert!(shares.try_take(&a, Lane::First, 6));
        assert!(
            !shares.try_take(&a, Lane::First, 6),
            "the cap, with places to spare"
        );
        assert_eq!(shares.busy(Lane::First, 6), vec![a.clone()]);
        assert!(
            shares.try_take(&b, Lane::First, 6),
            "another merchant is not held back"
        );
        shares.give_back(&a, Lane::First);
        assert!(
            shares.try_take(&a, Lane::First, 5),
            "a place given back can be taken again"
        );
    }

    #[test]
    fn while_places_are_scarce_merchants_holding_more_than_an_even_split_wait() {
        // 12 places, a share of 6 each; three hogs hold 3 each, 3 are free.
        let shares = MerchantShares::new(12, 6);
        let hogs: Vec<_> = (1..=3).map(MerchantId::from_u128).collect();
        for hog in &hogs {
            for _ in 0..3 {
                assert!(shares.try_take(hog, Lane::First, 12));
            }
        }
        let newcomer = MerchantId::from_u128(9);
        // Fewer places free than a share: the even split for the three
        // holders and one more is 12 / 4 = 3, which each hog holds already.
        assert!(!shares.try_take(&hogs[0], Lane::First, 3));
        let mut busy = shares.busy(Lane::First, 3);
        busy.sort_by(|x, y| x.as_str().cmp(y.as_str()));
        assert_eq!(busy, hogs);
        assert!(
            shares.try_take(&newcomer, Lane::First, 3),
            "a merchant holding nothing is served"
        );
        assert!(shares.try_take(&newcomer, Lane::First, 2));
        // Four holders now: 12 / 5 = 2, which the newcomer holds.
        assert!(!shares.try_take(&newcomer, Lane::First, 1));
        // With room to spare, only the cap counts.
        assert!(shares.try_take(&hogs[0], Lane::First, 6));
    }

    #[test]
    fn a_merchants_retries_leave_half_its_places_to_its_new_events() {
        let shares = MerchantShares::new(16, 4);
        let m = MerchantId::from_u128(1);
        assert!(shares.try_take(&m, Lane::Retry, 15));
        assert!(shares.try_take(&m, Lane::Retry, 14));
        assert!(!shares.try_take(&m, Lane::Retry, 13), "retries: half of 4");
        assert_eq!(shares.busy(Lane::Retry, 13), vec![m.clone()]);
        assert!(shares.busy(Lane::First, 13).is_empty());
        assert!(shares.try_take(&m, Lane::First, 13));
        assert!(shares.try_take(&m, Lane::First, 12));
        assert!(
            !shares.try_take(&m, Lane::First, 12),
            "the cap counts both lanes"
        );
        shares.give_back(&m, Lane::Retry);
        assert!(shares.try_take(&m, Lane::Retry, 12));
    }

    #[test]
    fn rate_limit_spaces_requests() {
        let limits = RateLimits::default();
        let ep = EndpointId::from_u128(1);
        let t = Instant::now();
        // A burst of `rate` goes at once, then one every 1/rate seconds.
        assert_eq!(limits.reserve(&ep, 2, t), Duration::ZERO);
        assert_eq!(limits.reserve(&ep, 2, t), Duration::ZERO);
        let wait = limits.reserve(&ep, 2, t);
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        let wait = limits.reserve(&ep, 2, t + Duration::from_secs(10));
        assert_eq!(wait, Duration::ZERO, "refilled");
    }
}
