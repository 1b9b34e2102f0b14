//! Human-readable durations: `250ms`, `5s`, `5m`, `2h`, `1d`, and
//! combinations such as `1h30m`. Used by the configuration and by
//! per-endpoint retry schedules.
//!
//! Only std and thiserror here: this module is also compiled to wasm32 for
//! the dashboard, which shows and edits the same strings. Not `humantime`:
//! it also accepts `5y`, `5sec`, `1.5h`, `1h 30m` and `5µs`, which are
//! refused here, and writes `1m 30s` and `1day` where this writes `1m30s`
//! and `1d`.

use std::fmt::Write as _;
use std::time::Duration;

/// The units, largest first: the order `format_duration` writes them in.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a duration could not be read; variants carry the trimmed input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but whitespace.
    #[error("empty duration: expected something like 5s, 2h or 1h30m")]
    Empty,
    /// A leading `-`.
    #[error("`{0}`: a duration cannot be negative")]
    Negative(String),
    /// A number with nothing after it, e.g. `5`.
    #[error("`{0}`: a number needs a unit (ms, s, m, h or d), e.g. 5s")]
    MissingUnit(String),
    /// Letters that are not one of ms, s, m, h, d.
    #[error("`{0}`: unknown unit `{1}` (use ms, s, m, h or d)")]
    UnknownUnit(String, String),
    /// Anything else: no digits, a fraction, inner spaces, a sign.
    #[error("`{0}` is not a duration like 5s, 2h or 1h30m")]
    Malformed(String),
    /// More milliseconds than a u64 holds.
    #[error("`{0}` is too long")]
    Overflow(String),
}

/// Parses a duration such as `0s`, `5s`, `250ms` or `1h30m`.
///
/// Parts are summed, so `1h90m` is read as 2h30m, as Go and humantime do;
/// `format_duration` writes the canonical form back.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative(s.to_owned()));
    }
    let mut total_ms: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(DurationError::Malformed(s.to_owned()));
        }
        // Only ASCII digits remain, so the only possible failure is size.
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_owned()))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if !rest.is_empty() && !rest.starts_with(|c: char| c.is_ascii_digit()) {
            // `1.5h`, `1h 30m`, `5s!`: say so rather than blame the unit.
            return Err(DurationError::Malformed(s.to_owned()));
        }
        let scale = match unit {
            "" => return Err(DurationError::MissingUnit(s.to_owned())),
            _ => UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, scale)| *scale)
                .ok_or_else(|| DurationError::UnknownUnit(s.to_owned(), unit.to_owned()))?,
        };
        total_ms = number
            .checked_mul(scale)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Writes a duration in its shortest canonical form (`90s` → `1m30s`).
///
/// Sub-millisecond parts are dropped (nothing Herald configures is that
/// fine), so exactly the whole-millisecond durations round-trip through
/// `parse_duration`.
pub fn format_duration(d: Duration) -> String {
    // Saturate rather than panic: 2^64 ms is 584 million years.
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        if ms >= size {
            // Writing to a String cannot fail.
            let _ = write!(out, "{}{unit}", ms / size);
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_units_and_combinations() {
        for (text, want) in [
            ("0s", 0),
            ("0ms", 0),
            (" 5s ", 5_000),
            ("\t5s\n", 5_000),
            ("250ms", 250),
            ("5m", 300_000),
            ("2h", 7_200_000),
            ("1d", 86_400_000),
            ("1h30m", 5_400_000),
            ("1d2h3m4s5ms", 93_784_005),
            ("1h90m", 9_000_000),
            ("007s", 7_000),
        ] {
            assert_eq!(parse_duration(text), Ok(ms(want)), "{text:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        let owned = |s: &str| s.to_owned();
        for (text, want) in [
            ("", DurationError::Empty),
            ("   ", DurationError::Empty),
            ("-5s", DurationError::Negative(owned("-5s"))),
            (" -1h ", DurationError::Negative(owned("-1h"))),
            ("5", DurationError::MissingUnit(owned("5"))),
            ("1h30", DurationError::MissingUnit(owned("1h30"))),
            ("5y", DurationError::UnknownUnit(owned("5y"), owned("y"))),
            (
                "5sec",
                DurationError::UnknownUnit(owned("5sec"), owned("sec")),
            ),
            ("5S", DurationError::UnknownUnit(owned("5S"), owned("S"))),
            ("soon", DurationError::Malformed(owned("soon"))),
            ("+5s", DurationError::Malformed(owned("+5s"))),
            ("1.5h", DurationError::Malformed(owned("1.5h"))),
            ("1h 30m", DurationError::Malformed(owned("1h 30m"))),
            ("h", DurationError::Malformed(owned("h"))),
            ("5s!", DurationError::Malformed(owned("5s!"))),
            ("5µs", DurationError::Malformed(owned("5µs"))),
            (
                "99999999999999999999s",
                DurationError::Overflow(owned("99999999999999999999s")),
            ),
            (
                "18446744073709551615d",
                DurationError::Overflow(owned("18446744073709551615d")),
            ),
            (
                "18446744073709551615ms1ms",
                DurationError::Overflow(owned("18446744073709551615ms1ms")),
            ),
        ] {
            assert_eq!(parse_duration(text), Err(want), "{text:?}");
        }
    }

    #[test]
    fn errors_say_what_and_show_the_input() {
        let message = |s: &str| match parse_duration(s) {
            Err(e) => e.to_string(),
            Ok(d) => panic!("{s:?} parsed as {d:?}"),
        };
        assert!(message("eventually").contains("eventually"));
        assert!(message("-5s").contains("`-5s`") && message("-5s").contains("negative"));
        assert!(message("5").contains("`5`") && message("5").contains("needs a unit"));
        assert!(message("5y").contains("`5y`") && message("5y").contains("unknown unit `y`"));
        assert!(message("9999999999999999999d").contains("too long"));
        assert!(message("").contains("empty"));
    }

    #[test]
    fn formats_shortest_and_round_trips() {
        for (d, text) in [
            (0, "0s"),
            (90_000, "1m30s"),
            (250, "250ms"),
            (1_500, "1s500ms"),
            (7_200_000, "2h"),
            (86_400_000, "1d"),
            (93_784_005, "1d2h3m4s5ms"),
            (18_000_000, "5h"),
            (u64::MAX, "213503982334d14h25m51s615ms"),
        ] {
            assert_eq!(format_duration(ms(d)), text);
            assert_eq!(parse_duration(text), Ok(ms(d)));
        }
        // Canonicalises what it is given.
        let canonical = |s: &str| parse_duration(s).map(format_duration);
        assert_eq!(canonical("90s"), Ok("1m30s".to_owned()));
        assert_eq!(canonical("1h90m"), Ok("2h30m".to_owned()));
        assert_eq!(canonical("60m"), Ok("1h".to_owned()));
    }

    #[test]
    fn drops_sub_millisecond_parts_and_saturates() {
        assert_eq!(format_duration(Duration::from_micros(999)), "0s");
        assert_eq!(format_duration(Duration::from_micros(1_500)), "1ms");
        assert_eq!(
            format_duration(Duration::MAX),
            format_duration(ms(u64::MAX))
        );
    }
}
