//! The names to query: for each configured prefix length, the reverse-zone name
//! of the client's network (rmxsmtpd(8), Where the list is; RFC 1035 §3.5 for
//! in-addr.arpa, RFC 3596 §2.5 for ip6.arpa); the networks a publisher
//! names; host names as people type them; and every name as the log and
//! rmxcheck show it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::Name;

use crate::client;

/// Prefix lengths to look at, most specific first, for each family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefixes {
    pub v4: Vec<u8>,
    pub v6: Vec<u8>,
}

impl Default for Prefixes {
    fn default() -> Prefixes {
        Prefixes {
            v4: vec![24],
            v6: vec![64, 48],
        }
    }
}

/// Parses `-4 24,16`: IPv4 prefixes on octet boundaries, 8 to 32.
pub fn parse_v4(text: &str) -> Result<Vec<u8>, String> {
    parse(text, 8, 32, "IPv4")
}

/// Parses `-6 64,48`: IPv6 prefixes on nibble boundaries, 4 to 128.
pub fn parse_v6(text: &str) -> Result<Vec<u8>, String> {
    parse(text, 4, 128, "IPv6")
}

fn parse(text: &str, step: u8, max: u8, family: &str) -> Result<Vec<u8>, String> {
    let mut prefixes = Vec::new();
    for word in text.split(',') {
        let prefix = word
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|&p| p >= step && p <= max && p % step == 0)
            .ok_or_else(|| {
                format!("{family} prefix {word:?} is not a multiple of {step} from {step} to {max}")
            })?;
        prefixes.push(prefix);
    }
    prefixes.sort_unstable_by(|a, b| b.cmp(a));
    prefixes.dedup();
    Ok(prefixes)
}

/// A network, `198.51.100.0/24`: an address, its host bits cleared, and a
/// prefix length. As a publisher names it ([`Network::parse`]), the length
/// is on a boundary rmxsmtpd queries (octets for IPv4, nibbles for IPv6),
/// and the network has a reverse name; rmxreport's blocks may have any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    pub address: IpAddr,
    pub len: u8,
}

impl Network {
    /// Reads `ADDRESS/LEN`; the address as rmxsmtpd reads a client's. A LEN
    /// off the boundaries that receivers query has no name: the error says
    /// where such a network's list goes instead.
    pub fn parse(text: &str) -> Result<Network, String> {
        let (address, len) = text
            .split_once('/')
            .ok_or_else(|| format!("not a network: {text:?}"))?;
        let address =
            client::address(address).ok_or_else(|| format!("not a network address: {text:?}"))?;
        let lens = match address {
            IpAddr::V4(_) if !len.contains(',') => parse_v4(len),
            IpAddr::V6(_) if !len.contains(',') => parse_v6(len),
            _ => return Err(format!("not one prefix length: {text:?}")),
        };
        let lens = lens.map_err(|error| match len.parse::<u8>() {
            Ok(len) => format!("{error}{}", off_boundary(address, len)),
            Err(_) => error,
        })?;
        Ok(Network::new(address, lens[0]))
    }

