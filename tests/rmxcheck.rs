//! The rmxcheck binary end to end against the scriptable DNS responder
//! (rmxcheck(1)): the report, the parseable line, every warning the manual
//! lists, the exit statuses over several addresses, usage errors, and the
//! full lookup without an early stop.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::responder::{Behaviour, DeadServer, Responder, Zone};

const BIN: &str = env!("CARGO_BIN_EXE_rmxcheck");
const Z24: &str = "100.51.198.in-addr.arpa";
const Z16: &str = "51.198.in-addr.arpa";

/// rmxcheck asking only `dns`, with nothing else in its environment.
fn run(dns: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DNSCACHEIP", dns)
        .args(args)
        .output()
        .expect("run rmxcheck")
}

/// rmxcheck as [`run`] does, with `input` on its stdin.
fn run_with_input(dns: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DNSCACHEIP", dns)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rmxcheck");
    let mut stdin = child.stdin.take().expect("a pipe");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait for rmxcheck")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn warnings(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

fn two_mtas() -> Zone {
    Zone::new()
        .mx(Z24, 10, "mx1.example.net")
        .mx(Z24, 20, "mx2.example.net")
        .a("mx1.example.net", "198.51.100.5")
        .a("mx2.example.net", "198.51.100.6")
}

#[test]
fn the_report_lists_names_exchanges_and_the_result() {
    let dns = Responder::start(two_mtas());
    let output = run(&dns.addr().to_string(), &["198.51.100.6"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.6\n\
         \x20 /24 100.51.198.in-addr.arpa: list of 2 exchanges\n\
         \x20   MX 10 mx1.example.net: 198.51.100.5\n\
         \x20   MX 20 mx2.example.net: 198.51.100.6  <- matches\n\
         \x20 result: pass: 198.51.100.6 is an address of mx2.example.net, listed at \
         100.51.198.in-addr.arpa\n"
    );
    assert!(warnings(&output).is_empty(), "{:?}", warnings(&output));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn every_exchange_is_resolved_even_after_a_match() {
    let dns = Responder::start(two_mtas());
    let output = run(&dns.addr().to_string(), &["-p", "198.51.100.5"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
    );
    assert_eq!(dns.queries("mx1.example.net", "A"), 1);
    assert_eq!(dns.queries("mx2.example.net", "A"), 1, "no early stop");
}

#[test]
fn parseable_lines_and_exit_statuses_over_several_addresses() {
    let dns = Responder::start(two_mtas().null_mx("113.0.203.in-addr.arpa"));
    let dns = dns.addr().to_string();
    let output = run(
        &dns,
        &[
            "-p",
            "198.51.100.5",
            "198.51.100.10",
            "203.0.113.7",
            "::ffff:198.51.100.6",
        ],
    );
    assert_eq!(
        stdout(&output),
        "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n\
         198.51.100.10 fail 100.51.198.in-addr.arpa no match among 2 listed exchanges\n\
         203.0.113.7 fail 113.0.203.in-addr.arpa null MX\n\
         198.51.100.6 pass 100.51.198.in-addr.arpa mx2.example.net\n"
    );
    assert_eq!(output.status.code(), Some(1));
    // No list anywhere: NXDOMAIN for the /64, the /48 too.
    let cases: [(&[&str], i32); 6] = [
        (&["198.51.100.5", "198.51.100.6"], 0),
        (&["198.51.100.5", "2001:db8::1"], 2),
        (&["-s", "198.51.100.5", "2001:db8::1"], 1),
        (&["2001:db8::1", "198.51.100.10"], 1),
        (&["2001:db8::1", "-s"], 1),
        (&["2001:db8::1"], 2),
    ];
    for (args, want) in cases {
        let output = run(&dns, args);
        assert_eq!(output.status.code(), Some(want), "rmxcheck {args:?}");
    }
    let output = run(&dns, &["-p", "2001:db8::1"]);
    assert_eq!(stdout(&output), "2001:db8::1 none - no list\n");
}

#[test]
fn a_temporary_error_wins_the_exit_status() {
    let dead = DeadServer::start();
    let started = Instant::now();
    let output = run(&dead.addr().to_string(), &["-p", "-T", "1", "198.51.100.5"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 temperror 100.51.198.in-addr.arpa timeout after 1 s\n"
    );
    assert_eq!(output.status.code(), Some(111));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "-T bounds the lookup"
    );
    // A failed exchange is temporary too, even beside a failure.
    let dns = Responder::start(two_mtas().null_mx("113.0.203.in-addr.arpa"));
    dns.script("mx2.example.net", "A", vec![Behaviour::ServFail]);
    let output = run(
        &dns.addr().to_string(),
        &["-p", "203.0.113.7", "198.51.100.10"],
    );
    assert_eq!(
        stdout(&output),
        "203.0.113.7 fail 113.0.203.in-addr.arpa null MX\n\
         198.51.100.10 temperror 100.51.198.in-addr.arpa exchange mx2.example.net: \
         no server answered: SERVFAIL\n"
    );
    assert_eq!(output.status.code(), Some(111));
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 198.51.100.10: exchange mx2.example.net of {Z24} could not \
             be resolved: no server answered: SERVFAIL"
        )]
    );
}

