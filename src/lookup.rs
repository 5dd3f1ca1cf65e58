//! The Reverse MX lookup (rmxsmtpd(8), Where the list is): the MX RRset at
//! every name at once, then the addresses of each list's exchanges the moment
//! the list arrives, into [`Findings`]. The caller says when enough is known;
//! what was not needed stays `Pending`.

// Ordered maps, not hashed ones: std's hashed maps seed themselves from
// getrandom(2), and abort when it fails; the lookup's own ids are the only
// randomness it needs, and their failure is a temperror (rmxsmtpd(8)).
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hickory_proto::rr::{Name, RData, RecordType};

use crate::dns::{self, Answer, Config, QueryId, Resolver};
use crate::findings::{Addrs, Exchange, Findings, List, MAX_EXCHANGES};

/// How long an answer may be kept when its reply says nothing of it (no
/// record, no SOA).
pub const UNSAID_TTL: Duration = Duration::from_secs(60);

/// Who waits for a query's outcome.
enum Waiter {
    List(usize),
    /// A host name, and the exchanges that bear it: (name index, exchange index).
    Host(String, Vec<(usize, usize)>),
}

/// Looks up the lists at `names` for `client`, within `timeout`, until
/// `enough` says the findings are decisive or nothing is left to ask. With
/// the findings, how long they may be kept: the smallest TTL of the answers
/// used (an answer that said none counts as [`UNSAID_TTL`]), or zero when
/// none was.
pub fn lookup(
    client: IpAddr,
    names: Vec<(u8, Name)>,
    config: Config,
    timeout: Duration,
    enough: impl Fn(&Findings) -> bool,
) -> (Findings, Duration) {
    let mut kept: Option<Duration> = None;
    let mut findings = Findings::new(client, names);
    let mut resolver = Resolver::new(config, timeout);
    let mut waiting: BTreeMap<QueryId, Waiter> = BTreeMap::new();
    for (i, entry) in findings.names.iter().enumerate() {
        let id = resolver.submit(entry.name.clone(), RecordType::MX);
        waiting.insert(id, Waiter::List(i));
    }
    let family = record_type(client);
    // Every host name is asked once, whichever lists name it.
    let mut asked: BTreeMap<String, QueryId> = BTreeMap::new();
    let mut known: BTreeMap<String, Addrs> = BTreeMap::new();
    while !enough(&findings) {
        let Some((id, outcome)) = resolver.next_outcome() else {
            break;
        };
        if outcome.is_ok() {
            let ttl = resolver.ttl(id).unwrap_or(UNSAID_TTL);
            kept = Some(kept.map_or(ttl, |k| k.min(ttl)));
        }
        match waiting.remove(&id) {
            Some(Waiter::List(i)) => {
                findings.names[i].list = list_from(outcome);
                let List::Exchanges { hosts, .. } = &mut findings.names[i].list else {
                    continue;
                };
                for (e, exchange) in hosts.iter_mut().enumerate() {
                    if let Some(v4) = literal(&exchange.host) {
                        exchange.addrs = Addrs::Literal(v4);
                        continue;
                    }
                    let key = exchange.host.to_ascii().to_ascii_lowercase();
                    if let Some(addrs) = known.get(&key) {
                        exchange.addrs = addrs.clone();
                        continue;
                    }
                    let query = *asked
                        .entry(key.clone())
                        .or_insert_with(|| resolver.submit(exchange.host.clone(), family));
                    if let Waiter::Host(_, refs) = waiting
                        .entry(query)
                        .or_insert_with(|| Waiter::Host(key, Vec::new()))
                    {
                        refs.push((i, e));
                    }
                }
            }
            Some(Waiter::Host(key, refs)) => {
                let addrs = addrs_from(outcome, family);
                for (i, e) in refs {
                    if let List::Exchanges { hosts, .. } = &mut findings.names[i].list {
                        hosts[e].addrs = addrs.clone();
                    }
                }
                known.insert(key, addrs);
            }
            None => {}
        }
    }
    (findings, kept.unwrap_or(Duration::ZERO))
}

