//! What the real binaries write about a lookup, end to end (rmxsmtpd(8),
//! "The log"; rmxcheck(1)): names as they are on the wire, and the same
//! name in the NAME field and in the notes.

mod support;

use std::process::{Command, Output};

use support::responder::{Behaviour, Responder, Zone};
use support::wrapper::Wrapper;

const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const ZONE: &str = "100.51.198.in-addr.arpa";
const LISTED: &str = "198.51.100.5";
/// An internationalized exchange in its ASCII form (RFC 5890): "münchen".
const MUNICH: &str = "xn--mnchen-3ya.example";

/// rmxcheck with these arguments, asking only `dns`.
fn rmxcheck(dns: &Responder, args: &[&str]) -> Output {
    Command::new(RMXCHECK)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DNSCACHEIP", dns.addr().to_string())
        .args(args)
        .output()
        .expect("run rmxcheck")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- Names as they are on the wire -----------------------------------------

#[test]
fn the_log_names_an_internationalized_exchange_in_ascii() {
    let dns = Responder::start(Zone::new().mx(ZONE, 10, MUNICH));
    dns.script(MUNICH, "A", vec![Behaviour::ServFail]);
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-T", "2"]).run(b"");
    assert_eq!(
        outcome.log(),
        format!(
            "{LISTED} temperror {ZONE} accept \
             (exchange {MUNICH}: no server answered: SERVFAIL)"
        )
    );
}

#[test]
fn rmxcheck_names_an_internationalized_exchange_in_ascii() {
    let gone = "xn--bcher-kva.example";
    let dns = Responder::start(
        Zone::new()
            .mx(ZONE, 10, MUNICH)
            .mx(ZONE, 20, gone)
            .a(MUNICH, LISTED),
    );
    let output = rmxcheck(&dns, &[LISTED]);
    assert_eq!(
        text(&output.stdout),
        format!(
            "{LISTED}\n\
             \x20 /24 {ZONE}: list of 2 exchanges\n\
             \x20   MX 10 {MUNICH}: {LISTED}  <- matches\n\
             \x20   MX 20 {gone}: NXDOMAIN: does not exist\n\
             \x20 result: pass: {LISTED} is an address of {MUNICH}, listed at {ZONE}\n"
        )
    );
    assert_eq!(
        text(&output.stderr),
        format!(
            "rmxcheck: warning: {LISTED}: exchange {gone} of {ZONE} does not resolve (NXDOMAIN)\n"
        )
    );
    let output = rmxcheck(&dns, &["-p", LISTED]);
    assert_eq!(
        text(&output.stdout),
        format!("{LISTED} pass {ZONE} {MUNICH}\n")
    );
}

// ---- The NAME field and the notes agree ------------------------------------

#[test]
fn a_note_names_the_list_as_the_name_field_does() {
    let dns = Responder::start(
        Zone::new()
            .null_mx(ZONE)
            .mx(ZONE, 10, "mx1.example.net")
            .a("mx1.example.net", LISTED),
    );
    let outcome = Wrapper::new(dns.addr(), LISTED, &[]).run(b"");
    assert_eq!(
        outcome.log(),
        format!("{LISTED} pass {ZONE} accept; {ZONE}: null MX beside other MX records ignored")
    );
}