#[test]
fn warns_about_exchanges_that_add_nothing() {
    let dns = Responder::start(
        Zone::new()
            .mx(Z24, 10, "mx1.example.net")
            .mx(Z24, 20, "gone.example.net")
            .mx(Z24, 30, "v6only.example.net")
            .a("mx1.example.net", "198.51.100.5")
            .aaaa("v6only.example.net", "2001:db8::25"),
    );
    let output = run(&dns.addr().to_string(), &["198.51.100.5"]);
    assert_eq!(output.status.code(), Some(0));
    let report = stdout(&output);
    assert!(
        report.contains("    MX 20 gone.example.net: NXDOMAIN: does not exist\n"),
        "{report}"
    );
    assert!(
        report.contains("    MX 30 v6only.example.net: NODATA: no IPv4 (A) address\n"),
        "{report}"
    );
    assert_eq!(
        warnings(&output),
        [
            format!(
                "rmxcheck: warning: 198.51.100.5: exchange gone.example.net of {Z24} does not \
                 resolve (NXDOMAIN)"
            ),
            format!(
                "rmxcheck: warning: 198.51.100.5: exchange v6only.example.net of {Z24} has no \
                 IPv4 (A) address"
            ),
        ]
    );
}

#[test]
fn warns_about_an_ipv4_literal_for_an_ipv6_client() {
    let z64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let dns = Responder::start(
        Zone::new()
            .mx(z64, 10, "198.51.100.5")
            .mx(z64, 20, "mx1.example.net")
            .aaaa("mx1.example.net", "2001:db8:1:2::25"),
    );
    let output = run(
        &dns.addr().to_string(),
        &["-6", "64", "-p", "2001:db8:1:2::99"],
    );
    assert_eq!(
        stdout(&output),
        format!("2001:db8:1:2::99 fail {z64} no match among 2 listed exchanges\n")
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 2001:db8:1:2::99: exchange 198.51.100.5 of {z64} is an IPv4 \
             address literal: it never matches an IPv6 client"
        )]
    );
}

#[test]
fn warns_about_more_than_twenty_exchanges() {
    let mut zone = Zone::new();
    for n in 0..25u16 {
        let host = format!("mx{n:02}.example.net");
        zone = zone
            .mx(Z24, 10 + n, &host)
            .a(&host, &format!("198.51.100.{}", 100 + n));
    }
    let dns = Responder::start(zone);
    // mx22 is past the cap: its address is not on the list.
    let output = run(&dns.addr().to_string(), &["-p", "198.51.100.122"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.122 fail 100.51.198.in-addr.arpa no match among 20 listed exchanges\n"
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 198.51.100.122: {Z24} has 25 exchanges: only the first 20 by \
             preference are used, 5 ignored"
        )]
    );
    assert_eq!(dns.queries("mx22.example.net", "A"), 0, "not resolved");
    let output = run(&dns.addr().to_string(), &["198.51.100.105"]);
    assert!(
        stdout(&output).contains(": list of 20 exchanges, 5 more ignored\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn warns_about_a_sixteen_shadowed_by_a_twenty_four() {
    let dns = Responder::start(
        two_mtas()
            .mx(Z16, 10, "relay.example.net")
            .a("relay.example.net", "198.51.100.7"),
    );
    let output = run(
        &dns.addr().to_string(),
        &["-4", "24,16", "-p", "198.51.100.7"],
    );
    assert_eq!(
        stdout(&output),
        "198.51.100.7 fail 100.51.198.in-addr.arpa no match among 2 listed exchanges\n"
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 198.51.100.7: the list at {Z16} (/16) is shadowed by the list \
             at {Z24} (/24), which decides for this address"
        )]
    );
}