/// The record type that holds addresses of `ip`'s family.
pub fn record_type(ip: IpAddr) -> RecordType {
    match ip {
        IpAddr::V4(_) => RecordType::A,
        IpAddr::V6(_) => RecordType::AAAA,
    }
}

/// The list an MX query's outcome gives (RFC 7505 for the null MX).
pub fn list_from(outcome: Result<Answer, dns::Error>) -> List {
    let records = match outcome {
        Err(error) => return List::Failed(error),
        Ok(Answer::Records(records)) => records,
        Ok(absent) => return List::Unpublished(absent),
    };
    let mut mxs: Vec<(u16, Name)> = records
        .into_iter()
        .filter_map(|data| match data {
            RData::MX(mx) => Some((mx.preference, mx.exchange)),
            _ => None,
        })
        .collect();
    let before = mxs.len();
    mxs.retain(|(_, host)| !host.is_root());
    match (mxs.is_empty(), before) {
        // Records, but no MX among them: the reply checks rule this out,
        // and doubt never becomes a null MX, so never a `fail`.
        (true, 0) => {
            return List::Failed(dns::Error::ServersFailed(
                "no MX record in the answer".into(),
            ));
        }
        (true, _) => return List::Null,
        (false, _) => {}
    }
    let null_dropped = mxs.len() < before;
    let key =
        |(preference, host): &(u16, Name)| (*preference, host.to_ascii().to_ascii_lowercase());
    mxs.sort_by_cached_key(key);
    // One place per exchange, at its best preference: the same name at two
    // preferences is one host, and takes one of the places under the cap.
    let mut seen = BTreeSet::new();
    mxs.retain(|(_, host)| seen.insert(host.to_ascii().to_ascii_lowercase()));
    let ignored = mxs.len().saturating_sub(MAX_EXCHANGES);
    mxs.truncate(MAX_EXCHANGES);
    List::Exchanges {
        hosts: mxs
            .into_iter()
            .map(|(preference, host)| Exchange {
                preference,
                host,
                addrs: Addrs::Pending,
            })
            .collect(),
        ignored,
        null_dropped,
    }
}

/// The addresses an A or AAAA query's outcome gives.
pub fn addrs_from(outcome: Result<Answer, dns::Error>, family: RecordType) -> Addrs {
    match outcome {
        Err(error) => Addrs::Failed(error),
        Ok(Answer::Records(records)) => {
            let found: Vec<IpAddr> = records
                .into_iter()
                .filter_map(|data| match data {
                    RData::A(a) if family == RecordType::A => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) if family == RecordType::AAAA => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })
                .collect();
            Addrs::Found(found)
        }
        Ok(absent) => Addrs::Missing(absent),
    }
}

