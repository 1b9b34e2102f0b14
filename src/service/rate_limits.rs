//! Rate limits on what callers can make Herald do: API requests, test
//! events, replays, sign-ups. Each is a keyed GCRA limiter (`governor`):
//! a burst of the limit is allowed, then one more each `1/limit` of the
//! period. A refusal names the limit and the setting that raises it, and
//! says when to come back (`Retry-After`).
//!
//! The counts live in this process's memory: with several Herald processes
//! behind one load balancer each keeps its own, so the effective limit is
//! multiplied by the number of processes. That is enough for what these
//! limits are for (one caller must not flood the others out of one process).

use super::ServiceError;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use herald_app::model::id::MerchantId;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// The period a limit is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Second,
    Minute,
    Hour,
}

impl Per {
    fn quota(self, count: NonZeroU32) -> Quota {
        match self {
            Per::Second => Quota::per_second(count),
            Per::Minute => Quota::per_minute(count),
            Per::Hour => Quota::per_hour(count),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Per::Second => "second",
            Per::Minute => "minute",
            Per::Hour => "hour",
        }
    }
}

/// One limit, per key (a merchant, a client address); off when its count is 0.
pub struct RateLimit<K: Hash + Eq + Clone> {
    limiter: Option<Arc<DefaultKeyedRateLimiter<K>>>,
    /// What is counted, as the refusal says it ("API requests").
    counted: &'static str,
    /// "100 a second per merchant".
    rate: String,
    /// The setting that raises it (`HERALD_API_KEY_RATE`).
    setting: &'static str,
}

impl<K: Hash + Eq + Clone> Clone for RateLimit<K> {
    fn clone(&self) -> Self {
        RateLimit {
            limiter: self.limiter.clone(),
            counted: self.counted,
            rate: self.rate.clone(),
            setting: self.setting,
        }
    }
}

impl<K: Hash + Eq + Clone> fmt::Debug for RateLimit<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limiter {
            Some(_) => write!(f, "RateLimit({} {})", self.counted, self.rate),
            None => write!(f, "RateLimit({} unlimited)", self.counted),
        }
    }
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// At most `count` of `counted` per `per` for each key (`per_key` says
    /// what the key is, for the message); `count` 0 means no limit.
    pub fn new(
        counted: &'static str,
        count: u32,
        per: Per,
        per_key: &str,
        setting: &'static str,
    ) -> Self {
        RateLimit {
            limiter: NonZeroU32::new(count)
                .map(|count| Arc::new(DefaultKeyedRateLimiter::keyed(per.quota(count)))),
            counted,
            rate: format!("{count} a {} {per_key}", per.word()),
            setting,
        }
    }

    /// Counts one for `key`, or refuses with how long to wait.
    pub fn check(&self, key: &K) -> Result<(), ServiceError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = whole_seconds(not_until.wait_time_from(limiter.clock().now()));
            ServiceError::RateLimited {
                message: format!(
                    "Too many {}: the limit is {} ({} raises it). Try again in {} s.",
                    self.counted,
                    self.rate,
                    self.setting,
                    wait.as_secs()
                ),
                retry_after: wait,
            }
        })
    }

    /// Forgets keys whose allowance is whole again, so memory holds only
    /// the keys active within one period.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys are remembered (tests check the sweep).
    pub fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

/// The limits of one Herald process, built from its configuration.
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// Requests made with a merchant's API keys, per merchant.
    pub api_requests: RateLimit<MerchantId>,
    /// Requests made with the platform token.
    pub platform_requests: RateLimit<()>,
    /// Test events a merchant sends (dashboard or `/test`).
    pub test_events: RateLimit<MerchantId>,
    /// Replays and bulk retries a merchant starts.
    pub replays: RateLimit<MerchantId>,
    /// Accounts created from one client address.
    pub sign_ups: RateLimit<IpAddr>,
    /// Operational mails sent to a merchant.
    pub mails: RateLimit<MerchantId>,
}

/// The counts behind `RateLimits` (from `HERALD_*` settings; 0 turns one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub api_key_per_second: u32,
    pub platform_per_second: u32,
    pub test_events_per_minute: u32,
    pub replays_per_hour: u32,
    pub sign_ups_per_hour: u32,
    pub mails_per_hour: u32,
}

