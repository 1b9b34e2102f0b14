//! The retry schedule and what each outcome does to it (pure).
//!
//! `steps[i]` is the wait before attempt `i + 1`: the default
//! `0s,5s,5m,30m,2h,5h,10h,10h` sends at once, then retries 7 times over
//! about 27.6 hours. Status semantics follow the Standard Webhooks
//! recommendations: 2xx succeeds, 410 Gone stops and disables the endpoint,
//! `Retry-After` on 429/503 is honoured within bounds, and a timeout or a
//! 429 waits at least a minute.

use chrono::{DateTime, Utc};
use herald_app::model::duration::{format_duration, parse_duration};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Most steps a schedule may have.
pub const MAX_STEPS: usize = 20;
/// Longest single wait.
pub const MAX_STEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// The least a timeout or a 429 waits before the next try.
pub const SLOW_DOWN_FLOOR: Duration = Duration::from_secs(60);
/// Jitter moves a wait by up to this fraction either way.
pub const JITTER: f64 = 0.1;

/// The waits before each attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    steps: Vec<Duration>,
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx.
    Success,
    /// Any other status code.
    Status(u16),
    /// No complete answer in time.
    Timeout,
    /// DNS, refused or reset connection.
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// Refused by the destination policy (retried like a connection error:
    /// the operator may open the range, or DNS may change).
    Blocked,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered.
    Done,
    /// Try again after this long.
    RetryIn(Duration),
    /// The schedule is exhausted: the delivery has failed.
    GiveUp,
    /// 410 Gone: fail the delivery and disable the endpoint.
    Gone,
}

impl RetrySchedule {
    /// A schedule from its steps (validated like a parsed one).
    pub fn new(steps: Vec<Duration>) -> Result<Self, String> {
        if steps.is_empty() {
            return Err("needs at least one step".into());
        }
        if steps.len() > MAX_STEPS {
            return Err(format!("has {} steps; at most {MAX_STEPS}", steps.len()));
        }
        if let Some(step) = steps.iter().find(|s| **s > MAX_STEP) {
            return Err(format!(
                "step {} is longer than 7 days",
                format_duration(*step)
            ));
        }
        Ok(RetrySchedule { steps })
    }

