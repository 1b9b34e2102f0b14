//! TEMPORARY scaffold until the real module lands.
use std::time::Duration;
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule { steps: Vec<Duration> }
impl Default for RetrySchedule { fn default() -> Self { "0s,5s,5m,30m,2h,5h,10h,10h".parse().unwrap_or(RetrySchedule{steps: vec![]}) } }
impl std::str::FromStr for RetrySchedule { type Err = String; fn from_str(s: &str) -> Result<Self, String> { s.split(',').map(|p| herald_app::model::duration::parse_duration(p).map_err(|e| e.to_string())).collect::<Result<Vec<_>,_>>().map(|steps| RetrySchedule{steps}) } }
impl std::fmt::Display for RetrySchedule { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { let v: Vec<String> = self.steps.iter().map(|d| if d.as_secs() % 3600 == 0 && d.as_secs() > 0 { format!("{}h", d.as_secs()/3600) } else if d.as_secs() % 60 == 0 && d.as_secs() > 0 { format!("{}m", d.as_secs()/60) } else { format!("{}s", d.as_secs()) }).collect(); f.write_str(&v.join(",")) } }