    /// The network a reverse name stands for, as rmxreport prints list
    /// names: `0.0.127.in-addr.arpa` is 127.0.0.0/24, a name of N nibbles
    /// under `ip6.arpa` a /4N; case and a final dot do not matter. `None`
    /// for a name under neither; an error for one under them that names
    /// no network on a boundary, such as an RFC 2317 zone.
    pub fn from_reverse_name(word: &str) -> Option<Result<Network, String>> {
        let lower = format!(".{}", word.strip_suffix('.').unwrap_or(word)).to_ascii_lowercase();
        let (labels, v4) = if let Some(labels) = lower.strip_suffix(".in-addr.arpa") {
            (labels, true)
        } else if let Some(labels) = lower.strip_suffix(".ip6.arpa") {
            (labels, false)
        } else {
            return None;
        };
        let labels = labels.strip_prefix('.').unwrap_or(labels);
        let digits: Option<Vec<u8>> = labels
            .rsplit('.')
            .map(|label| {
                if v4 {
                    let leading_zero = label.len() > 1 && label.starts_with('0');
                    (!leading_zero && label.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| label.parse::<u8>().ok())
                        .flatten()
                } else {
                    let mut chars = label.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => c.to_digit(16).and_then(|d| u8::try_from(d).ok()),
                        _ => None,
                    }
                }
            })
            .collect();
        let max = if v4 { 4 } else { 32 };
        let Some(digits) = digits.filter(|d| (1..=max).contains(&d.len())) else {
            let how = if v4 {
                "; an RFC 2317 zone is asked at its hosts' names, by receivers run with \
                 -4 32: check each address with -4 32"
            } else {
                ""
            };
            return Some(Err(format!("not a network's reverse name: {word:?}{how}")));
        };
        let (address, len) = if v4 {
            let mut octets = [0u8; 4];
            octets[..digits.len()].copy_from_slice(&digits);
            (IpAddr::V4(Ipv4Addr::from(octets)), digits.len() * 8)
        } else {
            let bits = digits
                .iter()
                .enumerate()
                .fold(0u128, |bits, (n, &d)| bits | u128::from(d) << (124 - 4 * n));
            (IpAddr::V6(Ipv6Addr::from(bits)), digits.len() * 4)
        };
        Some(Ok(Network::new(
            address,
            u8::try_from(len).expect("at most 128"),
        )))
    }

    /// The network of `len` bits that holds `address`, its host bits
    /// cleared: a CIDR block, on a boundary or not. A `len` past the
    /// address's bits is the whole address.
    pub fn new(address: IpAddr, len: u8) -> Network {
        let len = len.min(if address.is_ipv4() { 32 } else { 128 });
        let address = match address {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(len))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(len))),
        };
        Network { address, len }
    }

    /// Whether `ip` lies inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.address.is_ipv4() && Network::new(ip, self.len) == *self
    }

    /// The name rmxsmtpd queries for every client of the network.
    pub fn name(&self) -> Name {
        let prefixes = Prefixes {
            v4: vec![self.len],
            v6: vec![self.len],
        };
        let (_, name) = reverse_names(self.address, &prefixes).remove(0);
        name
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

/// Where the list of a network whose `len` receivers cannot query goes
/// (rmxcheck(1), Networks): at each name of the next prefix that receivers
/// ask by default; for a network smaller than all of them (an RFC 2317
/// delegation of part of a /24), in the list of the network around it,
/// which is its provider's, or at its hosts' own names, which receivers
/// run with `-4 32` (`-6 128`) ask. Nothing for a `len` out of range.
fn off_boundary(address: IpAddr, len: u8) -> String {
    let defaults = Prefixes::default();
    let (defaults, widest, flag, delegated) = match address {
        IpAddr::V4(_) => (
            defaults.v4,
            32,
            "-4 32",
            ", which RFC 2317 CNAMEs can lead to its zone",
        ),
        IpAddr::V6(_) => (defaults.v6, 128, "-6 128", ""),
    };
    if len == 0 || len > widest {
        return String::new();
    }
    match defaults.iter().copied().filter(|&p| p > len).min() {
        Some(next) => {
            let count = 1u128 << (next - len);
            format!(": a /{len} publishes its list at each of its {count} /{next} names")
        }
        None => {
            let around = defaults.iter().copied().max().unwrap_or(widest);
            format!(
                ": a /{len} has no name; receivers ask its /{around}'s list (its provider's) \
                 or, with {flag}, each host's name{delegated}"
            )
        }
    }
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// The name of `ip`'s PTR records: the reverse name of the whole address.
pub fn pointer_name(ip: IpAddr) -> Name {
    Network {
        address: ip,
        len: if ip.is_ipv4() { 32 } else { 128 },
    }
    .name()
}

/// The names to query for `client`, most specific first, with their prefix.
pub fn reverse_names(client: IpAddr, prefixes: &Prefixes) -> Vec<(u8, Name)> {
    match client {
        IpAddr::V4(v4) => prefixes
            .v4
            .iter()
            .map(|&p| (p, reverse_name(&v4.octets(), p, 8, "in-addr.arpa")))
            .collect(),
        IpAddr::V6(v6) => {
            let nibbles: Vec<u8> = v6.octets().iter().flat_map(|b| [b >> 4, b & 15]).collect();
            prefixes
                .v6
                .iter()
                .map(|&p| (p, reverse_name(&nibbles, p, 4, "ip6.arpa")))
                .collect()
        }
    }
}

/// The first `prefix / bits` digits of the address, in reverse order, as
/// labels under `suffix`.
fn reverse_name(digits: &[u8], prefix: u8, bits: u8, suffix: &str) -> Name {
    let count = usize::from(prefix / bits);
    let mut text = String::with_capacity(count * 4 + suffix.len() + 1);
    for digit in digits[..count].iter().rev() {
        if bits == 4 {
            text.push(char::from_digit(u32::from(*digit), 16).expect("a nibble"));
        } else {
            text.push_str(&digit.to_string());
        }
        text.push('.');
    }
    text.push_str(suffix);
    text.push('.');
    Name::from_ascii(&text).expect("reverse names are valid")
}

/// A name as administrators write it in logs, as it is on the wire: an
/// internationalized name stays `xn--...`, never decoded to Unicode, and
/// there is no final dot.
pub fn shown(name: &Name) -> String {
    let text = name.to_ascii();
    text.strip_suffix('.').map(str::to_string).unwrap_or(text)
}

/// A host name (RFC 1123 §2.1): letters, digits and inner hyphens in each
/// label, and a last label that is not all digits, so that a mistyped
/// address (`1.2.3`) is no name. A final dot is allowed.
pub fn host_name(word: &str) -> Option<Name> {
    let labels = word.strip_suffix('.').unwrap_or(word);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let last = labels.rsplit('.').next()?;
    if labels.len() > 253
        || !labels.split('.').all(label_ok)
        || last.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Name::from_ascii(format!("{labels}.")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(client: &str, prefixes: &Prefixes) -> Vec<String> {
        reverse_names(client.parse().unwrap(), prefixes)
            .into_iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect()
    }

    #[test]
    fn each_family_queries_its_default_prefixes() {
        let default = Prefixes::default();
        assert_eq!(
            names("198.51.100.10", &default),
            ["24 100.51.198.in-addr.arpa."]
        );
        let sixteen = Prefixes {
            v4: vec![16],
            ..Prefixes::default()
        };
        assert_eq!(
            names("198.51.100.10", &sixteen),
            ["16 51.198.in-addr.arpa."]
        );
        assert_eq!(
            names("2001:db8:1:2::25", &default),
            [
                "64 2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                "48 1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
            ]
        );
    }

    #[test]
    fn every_octet_boundary() {
        let all = Prefixes {
            v4: parse_v4("8,16,24,32").unwrap(),
            v6: vec![],
        };
        assert_eq!(
            names("203.0.113.7", &all),
            [
                "32 7.113.0.203.in-addr.arpa.",
                "24 113.0.203.in-addr.arpa.",
                "16 0.203.in-addr.arpa.",
                "8 203.in-addr.arpa."
            ]
        );
    }

    #[test]
    fn full_ipv6_name() {
        let full = Prefixes {
            v4: vec![],
            v6: parse_v6("128").unwrap(),
        };
        let got = names("2001:db8::abcd", &full);
        assert_eq!(
            got,
            ["128 d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."]
        );
    }

    #[test]
    fn networks() {
        let net = |text: &str| Network::parse(text).map(|n| (n.to_string(), n.name().to_string()));
        assert_eq!(
            net("198.51.100.0/24"),
            Ok(("198.51.100.0/24".into(), "100.51.198.in-addr.arpa.".into()))
        );
        // Host bits are cleared; a mapped address is IPv4; a zone is dropped.
        assert_eq!(net("198.51.100.77/16").unwrap().0, "198.51.0.0/16");
        assert_eq!(net("::ffff:198.51.100.9/24").unwrap().0, "198.51.100.0/24");
        assert_eq!(
            net("2001:db8:1:2::/64"),
            Ok((
                "2001:db8:1:2::/64".into(),
                "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.".into()
            ))
        );
        assert_eq!(net("fe80::1%eth0/64").unwrap().0, "fe80::/64");
        assert_eq!(net("0.0.0.0/8").unwrap().1, "0.in-addr.arpa.");
        assert_eq!(net("2001:db8::1/128").unwrap().0, "2001:db8::1/128");
        for bad in [
            "198.51.100.0/20",
            "198.51.100.0/0",
            "198.51.100.0/33",
            "198.51.100.0/24,16",
            "198.51.100.0/",
            "2001:db8::/66",
            "2001:db8::/132",
            "198.51.100/24",
            "host.example/24",
        ] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        let error = Network::parse("198.51.100.0/20").unwrap_err();
        assert!(error.contains("multiple of 8 from 8 to 32"), "{error}");
        let error = Network::parse("2001:db8::/66").unwrap_err();
        assert!(error.contains("multiple of 4 from 4 to 128"), "{error}");
        // Off the boundaries: where such a network publishes instead.
        let said = |text: &str| Network::parse(text).unwrap_err();
        assert!(
            said("198.51.100.0/20")
                .ends_with(": a /20 publishes its list at each of its 16 /24 names"),
            "{}",
            said("198.51.100.0/20")
        );
        let error = said("127.0.8.0/29");
        assert!(
            error.ends_with(": a /29 has no name; receivers ask its /24's list (its provider's) or, with -4 32, each host's name, which RFC 2317 CNAMEs can lead to its zone"),
            "{error}"
        );
        assert!(said("2001:db8::/46").ends_with("each of its 4 /48 names"));
        assert!(said("2001:db8::/62").ends_with("each of its 4 /64 names"));
        assert!(said("2001:db8::/66").ends_with("or, with -6 128, each host's name"));
        assert!(!said("198.51.100.0/33").contains(": a /"));
        assert!(!said("198.51.100.0/0").contains(": a /"));
        let v6 = Network::parse("2001:db8:1:2::/64").unwrap();
        assert!(v6.contains("2001:db8:1:2::25".parse().unwrap()));
        assert!(!v6.contains("2001:db8:1:3::25".parse().unwrap()));
        assert!(!v6.contains("198.51.100.1".parse().unwrap()));
        let v4 = Network::parse("198.51.100.0/24").unwrap();
        assert!(v4.contains("198.51.100.255".parse().unwrap()));
        assert!(!v4.contains("198.51.101.0".parse().unwrap()));
        assert_eq!(
            pointer_name("198.51.100.5".parse().unwrap()).to_string(),
            "5.100.51.198.in-addr.arpa."
        );
    }

    #[test]
    fn reverse_names_as_networks() {
        let net = |text: &str| Network::from_reverse_name(text).map(|n| n.map(|n| n.to_string()));
        let ok = |text: &str| Some(Ok(text.to_string()));
        assert_eq!(net("0.0.127.in-addr.arpa"), ok("127.0.0.0/24"));
        assert_eq!(net("100.51.198.IN-ADDR.ARPA."), ok("198.51.100.0/24"));
        assert_eq!(net("51.198.in-addr.arpa"), ok("198.51.0.0/16"));
        assert_eq!(net("5.100.51.198.in-addr.arpa"), ok("198.51.100.5/32"));
        assert_eq!(net("10.in-addr.arpa"), ok("10.0.0.0/8"));
        assert_eq!(
            net("2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
            ok("2001:db8:1:2::/64")
        );
        assert_eq!(
            net("1.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa."),
            ok("2001:db8:1::/48")
        );
        assert_eq!(net("2.ip6.arpa"), ok("2000::/4"));
        // Each name the publisher's check asks is the name it was given.
        for name in [
            "0.0.127.in-addr.arpa.",
            "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
            "5.100.51.198.in-addr.arpa.",
        ] {
            let network = Network::from_reverse_name(name).unwrap().unwrap();
            assert_eq!(network.name().to_string(), name);
        }
        for other in [
            "mx1.example.net",
            "in-addr.arpa.example",
            "arpa",
            "example.ip6",
        ] {
            assert_eq!(net(other), None, "{other}");
        }
        let nibbles33 = format!("{}ip6.arpa", "0.".repeat(33));
        for bad in [
            "in-addr.arpa",
            ".in-addr.arpa",
            "0-7.8.0.127.in-addr.arpa",
            "256.in-addr.arpa",
            "01.0.127.in-addr.arpa",
            "1.1.1.1.1.in-addr.arpa",
            "x.in-addr.arpa",
            "ip6.arpa",
            "10.0.ip6.arpa",
            "g.ip6.arpa",
            &nibbles33,
        ] {
            assert!(matches!(net(bad), Some(Err(_))), "{bad}");
        }
        let error = net("0-7.8.0.127.in-addr.arpa").unwrap().unwrap_err();
        assert!(error.contains("-4 32"), "{error}");
    }

    #[test]
    fn prefix_parsing() {
        assert_eq!(parse_v4("24"), Ok(vec![24]));
        assert_eq!(parse_v4("16,24,16"), Ok(vec![24, 16]));
        assert_eq!(parse_v6("48, 64"), Ok(vec![64, 48]));
        assert_eq!(parse_v6("4,128,52"), Ok(vec![128, 52, 4]));
        for bad in ["", "0", "20", "25", "33", "40", "x", "24,", "-8", "256"] {
            assert!(parse_v4(bad).is_err(), "-4 {bad:?}");
        }
        for bad in ["", "0", "50", "132", "x", "64,,48"] {
            assert!(parse_v6(bad).is_err(), "-6 {bad:?}");
        }
    }

    #[test]
    fn names_as_shown() {
        let name = |text| Name::from_ascii(text).unwrap();
        assert_eq!(
            shown(&name("100.51.198.in-addr.arpa.")),
            "100.51.198.in-addr.arpa"
        );
        assert_eq!(
            shown(&name("xn--mnchen-3ya.example.")),
            "xn--mnchen-3ya.example"
        );
        assert_eq!(shown(&name("mx.example")), "mx.example");
    }

    #[test]
    fn host_names() {
        for good in ["mx.Example.net.", "mx-1.example", "a", "x1.example.123a"] {
            assert!(host_name(good).is_some(), "{good}");
        }
        let long = format!("{}.example", "a".repeat(64));
        for bad in [
            "-mx.example.net.",
            "mx-.example",
            "mx_1.example.net",
            "mx..example.net",
            "example.123",
            "1.2.3",
            "",
            ".",
            long.as_str(),
        ] {
            assert!(host_name(bad).is_none(), "{bad}");
        }
    }
}
