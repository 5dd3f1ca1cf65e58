//! rmxcheck's report (rmxcheck(1), OUTPUT): what a lookup's findings and
//! its judgement say, for people, and in one line for scripts (`-p`).

use std::fmt::Write as _;
use std::net::IpAddr;

use hickory_proto::rr::Name;

use crate::dns::Answer;
use crate::findings::{self, Addrs, Exchange, Findings, List, family};
use crate::hosts::{Pointers, PointsBack};
use crate::names::{Network, Prefixes, shown};
use crate::publish::Published;
use crate::text;
use crate::verdict::{Judgement, Outcome, Reason};

/// The longest line of `-p` output and of a warning.
const MAX_OUTPUT_LINE: usize = 1000;

/// `-p`: `SUBJECT RESULT NAME WHY`, NAME `-` when no list decided: the
/// fields of the log line, so that one parser reads both. SUBJECT is the
/// address, or `NETWORK/LEN`.
pub fn parseable(subject: &str, judgement: &Judgement) -> String {
    let name = judgement.name.as_ref().map_or_else(|| "-".into(), shown);
    let line = format!(
        "{subject} {} {name} {}",
        judgement.outcome(),
        judgement.reason
    );
    let mut line = text::printable(&line, MAX_OUTPUT_LINE);
    line.push('\n');
    line
}

/// The report for one client address (of `host`, if a host name was
/// given): every name and what it answered, every exchange and its
/// addresses, then the result and why. `strict`: `-s`, a missing list
/// counted as a failure.
pub fn address(
    findings: &Findings,
    host: Option<&Name>,
    judgement: &Judgement,
    strict: bool,
) -> String {
    let client = findings.client;
    let mut out = match host {
        Some(host) => format!("{client} (an address of {})\n", shown(host)),
        None => format!("{client}\n"),
    };
    out.push_str(&lists(findings, |exchange| {
        if exchange.matches(client) {
            "  <- matches".into()
        } else {
            String::new()
        }
    }));
    let at = judgement.name.as_ref().map_or_else(|| "-".into(), shown);
    let why = match &judgement.reason {
        Reason::Listed(host) => {
            format!("{client} is an address of {}, listed at {at}", shown(host))
        }
        Reason::NullMx => format!("{at} publishes a null MX: no host of that network may send"),
        Reason::NotListed(1) => format!("{client} is not the one exchange listed at {at}"),
        Reason::NotListed(n) => format!("{client} is none of the {n} exchanges listed at {at}"),
        Reason::NoList if strict => "no list at any name queried (-s: counted as a failure)".into(),
        Reason::NoList => "no list at any name queried".into(),
        reason => format!("{at}: {reason}"),
    };
    let _ = writeln!(out, "  result: {}: {why}", judgement.outcome());
    out
}

/// The report for a network, from the publisher's side: the name queried
/// and its list, each sender inside the network or not with its PTR names,
/// then the verdict.
pub fn network(published: &Published, strict: bool) -> String {
    let Published {
        network,
        judgement,
        findings,
        senders,
    } = published;
    let mut out = format!("{network}\n");
    out.push_str(&lists(findings, |exchange| {
        let mut more = String::new();
        for (ip, pointers) in senders {
            if exchange.matches(*ip) {
                let side = if network.contains(*ip) {
                    "inside"
                } else {
                    "outside"
                };
                let ptr = ptr_text(pointers);
                let _ = write!(more, "\n      {ip}: {side} the network; {ptr}");
            }
        }
        more
    }));
    let at = shown(&findings.names[0].name);
    let why = match &judgement.reason {
        Reason::Senders(_) => format!("this list lets these addresses send: {}", judgement.reason),
        Reason::NullMx => format!("{at} publishes a null MX: no address may send"),
        Reason::NoSenders => {
            format!("no exchange listed at {at} has an address: no address may send")
        }
        Reason::NoList if strict => format!("no list at {at} (-s: counted as a failure)"),
        Reason::NoList => format!("no list at {at}"),
        reason => format!("{at}: {reason}"),
    };
    let _ = writeln!(out, "  result: {}: {why}", judgement.outcome());
    out
}

/// The mistakes in a network's list that the publisher's check can see,
/// and a name that receivers do not ask unless told to.
pub fn network_warnings(published: &Published) -> Vec<String> {
    let mut warnings = findings::warnings(&published.findings);
    let name = shown(&published.findings.names[0].name);
    if published.judgement.outcome() == Outcome::Pass && published.all_outside() {
        warnings.push(format!(
            "no exchange listed at {name} lies inside the network"
        ));
    }
    warnings.extend(unasked(&published.network, &name));
    warnings
}

