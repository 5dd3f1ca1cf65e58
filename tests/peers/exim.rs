//! rmxpolicyd for the real Exim (rmxpolicyd(8), EXIM): the ACL
//! examples/exim/rmx.acl included as shipped, rmxpolicyd behind tcpserver
//! through examples/exim/run as shipped, tinydns and dnscache in front of
//! the test zones (tests/peers/data), inside namespaces
//! (tests/peers/exim/exim.sh). Exim's host-checking mode (-bh) shows the refusal
//! at RCPT; a real delivery through Exim listening on loopback, with swaks,
//! for a listed and an unlisted client.

use std::fs;
use std::path::Path;

use crate::support::inside::{self, ROOT, sh};

const POLICYD: &str = env!("CARGO_BIN_EXE_rmxpolicyd");
/// The zones (tests/peers/data): 127.0.0.0/24 lists 127.0.0.5 and 127.0.0.6.
const LISTED: &str = "127.0.0.5";
const UNLISTED: &str = "127.0.0.9";
const REFUSAL: &str = "451 4.7.1 Your IP [127.0.0.9] is not listed in Reverse MX! Contact your mail or your network administrator.";

/// The reply with code `code` among `lines` (each after `prefix`), its
/// continuation lines joined: Exim wraps a long text over several lines,
/// each with the code and the enhanced code (RFC 5321 §4.2.1, RFC 2034).
fn reply(lines: &str, prefix: &str, code: &str) -> Option<String> {
    let mut text: Vec<&str> = Vec::new();
    for line in lines.lines().filter_map(|l| l.strip_prefix(prefix)) {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix(code) else {
            continue;
        };
        let (last, rest) = match rest.split_at_checked(1) {
            Some(("-", rest)) => (false, rest),
            Some((" ", rest)) => (true, rest),
            _ => continue,
        };
        let enhanced = format!("{}.", &code[..1]);
        let rest = match rest.split_once(' ') {
            Some((status, words)) if status.starts_with(&enhanced) => {
                if text.is_empty() {
                    text.push(status);
                }
                words
            }
            _ => rest,
        };
        text.push(rest);
        if last {
            return Some(format!("{code} {}", text.join(" ")));
        }
    }
    None
}

fn ready() -> bool {
    let mut ready = crate::support::skip::need_root();
    for (program, package) in [
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
        ("tinydns", "tinydns"),
        ("tinydns-data", "tinydns"),
        ("dnscache", "dnscache"),
        ("dnsqr", "djbdns-utils"),
        ("tcpserver", "ucspi-tcp"),
        ("exim", "exim4-daemon-light"),
        ("swaks", "swaks"),
    ] {
        ready &= crate::support::skip::need(program, package);
    }
    ready
}

#[test]
fn exim_refuses_at_rcpt_through_the_shipped_acl() {
    if !ready() {
        return;
    }
    let scratch = inside::scratch("exim");
    let dir = scratch.path();
    let d = dir.display();
    sh(&format!(
        "mkdir -p '{d}/spool' && mkdir '{d}/mail' && chown nobody:nogroup '{d}/mail' && \
         echo 'nameserver 127.0.0.53' >'{d}/resolv.conf'"
    ));
    let fixtures = Path::new(ROOT).join("tests/peers/exim");
    inside::render(&fixtures.join("exim.conf"), &dir.join("exim.conf"), dir);
    fs::write(dir.join("sends"), format!("{LISTED}\n{UNLISTED}\n")).unwrap();
    inside::run(
        dir,
        &fixtures.join("exim.sh"),
        POLICYD,
        &[
            "policyd.log",
            "exim-mainlog",
            "exim-rejectlog",
            "exim-paniclog",
        ],
    );
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    // Host checking: the refusal at RCPT, with the text; a listed host passes.
    let bh = read(&format!("bh.{UNLISTED}"));
    assert_eq!(reply(&bh, "", "451").as_deref(), Some(REFUSAL), "{bh}");
    let bh = read(&format!("bh.{LISTED}"));
    assert!(bh.contains("250 Accepted\r\n"), "{bh}");
    assert!(!bh.contains("451"), "{bh}");
    // A real delivery, and a real refusal.
    let swaks = read(&format!("swaks.{LISTED}"));
    assert!(swaks.contains("<-  250 OK id="), "{swaks}");
    let swaks = read(&format!("swaks.{UNLISTED}"));
    assert_eq!(
        reply(&swaks, "<** ", "451").as_deref(),
        Some(REFUSAL),
        "{swaks}"
    );
    assert!(!swaks.contains("<-  250 OK id="), "{swaks}");
    let inbox = read("mail/inbox");
    assert!(
        inbox.contains(&format!("Subject: rmx from {LISTED}")),
        "{inbox}"
    );
    assert!(
        !inbox.contains(&format!("Subject: rmx from {UNLISTED}")),
        "{inbox}"
    );
    // rmxpolicyd's log, on tcpserver's stderr: one lookup per connection.
    let log = read("policyd.log");
    let verdicts: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("rmxpolicyd: pid "))
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v))
        .collect();
    assert_eq!(
        verdicts,
        [
            format!("{UNLISTED} fail 0.0.127.in-addr.arpa reject: {REFUSAL}"),
            format!("{LISTED} pass 0.0.127.in-addr.arpa accept"),
            format!("{LISTED} pass 0.0.127.in-addr.arpa accept"),
            format!("{UNLISTED} fail 0.0.127.in-addr.arpa reject: {REFUSAL}"),
        ],
        "{log}"
    );
}
