//! What a lookup found ([`Findings`]): for each name queried, its list, and
//! for each exchange of a list, its addresses. Beyond the verdict, what they
//! say: the mistakes a publisher should hear of (rmxcheck's warnings) and
//! the notes for the log line. rmxcheck's report of them is in `explain`.

#[cfg(test)]
pub mod fixtures;

use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::rr::Name;

use crate::dns::{self, Answer, Misread};
use crate::names::shown;

/// At most this many exchanges of one list are resolved.
pub const MAX_EXCHANGES: usize = 20;

/// Everything learnt about one client, most specific name first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Findings {
    pub client: IpAddr,
    pub names: Vec<NameFindings>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameFindings {
    pub prefix: u8,
    pub name: Name,
    pub list: List,
}

/// What one name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum List {
    /// Not answered (yet, or the lookup stopped first).
    Pending,
    /// NXDOMAIN, or no MX data: this name publishes no list.
    Unpublished(Answer),
    /// The query failed temporarily.
    Failed(dns::Error),
    /// A null MX alone (RFC 7505): an empty list.
    Null,
    /// The exchanges, by preference then name, each name once at its best
    /// preference; at most `MAX_EXCHANGES`.
    Exchanges {
        hosts: Vec<Exchange>,
        /// Exchanges past the cap, not resolved.
        ignored: usize,
        /// A null MX stood beside other records and was dropped.
        null_dropped: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub preference: u16,
    pub host: Name,
    pub addrs: Addrs,
}

/// What one exchange resolved to, in the client's address family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addrs {
    Pending,
    /// Written as a dotted quad: that address, no query.
    Literal(Ipv4Addr),
    /// A (IPv4 client) or AAAA (IPv6 client) records.
    Found(Vec<IpAddr>),
    /// NXDOMAIN or NODATA: adds nothing to the list.
    Missing(Answer),
    Failed(dns::Error),
}

impl Findings {
    /// Nothing known yet of the lists at `names` for `client`.
    pub fn new(client: IpAddr, names: Vec<(u8, Name)>) -> Findings {
        Findings {
            client,
            names: names
                .into_iter()
                .map(|(prefix, name)| NameFindings {
                    prefix,
                    name,
                    list: List::Pending,
                })
                .collect(),
        }
    }
}

impl Exchange {
    /// Whether this exchange is the client.
    pub fn matches(&self, client: IpAddr) -> bool {
        match &self.addrs {
            Addrs::Literal(v4) => client == IpAddr::V4(*v4),
            Addrs::Found(found) => found.contains(&client),
            _ => false,
        }
    }
}

/// The family of `ip`, with the record type that holds it, for people.
pub fn family(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IPv4 (A)",
        IpAddr::V6(_) => "IPv6 (AAAA)",
    }
}

/// The mistakes in the published lists that these findings show.
pub fn warnings(findings: &Findings) -> Vec<String> {
    let client = findings.client;
    let mut warnings = Vec::new();
    let mut more_specific: Option<(u8, String)> = None;
    for entry in &findings.names {
        let name = shown(&entry.name);
        let has_list = matches!(entry.list, List::Null | List::Exchanges { .. });
        if let (true, Some((prefix, specific))) = (has_list, &more_specific) {
            warnings.push(format!(
                "the list at {name} (/{}) is shadowed by the list at {specific} (/{prefix}), \
                 which decides for this address",
                entry.prefix
            ));
        }
        if has_list && more_specific.is_none() {
            more_specific = Some((entry.prefix, name.clone()));
        }
        let List::Exchanges {
            hosts,
            ignored,
            null_dropped,
        } = &entry.list
        else {
            continue;
        };
        if *ignored > 0 {
            warnings.push(format!(
                "{name} has {} exchanges: only the first {MAX_EXCHANGES} by preference are used, \
                 {ignored} ignored",
                hosts.len() + ignored
            ));
        }
        if *null_dropped {
            warnings.push(format!(
                "{name} has a null MX beside other MX records (RFC 7505 forbids it): \
                 the null MX is ignored"
            ));
        }
        for exchange in hosts {
            let host = shown(&exchange.host);
            let problem = match &exchange.addrs {
                Addrs::Missing(Answer::NxDomain) => "does not resolve (NXDOMAIN)".to_string(),
                Addrs::Missing(_) => format!("has no {} address", family(client)),
                Addrs::Found(found) if found.is_empty() => {
                    format!("has no {} address", family(client))
                }
                Addrs::Literal(_) if client.is_ipv6() => {
                    "is an IPv4 address literal: it never matches an IPv6 client".to_string()
                }
                Addrs::Failed(error) => format!("could not be resolved: {error}"),
                _ => continue,
            };
            warnings.push(format!("exchange {host} of {name} {problem}"));
        }
    }
    warnings
}

