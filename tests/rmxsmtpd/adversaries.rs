//! Hostile peers. DNS adversaries, against the fixture responder:
//! forged replies, a thousand-record list, CNAME and compression loops, a
//! reply as large as a DNS message gets (64 KiB, over TCP and as one UDP
//! datagram), a reply after the deadline, a flood of replies that are not
//! the answer. Client adversaries, against the real binary's held session
//! on a socketpair: 10 MB without a newline, 10,000 pipelined commands,
//! slowloris, a client that never reads. Each client case reads the child's
//! largest anonymous memory (RssAnon) while it runs and holds it under `PEAK_BOUND_KIB`,
//! and sees the process end.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::support::memory::Peak;
use crate::support::responder::{Behaviour, Responder, Zone};
use crate::support::wrapper::Wrapper;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use rmxsmtpd::check::{Dns, Until, check};
use rmxsmtpd::dns::{self, Config};
use rmxsmtpd::findings::{Addrs, Findings, List, MAX_EXCHANGES};
use rmxsmtpd::names::Prefixes;
use rmxsmtpd::verdict::Outcome;

// ---- DNS adversaries ----------------------------------------------------

const ZONE: &str = "100.51.198.in-addr.arpa";
const LISTED: &str = "198.51.100.5";
const SMTP: &[u8] = b"HELO client.example\r\nQUIT\r\n";

/// The proposal's example network: one exchange, which is the client.
fn small_zone() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", LISTED)
}

/// The library's whole lookup for `client`, as rmxsmtpd runs it: stop when
/// the verdict is known. Returns the findings, the verdict, the time taken.
fn look_up(dns: &Responder, client: &str) -> (Findings, Outcome, Duration) {
    let client: IpAddr = client.parse().expect("a literal address");
    let dns = Dns {
        config: Config::with_servers(vec![dns.addr()]),
        misread: None,
        timeout: Duration::from_secs(10),
    };
    let started = Instant::now();
    let checked = check(client, &Prefixes::default(), &dns, Until::Decided);
    let elapsed = started.elapsed();
    (checked.findings, checked.judgement.outcome(), elapsed)
}

#[test]
fn a_hundred_forgeries_before_the_answer() {
    let dns = Responder::start(small_zone());
    dns.script(ZONE, "MX", vec![Behaviour::forgeries_then_answer(100)]);
    dns.script(
        "mx1.example.net",
        "A",
        vec![Behaviour::forgeries_then_answer(100)],
    );
    let outcome = Wrapper::new(dns.addr(), LISTED, &[]).run(SMTP);
    assert_eq!(outcome.result().as_deref(), Some("pass"), "{outcome:?}");
    // Neither question was asked again: no forgery counted as a failure.
    assert_eq!(dns.queries(ZONE, "MX"), 1);
    assert_eq!(dns.queries("mx1.example.net", "A"), 1);
}

/// 1,000 exchanges, 31 of them at the lowest preference, in mixed case:
/// the cap must take 20 of those 31, by name without regard to case.
fn thousand_zone() -> (Zone, Vec<(String, String)>) {
    let mut zone = Zone::new();
    let mut hosts = Vec::new();
    for i in 0..1000u32 {
        let host = if i % 2 == 0 {
            format!("mx{i}.example.net")
        } else {
            format!("MX{i}.Example.NET")
        };
        // In the client's /24; the 31 at preference 0 all differ.
        let address = format!("198.51.100.{}", i % 250 + 1);
        zone = zone.mx(ZONE, (i % 33) as u16, &host).a(&host, &address);
        hosts.push(((i % 33, host.to_ascii_lowercase()), host, address));
    }
    hosts.sort();
    let ranked = hosts
        .into_iter()
        .map(|(_, host, address)| (host, address))
        .collect();
    (zone, ranked)
}

