//! The destination policy: which addresses deliveries may reach (pure; no
//! socket is ever opened here). Loopback, private, link-local (cloud
//! metadata), unique-local and other special ranges are refused unless an
//! operator lists them in `HERALD_ALLOWED_PRIVATE_CIDRS`.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which kind of address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    Loopback,
    Unspecified,
    Private,
    SharedAddressSpace,
    LinkLocal,
    UniqueLocal,
    Multicast,
    Broadcast,
    Documentation,
    Reserved,
}

impl fmt::Display for RangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RangeKind::Loopback => "a loopback address",
            RangeKind::Unspecified => "an unspecified address",
            RangeKind::Private => "a private address",
            RangeKind::SharedAddressSpace => "a carrier-grade NAT address",
            RangeKind::LinkLocal => "a link-local address (cloud metadata lives here)",
            RangeKind::UniqueLocal => "a unique-local IPv6 address",
            RangeKind::Multicast => "a multicast address",
            RangeKind::Broadcast => "the broadcast address",
            RangeKind::Documentation => "a documentation address",
            RangeKind::Reserved => "a reserved address",
        })
    }
}

/// Why an address is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedReason {
    pub address: IpAddr,
    pub kind: RangeKind,
}

impl fmt::Display for BlockedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.address, self.kind)
    }
}

/// The allow-list of special ranges; everything else public is allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// A policy that opens exactly the listed ranges.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        AddressPolicy { allowed }
    }

    /// Allows `ip`, or says why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedReason> {
        // An IPv6 form of an IPv4 address is judged as that IPv4 address.
        let effective = embedded_v4(ip).map(IpAddr::V4).unwrap_or(ip);
        if self
            .allowed
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&effective))
        {
            return Ok(());
        }
        match special_kind(effective).or_else(|| special_kind(ip)) {
            Some(kind) => Err(BlockedReason { address: ip, kind }),
            None => Ok(()),
        }
    }
}

/// The IPv4 address carried inside an IPv6 one: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

fn special_kind(ip: IpAddr) -> Option<RangeKind> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<RangeKind> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => RangeKind::Loopback,
        _ if ip.is_unspecified() => RangeKind::Unspecified,
        _ if ip.is_broadcast() => RangeKind::Broadcast,
        (0, _, _) => RangeKind::Reserved,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => RangeKind::Private,
        (100, 64..=127, _) => RangeKind::SharedAddressSpace,
        (169, 254, _) => RangeKind::LinkLocal,
        (192, 0, 0) | (198, 18..=19, _) => RangeKind::Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => RangeKind::Documentation,
        (224..=239, _, _) => RangeKind::Multicast,
        (240..=255, _, _) => RangeKind::Reserved,
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<RangeKind> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_loopback() => RangeKind::Loopback,
        _ if ip.is_unspecified() => RangeKind::Unspecified,
        0xfc00..=0xfdff => RangeKind::UniqueLocal,
        0xfe80..=0xfebf => RangeKind::LinkLocal,
        0xfec0..=0xfeff => RangeKind::Reserved,
        0xff00..=0xffff => RangeKind::Multicast,
        0x2001 if s[1] == 0x0db8 => RangeKind::Documentation,
        0x0100 if s[1..4] == [0, 0, 0] => RangeKind::Reserved,
        _ => return None,
    })
}

/// Parses `HERALD_ALLOWED_PRIVATE_CIDRS`: comma-separated CIDRs or bare
/// addresses (a single host); empty means none.
pub fn parse_allowed_cidrs(s: &str) -> Result<Vec<IpNet>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not a CIDR like 10.0.0.0/8 or an IP address"))
        })
        .collect()
}

/// Recognises a host that is an IP address in any spelling a resolver or
/// URL parser may accept: dotted quad, IPv6 (bracketed or not), and the
/// legacy IPv4 forms — decimal `2130706433`, hex `0x7f000001`, octal
/// `0177.0.0.1`, short `127.1`, mixed `0x7f.1`.
pub fn literal_host_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    legacy_ipv4(host).map(IpAddr::V4)
}

