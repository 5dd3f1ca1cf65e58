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
const REPORT: &str = env!("CARGO_BIN_EXE_rmxreport");
/// The zones (tests/peers/data): 127.0.0.0/24 lists 127.0.0.5 and 127.0.0.6.
const LISTED: &str = "127.0.0.5";
const UNLISTED: &str = "127.0.0.9";
const UNLISTED_TOO: &str = "127.0.0.10";
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
        ("update-exim4.conf", "exim4-config"),
        ("svscan", "daemontools"),
        ("multilog", "daemontools"),
        ("setuidgid", "daemontools"),
        ("swaks", "swaks"),
    ] {
        ready &= crate::support::skip::need(program, package);
    }
    ready
}

/// The verdict lines of rmxpolicyd in a log, without `rmxpolicyd: pid N: `.
fn verdicts(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|l| l.split_once("rmxpolicyd: pid ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v))
        .collect()
}

/// The shipped recipe and run scripts under a real Exim, svscan and
/// multilog: Exim refuses an unlisted client at RCPT with rmxpolicyd's
/// code and text and delivers a listed one's mail, in host-checking mode
/// (-bh) and for real with swaks; mail to postmaster is never refused; the
/// shipped exceptions, uncommented, leave their client unasked; Debian's
/// configuration takes the recipe through CHECK_RCPT_LOCAL_ACL_FILE and
/// update-exim4.conf; with rmxpolicyd down, mail is let through and Exim's
/// main log says why. The log service (log/run) starts in a log directory
/// that root owns, and rmxreport reads what it wrote.
#[test]
fn exim_refuses_at_rcpt_through_the_shipped_acl() {
    use crate::support::json::At;
    if !ready() {
        return;
    }
    let scratch = inside::scratch("exim");
    let dir = scratch.path();
    let d = dir.display();
    let examples = Path::new(ROOT).join("examples/exim");
    sh(&format!(
        "mkdir -p '{d}/spool' '{d}/service/rmx/log' && mkdir '{d}/mail' && \
         chown nobody:nogroup '{d}/mail' && echo 'nameserver 127.0.0.53' >'{d}/resolv.conf' && \
         cp '{}' '{d}/service/rmx/log/run'",
        examples.join("log/run").display()
    ));
    // Past the dry run: the shipped options, -n left out.
    let run = fs::read_to_string(examples.join("run")).unwrap();
    let shipped = "/usr/local/bin/rmxpolicyd -n -i 5 -T 10\n";
    assert!(run.ends_with(shipped), "{run}");
    let run = run.replace(shipped, "/usr/local/bin/rmxpolicyd -i 5 -T 10\n");
    fs::write(dir.join("service/rmx/run"), run).unwrap();
    sh(&format!(
        "chmod 755 '{d}/service/rmx/run' '{d}/service/rmx/log/run'"
    ));
    // The exceptions, uncommented, for this client.
    let acl = fs::read_to_string(examples.join("rmx.acl")).unwrap();
    let list = "#warn  hosts = <; 198.51.100.25 ; 203.0.113.0/28 ; 2001:db8:1::25\n\
                #      set acl_c_rmx = action=DUNNO\n";
    assert!(acl.contains(list), "{acl}");
    let exceptions = acl.replace(
        list,
        "warn  hosts = <; 127.0.0.9\n      set acl_c_rmx = action=DUNNO\n",
    );
    fs::write(dir.join("rmx-exceptions.acl"), exceptions).unwrap();
    let fixtures = Path::new(ROOT).join("tests/peers/exim");
    inside::render(&fixtures.join("exim.conf"), &dir.join("exim.conf"), dir);
    let conf = fs::read_to_string(dir.join("exim.conf")).unwrap();
    let shipped_acl = examples.join("rmx.acl");
    let conf = conf.replace(
        shipped_acl.to_str().unwrap(),
        dir.join("rmx-exceptions.acl").to_str().unwrap(),
    );
    fs::write(dir.join("exim-exceptions.conf"), conf).unwrap();
    let checks = [
        ("exim.conf", UNLISTED, "nobody@rmx.test"),
        ("exim.conf", LISTED, "nobody@rmx.test"),
        ("exim.conf", UNLISTED, "postmaster@rmx.test"),
        ("exim.conf", UNLISTED, "abuse@rmx.test"),
        ("exim-exceptions.conf", UNLISTED, "nobody@rmx.test"),
        ("exim-exceptions.conf", UNLISTED_TOO, "nobody@rmx.test"),
    ];
    let lines: String = checks
        .iter()
        .map(|(conf, host, rcpt)| format!("{d}/{conf} {host} {rcpt}\n"))
        .collect();
    fs::write(dir.join("checks"), lines).unwrap();
    fs::write(dir.join("sends"), format!("{LISTED}\n{UNLISTED}\n")).unwrap();
    fs::write(dir.join("sends.down"), format!("{UNLISTED}\n")).unwrap();
    inside::run(
        dir,
        &fixtures.join("exim.sh"),
        POLICYD,
        &[
            "svscan.log",
            "service/rmx/log/main/current",
            "exim-mainlog",
            "exim-rejectlog",
            "exim-paniclog",
        ],
    );
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    // Host checking: the refusal at RCPT, with the text; a listed host,
    // postmaster and abuse pass; so does the client of the exceptions,
    // while its neighbour is refused.
    let refused = |n: usize, refusal: &str| {
        let bh = read(&format!("bh.{n}"));
        assert_eq!(reply(&bh, "", "451").as_deref(), Some(refusal), "{n}: {bh}");
    };
    let accepted = |n: usize| {
        let bh = read(&format!("bh.{n}"));
        assert!(bh.contains("250 Accepted\r\n"), "{n}: {bh}");
        assert!(!bh.contains("451"), "{n}: {bh}");
    };
    refused(1, REFUSAL);
    accepted(2);
    accepted(3);
    accepted(4);
    accepted(5);
    refused(6, &REFUSAL.replace(UNLISTED, UNLISTED_TOO));
    // Debian's configuration, with the macro: the same refusal.
    refused_debian(&read("bh.debian"));
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
    // rmxpolicyd down: the mail is let through, and Exim's main log says
    // why.
    let swaks = read(&format!("swaks.{UNLISTED}.down"));
    assert!(swaks.contains("<-  250 OK id="), "{swaks}");
    let mainlog = read("exim-mainlog");
    let fallback = format!(
        "H=(client.example) [{UNLISTED}] Warning: Reverse MX: no answer from rmxpolicyd at 127.0.0.1:10033, not checked"
    );
    assert_eq!(mainlog.matches(&fallback).count(), 1, "{mainlog}");
    let inbox = read("mail/inbox");
    assert_eq!(
        inbox
            .matches(&format!("Subject: rmx from {LISTED}"))
            .count(),
        1,
        "{inbox}"
    );
    assert_eq!(
        inbox
            .matches(&format!("Subject: rmx from {UNLISTED}"))
            .count(),
        1,
        "{inbox}"
    );
    // rmxpolicyd's log, kept by the shipped log/run: one lookup per
    // connection; none for postmaster, abuse or the exception.
    let log = read("service/rmx/log/main/current");
    assert!(log.lines().all(|l| l.starts_with("@400000")), "{log}");
    let fail = format!("{UNLISTED} fail 0.0.127.in-addr.arpa reject: {REFUSAL}");
    let pass = format!("{LISTED} pass 0.0.127.in-addr.arpa accept");
    let fail_too = format!(
        "{UNLISTED_TOO} fail 0.0.127.in-addr.arpa reject: {}",
        REFUSAL.replace(UNLISTED, UNLISTED_TOO)
    );
    assert_eq!(
        verdicts(&log),
        [&fail, &pass, &fail_too, &fail, &pass, &fail],
        "{log}"
    );
    // rmxreport reads the log directory as multilog left it.
    let output = std::process::Command::new(REPORT)
        .arg("-j")
        .arg(dir.join("service/rmx/log/main"))
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let json: crate::support::json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json.int("totals.decisions"), 6, "{json}");
}

/// The refusal in Debian's configuration: the same code and text, though
/// Exim may wrap it differently.
fn refused_debian(bh: &str) {
    assert_eq!(reply(bh, "", "451").as_deref(), Some(REFUSAL), "{bh}");
}
