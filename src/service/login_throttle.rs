//! Slows password guessing: after too many failed log-ins in a window, for
//! one account or from one address, further attempts are refused (even with
//! the right password) until the oldest failure leaves the window.
//!
//! The counts live in this process's memory. With several Herald processes
//! behind one load balancer each keeps its own, so the effective limit is
//! multiplied by the number of processes; argon2 keeps each guess expensive
//! regardless. The address is the TCP peer: behind a reverse proxy that is
//! the proxy, and the per-account limit is what still holds.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed log-ins allowed per account within the window.
pub const FAILURES_PER_ACCOUNT: usize = 10;
/// Failed log-ins allowed per client address within the window (higher: an
/// office behind one address has many people who mistype).
pub const FAILURES_PER_ADDRESS: usize = 30;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, idle ones are swept so memory stays bounded
/// under a spray of made-up emails.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// The failure counts, shared by every clone.
#[derive(Clone, Debug, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<Key, VecDeque<Instant>>>>,
}

/// A log-in refused without checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// How long until an attempt will be considered again.
    pub retry_after: Duration,
}

impl LoginThrottle {
    /// Whether an attempt for `account` (a normalised email) from `address`
    /// may be checked now.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        self.check_at(Instant::now(), account, address)
    }

    /// Counts a failed attempt.
    pub fn record_failure(&self, account: &str, address: Option<IpAddr>) {
        self.record_failure_at(Instant::now(), account, address)
    }

    /// Forgets an account's failures after a successful log-in (the address's
    /// stay: one good password must not unlock guessing at other accounts).
    pub fn record_success(&self, account: &str) {
        self.lock().remove(&Key::Account(account.to_owned()));
    }

    fn check_at(
        &self,
        now: Instant,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<(), Throttled> {
        let mut failures = self.lock();
        let mut wait = Duration::ZERO;
        for (key, limit) in keys(account, address) {
            if let Some(times) = failures.get_mut(&key) {
                forget_older(times, now);
                if times.len() >= limit {
                    // The attempt becomes possible when enough old failures
                    // have aged out to bring the count under the limit.
                    let freeing = times[times.len() - limit];
                    wait = wait.max((freeing + WINDOW).saturating_duration_since(now));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            // Whole seconds, rounded up, so "try again in N s" is never early.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Err(Throttled {
                retry_after: Duration::from_secs(secs.max(1)),
            })
        }
    }

    fn record_failure_at(&self, now: Instant, account: &str, address: Option<IpAddr>) {
        let mut failures = self.lock();
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| {
                forget_older(times, now);
                !times.is_empty()
            });
        }
        for (key, _) in keys(account, address) {
            let times = failures.entry(key).or_default();
            forget_older(times, now);
            times.push_back(now);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single push or removal), so poisoning is ignored.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn keys(account: &str, address: Option<IpAddr>) -> impl Iterator<Item = (Key, usize)> {
    let account = (Key::Account(account.to_owned()), FAILURES_PER_ACCOUNT);
    let address = address.map(|ip| (Key::Address(ip), FAILURES_PER_ADDRESS));
    std::iter::once(account).chain(address)
}

fn forget_older(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "me@example.test";

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, last]))
    }

    #[test]
    fn the_eleventh_attempt_on_one_account_waits_for_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..FAILURES_PER_ACCOUNT {
            let at = start + Duration::from_secs(n as u64);
            assert_eq!(
                throttle.check_at(at, ME, ip(1)),
                Ok(()),
                "attempt {}",
                n + 1
            );
            throttle.record_failure_at(at, ME, ip(1));
        }
        let eleventh = start + Duration::from_secs(10);
        // The first failure (at 0 s) leaves the window at 60 s: 50 s to go.
        assert_eq!(
            throttle.check_at(eleventh, ME, ip(1)),
            Err(Throttled {
                retry_after: Duration::from_secs(50)
            })
        );
        // From another address too: the account is what is being guessed.
        assert!(throttle.check_at(eleventh, ME, ip(2)).is_err());
        // Another account from the same address is not affected yet.
        assert_eq!(
            throttle.check_at(eleventh, "other@example.test", ip(1)),
            Ok(())
        );
        // Once the first failure has aged out, one more attempt is allowed.
        assert_eq!(throttle.check_at(start + WINDOW, ME, ip(1)), Ok(()));
    }

    #[test]
    fn one_address_guessing_across_accounts_is_limited() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..FAILURES_PER_ADDRESS {
            throttle.record_failure_at(now, &format!("user{n}@example.test"), ip(9));
        }
        assert!(throttle.check_at(now, "fresh@example.test", ip(9)).is_err());
        assert_eq!(throttle.check_at(now, "fresh@example.test", ip(8)), Ok(()));
    }

    #[test]
    fn success_forgets_the_account_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FAILURES_PER_ACCOUNT - 1 {
            throttle.record_failure_at(now, ME, ip(1));
        }
        throttle.record_success(ME);
        throttle.record_failure_at(now, ME, ip(1));
        assert_eq!(throttle.check_at(now, ME, ip(1)), Ok(()));
        let address_failures = throttle.lock()[&Key::Address(IpAddr::from([127, 0, 0, 1]))].len();
        assert_eq!(address_failures, FAILURES_PER_ACCOUNT);
    }

    #[test]
    fn memory_is_swept_of_idle_keys() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..=SWEEP_ABOVE {
            throttle.record_failure_at(start, &format!("spray{n}@example.test"), None);
        }
        throttle.record_failure_at(start + WINDOW, ME, None);
        assert_eq!(throttle.lock().len(), 1);
    }
}
