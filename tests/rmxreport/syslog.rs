//! rmxreport(1) over the files that real syslog daemons write of the real
//! rmxsmtpd: rsyslog in its RFC 5424 file format (two spaces before the
//! message), its traditional and its high-precision formats; busybox
//! syslogd in its default form (a `facility.level` word after the host)
//! and its `-S` form. rmxsmtpd runs with fds 0, 1 and 2 one socket, as
//! inetd hands it over, so that its lines go to syslog(3), with known
//! traffic: the report must count exactly that.
//!
//! Each daemon runs inside a mount namespace with a `/dev` of its own
//! (the test runs itself again there, tests/support/again.rs), where
//! `/dev/log` is its socket: the machine's syslog is never touched. That
//! needs root; a missing daemon skips the test with a line that says what
//! to install, and under CI=true fails it instead.

use std::fs;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::figures::BIN;
use crate::logs::{Server, utc_now};
use crate::support::again;
use crate::support::json::{At, Value};
use crate::support::responder::{Responder, Zone};
use crate::support::skip::need;
use crate::support::temp::TempDir;
use crate::support::wrapper::{over_one_socket, rmxsmtpd};

/// The zone the daemons stamp local times in, and rmxreport reads them in:
/// not UTC, and half an hour off any whole hour.
const TZ: &str = "Asia/Kolkata";
const LIST: &str = "100.51.198.in-addr.arpa";

/// A daemon started in the zone [`TZ`].
fn daemon(command: &mut Command) -> Server {
    Server(command.env("TZ", TZ).spawn().expect("start the daemon"))
}

/// Waits until `path` is a socket: the daemon listens.
fn wait_for_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fs::metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        assert!(Instant::now() < deadline, "no socket at {}", path.display());
        thread::sleep(Duration::from_millis(20));
    }
}

/// Ten connections to the real rmxsmtpd, each logged through syslog(3):
/// 3 pass from one address, 2 refused fail, 1 dry-run fail, 2 none from
/// two addresses of 203.0.113.0/24, a temperror from a third (a resolver
/// that does not answer; its line names 113.0.203.in-addr.arpa, the same
/// network), and a skip from 198.51.100.1, in the list's own range.
fn traffic() {
    let dns = Responder::start(
        Zone::new()
            .mx(LIST, 10, "mx1.example.net")
            .a("mx1.example.net", "198.51.100.5"),
    );
    let dns = dns.addr().to_string();
    let dead = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let connections: [(&str, &str, &[&str], &[u8]); 10] = [
        ("198.51.100.5", &dns, &[], b""),
        ("198.51.100.5", &dns, &[], b""),
        ("198.51.100.5", &dns, &[], b""),
        ("198.51.100.10", &dns, &[], b"QUIT\r\n"),
        ("198.51.100.10", &dns, &[], b"QUIT\r\n"),
        ("198.51.100.10", &dns, &["-n"], b""),
        ("203.0.113.7", &dns, &[], b""),
        ("203.0.113.8", &dns, &[], b""),
        ("203.0.113.9", &dead, &["-T", "1"], b""),
        ("198.51.100.1", "", &[], b""),
    ];
    for (client, resolver, options, input) in connections {
        let mut env = vec![("TCPREMOTEIP", client), ("TZ", TZ)];
        if resolver.is_empty() {
            env.push(("RMXSMTPD", ""));
        } else {
            env.push(("DNSCACHEIP", resolver));
        }
        let args = [options, &["true"]].concat();
        let run = over_one_socket(rmxsmtpd(&env, &args), input);
        assert_eq!(run.code, Some(0), "{client}: {}", run.said);
    }
}

