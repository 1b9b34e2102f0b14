//! Slows password guessing: at most so many log-in attempts in a window for
//! one account or from one client address; further attempts are refused
//! (even with the right password) until the oldest leaves the window.
//!
//! An attempt is counted *before* its password is checked (`reserve`), so a
//! burst of concurrent guesses lets at most the limit through to argon2;
//! a successful log-in gives its place back (`succeeded`).
//!
//! The counts live in this process's memory. With several Herald processes
//! behind one load balancer each keeps its own, so the effective limit is
//! multiplied by the number of processes; argon2 keeps each guess expensive
//! regardless. The address is the TCP peer: behind a reverse proxy that is
//! the proxy, and the per-account limit is what still holds.

use super::rate_limits::{client_key, whole_seconds};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Log-in attempts allowed per account within the window.
pub const FAILURES_PER_ACCOUNT: usize = 10;
/// Log-in attempts allowed per client address within the window (higher:
/// an office behind one address has many people who mistype).
pub const FAILURES_PER_ADDRESS: usize = 30;
/// How far back attempts count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, idle ones are swept.
const SWEEP_ABOVE: usize = 10_000;
/// The most keys ever tracked. Keys are only added by attempts that go on
/// to argon2, which runs a few at a time (`password::HASHING_AT_ONCE`), so
/// a window cannot fill this in practice; if it ever is full, new keys are
/// refused rather than old ones forgotten (forgetting would reset the
/// count of an account under attack).
const MAX_TRACKED: usize = 100_000;
/// Emails longer than this cannot be valid; a longer key is cut here so a
/// made-up megabyte of "email" costs no more memory than a real one.
const MAX_ACCOUNT_KEY: usize = 254;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// The attempt counts, shared by every clone.
#[derive(Clone, Debug, Default)]
pub struct LoginThrottle {
    attempts: Arc<Mutex<HashMap<Key, VecDeque<Instant>>>>,
}

/// A log-in refused without checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// How long until an attempt will be considered again.
    pub retry_after: Duration,
}

/// An attempt counted and allowed: its password may be checked now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    account: Key,
    address: Option<Key>,
    at: Instant,
}

