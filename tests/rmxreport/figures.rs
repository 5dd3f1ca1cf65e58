//! rmxreport(1) end to end: the same lines in every timestamp form give the
//! same figures; its options, exit codes and `-u`; hostile input (a
//! property test, and a memory bound); a 100,000-line log against a simple
//! count of its own.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::json::{At, Value};
use crate::support::memory;
use crate::support::temp::TempDir;
use proptest::prelude::*;

use rmxsmtpd::report::Counter;
use rmxsmtpd::report::input;
use rmxsmtpd::report::line::Clock;
use rmxsmtpd::report::render::Report;
use rmxsmtpd::report::tally::{Scope, Tally};

pub const BIN: &str = env!("CARGO_BIN_EXE_rmxreport");

/// Runs rmxreport with `args` and `input` on stdin, in the time zone `tz`.
pub fn run_tz(args: &[&str], input: &[u8], tz: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

pub fn run(args: &[&str], input: &[u8]) -> Output {
    run_tz(args, input, "UTC")
}

pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "rmxreport: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("well-formed JSON")
}

// ---- The same lines in every form ------------------------------------------

/// The messages of a small log, as rmxsmtpd and rmxpolicyd write them after
/// `PROGRAM: pid PID: `.
pub const MESSAGES: &[&str] = &[
    "198.51.100.5 pass 100.51.198.in-addr.arpa accept",
    "198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 Your IP [198.51.100.10] is not listed in Reverse MX! Contact your mail or your network administrator.",
    "203.0.113.7 none - accept",
    "203.0.113.8 none - dry-run accept, would reject: 451 4.7.1 Your IP [203.0.113.8] is not listed in Reverse MX!",
    "198.51.100.99 temperror 100.51.198.in-addr.arpa accept (timeout after 10 s)",
    "127.0.0.1 skip - accept (RELAYCLIENT is set)",
    "2001:db8:1:2::25 none - accept",
    "2001:db8:1:3::25 none - reject: 554 5.7.1 Your IP [2001:db8:1:3::25] is not listed in Reverse MX!",
    "192.0.2.1 fail 2.0.192.in-addr.arpa reject: 451 4.7.1 x; 3 exchanges past the cap of 20 ignored",
    "- temperror - accept (no client address: TCPREMOTEIP is not set)",
    "203.0.113.7 none - accept",
];

/// When each line was written: spread over two days and more, all in the
/// past (RFC 3164 lines carry no year: the latest that is not in the future).
fn times() -> Vec<i64> {
    // The same times on every call: the forms are compared to the second.
    static NOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let now = *NOW.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    });
    let base = now - 3 * 86_400;
    (0..40).map(|i| base + i * 5_003).collect()
}

/// `date` itself formats the times, in UTC or in a zone.
fn date(secs: i64, tz: &str, format: &str) -> String {
    let out = Command::new("date")
        .env("TZ", tz)
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(format!("+{format}"))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_string()
}

fn message(i: usize) -> &'static str {
    MESSAGES[i % MESSAGES.len()]
}

