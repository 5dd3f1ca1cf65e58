//! The stub resolver against the scriptable responder (rmxsmtpd(8), "The
//! DNS"): lost packets, dead, failing and flooding servers, truncation,
//! forgeries and garbage, the three kinds of answer, the deadline, many
//! queries at once, and random query ids.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::responder::{Behaviour, DeadServer, Responder, Zone};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, MX};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rmxsmtpd::dns::{Answer, Config, EDNS_PAYLOAD, Error, Resolver};

const ZONE: &str = "100.51.198.in-addr.arpa";

fn name(text: &str) -> Name {
    Name::from_ascii(text)
        .unwrap()
        .append_domain(&Name::root())
        .unwrap()
}

fn zone() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", "198.51.100.5")
        .a("empty.example.net", "198.51.100.6")
}

fn the_mx() -> Answer {
    Answer::Records(vec![RData::MX(MX::new(10, name("mx1.example.net")))])
}

/// Asks one question of these servers and returns the outcome and the time.
fn ask(
    servers: &[SocketAddr],
    qname: &str,
    rtype: RecordType,
    timeout: Duration,
) -> (Result<Answer, Error>, Duration) {
    let started = Instant::now();
    let mut resolver = Resolver::new(Config::with_servers(servers.to_vec()), timeout);
    let id = resolver.submit(name(qname), rtype);
    let (got, outcome) = resolver.next_outcome().expect("one outcome");
    assert_eq!(got, id);
    assert!(resolver.next_outcome().is_none());
    (outcome, started.elapsed())
}

fn ask_mx(servers: &[SocketAddr]) -> (Result<Answer, Error>, Duration) {
    ask(servers, ZONE, RecordType::MX, Duration::from_secs(10))
}

#[test]
fn an_answer() {
    let dns = Responder::start(zone());
    let (outcome, _) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    let log = dns.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].edns_payload, Some(EDNS_PAYLOAD));
}

