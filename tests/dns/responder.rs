//! The test responder (tests/support/responder.rs) checked on its own, with
//! plain sockets and hickory-proto as the client: answers, the three kinds
//! of reply, CNAME chains, truncation and TCP, each scripted behaviour, the
//! query log, and prompt shutdown.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::support::responder::{Behaviour, DeadServer, Responder, Zone, closed_port};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, MX};
use hickory_proto::rr::{Name, RData, RecordType};

const ZONE: &str = "100.51.198.in-addr.arpa";

fn name(text: &str) -> Name {
    let mut name = Name::from_ascii(text).unwrap();
    name.set_fqdn(true);
    name
}

fn zone() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", "198.51.100.5")
        .aaaa("mx1.example.net", "2001:db8::5")
}

/// A query as a stub resolver sends it: RD set, and an OPT record
/// advertising `payload` if given.
fn query(qname: &str, rtype: RecordType, id: u16, payload: Option<u16>) -> Vec<u8> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name(qname), rtype));
    if let Some(payload) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        message.edns = Some(edns);
    }
    message.to_vec().unwrap()
}

fn client() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
}

/// The next datagram and where it came from.
fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buffer = vec![0; 65_535];
    let (len, from) = socket.recv_from(&mut buffer).expect("a reply");
    buffer.truncate(len);
    (buffer, from)
}

/// One query over UDP and its one reply.
fn ask(server: SocketAddr, bytes: &[u8]) -> Message {
    let socket = client();
    socket.send_to(bytes, server).unwrap();
    let (reply, from) = receive(&socket);
    assert_eq!(from, server);
    Message::from_vec(&reply).unwrap()
}

/// Asserts that nothing more arrives on the socket for a little while.
fn assert_silence(socket: &UdpSocket) {
    socket
        .set_read_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    let mut buffer = [0; 512];
    let error = socket.recv_from(&mut buffer).expect_err("no more replies");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );
}

fn tcp_connect(server: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(server).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
}

fn tcp_send(stream: &mut TcpStream, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap();
    stream.write_all(&len.to_be_bytes()).unwrap();
    stream.write_all(bytes).unwrap();
}

fn tcp_receive(stream: &mut TcpStream) -> Message {
    let mut len = [0; 2];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).unwrap();
    Message::from_vec(&body).unwrap()
}

fn mx_exchanges(reply: &Message) -> Vec<(u16, Name)> {
    reply
        .answers
        .iter()
        .map(|record| match &record.data {
            RData::MX(mx) => (mx.preference, mx.exchange.clone()),
            other => panic!("not an MX: {other:?}"),
        })
        .collect()
}

#[test]
fn an_mx_answer_echoes_the_question_as_asked() {
    let dns = Responder::start(zone());
    let asked = "100.51.198.In-Addr.ARPA";
    let reply = ask(
        dns.addr(),
        &query(asked, RecordType::MX, 0x1234, Some(1232)),
    );
    assert_eq!(reply.metadata.id, 0x1234);
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert_eq!(reply.metadata.op_code, OpCode::Query);
    assert!(reply.metadata.authoritative);
    assert!(reply.metadata.recursion_available);
    assert!(reply.metadata.recursion_desired);
    assert!(!reply.metadata.truncation);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.queries.len(), 1);
    assert!(
        reply.queries[0].name.eq_case(&name(asked)),
        "{}",
        reply.queries[0].name
    );
    assert_eq!(reply.queries[0].query_type, RecordType::MX);
    assert_eq!(mx_exchanges(&reply), vec![(10, name("mx1.example.net"))]);
    assert!(reply.edns.is_some(), "an OPT record answers an OPT record");

    let plain = ask(dns.addr(), &query(ZONE, RecordType::MX, 7, None));
    assert!(plain.edns.is_none());
    assert_eq!(plain.answers.len(), 1);

    assert_eq!(dns.queries(ZONE, "MX"), 2);
    assert_eq!(
        dns.queries(&format!("{ZONE}."), "MX"),
        2,
        "a trailing dot is the same name"
    );
    assert_eq!(dns.total_queries(), 2);
    let log = dns.log();
    assert_eq!(log.len(), 2);
    assert!(log[0].name.eq_case(&name(asked)));
    assert_eq!(
        (log[0].rtype, log[0].id, log[0].tcp),
        (RecordType::MX, 0x1234, false)
    );
    assert_eq!(log[0].edns_payload, Some(1232));
    assert_eq!(log[1].edns_payload, None);
    assert_eq!(log[1].id, 7);
    assert_eq!(log[0].src.ip(), dns.addr().ip());
    assert_ne!(log[0].src.port(), log[1].src.port(), "two client sockets");
}