fn log(form: &dyn Fn(i64, usize, &str) -> String) -> Vec<u8> {
    let mut out = String::new();
    for (i, &t) in times().iter().enumerate() {
        out.push_str(&form(t, 1000 + i, message(i)));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn every_timestamp_form_gives_the_same_figures() {
    let tai = log(&|t, pid, m| {
        format!(
            "@{:016x}{:08x} rmxsmtpd: pid {pid}: {m}",
            (1u64 << 62) + 10 + t as u64,
            123
        )
    });
    let want = json_of(&run(&["-j"], &tai));
    let forms: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "svlogd -tt",
            log(&|t, pid, m| {
                format!(
                    "{}.12345 rmxsmtpd: pid {pid}: {m}",
                    date(t, "UTC", "%Y-%m-%d_%H:%M:%S")
                )
            }),
            "UTC",
        ),
        (
            "svlogd -ttt",
            log(&|t, pid, m| {
                format!(
                    "{}.12345 rmxsmtpd: pid {pid}: {m}",
                    date(t, "UTC", "%Y-%m-%dT%H:%M:%S")
                )
            }),
            "UTC",
        ),
        (
            "journalctl short-iso",
            log(&|t, pid, m| {
                format!(
                    "{} mx rmxsmtpd[{pid}]: {m}",
                    date(t, "Asia/Kolkata", "%Y-%m-%dT%H:%M:%S%z")
                )
            }),
            "UTC",
        ),
        (
            "journalctl short-iso, new style, the whole stderr line",
            log(&|t, pid, m| {
                format!(
                    "{} mx smtpd[{pid}]: rmxsmtpd: pid {pid}: {m}",
                    date(t, "America/New_York", "%Y-%m-%dT%H:%M:%S%:z")
                )
            }),
            "UTC",
        ),
        (
            "RFC 5424",
            log(&|t, pid, m| {
                format!(
                    "<22>1 {} mx.example rmxpolicyd {pid} - [meta@1 x=\"a]b\"] {m}",
                    date(t, "UTC", "%Y-%m-%dT%H:%M:%S.%6NZ")
                )
            }),
            "UTC",
        ),
        (
            "RFC 3164, a file, UTC",
            log(&|t, pid, m| {
                format!(
                    "{} mx rmxsmtpd[{pid}]: {m}",
                    date(t, "UTC", "%b %e %H:%M:%S")
                )
            }),
            "UTC",
        ),
        (
            "RFC 3164, the wire, New York",
            log(&|t, pid, m| {
                format!(
                    "<22>{} rmxsmtpd[{pid}]: {m}",
                    date(t, "America/New_York", "%b %e %H:%M:%S")
                )
            }),
            "America/New_York",
        ),
    ];
    for (form, input, tz) in forms {
        let got = json_of(&run_tz(&["-j"], &input, tz));
        assert_eq!(
            got,
            want,
            "{form}:\n{}",
            String::from_utf8_lossy(&input[..300])
        );
    }
    // What the figures are, counted from MESSAGES by hand: 40 lines, each
    // message 3 or 4 times (40 = 3 * 11 + 7: the first seven 4 times).
    let n = |i: usize| if i < 7 { 4 } else { 3 };
    assert_eq!(want.int("totals.decisions"), 40);
    assert_eq!(want.int("totals.results.pass.decisions"), n(0));
    assert_eq!(
        want.int("totals.results.fail.refuse.decisions"),
        n(1) + n(8)
    );
    assert_eq!(
        want.int("totals.results.none.decisions"),
        n(2) + n(3) + n(6) + n(7) + n(10)
    );
    assert_eq!(want.int("totals.results.none.would_refuse.decisions"), n(3));
    assert_eq!(want.int("totals.results.none.addresses"), 4);
    assert_eq!(want.int("totals.results.temperror.decisions"), n(4) + n(9));
    assert_eq!(want.int("totals.results.temperror.addresses"), 1);
    assert_eq!(want.int("totals.addresses"), 9);
    assert_eq!(want.int("adoption.answered"), 40 - n(4) - n(9) - n(5));
    assert_eq!(want.int("adoption.published"), n(0) + n(1) + n(8));
    assert_eq!(want.int("adoption.networks"), 4);
    assert_eq!(want.int("adoption.published_networks"), 2);
    assert_eq!(
        want.int("whatif.decisions"),
        n(2) + n(3) + n(6) + n(7) + n(10)
    );
    assert_eq!(want.int("whatif.networks"), 2);
    assert_eq!(want.text("whatif.top.0.network"), "203.0.113.0/24");
    assert_eq!(want.int("whatif.top.0.decisions"), n(2) + n(3) + n(10));
    assert_eq!(want.text("whatif.top.1.network"), "2001:db8:1::/48");
    assert_eq!(want.int("whatif.top.1.addresses"), 2);
    assert_eq!(
        want.text("networks.top.0.network"),
        "100.51.198.in-addr.arpa"
    );
    assert_eq!(want.int("networks.top.0.decisions"), n(0) + n(1) + n(4));
    assert_eq!(want.int("networks.count"), 5);
    let first = times()[0].div_euclid(86_400);
    let last = times()[39].div_euclid(86_400);
    assert_eq!(want.len("days"), (last - first + 1) as usize);
    assert_eq!(want.text("days.0.day"), date(times()[0], "UTC", "%Y-%m-%d"));
    assert_eq!(want.int("skipped.lines"), 0);
    assert_eq!(
        want.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "totals", "adoption", "whatif", "networks", "days", "skipped"
        ]
    );

    // No timestamp: the same totals, and no days.
    let plain = json_of(&run(
        &["-j"],
        &log(&|_, pid, m| format!("rmxsmtpd: pid {pid}: {m}")),
    ));
    assert_eq!(plain.at("totals"), want.at("totals"));
    assert_eq!(plain.at("whatif"), want.at("whatif"));
    assert_eq!(plain.len("days"), 0);
}