/// inet_aton(3) rules: 1 to 4 parts, each decimal, `0x` hex or `0` octal;
/// the last part fills the remaining bytes.
fn legacy_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<u64> = host.split('.').map(parse_part).collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let (head, last) = parts.split_at(parts.len() - 1);
    if head.iter().any(|p| *p > 255) {
        return None;
    }
    let last_bits = 8 * (4 - head.len() as u32);
    if last[0] >= 1u64 << last_bits {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(last[0], |acc, (i, p)| acc | (p << (24 - 8 * i as u32)));
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn parse_part(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        return (radix == 16).then_some(0);
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|v| *v <= u64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_every_special_range() {
        let policy = AddressPolicy::default();
        for (addr, kind) in [
            ("127.0.0.1", RangeKind::Loopback),
            ("127.255.0.9", RangeKind::Loopback),
            ("0.0.0.0", RangeKind::Unspecified),
            ("10.1.2.3", RangeKind::Private),
            ("172.16.0.1", RangeKind::Private),
            ("172.31.255.255", RangeKind::Private),
            ("192.168.1.1", RangeKind::Private),
            ("100.64.0.1", RangeKind::SharedAddressSpace),
            ("169.254.169.254", RangeKind::LinkLocal),
            ("224.0.0.1", RangeKind::Multicast),
            ("255.255.255.255", RangeKind::Broadcast),
            ("240.0.0.1", RangeKind::Reserved),
            ("0.1.2.3", RangeKind::Reserved),
            ("192.0.2.10", RangeKind::Documentation),
            ("::1", RangeKind::Loopback),
            ("::", RangeKind::Unspecified),
            ("fc00::1", RangeKind::UniqueLocal),
            ("fd12:3456::1", RangeKind::UniqueLocal),
            ("fe80::1", RangeKind::LinkLocal),
            ("ff02::1", RangeKind::Multicast),
            ("::ffff:127.0.0.1", RangeKind::Loopback),
            ("::ffff:169.254.169.254", RangeKind::LinkLocal),
            ("::ffff:10.0.0.1", RangeKind::Private),
            ("64:ff9b::a9fe:a9fe", RangeKind::LinkLocal),
            ("2002:7f00:1::", RangeKind::Loopback),
            ("::127.0.0.1", RangeKind::Loopback),
        ] {
            let err = policy.check(ip(addr)).unwrap_err();
            assert_eq!(err.kind, kind, "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let policy = AddressPolicy::default();
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1",
            "::ffff:93.184.216.34",
        ] {
            assert_eq!(policy.check(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_lists() {
        let policy = AddressPolicy::new(parse_allowed_cidrs("127.0.0.1/32").unwrap());
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(
            policy.check(ip("::ffff:127.0.0.1")),
            Ok(()),
            "the mapped form of an allowed v4"
        );
        assert!(policy.check(ip("127.0.0.2")).is_err());
        assert!(policy.check(ip("::1")).is_err());
        assert!(policy.check(ip("169.254.169.254")).is_err());

        let policy = AddressPolicy::new(parse_allowed_cidrs("10.0.0.0/8, fd00::/8").unwrap());
        assert_eq!(policy.check(ip("10.9.9.9")), Ok(()));
        assert_eq!(policy.check(ip("fd00::5")), Ok(()));
        assert!(policy.check(ip("192.168.0.1")).is_err());
    }

    #[test]
    fn allowed_cidrs_parse_with_clear_errors() {
        assert_eq!(parse_allowed_cidrs("").unwrap(), vec![]);
        assert_eq!(
            parse_allowed_cidrs(" 127.0.0.1 ").unwrap(),
            vec!["127.0.0.1/32".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            parse_allowed_cidrs("::1").unwrap(),
            vec!["::1/128".parse::<IpNet>().unwrap()]
        );
        let err = parse_allowed_cidrs("10.0.0.0/8,bogus").unwrap_err();
        assert!(err.contains("bogus"), "{err}");
        assert!(parse_allowed_cidrs("10.0.0.0/33").is_err());
    }

    #[test]
    fn legacy_spellings_are_recognised() {
        let loopback = ip("127.0.0.1");
        for spelling in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0177.0.0.1",
            "127.1",
            "127.0.1",
            "0x7f.1",
            "0x7F.0.0.1",
            "[::ffff:127.0.0.1]",
        ] {
            let found = literal_host_ip(spelling).unwrap_or_else(|| panic!("{spelling}"));
            let found = embedded_v4(found).map(IpAddr::V4).unwrap_or(found);
            assert_eq!(found, loopback, "{spelling}");
        }
        assert_eq!(literal_host_ip("2852039166"), Some(ip("169.254.169.254")));
        assert_eq!(literal_host_ip("0xa9fea9fe"), Some(ip("169.254.169.254")));
        assert_eq!(literal_host_ip("[::1]"), Some(ip("::1")));
        for name in [
            "example.com",
            "api.merchant.test",
            "1.2.3.4.5",
            "256.0.0.1",
            "08.0.0.1",
        ] {
            assert_eq!(literal_host_ip(name), None, "{name}");
        }
    }
}