#[test]
fn a_missing_name_is_nxdomain_and_a_missing_type_is_nodata() {
    let dns = Responder::start(zone());
    let missing = ask(
        dns.addr(),
        &query("nowhere.example.net", RecordType::A, 1, None),
    );
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
    assert!(missing.answers.is_empty());
    let nodata = ask(
        dns.addr(),
        &query("mx1.example.net", RecordType::MX, 2, None),
    );
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    let aaaa = ask(
        dns.addr(),
        &query("MX1.example.net", RecordType::AAAA, 3, None),
    );
    assert_eq!(aaaa.answers.len(), 1);
    assert_eq!(aaaa.answers[0].record_type(), RecordType::AAAA);
}

#[test]
fn cname_chains_are_followed_and_loops_are_cut_short() {
    let dns = Responder::start(
        Zone::new()
            .cname(ZONE, "list.example.net")
            .cname("list.example.net", "real.example.net.")
            .mx("real.example.net", 20, "mx2.example.net")
            .cname("dangling.example.net", "gone.example.net")
            .cname("loop1.example.net", "loop2.example.net")
            .cname("loop2.example.net", "loop1.example.net"),
    );
    let reply = ask(dns.addr(), &query(ZONE, RecordType::MX, 1, None));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    let types: Vec<RecordType> = reply.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(
        types,
        [RecordType::CNAME, RecordType::CNAME, RecordType::MX]
    );
    assert_eq!(reply.answers[0].name, name(ZONE));
    assert_eq!(
        reply.answers[0].data,
        RData::CNAME(CNAME(name("list.example.net")))
    );
    assert_eq!(reply.answers[2].name, name("real.example.net"));
    assert_eq!(
        reply.answers[2].data,
        RData::MX(MX::new(20, name("mx2.example.net")))
    );

    let cname = ask(dns.addr(), &query(ZONE, RecordType::CNAME, 2, None));
    assert_eq!(cname.answers.len(), 1, "a CNAME question is not followed");

    let dangling = ask(
        dns.addr(),
        &query("dangling.example.net", RecordType::A, 3, None),
    );
    assert_eq!(dangling.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(dangling.answers.len(), 1);

    let looping = ask(
        dns.addr(),
        &query("loop1.example.net", RecordType::A, 4, None),
    );
    assert_eq!(looping.metadata.response_code, ResponseCode::NoError);
    assert_eq!(looping.answers.len(), 16);
    assert!(
        looping
            .answers
            .iter()
            .all(|r| r.record_type() == RecordType::CNAME)
    );
}

#[test]
fn truncate_sets_tc_over_udp_and_tcp_gets_the_answer() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::Truncate]);
    let bytes = query(ZONE, RecordType::MX, 99, Some(1232));
    let udp = ask(dns.addr(), &bytes);
    assert!(udp.metadata.truncation);
    assert!(udp.answers.is_empty());
    assert_eq!(udp.metadata.id, 99);
    assert_eq!(udp.queries[0].name, name(ZONE));

    let mut stream = tcp_connect(dns.addr());
    tcp_send(&mut stream, &bytes);
    let tcp = tcp_receive(&mut stream);
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.metadata.id, 99);
    assert_eq!(mx_exchanges(&tcp), vec![(10, name("mx1.example.net"))]);
    assert_eq!(
        (dns.queries(ZONE, "MX"), dns.tcp_queries(ZONE, "MX")),
        (1, 1)
    );
    let log = dns.log();
    assert!(!log[0].tcp && log[1].tcp);
    assert_eq!(log[1].src, stream.local_addr().unwrap());
}

#[test]
fn an_answer_too_large_for_the_client_is_truncated_over_udp() {
    // Thirty MX records: over 512 bytes, under 1232.
    let mut zone = Zone::new();
    for n in 0..30 {
        zone = zone.mx(ZONE, n, &format!("mx{n}.example.net"));
    }
    let dns = Responder::start(zone);
    let classic = ask(dns.addr(), &query(ZONE, RecordType::MX, 1, None));
    assert!(classic.metadata.truncation, "512 bytes without EDNS");
    assert!(classic.answers.is_empty());
    let small = ask(dns.addr(), &query(ZONE, RecordType::MX, 2, Some(100)));
    assert!(
        small.metadata.truncation,
        "a payload under 512 counts as 512"
    );
    let edns = ask(dns.addr(), &query(ZONE, RecordType::MX, 3, Some(4096)));
    assert!(!edns.metadata.truncation);
    assert_eq!(edns.answers.len(), 30);
}