/// A warning for a network whose name receivers ask only when run with
/// `-4 LEN` (`-6 LEN`): which ones ask it, which names the others ask, and,
/// for a network wider than those, how many names its list takes there.
fn unasked(network: &Network, name: &str) -> Option<String> {
    let defaults = Prefixes::default();
    let (defaults, flag) = match network.address {
        IpAddr::V4(_) => (defaults.v4, "-4"),
        IpAddr::V6(_) => (defaults.v6, "-6"),
    };
    let len = network.len;
    if defaults.contains(&len) {
        return None;
    }
    let asked: Vec<String> = defaults.iter().rev().map(|p| format!("/{p}")).collect();
    let mut warning = format!(
        "receivers ask {name} only when run with {flag} {len}; by default they ask the {} names",
        asked.join(" and ")
    );
    if let Some(widest) = defaults.iter().copied().filter(|&p| p > len).min() {
        let count = 1u128 << (widest - len);
        let _ = write!(
            warning,
            ": publish the list at each of its {count} /{widest} names"
        );
    }
    Some(warning)
}

/// Every name queried and what it answered, every exchange and its
/// addresses, each exchange's line followed by what `more` says of it.
fn lists(findings: &Findings, more: impl Fn(&Exchange) -> String) -> String {
    let family = family(findings.client);
    let mut out = String::new();
    for entry in &findings.names {
        let name = shown(&entry.name);
        let answered = match &entry.list {
            List::Pending => "not answered".to_string(),
            List::Unpublished(Answer::NxDomain) => "NXDOMAIN: no list".to_string(),
            List::Unpublished(_) => "NODATA (no MX records): no list".to_string(),
            List::Failed(error) => format!("error: {error}"),
            List::Null => "null MX: the empty list, no host may send".to_string(),
            List::Exchanges {
                hosts,
                ignored,
                null_dropped,
            } => {
                let mut said = format!("list of {}", count(hosts.len(), "exchange"));
                if *ignored > 0 {
                    let _ = write!(said, ", {ignored} more ignored");
                }
                if *null_dropped {
                    said.push_str(", null MX ignored");
                }
                said
            }
        };
        let _ = writeln!(out, "  /{} {name}: {answered}", entry.prefix);
        let List::Exchanges { hosts, .. } = &entry.list else {
            continue;
        };
        for exchange in hosts {
            let addrs = match &exchange.addrs {
                Addrs::Pending => "not resolved".to_string(),
                Addrs::Literal(v4) => format!("{v4} (address literal)"),
                Addrs::Found(found) if found.is_empty() => format!("no {family} address"),
                Addrs::Found(found) => found
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                Addrs::Missing(Answer::NxDomain) => "NXDOMAIN: does not exist".to_string(),
                Addrs::Missing(_) => format!("NODATA: no {family} address"),
                Addrs::Failed(error) => format!("error: {error}"),
            };
            let host = shown(&exchange.host);
            let more = more(exchange);
            let _ = writeln!(out, "    MX {} {host}: {addrs}{more}", exchange.preference);
        }
    }
    out
}

