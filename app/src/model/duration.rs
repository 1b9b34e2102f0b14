//! TEMPORARY scaffold until the real module lands.
use std::time::Duration;
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("bad duration `{0}`")]
pub struct DurationError(String);
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| DurationError(s.into()))?);
    let n: u64 = n.parse().map_err(|_| DurationError(s.into()))?;
    Ok(match unit { "ms" => Duration::from_millis(n), "s" => Duration::from_secs(n), "m" => Duration::from_secs(n*60), "h" => Duration::from_secs(n*3600), _ => return Err(DurationError(s.into())) })
}