#[test]
fn a_thousand_mx_records_come_whole_over_tcp() {
    let mut zone = Zone::new();
    for n in 0..1000 {
        zone = zone.mx(ZONE, n, &format!("mx{n}.example.net"));
    }
    let dns = Responder::start(zone);
    let bytes = query(ZONE, RecordType::MX, 5, Some(1232));
    let udp = ask(dns.addr(), &bytes);
    assert!(udp.metadata.truncation);

    let mut stream = tcp_connect(dns.addr());
    // Two queries on one connection, then a third after both replies.
    tcp_send(&mut stream, &bytes);
    tcp_send(
        &mut stream,
        &query("mx1.example.net", RecordType::A, 6, None),
    );
    let big = tcp_receive(&mut stream);
    let small = tcp_receive(&mut stream);
    assert_eq!(big.metadata.id, 5);
    let expected: Vec<(u16, Name)> = (0..1000)
        .map(|n| (n, name(&format!("mx{n}.example.net"))))
        .collect();
    assert_eq!(mx_exchanges(&big), expected);
    assert_eq!(small.metadata.id, 6);
    assert_eq!(small.metadata.response_code, ResponseCode::NXDomain);
    tcp_send(&mut stream, &bytes);
    assert_eq!(tcp_receive(&mut stream).answers.len(), 1000);
    assert_eq!(dns.tcp_queries(ZONE, "MX"), 2);
}

#[test]
fn error_codes_repeat_the_question_without_answers() {
    let dns = Responder::start(zone());
    dns.script(
        ZONE,
        "MX",
        vec![Behaviour::ServFail, Behaviour::Refused, Behaviour::FormErr],
    );
    for (id, rcode) in [
        (1, ResponseCode::ServFail),
        (2, ResponseCode::Refused),
        (3, ResponseCode::FormErr),
        (4, ResponseCode::FormErr),
    ] {
        let reply = ask(dns.addr(), &query(ZONE, RecordType::MX, id, Some(1232)));
        assert_eq!(reply.metadata.response_code, rcode);
        assert_eq!(reply.metadata.id, id);
        assert_eq!(
            reply.queries,
            vec![Query::query(name(ZONE), RecordType::MX)]
        );
        assert!(reply.answers.is_empty());
    }
    // Other questions are not scripted.
    let other = ask(
        dns.addr(),
        &query("mx1.example.net", RecordType::A, 5, None),
    );
    assert_eq!(other.metadata.response_code, ResponseCode::NoError);
    assert_eq!(other.answers[0].data, RData::A(A::new(198, 51, 100, 5)));
    assert_eq!(dns.queries(ZONE, "MX"), 4);
}

#[test]
fn scripts_step_per_question_and_the_last_repeats() {
    let dns = Responder::start(zone());
    dns.script_all(vec![Behaviour::Refused, Behaviour::Answer]);
    dns.script(ZONE, "MX", vec![Behaviour::Drop, Behaviour::ServFail]);
    let socket = client();
    let rcode = |id: u16, qname: &str, rtype| {
        socket
            .send_to(&query(qname, rtype, id, None), dns.addr())
            .unwrap();
        let reply = Message::from_vec(&receive(&socket).0).unwrap();
        assert_eq!(reply.metadata.id, id);
        reply.metadata.response_code
    };
    // The MX script: dropped, then SERVFAIL for good.
    socket
        .send_to(&query(ZONE, RecordType::MX, 1, None), dns.addr())
        .unwrap();
    assert_silence(&socket);
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(rcode(2, ZONE, RecordType::MX), ResponseCode::ServFail);
    assert_eq!(rcode(3, ZONE, RecordType::MX), ResponseCode::ServFail);
    // Each other question goes through the script for every name afresh.
    assert_eq!(
        rcode(4, "mx1.example.net", RecordType::A),
        ResponseCode::Refused
    );
    assert_eq!(
        rcode(5, "mx1.example.net", RecordType::A),
        ResponseCode::NoError
    );
    assert_eq!(
        rcode(6, "mx1.example.net", RecordType::AAAA),
        ResponseCode::Refused
    );
    assert_eq!(
        rcode(7, "mx1.example.net", RecordType::A),
        ResponseCode::NoError
    );
    assert_eq!(dns.queries(ZONE, "MX"), 3);
    assert_eq!(dns.queries("mx1.example.net", "A"), 3);
    assert_eq!(dns.total_queries(), 7);
}

