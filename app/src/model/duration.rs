//! Human-readable durations: `250ms`, `5s`, `5m`, `2h`, `1d`, and
//! combinations such as `1h30m`. Used by the configuration and by
//! per-endpoint retry schedules.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("`{0}`: a number needs a unit (ms, s, m, h or d), e.g. 5s")]
    MissingUnit(String),
    #[error("`{0}`: unknown unit (use ms, s, m, h or d)")]
    UnknownUnit(String),
    #[error("`{0}` is not a duration like 5s, 2h or 1h30m")]
    Malformed(String),
    #[error("`{0}` is too long")]
    Overflow(String),
}

/// Parses a duration such as `5s`, `250ms` or `1h30m`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
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
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_owned()))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: u64 = match unit {
            "" => return Err(DurationError::MissingUnit(s.to_owned())),
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(DurationError::UnknownUnit(s.to_owned())),
        };
        total_ms = number
            .checked_mul(scale)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Writes a duration in its shortest form (`90s` → `1m30s`); whole
/// milliseconds round-trip through `parse_duration`.
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 5s "), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("5"),
            Err(DurationError::MissingUnit("5".into()))
        );
        assert_eq!(
            parse_duration("5y"),
            Err(DurationError::UnknownUnit("5y".into()))
        );
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("soon"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::Overflow(_))
        ));
        assert!(parse_duration("eventually")
            .unwrap_err()
            .to_string()
            .contains("eventually"));
    }

    #[test]
    fn formats_shortest_and_round_trips() {
        for (d, text) in [
            (0, "0s"),
            (90_000, "1m30s"),
            (250, "250ms"),
            (7_200_000, "2h"),
            (86_400_000, "1d"),
        ] {
            let d = Duration::from_millis(d);
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d));
        }
    }
}
