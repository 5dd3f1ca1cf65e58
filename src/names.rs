//! The names to query: for each configured prefix length, the reverse-zone name
//! of the client's network (rmxsmtpd(8), Where the list is; RFC 1035 §3.5 for
//! in-addr.arpa, RFC 3596 §2.5 for ip6.arpa).

use std::net::IpAddr;

use hickory_proto::rr::Name;

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
    fn design_table() {
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
}