#[test]
fn wrong_port_answers_from_another_port() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::WrongPort]);
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 42, None), dns.addr())
        .unwrap();
    let (bytes, from) = receive(&socket);
    assert_eq!(from.ip(), dns.addr().ip());
    assert_ne!(from.port(), dns.addr().port());
    let reply = Message::from_vec(&bytes).unwrap();
    assert_eq!(reply.metadata.id, 42);
    assert_eq!(mx_exchanges(&reply), vec![(10, name("mx1.example.net"))]);
    assert_silence(&socket);
}

#[test]
fn forgeries_come_before_the_answer() {
    let dns = Responder::start(zone());
    dns.script(ZONE, "MX", vec![Behaviour::forgeries_then_answer(8)]);
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 0x4242, None), dns.addr())
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..9 {
        let (bytes, from) = receive(&socket);
        let kind = match Message::from_vec(&bytes) {
            _ if from != dns.addr() => "port",
            Ok(m) if m.metadata.id == 0x4242 && m.queries[0].name != name(ZONE) => "question",
            Ok(m) if m.metadata.id == 0x4242 => {
                assert_eq!(mx_exchanges(&m), vec![(10, name("mx1.example.net"))]);
                "answer"
            }
            // A wrong id, or garbage (which may parse, under a wrong id).
            _ => {
                assert_ne!(bytes[..2], [0x42, 0x42]);
                "id or garbage"
            }
        };
        seen.push(kind);
    }
    assert_eq!(
        seen,
        [
            "id or garbage",
            "question",
            "port",
            "id or garbage",
            "id or garbage",
            "question",
            "port",
            "id or garbage",
            "answer"
        ]
    );
    assert_silence(&socket);
    assert_eq!(dns.queries(ZONE, "MX"), 1);
}

#[test]
fn wrong_id_and_wrong_question_send_nothing_else() {
    let dns = Responder::start(zone());
    dns.script(
        ZONE,
        "MX",
        vec![Behaviour::WrongId, Behaviour::WrongQuestion],
    );
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 100, None), dns.addr())
        .unwrap();
    let wrong_id = Message::from_vec(&receive(&socket).0).unwrap();
    assert_ne!(wrong_id.metadata.id, 100);
    assert_eq!(wrong_id.answers.len(), 1);
    assert_silence(&socket);
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
        .send_to(&query(ZONE, RecordType::MX, 101, None), dns.addr())
        .unwrap();
    let wrong_question = Message::from_vec(&receive(&socket).0).unwrap();
    assert_eq!(wrong_question.metadata.id, 101);
    assert_eq!(
        wrong_question.queries[0].name,
        name(&format!("forged.{ZONE}"))
    );
    assert_silence(&socket);
}

#[test]
fn garbage_is_random_and_sometimes_looks_like_a_header() {
    let dns = Responder::start(zone());
    dns.script(
        ZONE,
        "MX",
        vec![Behaviour::Then(vec![Behaviour::Garbage; 6])],
    );
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 0x0102, None), dns.addr())
        .unwrap();
    let mut headed = 0;
    for _ in 0..6 {
        let (bytes, _) = receive(&socket);
        assert!((40..=200).contains(&bytes.len()), "{}", bytes.len());
        assert_ne!(bytes[..2], [0x01, 0x02], "never the query's id");
        if bytes[2..6] == [0x85, 0x80, 0, 1] {
            headed += 1;
        }
    }
    assert_eq!(headed, 3);
    assert_silence(&socket);
}

#[test]
fn raw_bytes_go_out_as_given_or_with_the_id_patched() {
    let dns = Responder::start(zone());
    dns.script(
        ZONE,
        "MX",
        vec![Behaviour::Then(vec![
            Behaviour::Raw(vec![0xde, 0xad, 0xbe, 0xef]),
            Behaviour::RawWithId(vec![0, 0, 0x81, 0x80, 9]),
        ])],
    );
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 0xabcd, None), dns.addr())
        .unwrap();
    assert_eq!(receive(&socket).0, [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(receive(&socket).0, [0xab, 0xcd, 0x81, 0x80, 9]);

    dns.script_tcp(ZONE, "MX", vec![Behaviour::Raw(vec![0, 3, 1, 2, 3])]);
    let mut stream = tcp_connect(dns.addr());
    tcp_send(&mut stream, &query(ZONE, RecordType::MX, 1, None));
    let mut got = [0; 5];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, [0, 3, 1, 2, 3], "no length prefix added");
}