#[test]
fn days_and_cutoff_leave_out_what_they_must() {
    let t = times();
    let input = [
        log(&|t, pid, m| {
            format!(
                "{}.1 rmxsmtpd: pid {pid}: {m}",
                date(t, "UTC", "%Y-%m-%d_%H:%M:%S")
            )
        }),
        b"rmxsmtpd: pid 1: 203.0.113.9 none - accept\n".to_vec(),
    ]
    .concat();
    let second_day = date(t[0] + 86_400, "UTC", "%Y-%m-%d");
    let all = json_of(&run(&["-j"], &input));
    assert_eq!(all.int("totals.decisions"), 41);
    assert_eq!(
        all.int("whatif.decisions"),
        all.int("totals.results.none.decisions")
    );
    let got = json_of(&run(&["-j", "-c", &second_day], &input));
    assert_eq!(got.int("totals.undated"), 1);
    assert_eq!(got.int("totals.decisions"), 40);
    let before: u64 = t
        .iter()
        .enumerate()
        .filter(|&(i, &t)| date(t, "UTC", "%Y-%m-%d") < second_day && message(i).contains(" none "))
        .count() as u64;
    assert_eq!(
        got.int("whatif.decisions"),
        got.int("totals.results.none.decisions") - before
    );
    assert_eq!(got.text("whatif.from"), second_day);
    let got = json_of(&run(
        &["-j", "-d", &format!("{second_day}..{second_day}")],
        &input,
    ));
    let on_day = t
        .iter()
        .filter(|&&t| date(t, "UTC", "%Y-%m-%d") == second_day)
        .count() as u64;
    assert_eq!(got.int("totals.decisions"), on_day);
    assert_eq!(got.int("totals.out_of_range"), 40 - on_day);
    assert_eq!(got.int("totals.undated"), 1);
    assert_eq!(got.len("days"), 1);
}

#[test]
fn top_lists_are_bounded_by_n() {
    let input: String = (0..30)
        .map(|i| format!("rmxsmtpd: pid 1: 10.0.{i}.1 none - accept\n"))
        .collect();
    let got = json_of(&run(&["-j", "-N", "3"], input.as_bytes()));
    assert_eq!((got.len("whatif.top"), got.len("networks.top")), (3, 3));
    assert_eq!(
        (got.int("whatif.networks"), got.int("networks.count")),
        (30, 30)
    );
    // Ties: by addresses, then the network's text.
    assert_eq!(got.text("networks.top.0.network"), "10.0.0.0/24");
    assert_eq!(got.text("networks.top.1.network"), "10.0.1.0/24");
    let text = String::from_utf8(run(&["-N", "3", "-4", "16"], input.as_bytes()).stdout).unwrap();
    assert!(
        text.contains("        30         30  10.0.0.0/16\n"),
        "{text}"
    );
}

// ---- Command line, exit codes, -u -------------------------------------------