#[test]
fn a_thousand_exchanges_over_tcp_are_capped_at_twenty() {
    let (zone, ranked) = thousand_zone();
    let dns = Responder::start(zone);
    // The 21st is at the lowest preference too, but past the cap: it fails.
    let (findings, outcome, _) = look_up(&dns, &ranked[MAX_EXCHANGES].1);
    assert_eq!(outcome, Outcome::Fail);
    assert_eq!(dns.queries(ZONE, "MX"), 1, "asked over UDP once");
    assert_eq!(dns.tcp_queries(ZONE, "MX"), 1, "then over TCP");
    let List::Exchanges { hosts, ignored, .. } = &findings.names[0].list else {
        panic!("a list: {:?}", findings.names[0].list);
    };
    assert_eq!(*ignored, 1000 - MAX_EXCHANGES);
    let got: Vec<String> = hosts.iter().map(|h| h.host.to_ascii()).collect();
    let want: Vec<String> = ranked[..MAX_EXCHANGES]
        .iter()
        .map(|(host, _)| format!("{host}."))
        .collect();
    assert_eq!(got, want, "the lowest preferences, ties by name");
    for (exchange, (_, address)) in hosts.iter().zip(&ranked) {
        let address: IpAddr = address.parse().expect("an address");
        assert_eq!(exchange.addrs, Addrs::Found(vec![address]));
    }
    for (n, (host, _)) in ranked.iter().enumerate() {
        let asked = usize::from(n < MAX_EXCHANGES);
        assert_eq!(dns.queries(host, "A"), asked, "{host}");
    }
    // The 20th is on the list.
    let dns = Responder::start(thousand_zone().0);
    let (_, outcome, _) = look_up(&dns, &ranked[MAX_EXCHANGES - 1].1);
    assert_eq!(outcome, Outcome::Pass);
}