/// What the PTR query for one address said, and whether each name points back.
fn ptr_text(pointers: &Pointers) -> String {
    match pointers {
        Pointers::Absent(Answer::NxDomain) => "no PTR (NXDOMAIN)".into(),
        Pointers::Absent(_) => "no PTR (NODATA)".into(),
        Pointers::Failed(error) => format!("PTR error: {error}"),
        Pointers::Names(names) => {
            let names: Vec<String> = names
                .iter()
                .map(|(name, back)| {
                    let back = match back {
                        PointsBack::Yes => "which points back".to_string(),
                        PointsBack::No => "which does not point back".to_string(),
                        PointsBack::Unknown(error) => {
                            format!("not known to point back: {error}")
                        }
                    };
                    format!("PTR {}, {back}", shown(name))
                })
                .collect();
            names.join("; ")
        }
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns;
    use crate::findings::fixtures::{exchange, findings, ip, list, literal};
    use crate::verdict::judge;
    use std::time::Duration;

    #[test]
    fn the_report() {
        let f = findings(
            "198.51.100.5",
            vec![
                (
                    24,
                    "100.51.198.in-addr.arpa.",
                    list(vec![
                        exchange("mx1.example.net.", Addrs::Found(vec![ip("198.51.100.5")])),
                        exchange("gone.example.net.", Addrs::Missing(Answer::NxDomain)),
                    ]),
                ),
                (
                    16,
                    "51.198.in-addr.arpa.",
                    List::Unpublished(Answer::NoData),
                ),
            ],
        );
        let judgement = judge(&f).unwrap();
        assert_eq!(
            address(&f, None, &judgement, false),
            "198.51.100.5\n\
             \x20 /24 100.51.198.in-addr.arpa: list of 2 exchanges\n\
             \x20   MX 10 mx1.example.net: 198.51.100.5  <- matches\n\
             \x20   MX 10 gone.example.net: NXDOMAIN: does not exist\n\
             \x20 /16 51.198.in-addr.arpa: NODATA (no MX records): no list\n\
             \x20 result: pass: 198.51.100.5 is an address of mx1.example.net, \
             listed at 100.51.198.in-addr.arpa\n"
        );
        assert_eq!(
            parseable(&f.client.to_string(), &judgement),
            "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
        );
    }

    #[test]
    fn results_say_why() {
        let last = |f: &Findings, strict: bool| {
            let text = address(f, None, &judge(f).unwrap(), strict);
            text.lines().last().unwrap().to_string()
        };
        let null = findings(
            "198.51.100.9",
            vec![(24, "100.51.198.in-addr.arpa.", List::Null)],
        );
        assert_eq!(
            last(&null, false),
            "  result: fail: 100.51.198.in-addr.arpa publishes a null MX: no host of that network may send"
        );
        let one = findings(
            "198.51.100.9",
            vec![(
                24,
                "100.51.198.in-addr.arpa.",
                list(vec![literal("198.51.100.5")]),
            )],
        );
        assert_eq!(
            last(&one, false),
            "  result: fail: 198.51.100.9 is not the one exchange listed at 100.51.198.in-addr.arpa"
        );
        let two = findings(
            "198.51.100.9",
            vec![(
                24,
                "100.51.198.in-addr.arpa.",
                list(vec![literal("198.51.100.5"), literal("198.51.100.6")]),
            )],
        );
        assert_eq!(
            last(&two, false),
            "  result: fail: 198.51.100.9 is none of the 2 exchanges listed at 100.51.198.in-addr.arpa"
        );
        let nothing = findings(
            "203.0.113.7",
            vec![(
                24,
                "113.0.203.in-addr.arpa.",
                List::Unpublished(Answer::NxDomain),
            )],
        );
        assert_eq!(
            last(&nothing, false),
            "  result: none: no list at any name queried"
        );
        assert_eq!(
            last(&nothing, true),
            "  result: none: no list at any name queried (-s: counted as a failure)"
        );
        let timeout = dns::Error::Timeout(Duration::from_secs(10));
        let failed = findings(
            "203.0.113.7",
            vec![(24, "113.0.203.in-addr.arpa.", List::Failed(timeout))],
        );
        let text = address(&failed, None, &judge(&failed).unwrap(), false);
        assert!(
            text.contains("/24 113.0.203.in-addr.arpa: error: timeout after 10 s\n"),
            "{text}"
        );
        assert!(
            text.ends_with("result: temperror: 113.0.203.in-addr.arpa: timeout after 10 s\n"),
            "{text}"
        );
    }

    #[test]
    fn a_network_from_its_publishers_side() {
        use crate::names::Network;
        let f = findings(
            "198.51.100.0",
            vec![(
                24,
                "100.51.198.in-addr.arpa.",
                list(vec![
                    exchange("mx1.example.net.", Addrs::Found(vec![ip("198.51.100.5")])),
                    exchange("out.example.net.", Addrs::Found(vec![ip("203.0.113.5")])),
                ]),
            )],
        );
        let published = Published {
            network: Network::parse("198.51.100.0/24").unwrap(),
            judgement: Judgement::new(
                Reason::Senders(vec![ip("198.51.100.5"), ip("203.0.113.5")]),
                Some(&f.names[0].name),
            ),
            senders: vec![
                (
                    ip("198.51.100.5"),
                    Pointers::Names(vec![(
                        crate::findings::fixtures::name("mx1.example.net."),
                        PointsBack::Yes,
                    )]),
                ),
                (ip("203.0.113.5"), Pointers::Absent(Answer::NxDomain)),
            ],
            findings: f,
        };
        assert_eq!(
            network(&published, false),
            "198.51.100.0/24\n\
             \x20 /24 100.51.198.in-addr.arpa: list of 2 exchanges\n\
             \x20   MX 10 mx1.example.net: 198.51.100.5\n\
             \x20     198.51.100.5: inside the network; PTR mx1.example.net, which points back\n\
             \x20   MX 10 out.example.net: 203.0.113.5\n\
             \x20     203.0.113.5: outside the network; no PTR (NXDOMAIN)\n\
             \x20 result: pass: this list lets these addresses send: 198.51.100.5 203.0.113.5\n"
        );
        assert!(network_warnings(&published).is_empty());
        assert_eq!(
            parseable("198.51.100.0/24", &published.judgement),
            "198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 203.0.113.5\n"
        );
    }
}