#[test]
fn usage_errors_are_one_line_and_exit_100() {
    for args in [
        &["-x"][..],
        &["-c", "2026-02-30"],
        &["-c", "2026-12-01", "-s"],
        &["-d", "2026-12-01..2026-11-01"],
        &["-d", "yesterday"],
        &["-N", "-1"],
        &["-4", "33"],
        &["-6", "x"],
        &["-u"],
        &["--help"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(100), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("rmxreport: usage error: "), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_unreadable_input_is_111_after_the_report_of_the_rest() {
    let dir = TempDir::new("rmxreport-unreadable");
    let good = dir.join("good");
    fs::write(&good, "rmxsmtpd: pid 1: 203.0.113.7 none - accept\n").unwrap();
    let missing = dir.join("missing");
    let out = Command::new(BIN)
        .arg("-j")
        .arg(&missing)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unable to read"));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.int("totals.decisions"), 1);
    // A directory that is not a log directory cannot be read either.
    let out = Command::new(BIN).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(111));
}

#[test]
fn dash_u_writes_exactly_the_skipped_lines() {
    let dir = TempDir::new("rmxreport-unread");
    let long = format!(
        "rmxsmtpd: pid 1: 203.0.113.7 none - accept; {}",
        "x".repeat(40_000)
    );
    let input = format!(
        "rmxsmtpd: pid 1: 203.0.113.7 none - accept\n\
         rmxsmtpd: pid 2: fatal: unable to run exim: file does not exist\n\
         rmxsmtpd: usage error: unknown option -z\n\
         {long}\n\
         \0\x01junk\r\n\
         rmxsmtpd: pid 3: 198.51.100.5 pass 100.51.198.in-addr.arpa accept\n\
         rmxsmtpd: pid 4: 198.51.100.5 pass 100.51.198.in-addr.arpa acc"
    );
    let unread = dir.join("unread");
    let out = run(&["-j", "-u", unread.to_str().unwrap()], input.as_bytes());
    let got = json_of(&out);
    assert_eq!(got.int("totals.decisions"), 2);
    assert_eq!(got.int("skipped.lines"), 5);
    assert_eq!(got.int("skipped.too_long"), 1);
    let want = format!(
        "rmxsmtpd: pid 2: fatal: unable to run exim: file does not exist\n\
         rmxsmtpd: usage error: unknown option -z\n\
         {long}\n\
         \0\x01junk\r\n\
         rmxsmtpd: pid 4: 198.51.100.5 pass 100.51.198.in-addr.arpa acc"
    );
    assert_eq!(fs::read(&unread).unwrap(), want.as_bytes());
    let text = String::from_utf8(run(&[], input.as_bytes()).stdout).unwrap();
    assert!(
        text.contains("         5  lines that are not whole verdict lines"),
        "{text}"
    );
}

#[test]
fn a_log_directory_is_read_rotated_files_first_then_current() {
    let dir = TempDir::new("rmxreport-logdir");
    let line = |day: &str, n: u32| {
        format!("{day}_12:00:00.00000 rmxsmtpd: pid {n}: 203.0.113.{n} none - accept\n")
    };
    fs::write(dir.join("current"), line("2026-11-03", 3)).unwrap();
    fs::write(
        dir.join("@400000006900000000000000.s"),
        line("2026-11-01", 1),
    )
    .unwrap();
    fs::write(
        dir.join("@400000006900000100000000.u"),
        line("2026-11-02", 2),
    )
    .unwrap();
    fs::write(dir.join("config"), "s4096\n").unwrap();
    fs::write(dir.join("lock"), "").unwrap();
    let got = json_of(&run(&["-j", dir.path().to_str().unwrap()], b""));
    assert_eq!(got.int("totals.decisions"), 3);
    assert_eq!(got.int("skipped.lines"), 0);
    assert_eq!(got.text("networks.top.0.first"), "2026-11-01T12:00:00Z");
    assert_eq!(got.text("networks.top.0.last"), "2026-11-03T12:00:00Z");
}

// ---- Hostile input -----------------------------------------------------------

/// The report of `input`, read by the library as the program reads it.
pub fn figures(input: &[u8]) -> (String, u64) {
    let (report, skipped, _) = figures_and_unread(input);
    (report, skipped)
}

/// The report of `input` but for its skipped lines, how many there were,
/// and the lines `-u` keeps.
pub fn figures_and_unread(input: &[u8]) -> (String, u64, Vec<u8>) {
    let mut counter: Counter<Vec<u8>> = Counter::new(
        Tally::new(Scope {
            v4_len: 24,
            v6_len: 48,
            ..Scope::default()
        }),
        Clock::new(1_796_083_200),
        Some(Vec::new()),
    );
    input::read(input, &mut counter).unwrap();
    counter.finish();
    let skipped = counter.skipped.lines;
    let report = Report::new(&counter.tally, counter.skipped, 10).json();
    // Everything but the skipped lines.
    let cut = report.rfind(",\"skipped\"").unwrap();
    let unread = counter.unread.take().unwrap();
    (report[..cut].to_string(), skipped, unread)
}

fn good_line() -> impl Strategy<Value = String> {
    // Times from 2014 to before the clock of `figures`: none impossible.
    (0usize..MESSAGES.len(), 0u32..99_999, 0i64..396_000_000).prop_map(|(m, pid, t)| {
        let line = format!("rmxsmtpd: pid {pid}: {}", MESSAGES[m]);
        match pid % 3 {
            0 => line,
            1 => format!(
                "@{:016x}00000000 {line}",
                (1u64 << 62) + 10 + 1_400_000_000 + t as u64
            ),
            _ => format!(
                "<22>1 2026-11-{:02}T10:00:00Z mx rmxsmtpd {pid} - - {}",
                1 + t % 28,
                MESSAGES[m]
            ),
        }
    })
}

/// Where a good line may be cut so that it is no longer whole: anywhere
/// before the first three bytes of its action.
fn action_at(line: &str) -> usize {
    [" accept", " reject: ", " dry-run "]
        .iter()
        .filter_map(|a| line.find(a))
        .min()
        .unwrap()
        + 3
}

#[derive(Clone, Debug)]
enum Piece {
    Good(String),
    /// Bytes without a newline.
    Junk(Vec<u8>),
    /// A good line cut before its action is whole.
    Cut(String, usize),
    /// A good line with a NUL byte before its action.
    Nul(String, usize),
    /// Two lines written into each other: `a`'s start, all of `b`, then
    /// the rest of `a`, cut inside `a`'s address.
    Interleaved(String, String, usize),
    /// A line longer than the reader keeps, a good line at its end.
    Enormous(usize, String),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => good_line().prop_map(Piece::Good),
        2 => proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..200).prop_map(Piece::Junk),
        2 => (good_line(), any::<usize>()).prop_map(|(l, at)| Piece::Cut(l, at)),
        1 => (good_line(), any::<usize>()).prop_map(|(l, at)| Piece::Nul(l, at)),
        1 => (good_line(), good_line(), any::<usize>()).prop_map(|(a, b, at)| Piece::Interleaved(a, b, at)),
        1 => (input::MAX_READ_LINE..3 * input::MAX_READ_LINE, good_line()).prop_map(|(n, l)| Piece::Enormous(n, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Junk, cut lines, NUL bytes, interleaved and enormous lines among the
    /// good lines change nothing but the count of skipped lines.
    #[test]
    fn hostile_lines_change_only_the_skipped_count(pieces in proptest::collection::vec(piece(), 0..60)) {
        let mut mixed = Vec::new();
        let mut good = Vec::new();
        let mut bad = 0u64;
        for piece in &pieces {
            match piece {
                Piece::Good(line) => {
                    mixed.extend_from_slice(line.as_bytes());
                    good.extend_from_slice(line.as_bytes());
                    good.push(b'\n');
                }
                Piece::Junk(bytes) => mixed.extend_from_slice(bytes),
                Piece::Cut(line, at) => mixed.extend_from_slice(&line.as_bytes()[..at % action_at(line)]),
                Piece::Nul(line, at) => {
                    let at = at % action_at(line);
                    mixed.extend_from_slice(&line.as_bytes()[..at]);
                    mixed.push(0);
                    mixed.extend_from_slice(&line.as_bytes()[at..]);
                }
                Piece::Interleaved(a, b, at) => {
                    // Inside a's address: after its `pid N: ` and before
                    // the address's last byte; syslog lines have no pid.
                    let start = a.find(": pid ").map_or_else(|| a.find(" - - ").unwrap() + 5, |p| p + 6 + a[p + 6..].find(": ").unwrap() + 2);
                    let len = a[start..].find(' ').unwrap();
                    if len < 2 {
                        continue;
                    }
                    let cut = start + 1 + at % (len - 1);
                    mixed.extend_from_slice(&a.as_bytes()[..cut]);
                    mixed.extend_from_slice(b.as_bytes());
                    mixed.push(b'\n');
                    mixed.extend_from_slice(&a.as_bytes()[cut..]);
                    bad += 1;
                }
                Piece::Enormous(n, line) => {
                    mixed.extend(std::iter::repeat_n(b'x', *n));
                    mixed.extend_from_slice(line.as_bytes());
                }
            }
            mixed.push(b'\n');
            bad += !matches!(piece, Piece::Good(_)) as u64;
        }
        let (want, none) = figures(&good);
        prop_assert_eq!(none, 0);
        let (got, skipped) = figures(&mixed);
        prop_assert_eq!(got, want);
        prop_assert_eq!(skipped, bad);
    }

    /// Any bytes at all: no panic, and the report is well-formed JSON.
    #[test]
    fn any_bytes_make_a_report(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let mut counter: Counter<Vec<u8>> = Counter::new(Tally::new(Scope { v4_len: 8, v6_len: 0, cutoff: Some(rmxsmtpd::date::Date::from_days(20_000)), ..Scope::default() }), Clock::new(1_796_083_200), Some(Vec::new()));
        input::read(&bytes[..], &mut counter).unwrap();
        let report = Report::new(&counter.tally, counter.skipped, 3);
        prop_assert!(serde_json::from_str::<Value>(&report.json()).is_ok());
        let _ = report.text();
    }
}

/// 40 MiB of hostile input, a 16 MiB line among it: rmxreport's memory stays
/// small.
#[test]
fn memory_does_not_grow_with_the_input() {
    let mut child = Command::new(BIN)
        .arg("-j")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = memory::Peak::watch(child.id());
    let mut stdin = child.stdin.take().unwrap();
    let junk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let good = "rmxsmtpd: pid 1: 203.0.113.7 none - accept\n".repeat(20_000);
    for round in 0..40 {
        if round == 20 {
            // One line of 16 MiB.
            for _ in 0..16 {
                stdin.write_all(&vec![b'y'; 1 << 20]).unwrap();
            }
            stdin.write_all(b"\n").unwrap();
        }
        stdin.write_all(&junk).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.write_all(good.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let peak = peak.stop();
    let got = json_of(&out);
    assert_eq!(got.int("totals.decisions"), 40 * 20_000);
    assert!(got.int("skipped.too_long") >= 1);
    assert!(peak < 12 * 1024, "peak resident set {peak} KiB");
}

#[test]
fn long_names_do_not_pile_up_in_memory() {
    let name = "x".repeat(10_000);
    let line = format!("rmxsmtpd: pid 1: 192.0.2.1 pass {name} accept\n");
    let mut child = Command::new(BIN)
        .arg("-j")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = memory::Peak::watch(child.id());
    let mut stdin = child.stdin.take().unwrap();
    for _ in 0..3_000 {
        stdin.write_all(line.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let peak = peak.stop();
    assert_eq!(json_of(&out).int("totals.decisions"), 3_000);
    assert!(peak < 12 * 1024, "peak resident set {peak} KiB");
}

// ---- Scale -----------------------------------------------------------------

/// A deterministic log of `lines` lines over 10 days, with many networks.
fn synthetic(lines: usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let start = 1_780_000_000u64;
    let mut out = String::new();
    for i in 0..lines {
        let r = next();
        let t = start + (i as u64 * 864_000 / lines as u64);
        let label = (1u64 << 62) + 10 + t;
        let (a, b, c) = (r % 200, (r >> 8) % 50, (r >> 16) % 20);
        let address = format!("10.{a}.{b}.{c}");
        let zone = format!("{b}.{a}.10.in-addr.arpa");
        let body = match (r >> 24) % 10 {
            0..=2 => format!("{address} pass {zone} accept"),
            3 => format!(
                "{address} fail {zone} reject: 451 4.7.1 Your IP [{address}] is not listed in Reverse MX!"
            ),
            4..=7 => format!("{address} none - accept"),
            8 => format!("{address} none - dry-run accept, would reject: 451 4.7.1 x"),
            _ => format!("{address} temperror {zone} accept (timeout after 10 s)"),
        };
        out.push_str(&format!(
            "@{label:016x}00000000 rmxsmtpd: pid {}: {body}\n",
            1000 + i
        ));
        if i % 997 == 0 {
            out.push_str("tcpserver: status: 1/40\n");
        }
    }
    out
}

/// A 100,000-line log gives the figures that a simple count of its own
/// fields gives. A network is its /24, whether a line names its list or
/// not; it is called by its list's name if a `pass` or `fail` line gave
/// one, else by its block.
#[test]
fn a_large_log_matches_a_simple_count() {
    let log = synthetic(100_000);
    let got = json_of(&run(&["-j", "-N", "100000"], log.as_bytes()));
    let mut results: HashMap<(&str, &str), u64> = HashMap::new();
    let mut addresses: HashSet<&str> = HashSet::new();
    let mut networks: HashMap<String, u64> = HashMap::new();
    let mut network_addresses: HashMap<String, HashSet<&str>> = HashMap::new();
    let mut list_names: HashMap<String, &str> = HashMap::new();
    let mut days: HashMap<u64, u64> = HashMap::new();
    let mut skipped = 0;
    for line in log.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields[0] == "tcpserver:" {
            skipped += 1;
            continue;
        }
        let (address, result, name, action) = (fields[4], fields[5], fields[6], fields[7]);
        let action = match action {
            "accept" => "accept",
            "reject:" => "refuse",
            _ => "would_refuse",
        };
        *results.entry((result, action)).or_default() += 1;
        addresses.insert(address);
        let octets: Vec<&str> = address.split('.').collect();
        let network = format!("{}.{}.{}.0/24", octets[0], octets[1], octets[2]);
        if matches!(result, "pass" | "fail") {
            list_names.insert(network.clone(), name);
        }
        network_addresses
            .entry(network.clone())
            .or_default()
            .insert(address);
        *networks.entry(network).or_default() += 1;
        let secs = u64::from_str_radix(&fields[0][1..17], 16).unwrap() - (1 << 62) - 10;
        *days.entry(secs / 86_400).or_default() += 1;
    }
    for result in ["pass", "fail", "none", "temperror", "skip"] {
        for action in ["accept", "refuse", "would_refuse"] {
            let want = results.get(&(result, action)).copied().unwrap_or(0);
            assert_eq!(
                got.int(&format!("totals.results.{result}.{action}.decisions")),
                want,
                "{result} {action}"
            );
        }
    }
    assert_eq!(got.int("totals.decisions"), 100_000);
    assert_eq!(got.int("totals.addresses"), addresses.len() as u64);
    assert_eq!(got.int("skipped.lines"), skipped);
    assert_eq!(got.int("networks.count"), networks.len() as u64);
    let shown: HashMap<&str, &str> = networks
        .keys()
        .map(|block| (list_names.get(block).copied().unwrap_or(block), &**block))
        .collect();
    for i in 0..got.len("networks.top") {
        let name = shown[got.text(&format!("networks.top.{i}.network"))];
        assert_eq!(
            got.int(&format!("networks.top.{i}.decisions")),
            networks[name],
            "{name}"
        );
        let addresses = network_addresses[name].len() as u64;
        assert_eq!(
            got.int(&format!("networks.top.{i}.addresses")),
            addresses,
            "{name}"
        );
    }
    let mut want_days: Vec<(u64, u64)> = days.into_iter().collect();
    want_days.sort();
    assert_eq!(got.len("days"), want_days.len());
    for (i, (_, n)) in want_days.iter().enumerate() {
        assert_eq!(got.int(&format!("days.{i}.decisions")), *n);
    }
    let none =
        results.get(&("none", "accept")).unwrap() + results.get(&("none", "would_refuse")).unwrap();
    assert_eq!(got.int("whatif.decisions"), none);
}

// ---- The README's worked example ------------------------------------------

/// The README's worked example prints examples/rmxreport/week.txt: its
/// commands, run here, give that report byte for byte.
#[test]
fn the_readme_example_prints_the_report_in_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    for command in [
        "$ cc -O2 -o genlog bench/genlog.c\n",
        "$ ./genlog 12000 300 7 1795392000 > week.log\n",
        "$ rmxreport week.log\n",
    ] {
        assert!(readme.contains(command), "the README runs {command}");
    }
    assert!(readme.contains("examples/rmxreport/week.txt"));
    let shown = fs::read_to_string(root.join("examples/rmxreport/week.txt")).unwrap();
    let out = run(&[], &genlog(&WEEK));
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shown);
}

/// The arguments of genlog for the README's week: 12,000 lines from 300
/// networks over 2026-11-23 to 2026-11-29.
pub const WEEK: [&str; 4] = ["12000", "300", "7", "1795392000"];

/// The log bench/genlog.c writes with `args`, built here with cc.
pub fn genlog(args: &[&str]) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = TempDir::new("rmxreport-genlog");
    let genlog = dir.join("genlog");
    let built = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&genlog)
        .arg(root.join("bench/genlog.c"))
        .output()
        .unwrap();
    assert!(built.status.success(), "cc: {built:?}");
    let log = Command::new(&genlog).args(args).output().unwrap();
    assert!(log.status.success(), "genlog {args:?}");
    log.stdout
}