impl LoginThrottle {
    /// Counts an attempt for `account` (an email as typed) from `address`,
    /// or refuses it when either has used its allowance.
    pub fn reserve(
        &self,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<Reservation, Throttled> {
        self.reserve_at(Instant::now(), account, address)
    }

    /// The attempt succeeded: the account's count starts again, and the
    /// address gets this attempt back (its earlier failures stay: one good
    /// password must not unlock guessing at other accounts).
    pub fn succeeded(&self, reservation: Reservation) {
        let mut attempts = self.lock();
        attempts.remove(&reservation.account);
        if let Some(address) = &reservation.address {
            if let Some(times) = attempts.get_mut(address) {
                if let Some(i) = times.iter().rposition(|t| *t == reservation.at) {
                    times.remove(i);
                }
            }
        }
    }

    fn reserve_at(
        &self,
        now: Instant,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<Reservation, Throttled> {
        let reservation = Reservation {
            account: Key::Account(account_key(account)),
            address: address.map(|ip| Key::Address(client_key(ip))),
            at: now,
        };
        let keys = [
            Some((&reservation.account, FAILURES_PER_ACCOUNT)),
            reservation
                .address
                .as_ref()
                .map(|k| (k, FAILURES_PER_ADDRESS)),
        ];
        let mut attempts = self.lock();
        if attempts.len() > SWEEP_ABOVE {
            attempts.retain(|_, times| {
                forget_older(times, now);
                !times.is_empty()
            });
        }
        let full = attempts.len() >= MAX_TRACKED;
        let mut wait = Duration::ZERO;
        for (key, limit) in keys.iter().flatten() {
            match attempts.get_mut(*key) {
                Some(times) => {
                    forget_older(times, now);
                    if times.len() >= *limit {
                        // Possible again when enough old attempts have aged
                        // out to bring the count under the limit.
                        let freeing = times[times.len() - limit];
                        wait = wait.max((freeing + WINDOW).saturating_duration_since(now));
                    }
                }
                None if full => wait = wait.max(WINDOW),
                None => {}
            }
        }
        if !wait.is_zero() {
            return Err(Throttled {
                retry_after: whole_seconds(wait),
            });
        }
        for (key, _) in keys.into_iter().flatten() {
            attempts.entry(key.clone()).or_default().push_back(now);
        }
        Ok(reservation)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single push or removal), so poisoning is ignored.
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The account an attempt is counted against: the email trimmed and
/// lowercased (as log-in compares it), cut to `MAX_ACCOUNT_KEY` bytes.
fn account_key(email: &str) -> String {
    let mut key = email.trim().to_lowercase();
    if key.len() > MAX_ACCOUNT_KEY {
        let mut end = MAX_ACCOUNT_KEY;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
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
            assert!(
                throttle.reserve_at(at, ME, ip(1)).is_ok(),
                "attempt {}",
                n + 1
            );
        }
        let eleventh = start + Duration::from_secs(10);
        // The first attempt (at 0 s) leaves the window at 60 s: 50 s to go.
        assert_eq!(
            throttle.reserve_at(eleventh, ME, ip(1)),
            Err(Throttled {
                retry_after: Duration::from_secs(50)
            })
        );
        // From another address too: the account is what is being guessed.
        assert!(throttle.reserve_at(eleventh, ME, ip(2)).is_err());
        // The same account however it is typed.
        assert!(throttle
            .reserve_at(eleventh, " ME@Example.TEST ", ip(2))
            .is_err());
        // Another account from the same address is not affected yet.
        assert!(throttle
            .reserve_at(eleventh, "other@example.test", ip(1))
            .is_ok());
        // Once the first attempt has aged out, one more is allowed.
        assert!(throttle.reserve_at(start + WINDOW, ME, ip(1)).is_ok());
    }

    #[test]
    fn a_concurrent_burst_gets_only_the_limit_through() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        // Nothing has failed yet when 100 attempts arrive together: each is
        // counted when reserved, so the eleventh is already refused.
        let allowed = (0..100)
            .filter(|_| throttle.reserve_at(now, ME, ip(1)).is_ok())
            .count();
        assert_eq!(allowed, FAILURES_PER_ACCOUNT);
    }

    #[test]
    fn one_address_guessing_across_accounts_is_limited() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..FAILURES_PER_ADDRESS {
            let account = format!("user{n}@example.test");
            assert!(throttle.reserve_at(now, &account, ip(9)).is_ok());
        }
        assert!(throttle
            .reserve_at(now, "fresh@example.test", ip(9))
            .is_err());
        assert!(throttle
            .reserve_at(now, "fresh@example.test", ip(8))
            .is_ok());
    }

    #[test]
    fn an_ipv6_client_is_one_address_across_its_64() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..FAILURES_PER_ADDRESS {
            let address: IpAddr = format!("2001:db8:0:1::{:x}", n + 1).parse().expect("ip");
            let account = format!("user{n}@example.test");
            assert!(throttle.reserve_at(now, &account, Some(address)).is_ok());
        }
        let another: IpAddr = "2001:db8:0:1:ffff::1".parse().expect("ip");
        assert!(throttle
            .reserve_at(now, "fresh@example.test", Some(another))
            .is_err());
    }

    #[test]
    fn success_forgets_the_account_and_returns_the_addresss_place() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FAILURES_PER_ACCOUNT - 1 {
            throttle.reserve_at(now, ME, ip(1)).expect("allowed");
        }
        let good = throttle.reserve_at(now, ME, ip(1)).expect("allowed");
        throttle.succeeded(good);
        assert!(throttle.reserve_at(now, ME, ip(1)).is_ok());
        // The nine failures and the new attempt still count for the address.
        let address_attempts = throttle.lock()[&Key::Address(IpAddr::from([127, 0, 0, 1]))].len();
        assert_eq!(address_attempts, FAILURES_PER_ACCOUNT);
    }

    #[test]
    fn a_huge_email_costs_a_bounded_key() {
        let throttle = LoginThrottle::default();
        let huge = "a".repeat(1_000_000);
        throttle
            .reserve_at(Instant::now(), &huge, None)
            .expect("allowed");
        let keys = throttle.lock();
        let Some(Key::Account(key)) = keys.keys().next() else {
            panic!("one account key");
        };
        assert_eq!(key.len(), MAX_ACCOUNT_KEY);
    }

    #[test]
    fn memory_is_swept_of_idle_keys() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..=SWEEP_ABOVE {
            throttle
                .reserve_at(start, &format!("spray{n}@example.test"), None)
                .expect("allowed");
        }
        throttle
            .reserve_at(start + WINDOW, ME, None)
            .expect("allowed");
        assert_eq!(throttle.lock().len(), 1);
    }
}
