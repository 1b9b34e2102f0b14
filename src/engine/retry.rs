//! The retry schedule and what each outcome does to it. Pure: the caller
//! supplies the clock and the randomness, so every rule has a fixed-vector
//! test. Status rules follow the Standard Webhooks recommendations.

use chrono::{DateTime, NaiveDateTime, Utc};
use herald_app::model::duration::{format_duration, parse_duration, DurationError};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Most steps a schedule may have: more is a misconfiguration, not resilience.
pub const MAX_STEPS: usize = 20;
/// Longest single wait; beyond a week the event is stale for any merchant.
pub const MAX_STEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// The least a timeout or a 429 waits before the next try.
pub const SLOW_DOWN_FLOOR: Duration = Duration::from_secs(60);
/// Jitter moves a wait by up to this fraction either way.
pub const JITTER: f64 = 0.1;

/// The waits before each attempt; always 1..=20 steps of at most 7 days,
/// the first `0s` (the first attempt is sent as soon as the event is in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    steps: Vec<Duration>,
}

/// Why a retry schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// No steps at all.
    #[error("the retry schedule is empty: give comma-separated waits such as 0s,5s,5m")]
    Empty,
    /// More than `MAX_STEPS`.
    #[error("the retry schedule has {0} steps; at most {MAX_STEPS} are allowed")]
    TooManySteps(usize),
    /// Step number `index` (from 1), written `input`, is not a duration.
    #[error("retry schedule step {index} (`{input}`): {error}")]
    BadStep {
        index: usize,
        input: String,
        error: DurationError,
    },
    /// Step number `index` (from 1), written `input`, is over `MAX_STEP`.
    #[error("retry schedule step {index} (`{input}`) is longer than 7 days")]
    TooLong { index: usize, input: String },
    /// The first step, the wait before the first attempt, is not zero.
    #[error(
        "retry schedule step 1 (`{0}`) must be 0s: it is the first attempt, which is always \
         sent at once; the waits before each retry follow (e.g. 0s,5s,5m)"
    )]
    FirstNotZero(String),
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Success,
    /// An answer with this status code (2xx here counts as success too).
    Status(u16),
    /// No complete answer in time.
    Timeout,
    /// DNS failure, refused or reset connection.
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// Refused by the destination policy; retried like a connection error
    /// because the operator may open the range or the DNS answer may change.
    Blocked,
    /// Any other failure (e.g. a malformed response); retried like `Connect`.
    Other,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered: stop.
    Done,
    /// Try again after this long.
    RetryIn(Duration),
    /// The schedule is exhausted: the delivery has failed.
    GiveUp,
    /// The receiver answered 410 Gone: give up now, as for `GiveUp`, and
    /// also disable the endpoint, since it told us it will never accept.
    Gone,
}

impl RetrySchedule {
    /// A schedule from its steps, validated like a parsed one.
    pub fn new(steps: Vec<Duration>) -> Result<Self, ScheduleError> {
        if steps.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if steps.len() > MAX_STEPS {
            return Err(ScheduleError::TooManySteps(steps.len()));
        }
        if let Some(i) = steps.iter().position(|s| *s > MAX_STEP) {
            return Err(ScheduleError::TooLong {
                index: i + 1,
                input: format_duration(steps[i]),
            });
        }
        // Refused rather than ignored: a schedule written `5s,1m` would
        // otherwise send at once and retry once, not what it says.
        if !steps[0].is_zero() {
            return Err(ScheduleError::FirstNotZero(format_duration(steps[0])));
        }
        Ok(RetrySchedule { steps })
    }

    /// The waits, in order.
    pub fn steps(&self) -> &[Duration] {
        &self.steps
    }

