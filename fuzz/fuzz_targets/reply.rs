//! Fuzz target `reply`: the whole path from DNS reply bytes to a verdict, as
//! `lookup::lookup` takes it, with the fuzzer playing every server.
//!
//! Input: one flag byte (bit 0: an IPv6 client), then replies framed as on
//! TCP (two-octet length, then the message; a short last frame takes what
//! is left). The first frames answer the MX questions at the client's
//! reverse names, most specific first; the next ones answer the address
//! questions of the exchanges, in list order. Every frame goes through
//! `wire::check` with the query id and question a real lookup would use.
//!
//! Checked on the way, against the header and answer section read by hand
//! (tests/support/answer_section.rs): `check` gives a final outcome only
//! for a standard query, and its records only as the section holds them,
//! each of the type asked in that type's shape; a null MX only where the
//! section holds an MX record with the root as its exchange. Also: a list is
//! capped, sorted and free of the root name; addresses are of the client's
//! family; `judge` decides once nothing is pending, and `pass` only for a
//! client that is on the deciding list; the reply and the log line are
//! printable ASCII and bounded.
#![no_main]

use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordType};
use libfuzzer_sys::fuzz_target;
use rmxsmtpd::date::Date;
use rmxsmtpd::dns::wire::{self, Reply};
use rmxsmtpd::dns::{Answer, Error, Question};
use rmxsmtpd::findings::{Addrs, Findings, List, MAX_EXCHANGES};
use rmxsmtpd::log::Entry;
use rmxsmtpd::lookup::{addrs_from, list_from, literal};
use rmxsmtpd::names::{Prefixes, reverse_names};
use rmxsmtpd::verdict::{Decision, Outcome, Policy, Unpublished, decide, judge};

#[path = "../../tests/support/answer_section.rs"]
mod answer_section;

use answer_section::AnswerSection;

/// The query id of every question; the seeds carry it.
const ID: u16 = 0x4d58;
const V4_CLIENT: &str = "198.51.100.5";
const V6_CLIENT: &str = "2001:db8:1:2::25";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let client: IpAddr = if flags & 1 == 0 { V4_CLIENT } else { V6_CLIENT }
        .parse()
        .expect("a literal address");
    let family = match client {
        IpAddr::V4(_) => RecordType::A,
        IpAddr::V6(_) => RecordType::AAAA,
    };
    let mut frames = Frames(rest);
    let mut findings = Findings::new(client, reverse_names(client, &Prefixes::default()));
    for entry in &mut findings.names {
        let Some(frame) = frames.next() else {
            continue;
        };
        if let Some(outcome) = answer(frame, &entry.name, RecordType::MX) {
            entry.list = list_from(outcome);
            if entry.list == List::Null {
                let section = AnswerSection::read(frame);
                assert!(
                    section.as_ref().is_some_and(AnswerSection::holds_null_mx),
                    "a null MX from {section:?}"
                );
            }
        }
    }
    for entry in &mut findings.names {
        let List::Exchanges { hosts, .. } = &mut entry.list else {
            continue;
        };
        assert!(hosts.len() <= MAX_EXCHANGES, "capped: {}", hosts.len());
        let keys: Vec<_> = hosts
            .iter()
            .map(|h| (h.preference, h.host.to_ascii().to_ascii_lowercase()))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "sorted, no twins: {keys:?}"
        );
        for exchange in hosts.iter_mut() {
            assert!(!exchange.host.is_root(), "a null MX is never an exchange");
            if let Some(v4) = literal(&exchange.host) {
                exchange.addrs = Addrs::Literal(v4);
            } else if let Some(outcome) = frames
                .next()
                .and_then(|f| answer(f, &exchange.host, family))
            {
                exchange.addrs = addrs_from(outcome, family);
            }
            if let Addrs::Found(found) = &exchange.addrs {
                assert!(found.iter().all(|a| a.is_ipv4() == client.is_ipv4()));
            }
        }
    }
    verdict(&findings);
});

/// What one reply to `name`/`rtype` settles, as the resolver would take it:
/// `None` when the query would still be waiting (not ours, or truncated and
/// so asked again over TCP).
fn answer(frame: &[u8], name: &Name, rtype: RecordType) -> Option<Result<Answer, Error>> {
    let question = Question {
        name: name.clone(),
        rtype,
    };
    match wire::check(frame, ID, &question) {
        Reply::NotOurs | Reply::Truncated => None,
        Reply::Malformed => Some(Err(Error::ServersFailed("malformed reply".into()))),
        Reply::ServerError(rcode) => Some(Err(Error::ServersFailed(format!("{rcode:?}")))),
        Reply::Final(outcome) => {
            let section = AnswerSection::read(frame)
                .unwrap_or_else(|| panic!("{outcome:?} from a message that does not parse"));
            assert_eq!(section.opcode, 0, "{outcome:?} from a non-standard query");
            if let Ok(Answer::Records(records)) = &outcome {
                assert!(!records.is_empty(), "Records is never empty");
                for record in records {
                    let shaped = matches!(
                        (rtype, record),
                        (RecordType::MX, RData::MX(_))
                            | (RecordType::A, RData::A(_))
                            | (RecordType::AAAA, RData::AAAA(_))
                    );
                    assert!(
                        shaped && section.holds(record),
                        "{record:?} is no {rtype} record of {section:?}"
                    );
                }
            }
            Some(outcome)
        }
    }
}

/// Judges the findings and follows the result to every action and log line.
fn verdict(findings: &Findings) {
    let judgement = judge(findings);
    let settled = findings.names.iter().all(|entry| match &entry.list {
        List::Pending => false,
        List::Exchanges { hosts, .. } => hosts.iter().all(|h| h.addrs != Addrs::Pending),
        _ => true,
    });
    if settled {
        assert!(judgement.is_some(), "nothing pending, yet no verdict");
    }
    let Some(judgement) = judgement else {
        return;
    };
    if judgement.outcome() == Outcome::Pass {
        let decider = findings
            .names
            .iter()
            .find(|e| Some(&e.name) == judgement.name.as_ref())
            .expect("pass names its list");
        let List::Exchanges { hosts, .. } = &decider.list else {
            panic!("pass from a list without exchanges: {decider:?}");
        };
        assert!(hosts.iter().any(|h| h.matches(findings.client)));
    }
    let client = findings.client.to_string();
    let today = Date::parse("2004-06-01").expect("a real day");
    for permanent in [false, true] {
        let policy = Policy {
            permanent,
            reject_temperror: true,
            unpublished: Unpublished::Reject,
            ..Policy::default()
        };
        let refused = match decide(&judgement, &policy, today, &client) {
            Decision::Accept => None,
            Decision::Refuse(rejection) => Some(rejection.reply()),
        };
        if let Some(reply) = &refused {
            assert!(printable(reply) && reply.len() < 220);
        }
        let line = Entry {
            client: &client,
            judgement: &judgement,
            refusal: refused.as_deref(),
            dry_run: false,
            notes: &[],
        }
        .format();
        assert!(printable(&line) && line.len() <= 1000, "{line:?}");
    }
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// Messages framed as on TCP: a two-octet length, then that many octets.
struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let [high, low, rest @ ..] = self.0 else {
            return None;
        };
        let length = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
        let (frame, rest) = rest.split_at(length);
        self.0 = rest;
        Some(frame)
    }
}
