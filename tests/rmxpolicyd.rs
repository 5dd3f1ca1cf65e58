//! The rmxpolicyd binary end to end, speaking the Postfix policy protocol on
//! its stdin and stdout, against the scriptable DNS responder on loopback
//! (rmxpolicyd(8)): every result and option, `protocol_state`, unknown
//! attributes, address forms, two clients in one process, the verdict
//! cache and its expiry, a temporary error kept for its message, the
//! exceptions for postmaster, the trial header, the limit on waiting,
//! broken and over-long requests, answers that cannot be delivered, and
//! memory over 10,000 requests.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use support::json::{At, Value};
use support::memory::anon_kib;
use support::responder::{Behaviour, DeadServer, Responder, Zone};
use support::wrapper::talk;

const BIN: &str = env!("CARGO_BIN_EXE_rmxpolicyd");
const RMXREPORT: &str = env!("CARGO_BIN_EXE_rmxreport");
const LISTED: &str = "198.51.100.5";
const UNLISTED: &str = "198.51.100.10";
const UNPUBLISHED: &str = "203.0.113.7";
const ZONE: &str = "100.51.198.in-addr.arpa";
const V6_ZONE: &str = "0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
const TEXT: &str = "Your IP [198.51.100.10] is not listed in Reverse MX! Contact your mail or your network administrator.";

fn zone() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", LISTED)
        .mx(V6_ZONE, 10, "mx6.example.net")
        .aaaa("mx6.example.net", "2001:db8:1::25")
}

/// A request as Postfix sends it at RCPT, from `client`.
fn request(client: &str) -> String {
    to(client, "1a2b.3c4d", "b@example.com")
}

/// A request at RCPT from `client`, in message `instance`, for `recipient`.
fn to(client: &str, instance: &str, recipient: &str) -> String {
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n\
         client_address={client}\nclient_name=unknown\nhelo_name=client.example\n\
         sender=a@example.org\nrecipient={recipient}\ninstance={instance}\n\n"
    )
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// The actions, in order.
    fn actions(&self) -> Vec<&str> {
        let mut actions = Vec::new();
        let mut rest = self.stdout.as_str();
        while let Some((reply, after)) = rest.split_once("\n\n") {
            let action = reply.strip_prefix("action=");
            actions.push(action.unwrap_or_else(|| panic!("{:?}", self.stdout)));
            rest = after;
        }
        assert_eq!(rest, "", "replies end in an empty line: {:?}", self.stdout);
        actions
    }

    /// The log lines, without the `rmxpolicyd: pid N: ` prefix.
    fn log(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .map(|l| {
                let rest = l.strip_prefix("rmxpolicyd: pid ").expect(l);
                rest.split_once(": ").expect(l).1
            })
            .collect()
    }
}

