//! Per-endpoint isolation inside one process: how many deliveries of each
//! endpoint are in flight, and each endpoint's optional rate limit.

use herald_app::model::id::EndpointId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tracks in-flight deliveries per endpoint against a fixed limit.
#[derive(Debug)]
pub struct EndpointSlots {
    limit: usize,
    in_flight: Mutex<HashMap<EndpointId, usize>>,
}

impl EndpointSlots {
    /// At most `limit` deliveries per endpoint at once.
    pub fn new(limit: usize) -> Self {
        EndpointSlots {
            limit: limit.max(1),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, usize>> {
        // The map holds plain counters; a panic elsewhere leaves it usable.
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a slot for `endpoint` if one is free.
    pub fn try_take(&self, endpoint: &EndpointId) -> bool {
        let mut map = self.map();
        let count = map.entry(endpoint.clone()).or_insert(0);
        if *count >= self.limit {
            return false;
        }
        *count += 1;
        true
    }

    /// Gives a slot back.
    pub fn give_back(&self, endpoint: &EndpointId) {
        let mut map = self.map();
        if let Some(count) = map.get_mut(endpoint) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(endpoint);
            }
        }
    }

    /// Endpoints with no free slot: the next claim skips them.
    pub fn full(&self) -> Vec<EndpointId> {
        self.map()
            .iter()
            .filter(|(_, &n)| n >= self.limit)
            .map(|(id, _)| id.clone())
            .collect()
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
    fn slots_fill_and_free() {
        let slots = EndpointSlots::new(2);
        let ep = EndpointId::from_u128(1);
        assert!(slots.try_take(&ep));
        assert!(slots.try_take(&ep));
        assert!(!slots.try_take(&ep));
        assert_eq!(slots.full(), vec![ep.clone()]);
        slots.give_back(&ep);
        assert!(slots.full().is_empty());
        assert!(slots.try_take(&ep));
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
