//! Properties over all inputs, with bounded random cases:
//!
//! - reply handling (`dns::wire::check`) returns for every byte string, and
//!   what it accepts is what was sent: an answer to a standard query, with
//!   records that the message, read by hand, holds in their type's shape;
//! - the held session answers each complete command line up to QUIT with
//!   exactly the reply the manual's table gives it (tests/support/
//!   session_model.rs), and its own memory stays within a fixed bound,
//!   measured with a counting allocator;
//! - reverse names match a reference built by hand from the address;
//! - `judge`, `decide` and `screen` are total; `judge` agrees with the
//!   findings, and `decide` with the literal table in `tests/decide.table`;
//! - rmxpolicyd's request reader returns for any bytes, within its bounds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, MX};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use rmxsmtpd::date::Date;
use rmxsmtpd::dns::wire::{self, Reply};
use rmxsmtpd::dns::{self, Answer, Question};
use rmxsmtpd::findings::{Addrs, Exchange, Findings, List, NameFindings};
use rmxsmtpd::log::Entry;
use rmxsmtpd::lookup::list_from;
use rmxsmtpd::names::{Prefixes, parse_v4, parse_v6, reverse_names};
use rmxsmtpd::policyd::request::{self, MAX_ATTRIBUTES, MAX_REQUEST};
use rmxsmtpd::session::{Dialogue, MAX_COMMAND_LINE, MAX_PENDING_OUTPUT};
use rmxsmtpd::text::{MAX_MESSAGE, render};
use rmxsmtpd::verdict::{
    Decision, Judgement, Outcome, Policy, Reason, Rejection, Screen, Unpublished, decide, judge,
    screen,
};

#[path = "support/answer_section.rs"]
mod answer_section;
#[path = "support/decide_table.rs"]
mod decide_table;
#[path = "support/session_model.rs"]
mod session_model;

use answer_section::AnswerSection;

// ---- A counting allocator: live heap bytes of the current thread ----------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // During thread teardown the counter may be gone; nothing measures then.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter is a const-initialised thread-local that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is System's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

// ---- Shared strategies ------------------------------------------------------

const ID: u16 = 0x4d58;
const ZONE: &str = "100.51.198.in-addr.arpa.";
const HOSTS: [&str; 6] = [
    "mx1.example.net.",
    "MX1.Example.NET.",
    "mx2.example.net.",
    "198.51.100.5.",
    "a.very.long.name.of.an.exchange.example.org.",
    ".",
];

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

/// Host names: well-formed ones, and labels of raw bytes (a hostile server
/// may send any octets in a label).
fn host() -> impl Strategy<Value = Name> {
    prop_oneof![
        3 => select(&HOSTS[..]).prop_map(name),
        1 => vec(vec(any::<u8>(), 1..20), 1..4)
            .prop_map(|labels| Name::from_labels(labels).expect("labels under 64 octets")),
    ]
}

/// A few addresses, so that exchanges and clients often coincide.
fn address() -> impl Strategy<Value = IpAddr> {
    select(
        &[
            "198.51.100.5",
            "198.51.100.10",
            "203.0.113.7",
            "2001:db8::25",
            "::ffff:198.51.100.5",
        ][..],
    )
    .prop_map(|text| text.parse().expect("a literal address"))
}

fn dns_error() -> impl Strategy<Value = dns::Error> {
    prop_oneof![
        (0u64..100).prop_map(|s| dns::Error::Timeout(Duration::from_secs(s))),
        any::<String>().prop_map(dns::Error::ServersFailed),
        Just(dns::Error::CnameChain),
    ]
}

fn absent() -> impl Strategy<Value = Answer> {
    prop_oneof![Just(Answer::NxDomain), Just(Answer::NoData)]
}

fn addrs() -> impl Strategy<Value = Addrs> {
    prop_oneof![
        Just(Addrs::Pending),
        select(&["198.51.100.5", "198.51.100.10", "203.0.113.9"][..])
            .prop_map(|text| Addrs::Literal(text.parse().expect("a literal address"))),
        vec(address(), 0..4).prop_map(Addrs::Found),
        absent().prop_map(Addrs::Missing),
        dns_error().prop_map(Addrs::Failed),
    ]
}