#[test]
fn a_broader_list_decides_where_the_narrower_name_has_none() {
    let z64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let z48 = "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let dns = Responder::start(
        Zone::new()
            .mx(z64, 10, "mx1.example.net")
            .mx(z48, 10, "relay.example.net")
            .aaaa("mx1.example.net", "2001:db8:1:2::25")
            .aaaa("relay.example.net", "2001:db8:1:3::7"),
    );
    let dns = dns.addr().to_string();
    let output = run(&dns, &["-p", "2001:db8:1:3::7"]);
    assert_eq!(
        stdout(&output),
        format!("2001:db8:1:3::7 pass {z48} relay.example.net\n")
    );
    assert!(warnings(&output).is_empty(), "{:?}", warnings(&output));
    // In the /64 that has a list of its own, the /48's is shadowed.
    let output = run(&dns, &["-p", "2001:db8:1:2::25"]);
    assert_eq!(
        stdout(&output),
        format!("2001:db8:1:2::25 pass {z64} mx1.example.net\n")
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 2001:db8:1:2::25: the list at {z48} (/48) is shadowed by the \
             list at {z64} (/64), which decides for this address"
        )]
    );
}

#[test]
fn warns_about_a_null_mx_among_others() {
    let dns = Responder::start(two_mtas().null_mx(Z24));
    let output = run(&dns.addr().to_string(), &["-p", "198.51.100.6"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.6 pass 100.51.198.in-addr.arpa mx2.example.net\n"
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 198.51.100.6: {Z24} has a null MX beside other MX records \
             (RFC 7505 forbids it): the null MX is ignored"
        )]
    );
}

#[test]
fn usage_errors_are_one_line_and_ask_nothing() {
    let dns = Responder::start(two_mtas());
    for args in [
        &[][..],
        &["-x", "198.51.100.5"],
        &["-T", "0", "198.51.100.5"],
        &["-4", "20", "198.51.100.5"],
        &["198.51.100.5", "198.51.100"],
        &["198.51.100.5", "mx_1.example.net"],
        &["198.51.100.5", "198.51.100.0/20"],
        &["2001:db8::/66", "198.51.100.5"],
    ] {
        let output = run(&dns.addr().to_string(), args);
        assert_eq!(output.status.code(), Some(100), "rmxcheck {args:?}");
        assert!(stdout(&output).is_empty());
        let error = warnings(&output);
        assert_eq!(error.len(), 1, "{error:?}");
        assert!(error[0].starts_with("rmxcheck: usage error: "), "{error:?}");
    }
    assert_eq!(dns.total_queries(), 0, "a bad argument stops every lookup");
}

/// A system error reaches the output in words, as djb's programs say it
/// (`connection refused`), never as Rust's `Connection refused (os error
/// 111)`: here TCP only (`use-vc`) to a port where nothing listens.
#[test]
fn a_system_error_is_said_in_words() {
    let closed = support::responder::closed_port().to_string();
    let output = Command::new(BIN)
        .env_clear()
        .env("DNSCACHEIP", &closed)
        .env("RES_OPTIONS", "use-vc")
        .args(["-T", "5", "-p", "198.51.100.5"])
        .output()
        .expect("run rmxcheck");
    assert_eq!(
        stdout(&output),
        "198.51.100.5 temperror 100.51.198.in-addr.arpa no server answered: \
         TCP: connection refused\n"
    );
    assert_eq!(output.status.code(), Some(111));
}

