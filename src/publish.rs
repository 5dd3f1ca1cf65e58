//! The publisher's check (rmxcheck(1), `NETWORK/LEN`): the list a network
//! publishes, seen from its side. Every exchange is resolved; the addresses
//! of the network's family that the list lets send are its senders, each
//! with its PTR names; and the list's verdict is `pass` with those senders,
//! `fail` when it lets none send, `none` without a list, `temperror` when
//! the list, or one of its exchanges, could not be had.

use std::net::IpAddr;

use crate::check::Dns;
use crate::findings::{Addrs, Findings, List};
use crate::hosts::{self, Pointers};
use crate::lookup::lookup;
use crate::names::Network;
use crate::verdict::{Judgement, Reason, failed_exchange};

/// What the publisher's check found.
pub struct Published {
    pub network: Network,
    pub judgement: Judgement,
    pub findings: Findings,
    /// The addresses the list lets send, in its order, each with what its
    /// PTR query said.
    pub senders: Vec<(IpAddr, Pointers)>,
}

impl Published {
    /// Whether a list that lets some address send lets none inside the
    /// network: most likely a list published at the wrong name.
    pub fn all_outside(&self) -> bool {
        !self.senders.is_empty()
            && !self
                .senders
                .iter()
                .any(|(ip, _)| self.network.contains(*ip))
    }
}

/// Looks up the list `network` publishes, resolves every exchange and each
/// sender's PTR names, and judges the list.
pub fn check(network: Network, dns: &Dns) -> Published {
    let names = vec![(network.len, network.name())];
    let (findings, _) = lookup(
        network.address,
        names,
        dns.config.clone(),
        dns.timeout,
        |_| false,
    );
    let senders = senders(&findings);
    let judgement = judge(&findings, &senders);
    let pointers = hosts::pointers(&senders, dns.config.clone(), dns.timeout);
    Published {
        network,
        judgement,
        findings,
        senders: senders.into_iter().zip(pointers).collect(),
    }
}

/// The addresses a list lets send, in its order: its exchanges' addresses
/// of the network's family.
fn senders(findings: &Findings) -> Vec<IpAddr> {
    let mut senders = Vec::new();
    for entry in &findings.names {
        let List::Exchanges { hosts, .. } = &entry.list else {
            continue;
        };
        for exchange in hosts {
            let found = match &exchange.addrs {
                Addrs::Found(found) => found.clone(),
                Addrs::Literal(v4) if findings.client.is_ipv4() => vec![IpAddr::V4(*v4)],
                _ => continue,
            };
            for ip in found {
                if !senders.contains(&ip) {
                    senders.push(ip);
                }
            }
        }
    }
    senders
}

/// What the network's list gives.
fn judge(findings: &Findings, senders: &[IpAddr]) -> Judgement {
    let entry = &findings.names[0];
    let name = Some(&entry.name);
    let reason = match &entry.list {
        List::Pending => Reason::Unfinished,
        List::Failed(error) => Reason::QueryFailed(error.clone()),
        List::Unpublished(_) => return Judgement::new(Reason::NoList, None),
        List::Null => Reason::NullMx,
        List::Exchanges { hosts, .. } => match failed_exchange(hosts) {
            Some(failed) => failed,
            None if senders.is_empty() => Reason::NoSenders,
            None => Reason::Senders(senders.to_vec()),
        },
    };
    Judgement::new(reason, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{self, Answer};
    use crate::findings::fixtures::{exchange, findings, found, ip, list, literal};
    use crate::verdict::Outcome;

    const ZONE: &str = "100.51.198.in-addr.arpa.";

    fn judged(list: List) -> (Outcome, String) {
        let f = findings("198.51.100.0", vec![(24, ZONE, list)]);
        let judgement = judge(&f, &senders(&f));
        (judgement.outcome(), judgement.reason.to_string())
    }

    #[test]
    fn a_networks_list_judged() {
        let pair = |outcome, why: &str| (outcome, why.to_string());
        assert_eq!(
            judged(list(vec![
                exchange("mx1.example.", found(&["198.51.100.5", "198.51.100.6"])),
                literal("198.51.100.5"),
                exchange("mx2.example.", found(&["203.0.113.5"])),
                exchange("gone.example.", Addrs::Missing(Answer::NxDomain)),
            ])),
            pair(Outcome::Pass, "198.51.100.5 198.51.100.6 203.0.113.5")
        );
        assert_eq!(judged(List::Null), pair(Outcome::Fail, "null MX"));
        assert_eq!(
            judged(list(vec![exchange("gone.example.", found(&[]))])),
            pair(Outcome::Fail, "no exchange has an address")
        );
        assert_eq!(
            judged(List::Unpublished(Answer::NxDomain)),
            pair(Outcome::NoList, "no list")
        );
        let servfail = || dns::Error::ServersFailed("SERVFAIL".into());
        assert_eq!(
            judged(List::Failed(servfail())),
            pair(Outcome::TempError, "no server answered: SERVFAIL")
        );
        // One exchange that could not be resolved: the senders may not be all.
        assert_eq!(
            judged(list(vec![
                exchange("mx1.example.", found(&["198.51.100.5"])),
                exchange("slow.example.", Addrs::Failed(servfail())),
            ])),
            pair(
                Outcome::TempError,
                "exchange slow.example: no server answered: SERVFAIL"
            )
        );
        assert_eq!(judged(List::Pending).0, Outcome::TempError);
    }

    #[test]
    fn senders_of_the_networks_family_once_each() {
        let f = findings(
            "2001:db8::",
            vec![(
                48,
                "8.b.d.0.1.0.0.2.ip6.arpa.",
                list(vec![
                    exchange("a.example.", found(&["2001:db8::5"])),
                    exchange("b.example.", found(&["2001:db8::5", "2001:db8::6"])),
                    literal("198.51.100.5"),
                ]),
            )],
        );
        assert_eq!(senders(&f), [ip("2001:db8::5"), ip("2001:db8::6")]);
    }
}
