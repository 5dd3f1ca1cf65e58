//! Host names and their addresses both ways, for a publisher's check
//! (rmxcheck(1)): the addresses a host name has (A and AAAA), and the PTR
//! names of an exchange's address, each with whether it points back, that is
//! whether its own addresses include that address (RFC 1912 §2.1).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::rr::{Name, RData, RecordType};

use crate::dns::{self, Answer, Config, QueryId, Resolver};
use crate::findings::Addrs;
use crate::lookup::{addrs_from, record_type};
use crate::names::pointer_name;

/// At most this many PTR names of one address are followed.
pub const MAX_POINTERS: usize = 4;

/// What the PTR query for one address said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pointers {
    /// NXDOMAIN or NODATA: the address has no PTR.
    Absent(Answer),
    Failed(dns::Error),
    /// The PTR names, at most [`MAX_POINTERS`], each with whether it points back.
    Names(Vec<(Name, PointsBack)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointsBack {
    Yes,
    No,
    /// The name's addresses could not be had.
    Unknown(dns::Error),
}

/// The addresses of `host`, IPv4 first, within `timeout`. An error if
/// either query failed: the addresses found may not be all.
pub fn addresses(host: &Name, config: Config, timeout: Duration) -> Result<Addrs, dns::Error> {
    let mut resolver = Resolver::new(config, timeout);
    let v4 = resolver.submit(host.clone(), RecordType::A);
    resolver.submit(host.clone(), RecordType::AAAA);
    let mut found = [Vec::new(), Vec::new()];
    let mut missing = None;
    while let Some((id, outcome)) = resolver.next_outcome() {
        let (family, slot) = if id == v4 {
            (RecordType::A, 0)
        } else {
            (RecordType::AAAA, 1)
        };
        match addrs_from(outcome, family) {
            Addrs::Found(addrs) => found[slot] = addrs,
            Addrs::Failed(error) => return Err(error),
            Addrs::Missing(answer) => missing = Some(answer),
            Addrs::Pending | Addrs::Literal(_) => {}
        }
    }
    let [mut all, v6] = found;
    all.extend(v6);
    Ok(match missing {
        Some(answer) if all.is_empty() => Addrs::Missing(answer),
        _ => Addrs::Found(all),
    })
}

/// The PTR names of each of `addresses`, in order, and whether each points
/// back, within `timeout`.
pub fn pointers(addresses: &[IpAddr], config: Config, timeout: Duration) -> Vec<Pointers> {
    let mut resolver = Resolver::new(config, timeout);
    let mut results: Vec<Pointers> = addresses
        .iter()
        .map(|_| Pointers::Names(Vec::new()))
        .collect();
    // What each query is for: an address's PTR, or one of its PTR names.
    let mut waiting: BTreeMap<QueryId, (usize, Option<usize>)> = BTreeMap::new();
    for (i, &ip) in addresses.iter().enumerate() {
        waiting.insert(
            resolver.submit(pointer_name(ip), RecordType::PTR),
            (i, None),
        );
    }
    while let Some((id, outcome)) = resolver.next_outcome() {
        let Some((i, name)) = waiting.remove(&id) else {
            continue;
        };
        let ip = addresses[i];
        match (name, outcome) {
            (None, Err(error)) => results[i] = Pointers::Failed(error),
            (None, Ok(Answer::Records(records))) => {
                let mut names: Vec<(Name, PointsBack)> = records
                    .into_iter()
                    .filter_map(|data| match data {
                        RData::PTR(ptr) => Some((ptr.0, PointsBack::No)),
                        _ => None,
                    })
                    .take(MAX_POINTERS)
                    .collect();
                for (n, (target, _)) in names.iter_mut().enumerate() {
                    let query = resolver.submit(target.clone(), record_type(ip));
                    waiting.insert(query, (i, Some(n)));
                }
                if names.is_empty() {
                    results[i] = Pointers::Absent(Answer::NoData);
                } else {
                    results[i] = Pointers::Names(names);
                }
            }
            (None, Ok(absent)) => results[i] = Pointers::Absent(absent),
            (Some(n), outcome) => {
                let back = match addrs_from(outcome, record_type(ip)) {
                    Addrs::Found(found) if found.contains(&ip) => PointsBack::Yes,
                    Addrs::Failed(error) => PointsBack::Unknown(error),
                    _ => PointsBack::No,
                };
                if let Pointers::Names(names) = &mut results[i] {
                    names[n].1 = back;
                }
            }
        }
    }
    results
}