#[test]
fn a_network_len_not_on_a_queried_boundary_is_a_usage_error_naming_the_lengths() {
    let dns = Responder::start(two_mtas());
    for (network, lengths, how) in [
        (
            "198.51.100.0/20",
            "a multiple of 8 from 8 to 32",
            ": a /20 publishes its list at each of its 16 /24 names",
        ),
        (
            "2001:db8:1:2::/62",
            "a multiple of 4 from 4 to 128",
            ": a /62 publishes its list at each of its 4 /64 names",
        ),
        // A part of a /24, delegated by RFC 2317: said how it publishes.
        (
            "127.0.8.0/29",
            "a multiple of 8 from 8 to 32",
            ": a /29 has no name; receivers ask its /24's list (its provider's) or, with -4 32, \
             each host's name, which RFC 2317 CNAMEs can lead to its zone",
        ),
    ] {
        let output = run(&dns.addr().to_string(), &[network]);
        assert_eq!(output.status.code(), Some(100), "{network}");
        let error = warnings(&output);
        assert_eq!(error.len(), 1, "{error:?}");
        assert!(error[0].contains(lengths), "{error:?}");
        assert!(error[0].contains(&format!("{how}; usage: ")), "{error:?}");
    }
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn a_network_whose_name_receivers_do_not_ask_by_default_is_checked_with_a_warning() {
    let dns = Responder::start(
        two_mtas()
            .mx(Z16, 10, "mx1.example.net")
            .mx("1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", 10, "mx6.example.net")
            .mx(
                "0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                10,
                "mx6.example.net",
            )
            .aaaa("mx6.example.net", "2001:db8:1::25"),
    );
    let dns = dns.addr().to_string();
    let output = run(&dns, &["-p", "198.51.0.0/16"]);
    assert_eq!(
        stdout(&output),
        "198.51.0.0/16 pass 51.198.in-addr.arpa 198.51.100.5\n"
    );
    assert_eq!(
        warnings(&output),
        [
            "rmxcheck: warning: 198.51.0.0/16: receivers ask 51.198.in-addr.arpa only when run \
             with -4 16; by default they ask the /24 names: publish the list at each of its 256 \
             /24 names"
        ]
    );
    assert_eq!(output.status.code(), Some(0), "a warning, not a failure");
    // What a receiver at the defaults decides for a client of that /16.
    let output = run(&dns, &["-p", "198.51.7.1"]);
    assert_eq!(stdout(&output), "198.51.7.1 none - no list\n");
    assert_eq!(output.status.code(), Some(2));
    // The names receivers ask by default: no warning.
    for network in ["198.51.100.0/24", "2001:db8:1::/48"] {
        let output = run(&dns, &["-p", network]);
        assert!(warnings(&output).is_empty(), "{network}: {output:?}");
    }
    let output = run(&dns, &["-p", "2001:db8:1::/56"]);
    assert_eq!(
        warnings(&output),
        [
            "rmxcheck: warning: 2001:db8:1::/56: receivers ask 0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa \
             only when run with -6 56; by default they ask the /48 and /64 names: publish the list \
             at each of its 256 /64 names"
        ]
    );
}

#[test]
fn a_reverse_name_as_rmxreport_prints_it_is_its_network() {
    let server = Responder::start(
        two_mtas()
            .mx("1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", 10, "mx6.example.net")
            .aaaa("mx6.example.net", "2001:db8:1::25"),
    );
    let dns = server.addr().to_string();
    let output = run(
        &dns,
        &[
            "-p",
            "100.51.198.in-addr.arpa",
            "1.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA.",
        ],
    );
    assert_eq!(
        stdout(&output),
        "198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 198.51.100.6\n\
         2001:db8:1::/48 pass 1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa 2001:db8:1::25\n"
    );
    assert!(warnings(&output).is_empty(), "{output:?}");
    assert_eq!(output.status.code(), Some(0));
    // From stdin too, as rmxreport's names would come.
    let output = run_with_input(&dns, &["-p", "-"], "100.51.198.in-addr.arpa\n");
    assert_eq!(
        stdout(&output),
        "198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 198.51.100.6\n"
    );
    // An RFC 2317 zone's name is no network: where its lists are asked.
    let asked = server.total_queries();
    let output = run(&dns, &["0-7.8.0.127.in-addr.arpa"]);
    assert_eq!(output.status.code(), Some(100));
    let error = warnings(&output);
    assert_eq!(error.len(), 1, "{error:?}");
    assert!(
        error[0].starts_with(
            "rmxcheck: usage error: not a network's reverse name: \"0-7.8.0.127.in-addr.arpa\"; \
             an RFC 2317 zone is asked at its hosts' names, by receivers run with -4 32: check \
             each address with -4 32; usage: "
        ),
        "{error:?}"
    );
    assert_eq!(server.total_queries(), asked, "nothing asked");
}

/// The reverse name of a whole address, where its PTR records are.
fn ptr_name(ip: &str) -> String {
    match ip.parse().unwrap() {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        std::net::IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let mut labels: Vec<String> = hex.chars().rev().map(String::from).collect();
            labels.push("ip6.arpa".into());
            labels.join(".")
        }
    }
}