    /// How many attempts the schedule allows in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        // At most MAX_STEPS, so this never saturates.
        u32::try_from(self.steps.len()).unwrap_or(u32::MAX)
    }

    /// The sum of every wait, before jitter.
    pub fn total(&self) -> Duration {
        self.steps.iter().sum()
    }

    /// What follows an attempt: 2xx is `Done`, 410 is `Gone`, anything else
    /// waits `step = steps[attempts_made]` (`attempts_made` counts the attempt
    /// just made) or, past the last step, `GiveUp`.
    ///
    /// The wait is `round_ms(step × (1 + 0.1 × (2·jitter − 1)))` for `jitter`
    /// in [0, 1) drawn by the caller: 0.9 × step at 0, just under 1.1 × step
    /// near 1 (out-of-range values are clamped, NaN counts as 0). A
    /// `Retry-After` on 429/503 replaces it, clamped to [step, 2 × step].
    /// Last, a timeout or a 429 waits at least `SLOW_DOWN_FLOOR`.
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
            .copied()
        else {
            return NextStep::GiveUp;
        };
        let mut wait = jittered(step, jitter);
        if let (AttemptOutcome::Status(429 | 503), Some(asked)) = (outcome, retry_after) {
            // Honour the receiver's request, but never sooner than the
            // schedule and never so late that one header stalls delivery.
            wait = asked.clamp(step, step.saturating_mul(2));
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

/// `step` moved by up to ±10%, in whole milliseconds (what the store keeps).
fn jittered(step: Duration, jitter: f64) -> Duration {
    // Negative and NaN count as 0: a NaN fails every comparison.
    let jitter = if jitter >= 0.0 { jitter.min(1.0) } else { 0.0 };
    let factor = 1.0 + JITTER * (2.0 * jitter - 1.0);
    // Steps are at most 7 days, far inside f64's exact integer range; the
    // cast saturates rather than panicking in any case.
    let ms = (step.as_millis() as f64 * factor).round();
    Duration::from_millis(ms as u64)
}

impl Default for RetrySchedule {
    /// `0s,5s,5m,30m,2h,5h,10h,10h`: 8 attempts over 27h35m5s.
    fn default() -> Self {
        let seconds = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
        RetrySchedule {
            steps: seconds.map(Duration::from_secs).to_vec(),
        }
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;

    /// Reads `0s,5s,5m`; spaces around steps are allowed.
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        if s.trim().is_empty() {
            return Err(ScheduleError::Empty);
        }
        let steps = s
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, part)| {
                parse_duration(part).map_err(|error| ScheduleError::BadStep {
                    index: i + 1,
                    input: part.to_owned(),
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        RetrySchedule::new(steps)
    }
}

impl fmt::Display for RetrySchedule {
    /// Writes the canonical comma list that `from_str` reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(|s| format_duration(*s)).collect();
        f.write_str(&steps.join(","))
    }
}

/// Reads a `Retry-After` value relative to `now`: delta-seconds, or an
/// HTTP-date (IMF-fixdate, plus the obsolete RFC 850 and asctime forms that
/// RFC 9110 still asks recipients to accept). A date in the past means zero.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    // Digits only: `u64::from_str` would also take a `+` sign.
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits means "very late", which `next_delay` bounds anyway.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptOutcome::*;

    const MID: f64 = 0.5; // exactly no jitter

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn retry_in(s: u64) -> NextStep {
        NextStep::RetryIn(secs(s))
    }

    fn schedule(s: &str) -> RetrySchedule {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn refused(s: &str) -> ScheduleError {
        match s.parse::<RetrySchedule>() {
            Err(e) => e,
            Ok(ok) => panic!("{s:?} parsed as {ok}"),
        }
    }

    #[test]
    fn default_schedule_sums_to_27h35m5s_and_runs_out() {
        let s = RetrySchedule::default();
        assert_eq!(s.total(), secs(27 * 3600 + 35 * 60 + 5));
        assert_eq!(format_duration(s.total()), "1d3h35m5s");
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(s.to_string(), "0s,5s,5m,30m,2h,5h,10h,10h");
        assert_eq!(schedule("0s,5s,5m,30m,2h,5h,10h,10h"), s);
        assert_eq!(schedule(" 0s , 5s,300s,30m,120m,5h,10h,600m "), s);
        // 8 attempts: the first at once, then 7 waits, then give up.
        let waits: Vec<_> = (1..=8)
            .map(|n| s.next_delay(n, &Connect, None, MID))
            .collect();
        let expected = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000].map(retry_in);
        assert_eq!(waits, [&expected[..], &[NextStep::GiveUp]].concat());
        let once = schedule("0s");
        assert_eq!(once.next_delay(1, &Connect, None, MID), NextStep::GiveUp);
    }

    #[test]
    fn parsing_names_the_bad_step() {
        let twenty_one = ["1s"; 21].join(",");
        for (input, message) in [
            ("", "the retry schedule is empty"),
            ("5s,often", "step 2 (`often`): `often` is not a duration"),
            ("5s,", "step 2 (``): empty duration"),
            ("-1s", "step 1 (`-1s`): `-1s`: a duration cannot be"),
            ("1s,8d", "step 2 (`8d`) is longer than 7 days"),
            (&twenty_one, "has 21 steps; at most 20"),
            ("5s,1m", "step 1 (`5s`) must be 0s: it is the first attempt"),
        ] {
            let got = refused(input).to_string();
            assert!(got.contains(message), "{input:?}: {got}");
        }
        assert_eq!(refused("  "), ScheduleError::Empty);
        let twenty = format!("0s,{}", ["1s"; 19].join(","));
        assert_eq!(schedule(&twenty).max_attempts(), 20);
        assert_eq!(schedule("0s,7d").total(), MAX_STEP);
        assert_eq!(RetrySchedule::new(vec![]), Err(ScheduleError::Empty));
        let long = RetrySchedule::new(vec![secs(0), MAX_STEP + secs(1)]);
        assert!(matches!(long, Err(ScheduleError::TooLong { index: 2, .. })));
    }

    #[test]
    fn each_outcome_follows_its_rule() {
        let s = schedule("0s,5s,5m");
        // (attempts made, outcome, Retry-After seconds, expected)
        for (made, outcome, after, want) in [
            (1, Success, None, NextStep::Done),
            (1, Status(200), None, NextStep::Done),
            (3, Status(299), None, NextStep::Done),
            (1, Status(410), None, NextStep::Gone),
            (3, Status(410), None, NextStep::Gone),
            (1, Status(500), None, retry_in(5)),
            (2, Status(500), None, retry_in(300)),
            (1, Status(302), None, retry_in(5)),
            (1, Status(503), None, retry_in(5)),
            (1, Connect, None, retry_in(5)),
            (1, Tls, None, retry_in(5)),
            (1, Blocked, None, retry_in(5)),
            (1, Other, None, retry_in(5)),
            // A timeout or a 429 waits at least a minute ...
            (1, Timeout, None, retry_in(60)),
            (1, Status(429), None, retry_in(60)),
            (1, Status(429), Some(8), retry_in(60)),
            // ... and leaves longer steps alone.
            (2, Timeout, None, retry_in(300)),
            (2, Status(429), None, retry_in(300)),
            // Retry-After on 429/503: within [step, 2 × step].
            (2, Status(503), Some(10), retry_in(300)),
            (2, Status(503), Some(420), retry_in(420)),
            (2, Status(429), Some(420), retry_in(420)),
            (2, Status(503), Some(9_999), retry_in(600)),
            (2, Status(500), Some(420), retry_in(300)),
            (1, Status(200), Some(420), NextStep::Done),
            // Exhausted: nothing revives it.
            (3, Timeout, None, NextStep::GiveUp),
            (3, Status(503), Some(5), NextStep::GiveUp),
            (u32::MAX, Connect, None, NextStep::GiveUp),
        ] {
            let got = s.next_delay(made, &outcome, after.map(secs), MID);
            assert_eq!(got, want, "{made} {outcome:?} {after:?}");
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let s = schedule("0s,100s,7d");
        let wait = |jitter| s.next_delay(1, &Status(500), None, jitter);
        let ms = |n| NextStep::RetryIn(Duration::from_millis(n));
        assert_eq!(wait(0.0), retry_in(90));
        assert_eq!(wait(0.999), ms(109_980));
        assert_eq!(wait(0.25), retry_in(95));
        assert_eq!(wait(MID), retry_in(100));
        // Out-of-range input is clamped and NaN counts as 0; never a panic.
        assert_eq!(wait(-3.0), retry_in(90));
        assert_eq!(wait(f64::INFINITY), retry_in(110));
        assert_eq!(wait(f64::NAN), retry_in(90));
        // The longest step, both ends; a zero step stays zero.
        assert_eq!(s.next_delay(2, &Connect, None, 0.0), ms(544_320_000));
        assert_eq!(s.next_delay(2, &Connect, None, 0.999), ms(665_159_040));
        let zero = schedule("0s,0s");
        assert_eq!(zero.next_delay(1, &Connect, None, 0.0), retry_in(0));
        // Retry-After replaces jitter: bounded by the bare step.
        let asked = s.next_delay(1, &Status(503), Some(secs(1)), 0.999);
        assert_eq!(asked, retry_in(100));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"));
        for (value, want) in [
            ("120", Some(secs(120))),
            (" 0 ", Some(secs(0))),
            ("99999999999999999999999", Some(secs(u64::MAX))),
            ("Wed, 21 Oct 2015 07:30:00 GMT", Some(secs(120))),
            ("Wednesday, 21-Oct-15 07:30:00 GMT", Some(secs(120))),
            ("Wed Oct 21 07:30:00 2015", Some(secs(120))),
            ("Thu Oct  1 07:28:00 2015", Some(secs(0))),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(secs(0))),
        ] {
            assert_eq!(parse_retry_after(value, now), want, "{value:?}");
        }
        for bad in ["soon", "", "+5", "-5", "1.5", "5 s", "Wed, 32 Oct 2015"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
