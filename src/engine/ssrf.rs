//! The destination policy (pure; no socket is ever opened here): special
//! ranges are refused unless listed in `HERALD_ALLOWED_PRIVATE_CIDRS`, so a
//! merchant cannot point Herald at the platform's own network or metadata;
//! and only the ports in `HERALD_ALLOWED_PORTS` are open on other hosts, so
//! Herald cannot be made to talk to a public mail, database or SSH server.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which kind of special address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// 127/8, ::1.
    Loopback,
    /// 0.0.0.0, :: (Linux connects these to the local host).
    Unspecified,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64/10, carrier-grade NAT.
    SharedAddressSpace,
    /// 169.254/16 (cloud metadata), fe80::/10.
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 0/8, 240/4, protocol and benchmarking ranges, IPv6 outside 2000::/3.
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

/// Why an address is refused: "127.0.0.2 is a loopback address".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedReason {
    /// The address as it was checked.
    pub address: IpAddr,
    /// The range it falls in.
    pub kind: RangeKind,
    /// The IPv4 address it was judged as, when it is an IPv6 form of one.
    pub embedded: Option<Ipv4Addr>,
}

impl fmt::Display for BlockedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (address, kind) = (self.address, self.kind);
        let via = self.embedded.map(|v4| format!(" (it embeds {v4})"));
        write!(f, "{address} is {kind}{}", via.unwrap_or_default())
    }
}

/// The ports open on destinations outside the private allow-list unless
/// `HERALD_ALLOWED_PORTS` says otherwise: the web's.
pub const DEFAULT_ALLOWED_PORTS: [u16; 4] = [80, 443, 8080, 8443];

/// The ports deliveries may use on hosts outside the private allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedPorts(pub Vec<u16>);

impl Default for AllowedPorts {
    fn default() -> Self {
        AllowedPorts(DEFAULT_ALLOWED_PORTS.to_vec())
    }
}

impl AllowedPorts {
    /// Whether `port` is listed.
    pub fn contains(&self, port: u16) -> bool {
        self.0.contains(&port)
    }
}

impl fmt::Display for AllowedPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(u16::to_string).collect();
        f.write_str(&list.join(","))
    }
}

/// Why a port was refused: it is not in `HERALD_ALLOWED_PORTS`, and the
/// destination is not inside `HERALD_ALLOWED_PRIVATE_CIDRS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRefused {
    pub port: u16,
    pub allowed: AllowedPorts,
}

impl fmt::Display for PortRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "port {} is not open for deliveries on this server (HERALD_ALLOWED_PORTS={})",
            self.port, self.allowed
        )
    }
}

/// The allow-list of special ranges (every public address is allowed) and
/// the ports open on destinations outside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
    ports: AllowedPorts,
}

impl AddressPolicy {
    /// A policy that opens exactly the listed ranges (and the default ports).
    pub fn new(allowed: Vec<IpNet>) -> Self {
        AddressPolicy {
            allowed,
            ports: AllowedPorts::default(),
        }
    }

    /// The same ranges, with `ports` open outside them.
    pub fn with_ports(self, ports: AllowedPorts) -> Self {
        AddressPolicy { ports, ..self }
    }

    /// Whether `port` is open on every destination the address policy allows.
    pub fn port_is_open(&self, port: u16) -> bool {
        self.ports.contains(port)
    }

    /// Whether any private range is listed (a name might resolve into one).
    pub fn lists_private_ranges(&self) -> bool {
        !self.allowed.is_empty()
    }

    /// Allows `port` on `address` (an address the address policy allows):
    /// any port inside the private allow-list, the listed ports elsewhere.
    pub fn check_port(&self, address: IpAddr, port: u16) -> Result<(), PortRefused> {
        if self.port_is_open(port) || self.is_listed(address) {
            Ok(())
        } else {
            Err(self.refuse_port(port))
        }
    }

    /// Allows `port` on a host name before it is resolved: an unlisted port
    /// can only be right when some private range is listed (the name may
    /// resolve into it; the check after DNS decides).
    pub fn check_name_port(&self, port: u16) -> Result<(), PortRefused> {
        if self.port_is_open(port) || self.lists_private_ranges() {
            Ok(())
        } else {
            Err(self.refuse_port(port))
        }
    }