/// What the log should mention beyond the verdict: first the servers, if
/// `DNSCACHEIP` did not say them all, then what was ignored in a list.
pub fn notes(findings: &Findings, misread: Option<&Misread>) -> Vec<String> {
    let mut notes: Vec<String> = misread.iter().map(|m| m.to_string()).collect();
    for entry in &findings.names {
        if let List::Exchanges {
            ignored,
            null_dropped,
            ..
        } = entry.list
        {
            if ignored > 0 {
                notes.push(format!(
                    "{}: {ignored} exchanges past the first {MAX_EXCHANGES} ignored",
                    shown(&entry.name)
                ));
            }
            if null_dropped {
                notes.push(format!(
                    "{}: null MX beside other MX records ignored",
                    shown(&entry.name)
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn warnings_for_mistakes() {
        let f = findings(
            "2001:db8:1:2::25",
            vec![
                (
                    64,
                    "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                    List::Exchanges {
                        hosts: vec![
                            exchange("v4only.example.net.", Addrs::Missing(Answer::NoData)),
                            exchange("empty.example.net.", Addrs::Found(vec![])),
                            exchange(
                                "203.0.113.1.",
                                Addrs::Literal("203.0.113.1".parse().unwrap()),
                            ),
                            exchange(
                                "slow.example.net.",
                                Addrs::Failed(dns::Error::ServersFailed("SERVFAIL".into())),
                            ),
                            exchange("ok.example.net.", Addrs::Found(vec![ip("2001:db8::25")])),
                        ],
                        ignored: 3,
                        null_dropped: true,
                    },
                ),
                (48, "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", List::Null),
            ],
        );
        let z64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        let z48 = "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        assert_eq!(
            warnings(&f),
            [
                format!(
                    "{z64} has 8 exchanges: only the first 20 by preference are used, 3 ignored"
                ),
                format!(
                    "{z64} has a null MX beside other MX records (RFC 7505 forbids it): the null MX is ignored"
                ),
                format!("exchange v4only.example.net of {z64} has no IPv6 (AAAA) address"),
                format!("exchange empty.example.net of {z64} has no IPv6 (AAAA) address"),
                format!(
                    "exchange 203.0.113.1 of {z64} is an IPv4 address literal: it never matches an IPv6 client"
                ),
                format!(
                    "exchange slow.example.net of {z64} could not be resolved: no server answered: SERVFAIL"
                ),
                format!(
                    "the list at {z48} (/48) is shadowed by the list at {z64} (/64), which decides for this address"
                ),
            ]
        );
    }

    #[test]
    fn no_warnings_for_a_good_list() {
        let f = findings(
            "198.51.100.10",
            vec![
                (
                    32,
                    "10.100.51.198.in-addr.arpa.",
                    List::Unpublished(Answer::NxDomain),
                ),
                (
                    24,
                    "100.51.198.in-addr.arpa.",
                    list(vec![
                        exchange(
                            "198.51.100.5.",
                            Addrs::Literal("198.51.100.5".parse().unwrap()),
                        ),
                        exchange("mx.example.net.", Addrs::Found(vec![ip("198.51.100.6")])),
                    ]),
                ),
                (
                    16,
                    "51.198.in-addr.arpa.",
                    List::Unpublished(Answer::NoData),
                ),
            ],
        );
        assert!(warnings(&f).is_empty(), "{:?}", warnings(&f));
        // A broader list shadowed by a more specific one that is a null MX.
        let f = findings(
            "198.51.100.10",
            vec![
                (24, "100.51.198.in-addr.arpa.", List::Null),
                (16, "51.198.in-addr.arpa.", list(vec![])),
            ],
        );
        assert_eq!(warnings(&f).len(), 1);
    }
}