/// A /24 whose list names an exchange inside it with a PTR that points
/// back, one outside it whose PTR points elsewhere, and one with no PTR.
fn publisher_zone() -> Zone {
    Zone::new()
        .mx(Z24, 10, "mx1.example.net")
        .mx(Z24, 20, "relay.example.org")
        .mx(Z24, 30, "bare.example.net")
        .a("mx1.example.net", "198.51.100.5")
        .a("relay.example.org", "203.0.113.9")
        .a("bare.example.net", "198.51.100.7")
        .ptr(&ptr_name("198.51.100.5"), "mx1.example.net")
        .ptr(&ptr_name("203.0.113.9"), "other.example.org")
        .a("other.example.org", "203.0.113.10")
}

#[test]
fn a_v4_network_from_the_publishers_side() {
    let dns = Responder::start(publisher_zone());
    let output = run(&dns.addr().to_string(), &["198.51.100.0/24"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.0/24\n\
         \x20 /24 100.51.198.in-addr.arpa: list of 3 exchanges\n\
         \x20   MX 10 mx1.example.net: 198.51.100.5\n\
         \x20     198.51.100.5: inside the network; PTR mx1.example.net, which points back\n\
         \x20   MX 20 relay.example.org: 203.0.113.9\n\
         \x20     203.0.113.9: outside the network; PTR other.example.org, which does not \
         point back\n\
         \x20   MX 30 bare.example.net: 198.51.100.7\n\
         \x20     198.51.100.7: inside the network; no PTR (NXDOMAIN)\n\
         \x20 result: pass: this list lets these addresses send: 198.51.100.5 203.0.113.9 \
         198.51.100.7\n"
    );
    assert!(warnings(&output).is_empty(), "{:?}", warnings(&output));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(dns.queries(Z24, "MX"), 1, "the name queried is the /24's");
    assert_eq!(dns.queries(&ptr_name("203.0.113.9"), "PTR"), 1);
    assert_eq!(
        dns.queries("other.example.org", "A"),
        1,
        "PTR followed back"
    );
    // Host bits are cleared; -p says the same in one line.
    let output = run(&dns.addr().to_string(), &["-p", "198.51.100.77/24"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 203.0.113.9 198.51.100.7\n"
    );
}

#[test]
fn a_v6_network_whose_exchanges_all_lie_outside_it_is_warned_about() {
    let z64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let dns = Responder::start(
        Zone::new()
            .mx(z64, 10, "mx6.example.net")
            .aaaa("mx6.example.net", "2001:db8:9::25")
            .ptr(&ptr_name("2001:db8:9::25"), "mx6.example.net"),
    );
    let output = run(&dns.addr().to_string(), &["2001:db8:1:2::/64"]);
    assert_eq!(
        stdout(&output),
        format!(
            "2001:db8:1:2::/64\n\
             \x20 /64 {z64}: list of 1 exchange\n\
             \x20   MX 10 mx6.example.net: 2001:db8:9::25\n\
             \x20     2001:db8:9::25: outside the network; PTR mx6.example.net, which points back\n\
             \x20 result: pass: this list lets these addresses send: 2001:db8:9::25\n"
        )
    );
    assert_eq!(
        warnings(&output),
        [format!(
            "rmxcheck: warning: 2001:db8:1:2::/64: no exchange listed at {z64} lies inside the \
             network"
        )]
    );
    assert_eq!(output.status.code(), Some(0), "a warning, not a failure");
    assert_eq!(
        dns.queries("mx6.example.net", "AAAA"),
        2,
        "the exchange, then the PTR name"
    );
}

#[test]
fn network_exit_statuses() {
    let dns = Responder::start(publisher_zone().null_mx("113.0.203.in-addr.arpa").mx(
        "2.0.192.in-addr.arpa",
        10,
        "gone.example.net",
    ));
    let dns = dns.addr().to_string();
    let cases: [(&[&str], &str, i32); 5] = [
        (
            &["203.0.113.0/24"],
            "203.0.113.0/24 fail 113.0.203.in-addr.arpa null MX\n",
            1,
        ),
        (
            &["192.0.2.0/24"],
            "192.0.2.0/24 fail 2.0.192.in-addr.arpa no exchange has an address\n",
            1,
        ),
        (&["198.18.0.0/16"], "198.18.0.0/16 none - no list\n", 2),
        (
            &["-s", "198.18.0.0/16"],
            "198.18.0.0/16 none - no list\n",
            1,
        ),
        (
            &["2001:db8::/48", "198.51.100.0/24"],
            "2001:db8::/48 none - no list\n\
             198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 203.0.113.9 198.51.100.7\n",
            2,
        ),
    ];
    for (args, want, status) in cases {
        let mut args = args.to_vec();
        args.insert(0, "-p");
        let output = run(&dns, &args);
        assert_eq!(stdout(&output), want, "rmxcheck {args:?}");
        assert_eq!(output.status.code(), Some(status), "rmxcheck {args:?}");
    }
}

#[test]
fn a_dead_server_is_a_temporary_error_for_a_network() {
    let dead = DeadServer::start();
    let output = run(
        &dead.addr().to_string(),
        &["-p", "-T", "1", "198.51.100.0/24"],
    );
    assert_eq!(
        stdout(&output),
        "198.51.100.0/24 temperror 100.51.198.in-addr.arpa timeout after 1 s\n"
    );
    assert_eq!(output.status.code(), Some(111));
}

#[test]
fn targets_from_stdin_one_a_line() {
    let dns = Responder::start(publisher_zone());
    let dns = dns.addr().to_string();
    let input = "# clients of the day\n\
                 198.51.100.5\n\
                 \n\
                 \x20 203.0.113.9 \r\n\
                 198.51.100.0/24\n\
                 mx1.example.net\n\
                 198.51.100";
    let output = run_with_input(&dns, &["-p", "-"], input);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n\
         203.0.113.9 none - no list\n\
         198.51.100.0/24 pass 100.51.198.in-addr.arpa 198.51.100.5 203.0.113.9 198.51.100.7\n\
         198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
    );
    assert_eq!(
        warnings(&output),
        ["rmxcheck: line 7: not an address, network or host name: \"198.51.100\""]
    );
    assert_eq!(
        output.status.code(),
        Some(100),
        "a bad line is a usage error"
    );
    // Without the bad line, the results decide; arguments and stdin mix.
    let output = run_with_input(&dns, &["-p", "198.51.100.6", "-"], "198.51.100.5\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).lines().count(), 2);
    // An overlong line is one bad line, and the next still counts.
    let long = format!("{}\n198.51.100.5\n", "1".repeat(5000));
    let output = run_with_input(&dns, &["-p", "-"], &long);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
    );
    assert_eq!(
        warnings(&output),
        ["rmxcheck: line 1: longer than 1000 bytes"]
    );
    assert_eq!(output.status.code(), Some(100));
}

#[test]
fn a_host_name_is_checked_at_each_of_its_addresses() {
    let z64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let dns = Responder::start(
        publisher_zone()
            .aaaa("mx1.example.net", "2001:db8:1:2::25")
            .mx(z64, 10, "mx1.example.net"),
    );
    let dns = dns.addr().to_string();
    let output = run(&dns, &["-6", "64", "mx1.example.net"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 (an address of mx1.example.net)\n\
         \x20 /24 100.51.198.in-addr.arpa: list of 3 exchanges\n\
         \x20   MX 10 mx1.example.net: 198.51.100.5  <- matches\n\
         \x20   MX 20 relay.example.org: 203.0.113.9\n\
         \x20   MX 30 bare.example.net: 198.51.100.7\n\
         \x20 result: pass: 198.51.100.5 is an address of mx1.example.net, listed at \
         100.51.198.in-addr.arpa\n\
         \n\
         2001:db8:1:2::25 (an address of mx1.example.net)\n\
         \x20 /64 2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa: list of 1 exchange\n\
         \x20   MX 10 mx1.example.net: 2001:db8:1:2::25  <- matches\n\
         \x20 result: pass: 2001:db8:1:2::25 is an address of mx1.example.net, listed at \
         2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa\n"
    );
    assert_eq!(output.status.code(), Some(0));
    // A name with no address names nothing to check.
    let output = run(&dns, &["-p", "gone.example.net", "198.51.100.5"]);
    assert_eq!(
        stdout(&output),
        "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
    );
    assert_eq!(
        warnings(&output),
        ["rmxcheck: gone.example.net: no such host (NXDOMAIN)"]
    );
    assert_eq!(output.status.code(), Some(100));
}

#[test]
fn a_link_local_address_with_a_zone_is_read_as_rmxsmtpd_reads_it() {
    let z64 = "0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa";
    let dns = Responder::start(
        Zone::new()
            .mx(z64, 10, "lan.example.net")
            .aaaa("lan.example.net", "fe80::1"),
    );
    let output = run(&dns.addr().to_string(), &["-p", "-6", "64", "fe80::1%eth0"]);
    assert_eq!(
        stdout(&output),
        format!("fe80::1 pass {z64} lan.example.net\n")
    );
    assert_eq!(output.status.code(), Some(0));
}