fn list() -> impl Strategy<Value = List> {
    let exchange = (any::<u16>(), host(), addrs()).prop_map(|(preference, host, addrs)| Exchange {
        preference,
        host,
        addrs,
    });
    prop_oneof![
        Just(List::Pending),
        absent().prop_map(List::Unpublished),
        dns_error().prop_map(List::Failed),
        Just(List::Null),
        (vec(exchange, 0..25), 0usize..1000, any::<bool>()).prop_map(
            |(hosts, ignored, null_dropped)| List::Exchanges {
                hosts,
                ignored,
                null_dropped,
            }
        ),
    ]
}

fn findings() -> impl Strategy<Value = Findings> {
    (address(), vec(list(), 0..4)).prop_map(|(client, lists)| Findings {
        client,
        names: lists
            .into_iter()
            .enumerate()
            .map(|(n, list)| NameFindings {
                prefix: 32 - 8 * n as u8,
                name: name(&format!("n{n}.example.arpa.")),
                list,
            })
            .collect(),
    })
}

fn date() -> impl Strategy<Value = Date> {
    (1970u32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| Date::parse(&format!("{y:04}-{m:02}-{d:02}")).expect("a real day"))
}

fn policy() -> impl Strategy<Value = Policy> {
    let unpublished = prop_oneof![
        Just(Unpublished::Accept),
        Just(Unpublished::Reject),
        date().prop_map(Unpublished::RejectFrom),
    ];
    (any::<bool>(), any::<bool>(), unpublished, any::<String>()).prop_map(
        |(permanent, reject_temperror, unpublished, message)| Policy {
            permanent,
            reject_temperror,
            unpublished,
            message,
        },
    )
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

// ---- Reply handling -----------------------------------------------------------

fn mx_question() -> Question {
    Question {
        name: name(ZONE),
        rtype: RecordType::MX,
    }
}

/// A well-formed reply to the MX question, with these MX records and a
/// stray A record, as a server would send it.
fn mx_reply(mxs: &[(u16, Name)]) -> Vec<u8> {
    let mut message = Message::new(ID, MessageType::Response, OpCode::Query);
    message.metadata.response_code = ResponseCode::NoError;
    message.add_query(Query::query(name(ZONE), RecordType::MX));
    for (preference, exchange) in mxs {
        let data = RData::MX(MX::new(*preference, exchange.clone()));
        message.add_answer(Record::from_rdata(name(ZONE), 300, data));
    }
    let stray = RData::A(A(Ipv4Addr::new(198, 51, 100, 5)));
    message.add_answer(Record::from_rdata(name("mx1.example.net."), 300, stray));
    message.to_vec().expect("the reply encodes")
}

/// A reply to the MX question built byte by byte, so that it may hold what
/// no encoder writes: any opcode, and answer records at the name asked of
/// any type with any data.
fn raw_reply(opcode: u8, rcode: u8, answers: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let count = u8::try_from(answers.len()).expect("a few answers");
    let mut bytes = ID.to_be_bytes().to_vec();
    bytes.extend([0x80 | opcode << 3, 0x80 | rcode, 0, 1, 0, count, 0, 0, 0, 0]);
    bytes.extend(name(ZONE).to_bytes().expect("wire form"));
    bytes.extend([0, 15, 0, 1]);
    for (rtype, rdata) in answers {
        // The question's name by pointer, the type, IN, TTL 300.
        bytes.extend([0xc0, 12]);
        bytes.extend(rtype.to_be_bytes());
        bytes.extend([0, 1, 0, 0, 1, 44]);
        bytes.extend(u16::try_from(rdata.len()).expect("short").to_be_bytes());
        bytes.extend(rdata);
    }
    bytes
}

/// An answer record's type (MX, A, CNAME, AAAA) and data: a preference and
/// a name, a name, nothing, or a few octets of anything.
fn raw_answer() -> impl Strategy<Value = (u16, Vec<u8>)> {
    let wire = |name: Name| name.to_bytes().expect("wire form");
    let rdata = prop_oneof![
        (any::<u16>(), host()).prop_map(move |(p, h)| [p.to_be_bytes().to_vec(), wire(h)].concat()),
        host().prop_map(wire),
        Just(Vec::new()),
        vec(any::<u8>(), 1..20),
    ];
    (select(&[15u16, 15, 1, 5, 28][..]), rdata)
}

/// What a reply may count for, whatever it holds, checked against the
/// header and answer section read by hand: a final outcome only from a
/// standard query (opcode 0); records only MX records that the section
/// holds as a preference and a name, and never an empty set of them; a
/// null MX only when the section holds an MX record with the root as its
/// exchange.
fn check_sound(bytes: &[u8], id: u16) -> Result<Reply, TestCaseError> {
    let reply = wire::check(bytes, id, &mx_question());
    let Reply::Final(outcome) = &reply else {
        return Ok(reply);
    };
    let Some(section) = AnswerSection::read(bytes) else {
        return Err(TestCaseError::fail(format!(
            "{outcome:?} from a message that does not parse: {bytes:02x?}"
        )));
    };
    prop_assert_eq!(section.opcode, 0, "{:?}", outcome);
    if let Ok(Answer::Records(records)) = outcome {
        prop_assert!(!records.is_empty());
        for record in records {
            prop_assert!(
                matches!(record, RData::MX(_)) && section.holds(record),
                "{:?} is no MX record of {:?}",
                record,
                section
            );
        }
    }
    if list_from(outcome.clone()) == List::Null {
        prop_assert!(section.holds_null_mx(), "a null MX from {:?}", section);
    }
    Ok(reply)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_bytes_are_a_reply_or_ignored(bytes in vec(any::<u8>(), 0..600), id: u16) {
        let reply = check_sound(&bytes, id)?;
        if bytes.len() < 12 || u16::from_be_bytes([bytes[0], bytes[1]]) != id {
            prop_assert_eq!(reply, Reply::NotOurs);
        }
    }

    #[test]
    fn damaged_replies_are_handled(
        mxs in vec((any::<u16>(), host()), 0..8),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = mx_reply(&mxs);
        for (at, byte) in edits {
            let at = at.index(bytes.len());
            // The id stays: the point is to get past the first check.
            if at >= 2 {
                bytes[at] = byte;
            }
        }
        let length = cut.index(bytes.len() + 1);
        check_sound(&bytes, ID)?;
        check_sound(&bytes[..length], ID)?;
    }

    #[test]
    fn raw_replies_count_for_what_they_hold(
        opcode in prop_oneof![Just(0u8), Just(5), 0u8..16],
        rcode in select(&[0u8, 3][..]),
        answers in vec(raw_answer(), 0..4),
    ) {
        check_sound(&raw_reply(opcode, rcode, &answers), ID)?;
    }

    #[test]
    fn whole_replies_give_what_was_sent(mxs in vec((any::<u16>(), host()), 0..8)) {
        let bytes = mx_reply(&mxs);
        let want = if mxs.is_empty() {
            Answer::NoData
        } else {
            let records = mxs.iter().map(|(p, h)| RData::MX(MX::new(*p, h.clone()))).collect();
            Answer::Records(records)
        };
        prop_assert_eq!(check_sound(&bytes, ID)?, Reply::Final(Ok(want)));
        prop_assert_eq!(check_sound(&bytes, ID ^ 1)?, Reply::NotOurs);
    }
}

// ---- The held session -------------------------------------------------------------

const SESSION_NAME: &str = "mx.test";
/// The dialogue's own heap (host name, refusal line, one line buffer) may
/// never pass this, whatever the client sends.
const SESSION_MEMORY: isize = MAX_COMMAND_LINE as isize + 1024;

/// A client's bytes: commands of every kind, junk, and over-long lines.
fn client_stream() -> impl Strategy<Value = Vec<u8>> {
    let command = select(
        &[
            "HELO a",
            "ehlo b.example",
            "MAIL FROM:<a@b>",
            "RCPT TO:<c@d>",
            "DATA",
            "rset",
            "NoOp",
            "VRFY x",
            "QUIT",
            "quit now",
            "HELO",
            "",
            " HELO",
            "QUIT\r",
            "QUITX",
            "quit ",
            "Quit\tnow",
            "HELO\tb",
            "NOOP\0",
            "MAILFROM:<a@b>",
            "hELo  a",
        ][..],
    );
    let ending = select(&["\r\n", "\n", "\r\r\n", ""][..]);
    let segment = prop_oneof![
        6 => (command, ending).prop_map(|(c, e)| format!("{c}{e}").into_bytes()),
        2 => vec(any::<u8>(), 0..64),
        1 => (any::<u8>(), 990usize..3000).prop_map(|(b, n)| vec![b; n]),
    ];
    vec(segment, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn one_reply_per_line_in_bounded_memory(
        stream in client_stream(),
        sizes in vec(1usize..2000, 1..20),
        permanent: bool,
        text in vec(any::<char>(), 0..300),
    ) {
        let rejection = Rejection {
            permanent,
            detail: "7.1",
            text: rmxsmtpd::text::printable(text.iter().collect::<String>(), MAX_MESSAGE),
        };
        let refusal = rejection.reply();
        let longest = refusal.len() + 2;
        let base = live();
        let mut dialogue = Dialogue::new(SESSION_NAME, &refusal);
        let mut held = live() - base;
        let (mut out, mut written) = (Vec::new(), Vec::new());
        let (mut consumed, mut rest) = (0, &stream[..]);
        for size in sizes.iter().cycle() {
            if rest.is_empty() || dialogue.quit() {
                break;
            }
            let chunk = &rest[..(*size).min(rest.len())];
            let (before, capacity) = (live(), out.capacity());
            let used = dialogue.feed(chunk, &mut out);
            held += (live() - before) - (out.capacity() as isize - capacity as isize);
            prop_assert!(held <= SESSION_MEMORY, "the dialogue holds {} bytes", held);
            prop_assert!(out.len() < MAX_PENDING_OUTPUT + longest.max(40));
            prop_assert!(used <= chunk.len());
            if used < chunk.len() {
                prop_assert!(dialogue.quit() || out.len() >= MAX_PENDING_OUTPUT);
                written.append(&mut out);
            }
            consumed += used;
            rest = &rest[used..];
        }
        written.append(&mut out);
        // The lines it read, up to QUIT, each with exactly the reply the
        // manual's table gives it, in order.
        let read = &stream[..consumed];
        let lines: Vec<&[u8]> = read.split(|&b| b == b'\n').collect();
        let complete = &lines[..lines.len() - 1];
        let answers: Vec<session_model::Answer> = complete.iter().map(|l| session_model::answer(l)).collect();
        let refusal = rejection.reply();
        let want: Vec<String> = answers
            .iter()
            .map(|&a| session_model::reply(a, SESSION_NAME, &refusal))
            .collect();
        let text = String::from_utf8(written).expect("replies are ASCII");
        let got: Vec<&str> = text.split_inclusive("\r\n").collect();
        prop_assert_eq!(&got, &want);
        prop_assert!(text.split_terminator("\r\n").all(printable));
        let quit_at = answers.iter().position(|&a| a == session_model::Answer::Bye);
        prop_assert_eq!(dialogue.quit(), quit_at.is_some());
        match quit_at {
            Some(q) => prop_assert_eq!(q, want.len() - 1, "nothing read after QUIT"),
            None => prop_assert_eq!(consumed, stream.len(), "all read without QUIT"),
        }
    }
}

// ---- Reverse names ----------------------------------------------------------------

/// The reference: digits written out by hand, most significant first, cut to
/// the prefix, then reversed and joined.
fn reference(digits: &[String], keep: usize, suffix: &str) -> String {
    let mut labels: Vec<&str> = digits[..keep].iter().map(String::as_str).collect();
    labels.reverse();
    labels.push(suffix);
    format!("{}.", labels.join("."))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn reverse_names_match_the_reference(
        v4: [u8; 4],
        v6: u128,
        p4 in subsequence(vec![8u8, 16, 24, 32], 0..=4).prop_shuffle(),
        p6 in subsequence((1..=32u8).map(|n| 4 * n).collect::<Vec<_>>(), 0..=6).prop_shuffle(),
    ) {
        let prefixes = Prefixes { v4: p4.clone(), v6: p6.clone() };
        let octets: Vec<String> = v4.iter().map(|o| o.to_string()).collect();
        let got = reverse_names(IpAddr::V4(Ipv4Addr::from(v4)), &prefixes);
        let want: Vec<(u8, String)> = p4
            .iter()
            .map(|&p| (p, reference(&octets, usize::from(p / 8), "in-addr.arpa")))
            .collect();
        let got: Vec<(u8, String)> = got.into_iter().map(|(p, n)| (p, n.to_ascii())).collect();
        prop_assert_eq!(got, want);

        let nibbles: Vec<String> = format!("{v6:032x}").chars().map(String::from).collect();
        let got = reverse_names(IpAddr::V6(Ipv6Addr::from(v6)), &prefixes);
        let want: Vec<(u8, String)> = p6
            .iter()
            .map(|&p| (p, reference(&nibbles, usize::from(p / 4), "ip6.arpa")))
            .collect();
        let got: Vec<(u8, String)> = got.into_iter().map(|(p, n)| (p, n.to_ascii())).collect();
        prop_assert_eq!(got, want);

        // The option parser keeps each prefix once, most specific first.
        if !p4.is_empty() {
            let text: Vec<String> = p4.iter().map(u8::to_string).collect();
            let mut sorted = p4.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            prop_assert_eq!(parse_v4(&text.join(",")), Ok(sorted));
        }
        if !p6.is_empty() {
            let text: Vec<String> = p6.iter().map(u8::to_string).collect();
            let mut sorted = p6.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            prop_assert_eq!(parse_v6(&text.join(",")), Ok(sorted));
        }
    }
}

// ---- The verdict ----------------------------------------------------------------

/// `tests/decide.table`, read once.
fn decide_table() -> &'static HashMap<[&'static str; 5], &'static str> {
    static TABLE: OnceLock<HashMap<[&'static str; 5], &'static str>> = OnceLock::new();
    TABLE.get_or_init(decide_table::read)
}

fn pending(list: &List) -> bool {
    match list {
        List::Pending => true,
        List::Exchanges { hosts, .. } => hosts.iter().any(|h| h.addrs == Addrs::Pending),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn judge_is_total_and_agrees_with_the_findings(findings in findings()) {
        let judgement = judge(&findings);
        if !findings.names.iter().any(|e| pending(&e.list)) {
            prop_assert!(judgement.is_some(), "nothing pending, yet no verdict");
        }
        let Some(judgement) = judgement else {
            prop_assert!(findings.names.iter().any(|e| pending(&e.list)));
            return Ok(());
        };
        let Some(name) = &judgement.name else {
            prop_assert_eq!(judgement.outcome(), Outcome::NoList);
            prop_assert!(!judgement.cut);
            prop_assert!(findings.names.iter().all(|e| matches!(e.list, List::Unpublished(_))));
            return Ok(());
        };
        let at = findings.names.iter().position(|e| &e.name == name);
        prop_assert!(at.is_some(), "the deciding name was asked");
        let at = at.unwrap_or_default();
        prop_assert!(
            findings.names[..at].iter().all(|e| matches!(e.list, List::Unpublished(_))),
            "only names without a list come before the deciding one"
        );
        let decider = &findings.names[at].list;
        let cut = matches!(decider, List::Exchanges { ignored, .. } if *ignored > 0);
        prop_assert_eq!(judgement.cut, cut, "cut says whether the deciding list was");
        let on_list = match decider {
            List::Exchanges { hosts, .. } => hosts.iter().any(|h| h.matches(findings.client)),
            _ => false,
        };
        match judgement.outcome() {
            Outcome::Pass => prop_assert!(on_list),
            Outcome::Fail => prop_assert!(!on_list && !pending(decider)),
            Outcome::TempError => prop_assert!(!on_list),
            other => prop_assert!(false, "{} from a list", other),
        }
    }

    #[test]
    fn decide_agrees_with_the_table_and_screen_is_total(
        policy in policy(),
        today in date(),
        on_the_day: bool,
        cut: bool,
        client in address(),
        rmxsmtpd in proptest::option::of(vec(any::<u8>(), 0..300)),
        relayclient: bool,
        why: String,
        zone in host(),
    ) {
        let client = client.to_string();
        let (unpublished, today) = match policy.unpublished {
            Unpublished::Accept => ("accept", today),
            Unpublished::Reject => ("-s", today),
            Unpublished::RejectFrom(day) if on_the_day => ("-d:on", day),
            Unpublished::RejectFrom(day) if today < day => ("-d:before", today),
            Unpublished::RejectFrom(day) if today == day => ("-d:on", today),
            Unpublished::RejectFrom(_) => ("-d:after", today),
        };
        let refusals = |decision: &Decision| -> Result<(), TestCaseError> {
            if let Decision::Refuse(rejection) = decision {
                prop_assert!(printable(&rejection.text));
                prop_assert!(rejection.text.chars().count() <= MAX_MESSAGE);
                prop_assert!(printable(&rejection.reply()) && printable(&rejection.farewell()));
            }
            Ok(())
        };
        for outcome in Outcome::ALL {
            // The reason of each result that carries the most text.
            let reason = match outcome {
                Outcome::Pass => Reason::Listed(zone.clone()),
                Outcome::Fail => Reason::NotListed(why.len()),
                Outcome::NoList => Reason::NoList,
                Outcome::TempError => Reason::NoClient(why.clone()),
                Outcome::Skip => Reason::Skipped("RMXSMTPD is empty"),
            };
            let judgement = Judgement { cut, ..Judgement::new(reason, Some(&zone)) };
            let decision = decide(&judgement, &policy, today, &client);
            refusals(&decision)?;
            let key = [
                outcome.as_str(),
                if policy.permanent { "-b" } else { "." },
                if policy.reject_temperror { "-c" } else { "." },
                unpublished,
                if cut { "cut" } else { "." },
            ];
            let want = decide_table()[&key];
            let reply = match &decision {
                Decision::Accept => None,
                Decision::Refuse(rejection) => Some(rejection.reply()),
            };
            match (want, &reply) {
                ("accept", None) => {}
                ("accept", Some(reply)) => prop_assert!(false, "{:?}: refused with {}", key, reply),
                (want, None) => prop_assert!(false, "{:?}: accepted, not {}", key, want),
                (want, Some(reply)) => {
                    // The code as in the table; the text the -m text for
                    // a listing, and the table's own for a DNS failure.
                    let (code, text) = want.split_at(10);
                    let text = if code.ends_with("7.1 ") {
                        render(policy.message.as_bytes(), &client)
                    } else {
                        text.replace(decide_table::CLIENT, &client)
                    };
                    prop_assert_eq!(reply, &format!("{code}{text}"), "{:?}", key);
                }
            }
            let line = Entry {
                client: &client,
                judgement: &judgement,
                refusal: reply.as_deref(),
                dry_run: relayclient,
                notes: std::slice::from_ref(&why),
            }
            .format();
            prop_assert!(printable(&line) && line.len() <= 1000, "{:?}", line);
        }
        match screen(rmxsmtpd.as_deref(), relayclient, &client) {
            Screen::Lookup => prop_assert!(rmxsmtpd.is_none() && !relayclient),
            Screen::Skip(_) => prop_assert!(rmxsmtpd.as_deref() == Some(b"") || (rmxsmtpd.is_none() && relayclient)),
            Screen::Reject(rejection) => {
                prop_assert!(rmxsmtpd.as_deref().is_some_and(|t| !t.is_empty()));
                refusals(&Decision::Refuse(rejection))?;
            }
        }
    }
}

// ---- rmxpolicyd's requests -----------------------------------------------

/// A request as Postfix would send it, or not: good lines, broken ones, NUL
/// bytes, CRLF, long values, and any bytes at all.
fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"request=smtpd_access_policy\n".to_vec()),
        Just(b"client_address=198.51.100.10\n".to_vec()),
        Just(b"protocol_state=RCPT\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"no equals sign\n".to_vec()),
        Just(b"=empty name\n".to_vec()),
        Just(b"nul=\0\n".to_vec()),
        (1usize..70_000).prop_map(|n| [b"x=".to_vec(), vec![b'a'; n], b"\n".to_vec()].concat()),
        vec(any::<u8>(), 0..64),
    ];
    vec(line, 0..40).prop_map(|lines| lines.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever arrives, `request::read` returns: each request it gives was
    /// at most MAX_REQUEST bytes and MAX_ATTRIBUTES lines, ended by an empty
    /// line, and made of `name=value` lines with no NUL; anything else ends
    /// the stream with an error, as the protocol asks, at the latest one
    /// line past the request's bound.
    #[test]
    fn any_bytes_are_requests_or_one_error(bytes in request_bytes()) {
        let mut input = request::input(&bytes[..]);
        loop {
            let before = input.consumed() as usize;
            match request::read(&mut input) {
                Ok(request::Next::Request(_)) => {
                    let used = &bytes[before..input.consumed() as usize];
                    prop_assert!(used.len() <= MAX_REQUEST);
                    prop_assert!(used.ends_with(b"\n\n") || used.ends_with(b"\n\r\n") || used == b"\n");
                    prop_assert!(!used.contains(&0));
                    let lines = used.split(|&b| b == b'\n').filter(|l| !l.is_empty() && *l != b"\r");
                    let mut count = 0;
                    for line in lines {
                        count += 1;
                        let at = line.iter().position(|&b| b == b'=');
                        prop_assert!(at.is_some_and(|at| at > 0), "{:?}", line);
                    }
                    prop_assert!(count <= MAX_ATTRIBUTES);
                }
                Ok(request::Next::Idle) => prop_assert!(false, "a slice never waits"),
                Ok(request::Next::End) => {
                    prop_assert_eq!(before, bytes.len(), "end of input only at the end");
                    break;
                }
                Err(why) => {
                    prop_assert!(!why.contains('\n'), "{}", why);
                    // At the latest one line past the bound, which is
                    // itself at most the bound and a newline.
                    prop_assert!(input.consumed() as usize - before <= 2 * MAX_REQUEST + 1);
                    break;
                }
            }
        }
    }
}