impl Default for RateLimitSettings {
    /// Far above what an ordinary merchant does, low enough that one
    /// caller cannot take a process's capacity from the others.
    fn default() -> Self {
        RateLimitSettings {
            api_key_per_second: 100,
            platform_per_second: 0,
            test_events_per_minute: 30,
            replays_per_hour: 30,
            sign_ups_per_hour: 10,
            mails_per_hour: 30,
        }
    }
}

impl RateLimits {
    /// The limiters for `settings`.
    pub fn new(settings: RateLimitSettings) -> Self {
        RateLimits {
            api_requests: RateLimit::new(
                "API requests",
                settings.api_key_per_second,
                Per::Second,
                "per merchant",
                "HERALD_API_KEY_RATE",
            ),
            platform_requests: RateLimit::new(
                "platform requests",
                settings.platform_per_second,
                Per::Second,
                "for the platform token",
                "HERALD_PLATFORM_RATE",
            ),
            test_events: RateLimit::new(
                "test events",
                settings.test_events_per_minute,
                Per::Minute,
                "per merchant",
                "HERALD_TEST_EVENTS_PER_MINUTE",
            ),
            replays: RateLimit::new(
                "replays and bulk retries",
                settings.replays_per_hour,
                Per::Hour,
                "per merchant",
                "HERALD_REPLAYS_PER_HOUR",
            ),
            sign_ups: RateLimit::new(
                "sign-ups",
                settings.sign_ups_per_hour,
                Per::Hour,
                "per client address",
                "HERALD_SIGNUPS_PER_HOUR",
            ),
            mails: RateLimit::new(
                "operational mails",
                settings.mails_per_hour,
                Per::Hour,
                "per merchant",
                "HERALD_MAILS_PER_HOUR",
            ),
        }
    }

    /// Forgets idle keys in every limiter.
    pub fn forget_idle(&self) {
        self.api_requests.forget_idle();
        self.platform_requests.forget_idle();
        self.test_events.forget_idle();
        self.replays.forget_idle();
        self.sign_ups.forget_idle();
        self.mails.forget_idle();
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::new(RateLimitSettings::default())
    }
}

/// The client a per-address limit counts: an IPv4 address, or an IPv6
/// address's /64 (one subscriber's whole allocation, which it can rotate
/// through at will).
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Rounds up to whole seconds, at least one, so "try again in N s" is never early.
pub fn whole_seconds(wait: Duration) -> Duration {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_limit_passes_then_the_refusal_names_the_setting() {
        let limit = RateLimit::new("test events", 3, Per::Minute, "per merchant", "HERALD_X");
        let merchant = MerchantId::generate();
        for n in 0..3 {
            assert!(limit.check(&merchant).is_ok(), "event {}", n + 1);
        }
        let Err(ServiceError::RateLimited {
            message,
            retry_after,
        }) = limit.check(&merchant)
        else {
            panic!("the fourth is refused");
        };
        assert!(message.contains("3 a minute per merchant"), "{message}");
        assert!(message.contains("HERALD_X"), "{message}");
        // One more is allowed every 20 s.
        assert!(
            (Duration::from_secs(1)..=Duration::from_secs(20)).contains(&retry_after),
            "{retry_after:?}"
        );
        // Another merchant has its own allowance.
        assert!(limit.check(&MerchantId::generate()).is_ok());
    }

    #[test]
    fn zero_means_no_limit() {
        let limit = RateLimit::new("platform requests", 0, Per::Second, "", "HERALD_Y");
        for _ in 0..10_000 {
            assert!(limit.check(&()).is_ok());
        }
        assert_eq!(limit.tracked(), 0);
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let limit = RateLimit::new("API requests", 1000, Per::Second, "", "HERALD_Z");
        for _ in 0..50 {
            limit.check(&MerchantId::generate()).expect("allowed");
        }
        assert_eq!(limit.tracked(), 50);
        std::thread::sleep(Duration::from_millis(5));
        limit.forget_idle();
        assert_eq!(limit.tracked(), 0);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(v4), v4);
    }
}