    fn refuse_port(&self, port: u16) -> PortRefused {
        PortRefused {
            port,
            allowed: self.ports.clone(),
        }
    }

    /// Allows `ip`, or says why not.
    pub fn check(&self, address: IpAddr) -> Result<(), BlockedReason> {
        match classify(address) {
            Some((kind, embedded)) if !self.is_listed(address) => Err(BlockedReason {
                address,
                kind,
                embedded,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `ip` is inside the private allow-list (the addresses a
    /// delivery on an unlisted port may reach).
    pub fn is_listed(&self, ip: IpAddr) -> bool {
        // `::ffff:a.b.c.d` is the same host as a.b.c.d on a dual-stack
        // socket, so an allowed v4 opens it. NAT64, 6to4 and Teredo forms go
        // through a translator or a tunnel, so they stay closed.
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allowed
            .iter()
            .any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    }
}

/// The special range `ip` is in, if any, and the IPv4 address it was
/// judged as when it is an IPv6 form of one.
fn classify(ip: IpAddr) -> Option<(RangeKind, Option<Ipv4Addr>)> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4).map(|kind| (kind, None)),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            // So `::ffff:10.0.0.1` is private and `64:ff9b::8.8.8.8` public.
            Some(v4) => v4_kind(v4).map(|kind| (kind, Some(v4))),
            None => v6_kind(v6).map(|kind| (kind, None)),
        },
    }
}

/// The IPv4 address carried inside an IPv6 one: mapped `::ffff:0:0/96`,
/// translated `::ffff:0:0:0/96`, compatible `::/96` (but not `::` or `::1`),
/// NAT64 `64:ff9b::/96`, 6to4 `2002::/16` and Teredo `2001::/32` (client).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        // Teredo stores the client's address with every bit inverted.
        [0x2001, 0, _, _, _, _, hi, lo] => Some(v4(!hi, !lo)),
        _ => None,
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<RangeKind> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => RangeKind::Unspecified,
        _ if ip.is_broadcast() => RangeKind::Broadcast,
        (127, _, _) => RangeKind::Loopback,
        (0, _, _) => RangeKind::Reserved,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => RangeKind::Private,
        (100, 64..=127, _) => RangeKind::SharedAddressSpace,
        (169, 254, _) => RangeKind::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => RangeKind::Documentation,
        // IETF protocol assignments, the retired 6to4 relay, benchmarking.
        (192, 0, 0) | (192, 88, 99) | (198, 18..=19, _) => RangeKind::Reserved,
        (224..=239, _, _) => RangeKind::Multicast,
        (240..=255, _, _) => RangeKind::Reserved,
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<RangeKind> {
    let s = ip.segments();
    Some(match s {
        _ if ip.is_loopback() => RangeKind::Loopback,
        _ if ip.is_unspecified() => RangeKind::Unspecified,
        [0xfc00..=0xfdff, ..] => RangeKind::UniqueLocal,
        [0xfe80..=0xfebf, ..] => RangeKind::LinkLocal,
        [0xff00..=0xffff, ..] => RangeKind::Multicast,
        [0x2001, 0x0db8, ..] | [0x3fff, 0x0000..=0x0fff, ..] => RangeKind::Documentation,
        [0x2001, 0x0002, 0, ..] => RangeKind::Reserved, // benchmarking
        // Only 2000::/3 is global unicast; the rest (fec0::/10, 100::/64,
        // 64:ff9b:1::/48, unassigned) is never a merchant's server.
        [0x2000..=0x3fff, ..] => return None,
        _ => RangeKind::Reserved,
    })
}

/// Parses `HERALD_ALLOWED_PORTS`: comma-separated ports from 1 to 65535;
/// at least one.
pub fn parse_allowed_ports(s: &str) -> Result<AllowedPorts, String> {
    let mut ports = Vec::new();
    for item in s.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        match item.parse::<u16>() {
            Ok(port) if port > 0 => {
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            _ => return Err(format!("`{item}` is not a port from 1 to 65535")),
        }
    }
    if ports.is_empty() {
        return Err("list at least one port, e.g. 443".into());
    }
    Ok(AllowedPorts(ports))
}

/// Parses `HERALD_ALLOWED_PRIVATE_CIDRS`: comma-separated CIDRs or bare
/// addresses (a bare IP is one host, /32 or /128); empty means none.
pub fn parse_allowed_cidrs(s: &str) -> Result<Vec<IpNet>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                // `10.1.2.3/8` means 10.0.0.0/8; store it that way so it shows so.
                .map(|net| net.trunc())
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not a CIDR like 10.0.0.0/8 or an IP address"))
        })
        .collect()
}