    /// How many attempts the schedule allows in all.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.steps.len()).unwrap_or(u32::MAX)
    }

    /// The sum of every wait.
    pub fn total(&self) -> Duration {
        self.steps.iter().sum()
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Duration] {
        &self.steps
    }

    /// What follows an attempt, given how many attempts were made (this one
    /// included), how it ended, any `Retry-After`, and `jitter` in [0, 1)
    /// drawn by the caller. The wait is `step × (1 + 0.1 × (2·jitter − 1))`.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        outcome: &AttemptOutcome,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> NextStep {
        match outcome {
            AttemptOutcome::Success => return NextStep::Done,
            AttemptOutcome::Status(status) if (200..300).contains(status) => return NextStep::Done,
            AttemptOutcome::Status(410) => return NextStep::Gone,
            _ => {}
        }
        let Some(step) = usize::try_from(attempts_made)
            .ok()
            .and_then(|i| self.steps.get(i))
        else {
            return NextStep::GiveUp;
        };
        let factor = 1.0 + JITTER * (2.0 * jitter.clamp(0.0, 1.0) - 1.0);
        let mut wait = step.mul_f64(factor);
        if let (AttemptOutcome::Status(429 | 503), Some(asked)) = (outcome, retry_after) {
            // Honour the receiver's request, but never sooner than the
            // schedule and never more than twice its step.
            wait = asked.clamp(*step, *step * 2);
        }
        if matches!(
            outcome,
            AttemptOutcome::Timeout | AttemptOutcome::Status(429)
        ) {
            wait = wait.max(SLOW_DOWN_FLOOR);
        }
        NextStep::RetryIn(wait)
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        RetrySchedule {
            steps: vec![
                Duration::ZERO,
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(300),
                minutes(600),
                minutes(600),
            ],
        }
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let steps = s
            .split(',')
            .enumerate()
            .map(|(i, step)| {
                parse_duration(step).map_err(|e| format!("step {} (`{}`): {e}", i + 1, step.trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        RetrySchedule::new(steps)
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(|s| format_duration(*s)).collect();
        f.write_str(&steps.join(","))
    }
}

/// Reads a `Retry-After` value: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MID: f64 = 0.5; // no jitter

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn default_schedule_totals_about_28_hours() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.total(), secs(27 * 3600 + 35 * 60 + 5));
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.to_string(), "0s,5s,5m,30m,2h,5h,10h,10h");
        assert_eq!(
            "0s,5s,5m,30m,2h,5h,10h,10h"
                .parse::<RetrySchedule>()
                .unwrap(),
            schedule
        );
    }

    #[test]
    fn parsing_names_the_bad_step() {
        let err = "5s,often".parse::<RetrySchedule>().unwrap_err();
        assert!(err.contains("step 2") && err.contains("often"), "{err}");
        assert!("".parse::<RetrySchedule>().is_err());
        assert!("8d"
            .parse::<RetrySchedule>()
            .unwrap_err()
            .contains("7 days"));
        assert!(vec!["1s"; 21].join(",").parse::<RetrySchedule>().is_err());
    }

    #[test]
    fn success_stops_failure_follows_the_schedule_then_gives_up() {
        let s: RetrySchedule = "0s,5s,1m".parse().unwrap();
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Success, None, MID),
            NextStep::Done
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(204), None, MID),
            NextStep::Done
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(500), None, MID),
            NextStep::RetryIn(secs(5))
        );
        assert_eq!(
            s.next_delay(2, &AttemptOutcome::Connect, None, MID),
            NextStep::RetryIn(secs(60))
        );
        assert_eq!(
            s.next_delay(3, &AttemptOutcome::Status(500), None, MID),
            NextStep::GiveUp
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Tls, None, MID),
            NextStep::RetryIn(secs(5))
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Blocked, None, MID),
            NextStep::RetryIn(secs(5))
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(302), None, MID),
            NextStep::RetryIn(secs(5))
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let s: RetrySchedule = "0s,100s".parse().unwrap();
        let low = s.next_delay(1, &AttemptOutcome::Status(500), None, 0.0);
        let high = s.next_delay(1, &AttemptOutcome::Status(500), None, 0.999);
        assert_eq!(low, NextStep::RetryIn(secs(90)));
        let NextStep::RetryIn(high) = high else {
            panic!("{high:?}")
        };
        assert!(high > secs(109) && high < secs(110), "{high:?}");
    }

    #[test]
    fn gone_disables() {
        let s = RetrySchedule::default();
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(410), None, MID),
            NextStep::Gone
        );
    }

    #[test]
    fn retry_after_is_bounded_by_the_schedule() {
        let s: RetrySchedule = "0s,2m".parse().unwrap();
        let with = |status, after| {
            s.next_delay(1, &AttemptOutcome::Status(status), Some(secs(after)), MID)
        };
        assert_eq!(
            with(503, 10),
            NextStep::RetryIn(secs(120)),
            "never sooner than the step"
        );
        assert_eq!(
            with(503, 180),
            NextStep::RetryIn(secs(180)),
            "honoured within bounds"
        );
        assert_eq!(
            with(503, 9999),
            NextStep::RetryIn(secs(240)),
            "never more than twice the step"
        );
        assert_eq!(
            with(500, 180),
            NextStep::RetryIn(secs(120)),
            "only on 429 and 503"
        );
    }

    #[test]
    fn timeouts_and_429_wait_at_least_a_minute() {
        let s: RetrySchedule = "0s,5s".parse().unwrap();
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Timeout, None, MID),
            NextStep::RetryIn(secs(60))
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(429), None, MID),
            NextStep::RetryIn(secs(60))
        );
        assert_eq!(
            s.next_delay(1, &AttemptOutcome::Status(503), None, MID),
            NextStep::RetryIn(secs(5))
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("120", now), Some(secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