/// rmxreport's figures of `file`, a syslog daemon's, are exactly those of
/// [`traffic`], stamped between `began` and `ended`; the daemon's own lines
/// (`syslogd started`) are skipped, and `-u` keeps them.
fn assert_counts_the_traffic(file: &Path, began: &str, ended: &str) {
    let dir = TempDir::new("syslog-unread");
    let unread = dir.join("unread");
    let out = Command::new(BIN)
        .env("TZ", TZ)
        .arg("-j")
        .arg("-u")
        .arg(&unread)
        .arg(file)
        .output()
        .unwrap();
    let log = fs::read_to_string(file).unwrap();
    assert!(out.status.success(), "{out:?}\n{log}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let form = file.display();
    let r = "totals.results";
    for (path, want) in [
        ("totals.decisions", 10),
        ("totals.addresses", 6),
        (&format!("{r}.pass.accept.decisions"), 3),
        (&format!("{r}.pass.addresses"), 1),
        (&format!("{r}.fail.refuse.decisions"), 2),
        (&format!("{r}.fail.would_refuse.decisions"), 1),
        (&format!("{r}.fail.addresses"), 1),
        (&format!("{r}.none.accept.decisions"), 2),
        (&format!("{r}.none.addresses"), 2),
        (&format!("{r}.temperror.accept.decisions"), 1),
        (&format!("{r}.skip.accept.decisions"), 1),
        ("adoption.answered", 8),
        ("adoption.published", 6),
        ("adoption.networks", 2),
        ("adoption.published_networks", 1),
        ("whatif.decisions", 2),
        ("whatif.networks", 1),
        ("networks.count", 2),
        ("networks.top.0.decisions", 7),
        ("networks.top.0.addresses", 3),
        ("networks.top.1.decisions", 3),
        ("networks.top.1.temperror", 1),
    ] {
        assert_eq!(got.int(path), want, "{form}: {path}\n{log}");
    }
    assert_eq!(got.text("networks.top.0.network"), LIST, "{form}");
    assert_eq!(
        got.text("networks.top.1.network"),
        "203.0.113.0/24",
        "{form}"
    );
    let (first, last) = (
        got.text("networks.top.0.first"),
        got.text("networks.top.0.last"),
    );
    assert!(
        began <= first && first <= last && last <= ended,
        "{form}: {first} {last} not in {began} {ended}\n{log}"
    );
    let days: u64 = (0..got.len("days"))
        .map(|i| got.int(&format!("days.{i}.decisions")))
        .sum();
    assert_eq!(days, 10, "{form}");
    let own: String = log
        .lines()
        .filter(|l| !l.contains(" rmxsmtpd"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        got.int("skipped.lines"),
        own.lines().count() as u64,
        "{form}"
    );
    assert_eq!(fs::read_to_string(&unread).unwrap(), own, "{form}");
}

/// Whether this is the test run again inside its namespace, where it
/// goes on; outside, runs it there if `program` is here, else skips.
fn inside(program: &str, package: &str) -> bool {
    if again::is_again() {
        return true;
    }
    if need(program, package) {
        again::with_dev_of_its_own();
    }
    false
}

/// [`traffic`] through a syslog daemon, once `/dev/log` is its socket; the
/// daemon stopped after it, its files written out. When it began and
/// ended.
fn through(daemon: Server) -> (String, String) {
    wait_for_socket(Path::new("/dev/log"));
    let began = utc_now();
    traffic();
    let ended = utc_now();
    drop(daemon);
    (began, ended)
}

#[test]
fn rsyslog_files_in_three_formats_count_exactly_the_traffic() {
    if !inside("rsyslogd", "rsyslog") {
        return;
    }
    let dir = TempDir::new("rsyslog");
    let d = dir.path().display();
    let conf = dir.join("rsyslog.conf");
    fs::write(
        &conf,
        format!(
            "module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             input(type=\"imuxsock\" Socket=\"{d}/log.sock\" CreatePath=\"on\" RateLimit.Interval=\"0\")\n\
             global(workDirectory=\"{d}\")\n\
             mail.* {d}/trad.log;RSYSLOG_TraditionalFileFormat\n\
             mail.* {d}/file.log;RSYSLOG_FileFormat\n\
             mail.* {d}/proto.log;RSYSLOG_SyslogProtocol23Format\n"
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("log.sock"), "/dev/log").unwrap();
    let (began, ended) = through(daemon(
        Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid")),
    ));
    // The RFC 5424 file has the two spaces before the message.
    let proto = fs::read_to_string(dir.join("proto.log")).unwrap();
    assert!(proto.contains(" - -  198.51.100.5 pass "), "{proto}");
    for file in ["proto.log", "file.log", "trad.log"] {
        assert_counts_the_traffic(&dir.join(file), &began, &ended);
    }
}

#[test]
fn busybox_syslogd_files_count_exactly_the_traffic() {
    if !inside("busybox", "busybox") {
        return;
    }
    let dir = TempDir::new("busybox");
    // Its default form, then -S, which drops the host and the
    // `facility.level` word: the tag follows the time.
    for (options, tag_at) in [(&[][..], 2), (&["-S"][..], 0)] {
        let file = dir.join(&format!("messages{}", options.len()));
        let _ = fs::remove_file("/dev/log");
        let (began, ended) = through(daemon(
            Command::new("busybox")
                .args(["syslogd", "-n", "-O"])
                .arg(&file)
                .args(options),
        ));
        let log = fs::read_to_string(&file).unwrap();
        // After `Mmm dd HH:MM:SS `: `HOST mail.info TAG: `, or `TAG: `.
        let words = |line: &str| line[16..].split(' ').take(3).collect::<Vec<_>>().join(" ");
        for line in log.lines().filter(|l| l.contains(" rmxsmtpd[")) {
            let words = words(line);
            let tag = words.split(' ').nth(tag_at).unwrap_or_default();
            assert!(tag.starts_with("rmxsmtpd["), "{options:?}: {line}");
            assert_eq!(words.contains(" mail."), tag_at == 2, "{options:?}: {line}");
        }
        assert_counts_the_traffic(&file, &began, &ended);
    }
}
