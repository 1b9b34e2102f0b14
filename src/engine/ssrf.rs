//! TEMPORARY scaffold until the real module lands.
pub fn parse_allowed_cidrs(s: &str) -> Result<Vec<ipnet::IpNet>, String> { s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| p.parse().map_err(|_| format!("bad `{p}`"))).collect() }