fn start(dns: std::net::SocketAddr, options: &[&str]) -> Child {
    Command::new(BIN)
        .args(options)
        .env_clear()
        .env("DNSCACHEIP", dns.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rmxpolicyd")
}

fn run(dns: std::net::SocketAddr, options: &[&str], input: &[u8]) -> Run {
    let talked = talk(start(dns, options), input);
    Run {
        status: talked.status,
        stdout: talked.stdout,
        stderr: talked.stderr,
        elapsed: talked.elapsed,
    }
}

fn one(dns: &Responder, options: &[&str], client: &str) -> Run {
    let got = run(dns.addr(), options, request(client).as_bytes());
    assert!(got.status.success(), "{:?}", got.stderr);
    got
}

#[test]
fn each_result_and_its_action() {
    let dns = Responder::start(zone());
    let refusal = format!("451 4.7.1 {TEXT}");
    for (client, action, line) in [
        (LISTED, "DUNNO", format!("{LISTED} pass {ZONE} accept")),
        (
            UNLISTED,
            refusal.as_str(),
            format!("{UNLISTED} fail {ZONE} reject: {refusal}"),
        ),
        (UNPUBLISHED, "DUNNO", format!("{UNPUBLISHED} none - accept")),
    ] {
        let got = one(&dns, &[], client);
        assert_eq!(got.actions(), [action], "{client}");
        assert_eq!(got.log(), [format!("{line}; instance 1a2b.3c4d")]);
    }
}

#[test]
fn options_shape_the_action() {
    let dns = Responder::start(zone());
    let action = |options: &[&str], client| one(&dns, options, client).actions()[0].to_string();
    assert_eq!(action(&["-b"], UNLISTED), format!("554 5.7.1 {TEXT}"));
    assert_eq!(action(&["-b", "-B"], UNLISTED), format!("451 4.7.1 {TEXT}"));
    let none_refused = "451 4.7.1 Your IP [203.0.113.7] is not listed in Reverse MX! Contact your mail or your network administrator.";
    assert_eq!(action(&["-s"], UNPUBLISHED), none_refused);
    assert_eq!(action(&["-d", "2004-06-01"], UNPUBLISHED), none_refused);
    assert_eq!(action(&["-d", "2999-01-01"], UNPUBLISHED), "DUNNO");
    assert_eq!(action(&["-s"], LISTED), "DUNNO");
    assert_eq!(
        action(&["-m", "no list for %i"], UNLISTED),
        "451 4.7.1 no list for 198.51.100.10"
    );
    // -4 16: the list at 51.198.in-addr.arpa, which there is not.
    assert_eq!(action(&["-4", "16"], UNLISTED), "DUNNO");
    // -n: DUNNO, and the log says what would have been done.
    let got = one(&dns, &["-n", "-b"], UNLISTED);
    assert_eq!(got.actions(), ["DUNNO"]);
    assert_eq!(
        got.log(),
        [format!(
            "{UNLISTED} fail {ZONE} dry-run accept, would reject: 554 5.7.1 {TEXT}; instance 1a2b.3c4d"
        )]
    );
    // -q: rejections and errors only.
    assert!(one(&dns, &["-q"], LISTED).log().is_empty());
    assert_eq!(one(&dns, &["-q"], UNLISTED).log().len(), 1);
}

#[test]
fn a_dead_resolver_is_a_temperror_within_the_deadline() {
    let dead = DeadServer::start();
    let got = run(dead.addr(), &["-T", "1"], request(LISTED).as_bytes());
    assert_eq!(got.actions(), ["DUNNO"]);
    assert!(got.elapsed < Duration::from_secs(5), "{:?}", got.elapsed);
    let log = got.log();
    assert!(
        log[0].starts_with(&format!("{LISTED} temperror {ZONE} accept (timeout")),
        "{log:?}"
    );
    let got = run(dead.addr(), &["-T", "1", "-c"], request(LISTED).as_bytes());
    assert_eq!(
        got.actions(),
        ["451 4.4.3 Reverse MX lookup for [198.51.100.5] failed; try again later."]
    );
    // A temperror is never reused for another message, even when the list
    // that led to it was answered with a TTL: the second message asks again.
    let dns = Responder::start(zone());
    dns.script("mx1.example.net", "A", vec![Behaviour::ServFail; 2]);
    let twice = to(LISTED, "1a.1", "b@example.com") + &to(LISTED, "2b.2", "b@example.com");
    let got = run(dns.addr(), &[], twice.as_bytes());
    assert_eq!(got.actions(), ["DUNNO", "DUNNO"]);
    assert_eq!(got.log().len(), 2, "{:?}", got.log());
    assert!(got.log()[1].contains(" temperror "), "{:?}", got.log());
    assert_eq!(dns.queries(ZONE, "MX"), 2);
}

/// A temperror serves the other requests of its message, from its
/// client: a message to many recipients from a client whose reverse zone
/// is lame waits for the DNS once. Another message, or another client in
/// the same message, asks again; so does every request of a message that
/// Postfix does not name (an empty `instance`).
#[test]
fn a_temperror_is_kept_for_the_rest_of_its_message() {
    let dead = DeadServer::start();
    let mut input = to(UNLISTED, "1a.1", "a@example.com").repeat(4);
    input += &to(UNLISTED, "2b.2", "a@example.com");
    input += &to(LISTED, "2b.2", "a@example.com");
    input += &to(UNLISTED, "", "a@example.com").repeat(2);
    let got = run(dead.addr(), &["-T", "1"], input.as_bytes());
    assert_eq!(got.actions(), ["DUNNO"; 8]);
    let lookups: Vec<(&str, &str)> = got
        .log()
        .iter()
        .map(|l| {
            let client = l.split(' ').next().unwrap();
            let instance = l.split_once("; instance ").map_or("", |(_, i)| i);
            assert!(l.contains(" temperror "), "{l}");
            (client, instance)
        })
        .collect();
    assert_eq!(
        lookups,
        [
            (UNLISTED, "1a.1"),
            (UNLISTED, "2b.2"),
            (LISTED, "2b.2"),
            (UNLISTED, ""),
            (UNLISTED, ""),
        ]
    );
}

#[test]
fn every_protocol_state_is_checked_alike() {
    let dns = Responder::start(zone());
    let mut input = String::new();
    for state in [
        "CONNECT",
        "EHLO",
        "HELO",
        "MAIL",
        "RCPT",
        "DATA",
        "END-OF-MESSAGE",
        "VRFY",
        "ETRN",
        "",
    ] {
        input.push_str(&request(UNLISTED).replace("RCPT", state));
    }
    let got = run(dns.addr(), &[], input.as_bytes());
    let refusal = format!("451 4.7.1 {TEXT}");
    assert_eq!(got.actions(), vec![refusal.as_str(); 10]);
    // One lookup, one log line: the rest are answered from what it found.
    assert_eq!(got.log().len(), 1, "{:?}", got.log());
    assert_eq!(dns.queries(ZONE, "MX"), 1);
}

#[test]
fn unknown_attributes_and_requests() {
    let dns = Responder::start(zone());
    let strange = format!(
        "x_unknown=1\nccert_subject=a=b=c\n{}",
        request(UNLISTED).replace("sender=a@example.org\n", "sender=\nsasl_method=\n")
    );
    let other = "request=something_else\nclient_address=198.51.100.10\n\n";
    let input = format!("{strange}{other}{}", request(LISTED));
    let got = run(dns.addr(), &[], input.as_bytes());
    assert!(got.status.success());
    assert_eq!(
        got.actions(),
        [format!("451 4.7.1 {TEXT}").as_str(), "DUNNO", "DUNNO"]
    );
    let log = got.log();
    assert_eq!(
        log[1],
        "request \"something_else\" is not smtpd_access_policy: action=DUNNO"
    );
    assert!(log[2].starts_with(&format!("{LISTED} pass")), "{log:?}");
}

#[test]
fn address_forms() {
    let dns = Responder::start(zone());
    let got = one(&dns, &[], "2001:db8:1::25");
    assert_eq!(got.actions(), ["DUNNO"]);
    assert!(got.log()[0].starts_with(&format!("2001:db8:1::25 pass {V6_ZONE} accept")));
    let got = one(&dns, &[], "2001:db8:1::26");
    assert_eq!(
        got.actions(),
        [
            "451 4.7.1 Your IP [2001:db8:1::26] is not listed in Reverse MX! Contact your mail or your network administrator."
        ]
    );
    // A mapped address is IPv4, shown and looked up as such.
    let got = one(&dns, &[], "::ffff:198.51.100.10");
    assert_eq!(got.actions(), [format!("451 4.7.1 {TEXT}")]);
    assert!(got.log()[0].starts_with(&format!("{UNLISTED} fail {ZONE}")));
    let got = one(&dns, &[], "::ffff:198.51.100.5");
    assert_eq!(got.actions(), ["DUNNO"]);
}

/// No client address (missing, Postfix's `unknown` as for XCLIENT
/// `ADDR=[UNAVAILABLE]`, or not an address) is a temperror, answered DUNNO
/// even under -c: no retry can give Postfix an address it does not have.
#[test]
fn no_address_is_a_temperror_never_refused() {
    let dns = Responder::start(zone());
    let missing = "request=smtpd_access_policy\nprotocol_state=RCPT\n\n";
    let unknown = request("unknown");
    let broken = request("198.51.100.300");
    let input = format!("{missing}{unknown}{broken}");
    for options in [&[][..], &["-c"], &["-c", "-s", "-b"]] {
        let got = run(dns.addr(), options, input.as_bytes());
        assert_eq!(got.actions(), ["DUNNO"; 3], "{options:?}");
        assert_eq!(
            got.log(),
            [
                "- temperror - accept (no client address)",
                "- temperror - accept (no client address); instance 1a2b.3c4d",
                "- temperror - accept (no client address: \"198.51.100.300\"); instance 1a2b.3c4d",
            ]
        );
    }
    assert_eq!(dns.total_queries(), 0);
}

/// Mail to postmaster and abuse, in any domain, is never refused (RFC 5321
/// §4.5.1, RFC 2142): DUNNO, and the note `postmaster` in the log. Under
/// -c too, and under -n the log says accept. -p turns it off.
#[test]
fn postmaster_and_abuse_are_never_refused() {
    let dns = Responder::start(zone());
    let refusal = format!("451 4.7.1 {TEXT}");
    let input = [
        to(UNLISTED, "1a.1", "postmaster@example.com"),
        to(UNLISTED, "1a.1", "Abuse@Example.COM"),
        to(UNLISTED, "1a.1", "b@example.com"),
        to(UNLISTED, "1a.1", "postmaster"),
    ]
    .concat();
    let got = run(dns.addr(), &[], input.as_bytes());
    assert_eq!(got.actions(), ["DUNNO", "DUNNO", &refusal, "DUNNO"]);
    assert_eq!(
        got.log(),
        [format!(
            "{UNLISTED} fail {ZONE} accept; postmaster; instance 1a.1"
        )]
    );
    let got = run(dns.addr(), &["-n"], input.as_bytes());
    assert_eq!(got.actions(), ["DUNNO"; 4]);
    assert_eq!(
        got.log(),
        [format!(
            "{UNLISTED} fail {ZONE} accept; postmaster; instance 1a.1"
        )]
    );
    let got = run(dns.addr(), &["-p"], input.as_bytes());
    assert_eq!(got.actions(), [refusal.as_str(); 4]);
    assert_eq!(
        got.log(),
        [format!(
            "{UNLISTED} fail {ZONE} reject: {refusal}; instance 1a.1"
        )]
    );
    // A temperror refused under -c spares them too.
    let dead = DeadServer::start();
    let got = run(
        dead.addr(),
        &["-c", "-T", "1"],
        to(UNLISTED, "2b.2", "abuse@example.net").as_bytes(),
    );
    assert_eq!(got.actions(), ["DUNNO"]);
    assert!(
        got.log()[0].ends_with("; postmaster; instance 2b.2"),
        "{:?}",
        got.log()
    );
}

/// -H: the first answer of each message is PREPEND of one header that says
/// the result and what rmxpolicyd does, or would do under -n; never twice
/// for a message, never in place of a refusal, never where Postfix names
/// no message.
#[test]
fn the_trial_header_once_per_message() {
    let dns = Responder::start(zone());
    let input = [
        to(UNLISTED, "1a.1", "a@example.com"),
        to(UNLISTED, "1a.1", "b@example.com"),
        to(UNLISTED, "1a.1", "c@example.com"),
        to(LISTED, "2b.2", "a@example.com"),
        to(LISTED, "2b.2", "b@example.com"),
        to(UNPUBLISHED, "", "a@example.com"),
        to(UNPUBLISHED, "3c.3", "a@example.com"),
    ]
    .concat();
    let got = run(dns.addr(), &["-n", "-H"], input.as_bytes());
    assert_eq!(
        got.actions(),
        [
            &format!(
                "PREPEND X-Reverse-MX: fail (would refuse: {UNLISTED} is not listed in {ZONE})"
            ),
            "DUNNO",
            "DUNNO",
            &format!("PREPEND X-Reverse-MX: pass (accept: {LISTED} is listed in {ZONE})"),
            "DUNNO",
            "DUNNO",
            &format!("PREPEND X-Reverse-MX: none (accept: no list for {UNPUBLISHED})"),
        ]
    );
    // Without -n a refusal stays a refusal; the first accepted request of
    // the message (to postmaster) carries the header.
    let input = [
        to(UNLISTED, "4d.4", "a@example.com"),
        to(UNLISTED, "4d.4", "postmaster@example.com"),
        to(UNLISTED, "4d.4", "abuse@example.com"),
    ]
    .concat();
    let got = run(dns.addr(), &["-H"], input.as_bytes());
    assert_eq!(
        got.actions(),
        [
            &format!("451 4.7.1 {TEXT}"),
            &format!(
                "PREPEND X-Reverse-MX: fail (accept for postmaster: {UNLISTED} is not listed in {ZONE})"
            ),
            "DUNNO",
        ]
    );
    // Without -H, no header.
    let got = run(dns.addr(), &["-n"], to(UNLISTED, "5e.5", "a@b").as_bytes());
    assert_eq!(got.actions(), ["DUNNO"]);
}

/// An empty `instance` (checks at CONNECT, EHLO or MAIL) gives no note.
#[test]
fn an_empty_instance_gives_no_note() {
    let dns = Responder::start(zone());
    let got = one(&dns, &[], LISTED);
    assert!(got.log()[0].ends_with("; instance 1a2b.3c4d"));
    let got = run(dns.addr(), &[], to(LISTED, "", "a@b").as_bytes());
    assert_eq!(got.log(), [format!("{LISTED} pass {ZONE} accept")]);
}

#[test]
fn two_clients_in_one_process_keep_their_own_verdicts() {
    let dns = Responder::start(zone());
    let input = [LISTED, UNLISTED, LISTED, UNLISTED, UNPUBLISHED, LISTED]
        .map(request)
        .concat();
    let got = run(dns.addr(), &["-s"], input.as_bytes());
    let refused = format!("451 4.7.1 {TEXT}");
    let none = "451 4.7.1 Your IP [203.0.113.7] is not listed in Reverse MX! Contact your mail or your network administrator.";
    assert_eq!(
        got.actions(),
        [
            "DUNNO",
            refused.as_str(),
            "DUNNO",
            refused.as_str(),
            none,
            "DUNNO"
        ]
    );
    // One lookup per client: three log lines, two MX queries for the
    // shared network, one for the other.
    assert_eq!(got.log().len(), 3, "{:?}", got.log());
    assert_eq!(dns.queries(ZONE, "MX"), 2);
    assert_eq!(dns.queries("113.0.203.in-addr.arpa", "MX"), 1);
}

#[test]
fn a_verdict_expires_with_its_ttl() {
    let dns = Responder::start(
        Zone::new()
            .ttl(1)
            .mx(ZONE, 10, "mx1.example.net")
            .a("mx1.example.net", LISTED),
    );
    let mut child = start(dns.addr(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |client: &str| {
        stdin.write_all(request(client).as_bytes()).unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let mut empty = String::new();
        stdout.read_line(&mut empty).unwrap();
        assert_eq!(empty, "\n");
        line
    };
    assert_eq!(ask(UNLISTED), format!("action=451 4.7.1 {TEXT}\n"));
    assert_eq!(ask(UNLISTED), format!("action=451 4.7.1 {TEXT}\n"));
    assert_eq!(dns.queries(ZONE, "MX"), 1, "kept within its TTL");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ask(UNLISTED), format!("action=451 4.7.1 {TEXT}\n"));
    assert_eq!(dns.queries(ZONE, "MX"), 2, "asked again after its TTL");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn broken_input_gets_no_reply_a_log_line_and_exit_111() {
    let dns = Responder::start(zone());
    let first = request(LISTED);
    let over = format!("request=smtpd_access_policy\nx={}\n\n", "a".repeat(70_000));
    let many = "a=b\n".repeat(1001) + "\n";
    for (broken, why) in [
        (
            "request=smtpd_access_policy\nno equals sign\n\n",
            "without '='",
        ),
        ("=x\n\n", "empty name"),
        ("request=smtpd\0access_policy\n\n", "NUL byte"),
        (over.as_str(), "over 65536 bytes"),
        (many.as_str(), "over 1000 attributes"),
        ("request=smtpd_access_policy\nclient_address=1", "cut short"),
    ] {
        // What follows a broken request is never read; a request cut
        // short by the end of input has nothing after it.
        let after = if why == "cut short" {
            String::new()
        } else {
            request(UNLISTED)
        };
        let input = format!("{first}{broken}{after}");
        let got = run(dns.addr(), &[], input.as_bytes());
        assert_eq!(got.status.code(), Some(111), "{why}");
        assert_eq!(got.actions(), ["DUNNO"], "{why}: only the first answered");
        let log = got.log();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(
            log[1].starts_with("fatal: ") && log[1].contains(why),
            "{log:?}"
        );
    }
}

/// `-i`: no request within the limit ends the run with a log line and exit
/// 0; a request begun and not ended within it gets no answer, a log line
/// and exit 111. Postfix, or tcpserver, holds the connection open all the
/// while. A request that begins late has the whole limit from its first
/// byte.
#[test]
fn waiting_is_bounded() {
    let dns = Responder::start(zone());
    let idle = "no request within 4 s: exiting";
    let cut = "fatal: unable to read a request: request cut short: nothing more within 4 s";
    let half = "request=smtpd_access_policy\nclient_addr";
    let late = [half, "ess=198.51.100.5\n\n"];
    let answered = format!("{LISTED} pass {ZONE} accept");
    let cases: [(&[&str], i32, usize, &str); 4] = [
        (&[], 0, 0, idle),
        (&[half], 111, 0, cut),
        (&[&request(LISTED)], 0, 1, idle),
        // 2.5 s idle, then half a request, then 2.5 s more: 5 s in all,
        // each wait within the limit. Then the end of input.
        (&["", late[0], late[1]], 0, 1, &answered),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|(pieces, ..)| {
            let mut child = start(dns.addr(), &["-i", "4"]);
            let mut stdin = child.stdin.take().unwrap();
            let pieces: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
            // Held open, but after a late request: only the limit ends the
            // wait.
            let writer = std::thread::spawn(move || {
                for (n, piece) in pieces.iter().enumerate() {
                    if n > 0 {
                        std::thread::sleep(Duration::from_millis(2500));
                    }
                    // A rmxpolicyd that gave up early is seen below.
                    let _ = stdin.write_all(piece.as_bytes());
                }
                (pieces.len() < 3).then_some(stdin)
            });
            (child, writer)
        })
        .collect();
    for ((child, writer), (pieces, status, answers, line)) in runs.into_iter().zip(cases) {
        let got = child.wait_with_output().unwrap();
        drop(writer.join().unwrap());
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(status), "{pieces:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&got.stdout);
        assert_eq!(stdout.matches("action=").count(), answers, "{stdout}");
        let last = stderr.lines().last().unwrap_or_default();
        let last = last.split_once(": ").unwrap().1.split_once(": ").unwrap().1;
        assert_eq!(last, line, "{pieces:?}: {stderr}");
    }
}

/// The run as rmxreport(1) reads it: one decision per line counted, and
/// every other line skipped.
fn report(log: &str) -> Value {
    let child = Command::new(RMXREPORT)
        .arg("-j")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let talked = talk(child, log.as_bytes());
    assert!(talked.status.success(), "{}", talked.stderr);
    serde_json::from_str(&talked.stdout).unwrap()
}

/// An answer Postfix can no longer read (it timed out and closed the
/// connection) is one fatal line that says it was not delivered, never an
/// accept: rmxreport counts no decision from it.
#[test]
fn an_answer_not_delivered_is_no_decision() {
    let dead = DeadServer::start();
    let mut child = start(dead.addr(), &["-T", "1"]);
    // Postfix gone: the reading end closed while rmxpolicyd looks up.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(request(UNLISTED).as_bytes()).unwrap();
    drop(stdin);
    let got = child.wait_with_output().unwrap();
    assert_eq!(got.status.code(), Some(111));
    let run = Run {
        status: got.status,
        stdout: String::new(),
        stderr: String::from_utf8(got.stderr).unwrap(),
        elapsed: Duration::ZERO,
    };
    assert_eq!(
        run.log(),
        [format!(
            "fatal: unable to answer: broken pipe; not delivered: {UNLISTED} temperror {ZONE} \
             accept (timeout after 1 s); instance 1a2b.3c4d"
        )]
    );
    let json = report(&run.stderr);
    assert_eq!(json.int("totals.decisions"), 0, "{json}");
    assert_eq!(json.int("skipped.lines"), 1, "{json}");
    // The same request answered is one decision.
    let got = run_once(dead.addr());
    assert_eq!(report(&got.stderr).int("totals.decisions"), 1);
}

fn run_once(dns: std::net::SocketAddr) -> Run {
    run(dns, &["-T", "1"], request(UNLISTED).as_bytes())
}

/// Standard output closed at start (or /dev/null): answers would vanish.
/// A log line, and exit 111, before any request is read.
#[test]
fn standard_output_leading_nowhere_is_trouble() {
    let line = "rmxpolicyd: fatal: unable to answer: standard output is /dev/null, or was closed";
    for redirect in [">&-", ">/dev/null"] {
        let got = Command::new("sh")
            .args(["-c", &format!("exec \"$0\" {redirect}"), BIN])
            .env_clear()
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(got.status.code(), Some(111), "{redirect}");
        let stderr = String::from_utf8_lossy(&got.stderr);
        let (prefix, rest) = stderr.split_once(": pid ").unwrap();
        assert_eq!(prefix, "rmxpolicyd", "{stderr}");
        assert_eq!(
            format!("rmxpolicyd: {}", rest.split_once(": ").unwrap().1),
            format!("{line}\n"),
            "{redirect}"
        );
    }
}

#[test]
fn usage_errors() {
    for args in [
        &["-x"][..],
        &["prog"],
        &["-T", "0"],
        &["-t", "5"],
        &["-i", "0"],
        &["-m", ""],
    ] {
        let got = Command::new(BIN).args(args).env_clear().output().unwrap();
        assert_eq!(got.status.code(), Some(100), "{args:?}");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert!(stderr.starts_with("rmxpolicyd: usage error: "), "{stderr}");
        assert_eq!(stderr.lines().count(), 1);
    }
}

/// The peak resident set after `count` requests, each from another
/// address (past the cache's bound), all answered.
fn peak_after(dns: &Responder, count: u32) -> u64 {
    let mut child = start(dns.addr(), &["-q"]);
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for n in 0..count {
            let [_, b, c, d] = (n + 1).to_be_bytes();
            let client = format!("10.{b}.{c}.{d}");
            stdin.write_all(request(&client).as_bytes()).unwrap();
        }
        stdin
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut answered = 0;
    while answered < 2 * count {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0);
        answered += 1;
    }
    let peak = anon_kib(pid).expect("still running");
    drop(writer.join().unwrap());
    assert!(child.wait().unwrap().success());
    peak
}

#[test]
fn memory_stays_flat_over_10000_requests() {
    let dns = Responder::start(zone());
    let few = peak_after(&dns, 2_000);
    let many = peak_after(&dns, 10_000);
    assert!(
        many <= few + 256,
        "peak {few} KiB after 2,000 requests, {many} KiB after 10,000"
    );
}