/// An exchange written as a dotted quad (`198.51.100.5.`), taken as that
/// address. Only IPv4: an IPv6 literal is no valid host name.
pub fn literal(host: &Name) -> Option<Ipv4Addr> {
    if host.num_labels() != 4 {
        return None;
    }
    let text = host.to_ascii();
    text.strip_suffix('.').unwrap_or(&text).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::MX;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn mx(preference: u16, host: &str) -> RData {
        RData::MX(MX::new(preference, name(host)))
    }

    fn hosts(list: &List) -> Vec<String> {
        match list {
            List::Exchanges { hosts, .. } => hosts
                .iter()
                .map(|e| format!("{} {}", e.preference, e.host))
                .collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    #[test]
    fn null_mx_alone_is_the_empty_list() {
        assert_eq!(list_from(Ok(Answer::Records(vec![mx(0, ".")]))), List::Null);
    }

    #[test]
    fn records_without_an_mx_are_no_null_mx() {
        use hickory_proto::rr::rdata::A;
        let records = vec![RData::A(A(Ipv4Addr::new(198, 51, 100, 5)))];
        assert!(matches!(
            list_from(Ok(Answer::Records(records))),
            List::Failed(_)
        ));
    }

    #[test]
    fn null_mx_beside_others_is_dropped() {
        let list = list_from(Ok(Answer::Records(vec![mx(0, "."), mx(10, "mx.example.")])));
        assert_eq!(hosts(&list), ["10 mx.example."]);
        assert!(matches!(
            list,
            List::Exchanges {
                null_dropped: true,
                ignored: 0,
                ..
            }
        ));
    }

    #[test]
    fn cap_takes_by_preference_then_name_and_dedups() {
        let mut records: Vec<RData> = (0..30)
            .map(|n| mx(100 - n as u16, &format!("mx{n:02}.example.")))
            .collect();
        records.push(mx(5, "B.example."));
        records.push(mx(5, "a.example."));
        records.push(mx(5, "b.EXAMPLE."));
        let list = list_from(Ok(Answer::Records(records)));
        let got = hosts(&list);
        assert_eq!(got.len(), MAX_EXCHANGES);
        assert_eq!(got[0], "5 a.example.");
        assert_eq!(got[1].to_ascii_lowercase(), "5 b.example.");
        assert_eq!(got[2], "71 mx29.example.");
        assert_eq!(got[19], "88 mx12.example.");
        // 33 records, one duplicate name: 32 distinct, 20 kept.
        assert!(matches!(list, List::Exchanges { ignored: 12, .. }));
    }

    #[test]
    fn a_name_at_two_preferences_takes_one_place_at_its_best() {
        // 20 distinct names, one of them also at a worse preference: all 20
        // fit under the cap, the repeated one at its best preference.
        let mut records: Vec<RData> = (0..20)
            .map(|n| mx(10 + n as u16, &format!("mx{n:02}.example.")))
            .collect();
        records.push(mx(5, "MX19.example."));
        records.push(mx(100, "mx03.Example."));
        let list = list_from(Ok(Answer::Records(records)));
        let got = hosts(&list);
        assert_eq!(got.len(), MAX_EXCHANGES);
        assert_eq!(got[0], "5 MX19.example.");
        assert_eq!(got[1], "10 mx00.example.");
        assert_eq!(got[19], "28 mx18.example.");
        let lower: std::collections::HashSet<String> =
            got.iter().map(|h| h.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), MAX_EXCHANGES, "no name twice: {got:?}");
        assert!(matches!(list, List::Exchanges { ignored: 0, .. }));
        // A 21st distinct name is past the cap, and counted as ignored.
        let mut records: Vec<RData> = (0..21)
            .map(|n| mx(10 + n as u16, &format!("mx{n:02}.example.")))
            .collect();
        records.push(mx(50, "mx00.example."));
        let list = list_from(Ok(Answer::Records(records)));
        assert_eq!(hosts(&list)[19], "29 mx19.example.");
        assert!(matches!(list, List::Exchanges { ignored: 1, .. }));
    }

    #[test]
    fn absent_and_failed() {
        assert_eq!(
            list_from(Ok(Answer::NxDomain)),
            List::Unpublished(Answer::NxDomain)
        );
        assert_eq!(
            list_from(Ok(Answer::NoData)),
            List::Unpublished(Answer::NoData)
        );
        assert_eq!(
            list_from(Err(dns::Error::CnameChain)),
            List::Failed(dns::Error::CnameChain)
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            literal(&name("198.51.100.5.")),
            Some(Ipv4Addr::new(198, 51, 100, 5))
        );
        assert_eq!(literal(&name("198.51.100.5.example.")), None);
        assert_eq!(literal(&name("198.51.100.")), None);
        assert_eq!(literal(&name("198.51.100.256.")), None);
        assert_eq!(literal(&name("mx.a.b.c.")), None);
    }

    #[test]
    fn addresses_of_the_other_family_do_not_count() {
        use hickory_proto::rr::rdata::{A, AAAA};
        let records = vec![
            RData::A(A(Ipv4Addr::new(198, 51, 100, 5))),
            RData::AAAA(AAAA("2001:db8::5".parse().unwrap())),
        ];
        let v4 = addrs_from(Ok(Answer::Records(records.clone())), RecordType::A);
        assert_eq!(v4, Addrs::Found(vec!["198.51.100.5".parse().unwrap()]));
        let v6 = addrs_from(Ok(Answer::Records(records)), RecordType::AAAA);
        assert_eq!(v6, Addrs::Found(vec!["2001:db8::5".parse().unwrap()]));
    }
}