#[test]
fn a_cname_loop_is_an_error_not_a_hang() {
    let zone = Zone::new()
        .cname(ZONE, "a.example.net")
        .cname("a.example.net", ZONE);
    let dns = Responder::start(zone);
    let (findings, outcome, elapsed) = look_up(&dns, LISTED);
    assert_eq!(findings.names[0].list, List::Failed(dns::Error::CnameChain));
    assert_eq!(outcome, Outcome::TempError);
    assert_eq!(
        dns.queries(ZONE, "MX"),
        1,
        "a final answer: not asked again"
    );
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

/// A reply to the MX question (id filled in by the responder) whose
/// question, answer owner, or exchange is a compression pointer to itself.
fn pointer_loops() -> Vec<(&'static str, Vec<u8>)> {
    let qname = Name::from_ascii(format!("{ZONE}.")).expect("a name");
    let qname = qname.to_bytes().expect("wire form");
    let header = |answers: u8| vec![0, 0, 0x81, 0x80, 0, 1, 0, answers, 0, 0, 0, 0];
    let mx_in = [0, 15, 0, 1];
    let rr_head = |rdlength: u8| [0, 15, 0, 1, 0, 0, 1, 44, 0, rdlength];
    let answer_at = (12 + qname.len() + 4) as u8;
    let question_loop = [header(0), vec![0xc0, 12], mx_in.to_vec()].concat();
    let owner_loop = [
        header(1),
        qname.clone(),
        mx_in.to_vec(),
        vec![0xc0, answer_at],
        rr_head(4).to_vec(),
        vec![0, 10, 0xc0, 12],
    ]
    .concat();
    let exchange_at = answer_at + 2 + 10 + 2;
    let exchange_loop = [
        header(1),
        qname,
        mx_in.to_vec(),
        vec![0xc0, 12],
        rr_head(4).to_vec(),
        vec![0, 10, 0xc0, exchange_at],
    ]
    .concat();
    vec![
        ("question", question_loop),
        ("answer owner", owner_loop),
        ("exchange", exchange_loop),
    ]
}

#[test]
fn a_compression_pointer_loop_is_an_error() {
    for (place, bytes) in pointer_loops() {
        for tcp in [false, true] {
            let dns = Responder::start(small_zone());
            let raw = Behaviour::RawWithId(bytes.clone());
            if tcp {
                dns.script(ZONE, "MX", vec![Behaviour::Truncate]);
                dns.script_tcp(ZONE, "MX", vec![raw]);
            } else {
                dns.script(ZONE, "MX", vec![raw]);
            }
            let (findings, outcome, elapsed) = look_up(&dns, LISTED);
            let case = format!("loop in the {place}, tcp {tcp}");
            assert!(
                matches!(
                    findings.names[0].list,
                    List::Failed(dns::Error::ServersFailed(_))
                ),
                "{case}: {:?}",
                findings.names[0].list
            );
            assert_eq!(outcome, Outcome::TempError, "{case}");
            assert!(elapsed < Duration::from_secs(2), "{case}: {elapsed:?}");
        }
    }
}

/// A zone whose exchange `big.example.net` has `count` A records, and the
/// encoded reply to its A question, checked to be between 65,000 bytes and
/// `largest`; the client that passes is the last address.
fn big_zone(count: u32, largest: usize) -> (Zone, Vec<u8>, String) {
    let host = "big.example.net";
    let address = |n: u32| format!("198.18.{}.{}", n / 256, n % 256);
    let zone_name = format!("{}.18.198.in-addr.arpa", (count - 1) / 256);
    let mut zone = Zone::new().mx(&zone_name, 10, host);
    let mut records = Vec::new();
    let owner = Name::from_ascii(format!("{host}.")).expect("a name");
    for n in 0..count {
        zone = zone.a(host, &address(n));
        let a = RData::A(A(address(n).parse().expect("an address")));
        records.push(Record::from_rdata(owner.clone(), 300, a));
    }
    // The reply the responder sends, measured the same way.
    let mut reply = Message::new(0, MessageType::Response, OpCode::Query);
    reply.add_query(Query::query(owner, RecordType::A));
    reply.add_answers(records);
    reply.set_edns(Edns::new());
    let bytes = reply.to_vec().expect("it encodes");
    assert!(
        (65_000..=largest).contains(&bytes.len()),
        "{} bytes",
        bytes.len()
    );
    let decoded = Message::from_vec(&bytes).expect("it decodes");
    assert!(!decoded.metadata.truncation && decoded.answers.len() == count as usize);
    (zone, bytes, address(count - 1))
}

#[test]
fn a_64_kib_reply_over_tcp() {
    // As many A records as fit in one message (hickory sets TC past 65,535
    // bytes, and TC over TCP is a malformed reply).
    let (zone, _, last) = big_zone(2170, 65_535);
    let dns = Responder::start(zone);
    let (_, outcome, _) = look_up(&dns, &last);
    assert_eq!(outcome, Outcome::Pass, "the last of 2170 addresses");
    assert_eq!(dns.tcp_queries("big.example.net", "A"), 1);
}

/// A server that ignores the EDNS payload size offered (RFC 6891 §6.2.5)
/// and sends the largest datagram UDP over IPv4 carries (65,507 bytes): it
/// is read whole, into a receive buffer that is never zeroed first, and
/// its last record counts.
#[test]
fn a_64_kib_datagram_is_read_whole() {
    let (zone, bytes, last) = big_zone(2168, 65_507);
    let dns = Responder::start(zone);
    dns.script("big.example.net", "A", vec![Behaviour::RawWithId(bytes)]);
    let (_, outcome, _) = look_up(&dns, &last);
    assert_eq!(outcome, Outcome::Pass, "the last of 2168 addresses");
    assert_eq!(dns.queries("big.example.net", "A"), 1);
    assert_eq!(dns.tcp_queries("big.example.net", "A"), 0);
}

#[test]
fn a_reply_after_the_deadline_is_ignored() {
    let dns = Responder::start(small_zone());
    dns.script(ZONE, "MX", vec![Behaviour::Late(Duration::from_secs(5))]);
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-T", "1"]).run(SMTP);
    assert_timed_out_after_1_s(&outcome, Duration::from_secs(4));
}

/// A lookup under `-T 1` that timed out, and ended `within` its start.
fn assert_timed_out_after_1_s(outcome: &crate::support::wrapper::Outcome, within: Duration) {
    assert_eq!(
        outcome.result().as_deref(),
        Some("temperror"),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.log(),
        format!("{LISTED} temperror {ZONE} accept (timeout after 1 s)")
    );
    assert!(outcome.elapsed < within, "-T 1 plus a margin: {outcome:?}");
}

/// A flood of forged replies from the server's own address and port, sent
/// faster than they can be read, for longer than the lookup may take: the
/// lookup still ends at its deadline (the forgeries are not the answer).
#[test]
fn a_flood_of_forgeries_ends_at_the_deadline() {
    let dns = Responder::start(small_zone());
    dns.script(ZONE, "MX", vec![Behaviour::Flood(Duration::from_secs(8))]);
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-T", "1"]).run(SMTP);
    eprintln!("flooded, -T 1: decided after {:?}", outcome.elapsed);
    // Without a bound on the reads, the flood held it 8 s.
    assert_timed_out_after_1_s(&outcome, Duration::from_secs(3));
    assert_eq!(dns.queries(ZONE, "MX"), 1);
}

// ---- Client adversaries -------------------------------------------------

/// The held session's anonymous memory may never pass this: less than
/// the 10 MB one client sends in a line, so buffering it would show.
const PEAK_BOUND_KIB: u64 = 8 * 1024;
/// The text that forces the held session with no lookup.
const REFUSAL_TEXT: &str = "go away [%i]";
const REFUSAL: &str = "451 4.7.1 go away [198.51.100.10]";
/// A server nobody listens on: the held session asks no DNS at all.
const NO_DNS: &str = "127.0.0.1:9";

/// A held session on a socketpair, watched while it runs.
struct Held {
    child: Child,
    peer: UnixStream,
    peak: Peak,
    stderr: JoinHandle<String>,
    started: Instant,
}

/// How a held session ended.
#[derive(Debug)]
struct Ended {
    status: ExitStatus,
    peak_kib: u64,
    elapsed: Duration,
    stderr: String,
}

impl Held {
    /// rmxsmtpd `-t limit` for an unlisted client, refused by `RMXSMTPD`.
    fn start(limit: &str) -> Held {
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let dns: SocketAddr = NO_DNS.parse().expect("a literal address");
        let mut wrapper =
            Wrapper::new(dns, "198.51.100.10", &["-t", limit]).env("RMXSMTPD", REFUSAL_TEXT);
        let theirs = OwnedFd::from(theirs);
        let mut child = wrapper
            .command
            .stdin(Stdio::from(theirs.try_clone().expect("dup")))
            .stdout(Stdio::from(theirs))
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rmxsmtpd");
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        Held {
            peak: Peak::watch(child.id()),
            child,
            peer: ours,
            stderr,
            started: Instant::now(),
        }
    }

    /// Waits until the process has exited, at most `within`, then reaps it.
    fn end(mut self, within: Duration) -> Ended {
        let pid = self.child.id() as libc::id_t;
        let deadline = self.started + within;
        loop {
            // SAFETY: siginfo_t is plain data; waitid with WNOWAIT leaves the
            // child to be reaped by `wait` below, so the pid stays ours.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is valid for writing.
            let rc = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
            // SAFETY: waitid filled `info` (si_pid stays 0 while the child runs).
            if unsafe { info.si_pid() } != 0 {
                break;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("rmxsmtpd still running after {within:?}");
            }
            thread::sleep(Duration::from_millis(5));
        }
        let elapsed = self.started.elapsed();
        let peak_kib = self.peak.stop();
        let status = self.child.wait().expect("reap rmxsmtpd");
        let ended = Ended {
            status,
            peak_kib,
            elapsed,
            stderr: self.stderr.join().expect("stderr reader"),
        };
        assert!(ended.peak_kib > 0, "RssAnon was read: {ended:?}");
        assert!(ended.peak_kib < PEAK_BOUND_KIB, "peak memory: {ended:?}");
        assert_eq!(ended.status.code(), Some(0), "{ended:?}");
        ended
    }
}

/// Everything the session writes until it closes.
fn read_all(mut peer: UnixStream) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = peer.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

#[test]
fn ten_megabytes_without_a_newline() {
    // A limit well past the time it takes: QUIT, not -t, ends this one.
    let held = Held::start("10");
    let reader = read_all(held.peer.try_clone().expect("dup"));
    let mut writer = held.peer.try_clone().expect("dup");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..160 {
        writer.write_all(&chunk).expect("the session keeps reading");
    }
    writer.write_all(b"\r\nNOOP\r\nQUIT\r\n").expect("write");
    let ended = held.end(Duration::from_secs(12));
    assert_eq!(
        reader.join().expect("reader"),
        "220 rmxsmtpd.local\r\n500 5.5.2 rmxsmtpd.local line too long\r\n\
         250 rmxsmtpd.local\r\n221 rmxsmtpd.local\r\n",
        "{ended:?}"
    );
}

#[test]
fn ten_thousand_pipelined_commands() {
    const COMMANDS: [(&str, &str); 6] = [
        ("HELO client.example", "250 rmxsmtpd.local"),
        ("MAIL FROM:<a@example.org>", "250 rmxsmtpd.local"),
        ("RCPT TO:<b@example.com>", REFUSAL),
        ("DATA", REFUSAL),
        ("rset", "250 rmxsmtpd.local"),
        ("VRFY postmaster", REFUSAL),
    ];
    let held = Held::start("10");
    let mut input = String::new();
    let mut want = String::from("220 rmxsmtpd.local\r\n");
    for n in 0..9_999 {
        let (command, reply) = COMMANDS[n % COMMANDS.len()];
        input.push_str(&format!("{command}\r\n"));
        want.push_str(&format!("{reply}\r\n"));
    }
    input.push_str("QUIT\r\n");
    want.push_str("221 rmxsmtpd.local\r\n");
    let reader = read_all(held.peer.try_clone().expect("dup"));
    let mut writer = held.peer.try_clone().expect("dup");
    let sender = thread::spawn(move || writer.write_all(input.as_bytes()));
    let ended = held.end(Duration::from_secs(12));
    sender
        .join()
        .expect("writer")
        .expect("every command was read");
    let got = reader.join().expect("reader");
    assert_eq!(got.lines().count(), 10_001, "{ended:?}");
    assert!(got == want, "replies out of order: {ended:?}");
}

#[test]
fn slowloris_ends_at_the_session_limit() {
    let held = Held::start("2");
    let reader = read_all(held.peer.try_clone().expect("dup"));
    let mut writer = held.peer.try_clone().expect("dup");
    let done = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&done);
    let sender = thread::spawn(move || {
        for byte in b"HELO slow.example\r\n".iter().cycle() {
            if stop.load(Ordering::Relaxed) || writer.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    let ended = held.end(Duration::from_secs(5));
    done.store(true, Ordering::Relaxed);
    sender.join().expect("writer");
    assert!(ended.elapsed >= Duration::from_secs(2), "{ended:?}");
    assert_eq!(
        reader.join().expect("reader"),
        "220 rmxsmtpd.local\r\n421 4.4.2 rmxsmtpd.local timeout, closing connection\r\n"
    );
}

#[test]
fn a_client_that_never_reads() {
    let held = Held::start("2");
    let mut writer = held.peer.try_clone().expect("dup");
    writer.set_nonblocking(true).expect("non-blocking");
    let commands = b"RCPT TO:<b@example.com>\r\n".repeat(4096);
    let mut sent = 0usize;
    let blocked_at = Instant::now() + Duration::from_secs(1);
    // Write until the session stops taking input: its replies fill our
    // receive buffer, then its output bound stops it reading.
    let blocked = loop {
        match writer.write(&commands) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() >= blocked_at {
                    break true;
                }
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("write: {e}"),
        }
        if sent > 64 << 20 {
            break false;
        }
    };
    assert!(blocked, "writes never blocked: {sent} bytes taken");
    let ended = held.end(Duration::from_secs(5));
    assert!(ended.elapsed >= Duration::from_secs(2), "{ended:?}");
    assert!(!ended.stderr.is_empty(), "the log line: {ended:?}");
}