#[test]
fn ten_late_replies_arrive_together() {
    let mut zone = Zone::new();
    for n in 0..10 {
        zone = zone.a(&format!("host{n}.example.net"), &format!("198.51.100.{n}"));
    }
    let dns = Responder::start(zone);
    dns.script_all(vec![Behaviour::Late(Duration::from_millis(300))]);
    let started = Instant::now();
    let sockets: Vec<UdpSocket> = (0..10u8)
        .map(|n| {
            let socket = client();
            let bytes = query(
                &format!("host{n}.example.net"),
                RecordType::A,
                n.into(),
                None,
            );
            socket.send_to(&bytes, dns.addr()).unwrap();
            socket
        })
        .collect();
    for (n, socket) in (0..10u8).zip(&sockets) {
        let reply = Message::from_vec(&receive(socket).0).unwrap();
        assert_eq!(reply.metadata.id, u16::from(n));
        assert_eq!(reply.answers[0].data, RData::A(A::new(198, 51, 100, n)));
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "in parallel: {elapsed:?}");
}

#[test]
fn tcp_scripts_drop_the_connection_or_fail() {
    let dns = Responder::start(zone());
    dns.script_tcp(
        ZONE,
        "MX",
        vec![
            Behaviour::Drop,
            Behaviour::Late(Duration::from_millis(50)),
            Behaviour::ServFail,
        ],
    );
    let bytes = query(ZONE, RecordType::MX, 8, None);
    let mut stream = tcp_connect(dns.addr());
    tcp_send(&mut stream, &bytes);
    let mut rest = Vec::new();
    assert_eq!(
        stream.read_to_end(&mut rest).unwrap(),
        0,
        "closed without a reply"
    );

    let mut stream = tcp_connect(dns.addr());
    let started = Instant::now();
    tcp_send(&mut stream, &bytes);
    assert_eq!(tcp_receive(&mut stream).answers.len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(50));
    tcp_send(&mut stream, &bytes);
    assert_eq!(
        tcp_receive(&mut stream).metadata.response_code,
        ResponseCode::ServFail
    );
    assert_eq!(dns.tcp_queries(ZONE, "MX"), 3);
    assert_eq!(dns.queries(ZONE, "MX"), 0);
}

#[test]
fn junk_is_counted_but_not_answered() {
    let dns = Responder::start(zone());
    let socket = client();
    socket.send_to(&[1, 2, 3], dns.addr()).unwrap();
    // A response, not a query, is ignored too.
    let mut response = Message::from_vec(&query(ZONE, RecordType::MX, 3, None)).unwrap();
    response.metadata.message_type = MessageType::Response;
    socket
        .send_to(&response.to_vec().unwrap(), dns.addr())
        .unwrap();
    assert_silence(&socket);
    assert_eq!(dns.total_queries(), 2);
    assert!(dns.log().is_empty());
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
        .send_to(&query(ZONE, RecordType::MX, 4, None), dns.addr())
        .unwrap();
    assert_eq!(
        Message::from_vec(&receive(&socket).0).unwrap().metadata.id,
        4
    );
}

#[test]
fn a_dead_server_is_silent_and_a_closed_port_refuses() {
    let dead = DeadServer::start();
    let socket = client();
    socket.connect(dead.addr()).unwrap();
    socket.send(&query(ZONE, RecordType::MX, 1, None)).unwrap();
    assert_silence(&socket);

    let closed = closed_port();
    assert_eq!(closed.ip(), dead.addr().ip());
    let socket = client();
    socket.connect(closed).unwrap();
    socket.send(&query(ZONE, RecordType::MX, 1, None)).unwrap();
    let mut buffer = [0; 512];
    let error = socket.recv(&mut buffer).expect_err("nobody answers");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn dropping_the_responder_does_not_wait_for_late_replies() {
    let dns = Responder::start(zone());
    dns.script_all(vec![Behaviour::Late(Duration::from_secs(30))]);
    let socket = client();
    socket
        .send_to(&query(ZONE, RecordType::MX, 1, None), dns.addr())
        .unwrap();
    let _idle = tcp_connect(dns.addr());
    // Wait until the query is in, so a late reply is really pending.
    let waiting = Instant::now();
    while dns.total_queries() == 0 && waiting.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(dns.total_queries(), 1);
    let started = Instant::now();
    drop(dns);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}