#[test]
fn a_lost_first_packet_is_answered_after_the_retransmit() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::Drop, Behaviour::Answer]);
    let (outcome, elapsed) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(dns.queries(ZONE, "MX"), 2);
    assert!(
        elapsed >= Duration::from_millis(900),
        "waited about a second: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn a_dead_first_server_then_the_second_answers() {
    let dead = DeadServer::start();
    let dns = Responder::start(zone());
    let (outcome, elapsed) = ask_mx(&[dead.addr(), dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn a_closed_port_is_passed_over_at_once() {
    let dns = Responder::start(zone());
    let (outcome, elapsed) = ask_mx(&[crate::support::responder::closed_port(), dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert!(
        elapsed < Duration::from_millis(900),
        "ICMP refusal, no wait: {elapsed:?}"
    );
}

#[test]
fn servfail_from_the_first_server_then_an_answer_from_the_second() {
    let first = Responder::start(zone());
    first.script_all(vec![Behaviour::ServFail]);
    let second = Responder::start(zone());
    let (outcome, elapsed) = ask_mx(&[first.addr(), second.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(
        first.queries(ZONE, "MX"),
        1,
        "a failed server is not asked again"
    );
    assert!(
        elapsed < Duration::from_millis(900),
        "no waiting after SERVFAIL: {elapsed:?}"
    );
}

/// A reply to the MX question under the query's id whose answer section is
/// cut short: the question and header are fine, the record is not.
fn malformed() -> Behaviour {
    let mut reply = Message::new(0, MessageType::Response, OpCode::Query);
    reply.add_query(Query::query(name(ZONE), RecordType::MX));
    reply.add_answer(Record::from_rdata(
        name(ZONE),
        300,
        RData::MX(MX::new(10, name("mx1.example.net"))),
    ));
    let mut bytes = reply.to_vec().unwrap();
    bytes.truncate(bytes.len() - 3);
    Behaviour::RawWithId(bytes)
}

#[test]
fn refused_formerr_and_malformed_also_move_on() {
    for behaviour in [Behaviour::Refused, Behaviour::FormErr, malformed()] {
        let first = Responder::start(zone());
        first.script_all(vec![behaviour.clone()]);
        let second = Responder::start(zone());
        let (outcome, elapsed) = ask_mx(&[first.addr(), second.addr()]);
        assert_eq!(outcome, Ok(the_mx()), "{behaviour:?}");
        assert_eq!(
            (first.queries(ZONE, "MX"), second.queries(ZONE, "MX")),
            (1, 1),
            "{behaviour:?}: each server asked once"
        );
        assert!(
            elapsed < Duration::from_millis(900),
            "{behaviour:?}: the second server asked at once, not after the 1 s retry: {elapsed:?}"
        );
    }
}

#[test]
fn with_all_servers_dead_the_deadline_error_comes_in_time() {
    let dead = [DeadServer::start(), DeadServer::start()];
    let servers: Vec<SocketAddr> = dead.iter().map(DeadServer::addr).collect();
    let (outcome, elapsed) = ask(&servers, ZONE, RecordType::MX, Duration::from_secs(2));
    eprintln!("all servers dead, deadline 2 s: error after {elapsed:?}");
    assert_eq!(outcome, Err(Error::Timeout(Duration::from_secs(2))));
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(2500),
        "deadline plus a small margin: {elapsed:?}"
    );
}

/// A server that floods its socket with replies that are not the answer,
/// faster than they can be read, does not keep the resolver from its
/// retry timer: the next server is asked after a second and answers,
/// long before the deadline.
#[test]
fn a_flooding_server_does_not_hold_up_the_next() {
    let flooder = Responder::start(zone());
    flooder.script(ZONE, "MX", vec![Behaviour::Flood(Duration::from_secs(10))]);
    let second = Responder::start(zone());
    let (outcome, elapsed) = ask(
        &[flooder.addr(), second.addr()],
        ZONE,
        RecordType::MX,
        Duration::from_secs(5),
    );
    eprintln!("first server flooding: answer from the second after {elapsed:?}");
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(second.queries(ZONE, "MX"), 1);
}

#[test]
fn truncation_leads_to_the_answer_over_tcp() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::Truncate]);
    let (outcome, _) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(dns.queries(ZONE, "MX"), 1);
    assert_eq!(dns.tcp_queries(ZONE, "MX"), 1);
}

#[test]
fn use_vc_asks_over_tcp_only() {
    let dns = Responder::start(zone());
    let mut config = Config::with_servers(vec![dns.addr()]);
    config.use_vc = true;
    let mut resolver = Resolver::new(config, Duration::from_secs(5));
    resolver.submit(name(ZONE), RecordType::MX);
    let (_, outcome) = resolver.next_outcome().unwrap();
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(
        (dns.queries(ZONE, "MX"), dns.tcp_queries(ZONE, "MX")),
        (0, 1)
    );
}

#[test]
fn forged_id_question_and_source_are_ignored() {
    for forgery in [
        Behaviour::WrongId,
        Behaviour::WrongQuestion,
        Behaviour::WrongPort,
    ] {
        let dns = Responder::start(zone());
        dns.script(
            ZONE,
            "MX",
            vec![Behaviour::Then(vec![forgery.clone(), Behaviour::Answer])],
        );
        let (outcome, elapsed) = ask_mx(&[dns.addr()]);
        assert_eq!(outcome, Ok(the_mx()), "{forgery:?}");
        assert_eq!(
            dns.queries(ZONE, "MX"),
            1,
            "{forgery:?}: no retransmit needed"
        );
        assert!(
            elapsed < Duration::from_millis(900),
            "{forgery:?}: {elapsed:?}"
        );
    }
}

#[test]
fn a_forgery_alone_is_no_answer() {
    // Only a forged reply, then the real one on the retransmit.
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::WrongId, Behaviour::Answer]);
    let (outcome, elapsed) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert_eq!(dns.queries(ZONE, "MX"), 2);
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
}

#[test]
fn garbage_is_ignored() {
    let dns = Responder::start(zone());
    let mut burst = vec![Behaviour::Garbage; 20];
    burst.push(Behaviour::Answer);
    dns.script(ZONE, "MX", vec![Behaviour::Then(burst)]);
    let (outcome, elapsed) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

#[test]
fn nxdomain_nodata_and_servfail_everywhere_are_told_apart() {
    let dns = Responder::start(zone());
    let servers = [dns.addr()];
    let (outcome, _) = ask(
        &servers,
        "nowhere.example.net",
        RecordType::MX,
        Duration::from_secs(5),
    );
    assert_eq!(outcome, Ok(Answer::NxDomain));
    let (outcome, _) = ask(
        &servers,
        "empty.example.net",
        RecordType::MX,
        Duration::from_secs(5),
    );
    assert_eq!(outcome, Ok(Answer::NoData));
    let (outcome, _) = ask(
        &servers,
        "mx1.example.net",
        RecordType::A,
        Duration::from_secs(5),
    );
    assert_eq!(
        outcome,
        Ok(Answer::Records(vec![RData::A(A("198.51.100.5"
            .parse()
            .unwrap()))]))
    );
    let other = Responder::start(zone());
    dns.script_all(vec![Behaviour::ServFail]);
    other.script_all(vec![Behaviour::ServFail]);
    let (outcome, elapsed) = ask(
        &[dns.addr(), other.addr()],
        ZONE,
        RecordType::MX,
        Duration::from_secs(5),
    );
    assert_eq!(outcome, Err(Error::ServersFailed("SERVFAIL".into())));
    assert!(
        elapsed < Duration::from_millis(900),
        "no waiting for the deadline: {elapsed:?}"
    );
}

#[test]
fn a_cname_in_the_answer_is_followed() {
    let dns = Responder::start(Zone::new().cname(ZONE, "list.example.net").mx(
        "list.example.net",
        10,
        "mx1.example.net",
    ));
    let (outcome, _) = ask_mx(&[dns.addr()]);
    assert_eq!(outcome, Ok(the_mx()));
}

#[test]
fn ten_slow_queries_finish_together() {
    let mut zone = Zone::new();
    for n in 0..10 {
        zone = zone.a(&format!("host{n}.example.net"), &format!("198.51.100.{n}"));
    }
    let dns = Responder::start(zone);
    dns.script_all(vec![Behaviour::Late(Duration::from_millis(300))]);
    let started = Instant::now();
    let mut resolver = Resolver::new(
        Config::with_servers(vec![dns.addr()]),
        Duration::from_secs(10),
    );
    for n in 0..10 {
        resolver.submit(name(&format!("host{n}.example.net")), RecordType::A);
    }
    let mut answered = Vec::new();
    while let Some((id, outcome)) = resolver.next_outcome() {
        let asked = resolver.question(id).name.to_ascii();
        let n: u8 = asked["host".len()..asked.find('.').unwrap()]
            .parse()
            .unwrap();
        let want = RData::A(A([198, 51, 100, n].into()));
        assert_eq!(outcome, Ok(Answer::Records(vec![want])), "{asked}");
        answered.push(id);
    }
    let elapsed = started.elapsed();
    eprintln!("ten queries delayed 300 ms each: all answered after {elapsed:?}");
    assert_eq!(answered.len(), 10);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(1500),
        "in parallel, not 3 s: {elapsed:?}"
    );
}

/// Asserts that `ids`, and the steps between one and the next (modulo
/// 2^16), spread over the 16-bit space: of 16 equal ranges, none holds more
/// than `most` of them. A counter, a constant stride, a clock read in a
/// tight loop or a fixed seed piles its ids or its steps into one or two
/// ranges. For independent uniform ids each range's count is Binomial(n,
/// 1/16), and so is each range's count of steps: the steps between
/// independent uniform values modulo 2^16 are themselves independent and
/// uniform. Each caller states the chance that random ids fail its bound.
fn assert_spread(what: &str, ids: &[u16], most: usize) {
    let steps: Vec<u16> = ids.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    for (kind, values) in [("ids", ids), ("steps", &steps[..])] {
        let mut ranges = [0usize; 16];
        for value in values {
            ranges[usize::from(value >> 12)] += 1;
        }
        assert!(
            ranges.iter().all(|&count| count <= most),
            "{what}: {kind} crowd into a few of 16 ranges: {ranges:?}\nids: {ids:?}"
        );
    }
}

/// The ids of the queries the responder got, in order of arrival.
fn ids(log: &[crate::support::responder::QueryLog]) -> Vec<u16> {
    log.iter().map(|q| q.id).collect()
}

#[test]
fn every_query_gets_its_own_random_id() {
    const QUERIES: usize = 256;
    let dns = Responder::start(zone());
    let mut resolver = Resolver::new(
        Config::with_servers(vec![dns.addr()]),
        Duration::from_secs(10),
    );
    for _ in 0..QUERIES {
        resolver.submit(name(ZONE), RecordType::MX);
    }
    while resolver.next_outcome().is_some() {}
    // Retransmits, if the machine is slow, come after every first send.
    let log = dns.log();
    assert!(log.len() >= QUERIES);
    // Binomial(256, 1/16) and Binomial(255, 1/16) reach 48 in any of 16
    // ranges with probability under 16 × 1e-11 each: random ids fail this
    // one time in more than a billion.
    assert_spread("one resolver", &ids(&log[..QUERIES]), 48);
}

#[test]
fn separate_resolvers_and_processes_draw_unrelated_ids() {
    let dns = Responder::start(zone());
    for _ in 0..64 {
        assert_eq!(ask_mx(&[dns.addr()]).0, Ok(the_mx()));
    }
    // Binomial(64, 1/16) reaches 20 in any of 16 ranges with probability
    // 1.8e-8, Binomial(63, 1/16) with 1.3e-8.
    assert_spread("64 resolvers", &ids(&dns.log()), 20);
    let dns = Responder::start(zone());
    let mut firsts = Vec::new();
    for _ in 0..32 {
        let asked = dns.log().len();
        let status = Command::new(env!("CARGO_BIN_EXE_rmxcheck"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DNSCACHEIP", dns.addr().to_string())
            .arg("198.51.100.5")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        firsts.push(dns.log()[asked].id);
    }
    // Binomial(32, 1/16) reaches 14 in any of 16 ranges with probability
    // 3.6e-8, Binomial(31, 1/16) with 2.1e-8.
    assert_spread("the first query of 32 processes", &firsts, 14);
}

#[test]
fn the_caller_can_stop_early() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::Drop]);
    let started = Instant::now();
    let mut resolver = Resolver::new(
        Config::with_servers(vec![dns.addr()]),
        Duration::from_secs(10),
    );
    resolver.submit(name(ZONE), RecordType::MX);
    let fast = resolver.submit(name("mx1.example.net"), RecordType::A);
    let (id, outcome) = resolver.next_outcome().unwrap();
    assert_eq!(id, fast);
    assert!(outcome.is_ok());
    drop(resolver);
    assert!(started.elapsed() < Duration::from_millis(500));
}