/// The address a host names literally, in any spelling a URL parser or libc
/// may accept, so it is checked before any DNS lookup: dotted quad, IPv6
/// (bracketed or not), and legacy IPv4 — decimal `2130706433`, hex
/// `0x7f000001`, octal `0177.0.0.1`, short `127.1`, mixed `0x7f.1`.
pub fn literal_host_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim();
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    legacy_ipv4(host).map(IpAddr::V4)
}

/// inet_aton(3) and WHATWG URL rules: 1 to 4 parts, each decimal, `0x` hex
/// or `0`-led octal; the last part fills all the remaining bytes.
fn legacy_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<u32> = host.split('.').map(parse_part).collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 255) {
        return None;
    }
    // The last part holds 4 - head.len() bytes.
    let last_bits = 8 * (4 - head.len() as u32);
    if last_bits < 32 && *last >= 1u32 << last_bits {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, p)| acc | (p << (24 - 8 * i as u32)));
    Some(Ipv4Addr::from(value))
}

fn parse_part(part: &str) -> Option<u32> {
    let (digits, radix) = match part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        // WHATWG reads a bare `0x` as zero.
        Some("") => return Some(0),
        Some(hex) => (hex, 16),
        None if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
        None => (part, 10),
    };
    // Checked first because `from_str_radix` would also accept a sign.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn cidrs(s: &str) -> Vec<IpNet> {
        parse_allowed_cidrs(s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// kind | an allow-list that opens the range | addresses in it.
    const RANGES: &str = "
        Loopback           | 127.0.0.0/8                   | 127.0.0.1 127.255.0.9
        Loopback           | ::1                           | ::1
        Unspecified        | 0.0.0.0/32, ::/128            | 0.0.0.0 ::
        Private            | 10.0.0.0/8                    | 10.1.2.3 10.255.255.255
        Private            | 172.16.0.0/12                 | 172.16.0.1 172.31.255.255
        Private            | 192.168.0.0/16                | 192.168.1.1
        SharedAddressSpace | 100.64.0.0/10                 | 100.64.0.1 100.127.255.254
        LinkLocal          | 169.254.0.0/16                | 169.254.169.254 169.254.0.1
        LinkLocal          | fe80::/10                     | fe80::1 febf::1
        UniqueLocal        | fc00::/7                      | fc00::1 fd12:3456::1
        Multicast          | 224.0.0.0/4, ff00::/8         | 224.0.0.1 239.255.255.250 ff02::1
        Broadcast          | 255.255.255.255               | 255.255.255.255
        Documentation      | 192.0.2.0/24, 198.51.100.0/24 | 192.0.2.10 198.51.100.7
        Documentation      | 203.0.113.0/24                | 203.0.113.200
        Documentation      | 2001:db8::/32, 3fff::/20      | 2001:db8::1 3fff::1
        Reserved           | 0.0.0.0/8, 240.0.0.0/4        | 0.1.2.3 240.0.0.1 255.255.255.254
        Reserved           | 192.0.0.0/24, 198.18.0.0/15   | 192.0.0.8 198.18.0.1 198.19.0.1
        Reserved           | 192.88.99.0/24                | 192.88.99.1
        Reserved           | fec0::/10, 100::/64, 4000::/2 | fec0::1 100::1 4000::1
        Reserved           | 64:ff9b:1::/48                | 64:ff9b:1::a00:1
        Loopback           | ::ffff:0:0/96                 | ::ffff:127.0.0.1
        LinkLocal          | 169.254.169.254               | ::ffff:169.254.169.254
        Private            | 10.0.0.0/8                    | ::ffff:10.0.0.1
        Private            | ::ffff:0:0:0/96               | ::ffff:0:10.0.0.1
        Loopback           | ::/96                         | ::127.0.0.1
        Reserved           | ::/96                         | ::0.0.0.2
        LinkLocal          | 64:ff9b::/96                  | 64:ff9b::a9fe:a9fe
        Private            | 64:ff9b::/96                  | 64:ff9b::192.168.0.1
        Loopback           | 2002::/16                     | 2002:7f00:1::
        LinkLocal          | 2002:a9fe:a9fe::/48           | 2002:a9fe:a9fe::1
        Loopback           | 2001::/32                     | 2001:0:4136:e378:8000:63bf:80ff:fffe
    ";

    #[test]
    fn every_special_range_is_blocked_unless_allowed() {
        let closed = AddressPolicy::default();
        for row in RANGES.lines().filter(|row| !row.trim().is_empty()) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let [kind, allow, addrs] = cells[..] else {
                panic!("bad row {row}")
            };
            let open = AddressPolicy::new(cidrs(allow));
            for addr in addrs.split_whitespace() {
                let found = closed.check(ip(addr)).map_err(|r| r.kind);
                assert_eq!(format!("{found:?}"), format!("Err({kind})"), "{addr}");
                assert_eq!(open.check(ip(addr)), Ok(()), "{addr} with {allow}");
            }
        }
    }

    #[test]
    fn public_addresses_pass() {
        let closed = AddressPolicy::default();
        let public = "93.184.216.34 8.8.8.8 1.1.1.1 172.32.0.1 100.128.0.1 169.255.0.1 \
            223.255.255.255 2606:4700::1 2a00:1450:4001::200e ::ffff:93.184.216.34 \
            64:ff9b::5db8:d822 2002:5db8:d822::1 2001:0:4136:e378:8000:63bf:a247:27dd 2001:db9::1";
        for addr in public.split_whitespace() {
            assert_eq!(closed.check(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_lists() {
        let policy = AddressPolicy::new(cidrs("127.0.0.1/32"));
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("::ffff:127.0.0.1")), Ok(()), "mapped");
        let closed = "127.0.0.2 ::1 169.254.169.254 10.0.0.1 ::ffff:127.0.0.2 ::127.0.0.1 \
            64:ff9b::7f00:1 2002:7f00:1::";
        for addr in closed.split_whitespace() {
            assert!(policy.check(ip(addr)).is_err(), "{addr}");
        }
        let reason = |addr: &str| policy.check(ip(addr)).map_err(|r| r.to_string());
        let loopback = "127.0.0.2 is a loopback address";
        assert_eq!(reason("127.0.0.2"), Err(loopback.into()));
        let embeds = "2002:7f00:1:: is a loopback address (it embeds 127.0.0.1)";
        assert_eq!(reason("2002:7f00:1::"), Err(embeds.into()));
        assert!(reason("169.254.169.254").is_err_and(|r| r.contains("metadata")));
        let policy = AddressPolicy::new(cidrs("10.0.0.0/8, fd00::/8"));
        assert_eq!(policy.check(ip("fd00::5")), Ok(()));
        assert!(policy.check(ip("fc00::5")).is_err());
    }

    #[test]
    fn unlisted_ports_are_open_only_inside_the_private_allow_list() {
        let policy = AddressPolicy::new(cidrs("127.0.0.1/32, 10.0.0.0/8"));
        for (addr, port) in [
            ("93.184.216.34", 443),
            ("93.184.216.34", 80),
            ("2606:4700::1", 8443),
            ("93.184.216.34", 8080),
            ("127.0.0.1", 25),
            ("10.1.2.3", 5432),
            ("::ffff:127.0.0.1", 6379),
        ] {
            assert_eq!(policy.check_port(ip(addr), port), Ok(()), "{addr}:{port}");
        }
        for (addr, port) in [("93.184.216.34", 25), ("2606:4700::1", 22), ("8.8.8.8", 53)] {
            let refused = policy.check_port(ip(addr), port).map_err(|r| r.to_string());
            let named = refused.is_err_and(|r| {
                r.contains(&format!("port {port}"))
                    && r.contains("HERALD_ALLOWED_PORTS=80,443,8080,8443")
            });
            assert!(named, "{addr}:{port}");
        }
        let narrow = policy.with_ports(parse_allowed_ports("443").unwrap());
        assert!(narrow.check_port(ip("93.184.216.34"), 80).is_err());
        assert!(narrow.check_port(ip("10.0.0.1"), 80).is_ok());
        assert_eq!(
            narrow.check_name_port(8080),
            Ok(()),
            "may resolve into 10/8"
        );
        let closed = AddressPolicy::default();
        assert_eq!(closed.check_name_port(443), Ok(()));
        assert!(
            closed.check_name_port(25).is_err(),
            "no private range to reach"
        );
    }

    #[test]
    fn allowed_ports_parse_with_clear_errors() {
        assert_eq!(
            parse_allowed_ports(" 443, 80,443 ,").unwrap(),
            AllowedPorts(vec![443, 80])
        );
        assert_eq!(AllowedPorts::default().to_string(), "80,443,8080,8443");
        for bad in ["0", "65536", "http", "-1", "44 3"] {
            let err = parse_allowed_ports(&format!("443,{bad}")).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
        assert!(parse_allowed_ports(" , ").is_err());
    }

    #[test]
    fn allowed_cidrs_parse_with_clear_errors() {
        assert_eq!((cidrs(""), cidrs("  ")), (vec![], vec![]));
        assert_eq!(cidrs(" 127.0.0.1 "), cidrs("127.0.0.1/32"));
        assert_eq!(cidrs("::1"), cidrs("::1/128"));
        // Host bits are dropped so the list shows what it opens.
        assert_eq!(cidrs("10.1.2.3/8 ,fd00::/8"), cidrs("10.0.0.0/8,fd00::/8"));
        assert_eq!(cidrs("10.1.2.3/8")[0].to_string(), "10.0.0.0/8");
        assert_eq!(cidrs("10.0.0.0/8,,192.168.0.0/16").len(), 2);
        for bad in "bogus 10.0.0.0/33 [::1] 127.1 10.0.0.0/8/8".split_whitespace() {
            let err = parse_allowed_cidrs(&format!("10.0.0.0/8, {bad}")).err();
            let named = err.is_some_and(|e| e.contains(&format!("`{bad}` is not a CIDR")));
            assert!(named, "{bad}");
        }
    }

    #[test]
    fn legacy_spellings_are_recognised() {
        let loopback = "127.0.0.1 127.0.0.1. 2130706433 0x7f000001 0X7F000001 0177.0.0.1 \
            0177.0000.0.01 127.1 127.0.1 0x7f.1 0x7F.0.0.1 0x7f.0x0.0x0.0x1 017700000001";
        let closed = AddressPolicy::default();
        for spelling in loopback.split_whitespace().chain([" 127.0.0.1 "]) {
            let found = literal_host_ip(spelling);
            assert_eq!(found, Some(ip("127.0.0.1")), "{spelling}");
            // What URL validation does next: the spelling never sneaks past.
            assert!(found.is_some_and(|addr| closed.check(addr).is_err()));
        }
        let metadata = "169.254.169.254 2852039166 0xa9fea9fe 0251.0376.0251.0376 \
            169.254.43518 169.16689662 0xa9.0xfe.0xa9fe";
        for spelling in metadata.split_whitespace() {
            let found = literal_host_ip(spelling);
            assert_eq!(found, Some(ip("169.254.169.254")), "{spelling}");
        }
        let others = "0=0.0.0.0 0x=0.0.0.0 4294967295=255.255.255.255 127.0.256=127.0.1.0 \
            1572395042=93.184.216.34 [::1]=::1 ::1=::1 [2606:4700::1]=2606:4700::1 \
            [::ffff:127.0.0.1]=::ffff:127.0.0.1";
        for pair in others.split_whitespace() {
            let (spelling, want) = pair.split_once('=').unwrap_or((pair, "?"));
            assert_eq!(literal_host_ip(spelling), Some(ip(want)), "{spelling}");
        }
    }

    #[test]
    fn names_are_not_addresses() {
        let names = "example.com api.merchant.test localhost . 1.2.3.4.5 256.0.0.1 1.256.0.1 \
            127.0.65536 127.16777216 4294967296 08.0.0.1 0x7g.0.0.1 +127.0.0.1 127.+1 -1 127..1 \
            127.0.0.1.. [127.0.0.1] [::1 1e3 0x1.example.com";
        for name in names.split_whitespace().chain([""]) {
            assert_eq!(literal_host_ip(name), None, "{name:?}");
        }
    }
}
