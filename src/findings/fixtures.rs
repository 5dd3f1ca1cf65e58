//! Findings built by hand, for the unit tests of everything that reads
//! them: the verdict, the warnings and notes, rmxcheck's report, the
//! publisher's check.

use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::{Addrs, Exchange, Findings, List, NameFindings};

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// An exchange at preference 10.
pub fn exchange(host: &str, addrs: Addrs) -> Exchange {
    Exchange {
        preference: 10,
        host: name(host),
        addrs,
    }
}

/// Addresses found for an exchange.
pub fn found(ips: &[&str]) -> Addrs {
    Addrs::Found(ips.iter().map(|s| ip(s)).collect())
}

/// An exchange written as an address literal.
pub fn literal(address: &str) -> Exchange {
    exchange(
        &format!("{address}."),
        Addrs::Literal(address.parse().unwrap()),
    )
}

/// A whole list: nothing past the cap, no null MX beside it.
pub fn list(hosts: Vec<Exchange>) -> List {
    List::Exchanges {
        hosts,
        ignored: 0,
        null_dropped: false,
    }
}

/// What `client`'s lookup found at each (prefix, name): the most specific
/// first.
pub fn findings(client: &str, lists: Vec<(u8, &str, List)>) -> Findings {
    Findings {
        client: ip(client),
        names: lists
            .into_iter()
            .map(|(prefix, owner, list)| NameFindings {
                prefix,
                name: name(owner),
                list,
            })
            .collect(),
    }
}
