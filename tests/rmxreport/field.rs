//! rmxreport(1) in the field, where a silent miscount is the worst defect:
//! two lines written into each other, a file's last line without its
//! newline, timestamps that cannot be, the report's own figures and words
//! (a result's total, the what-if of `-c`, a log written under `-q`,
//! shares near all or none), write errors, file names that are bytes, one
//! network under two names, and memory over a long log.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use crate::figures::{BIN, MESSAGES, WEEK, figures_and_unread, genlog, json_of, run};
use crate::support::json::{At, Value};
use crate::support::memory;
use crate::support::temp::TempDir;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A TAI64N stamp for `secs`, as multilog writes it.
fn tai64n(secs: i64) -> String {
    format!("@{:016x}00000000", (1u64 << 62) + 10 + secs as u64)
}

fn text_of(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

// ---- Two lines written into each other --------------------------------------

/// A line cut anywhere with another written into it is one skipped line,
/// never a decision, and `-u` keeps it byte for byte: the cut in a reply,
/// after `accept; `, inside a reason, in a name.
#[test]
fn two_lines_written_into_each_other_are_one_skipped_line() {
    let second = "rmxsmtpd: pid 2: 192.0.2.2 none - accept";
    for glued in [
        format!(
            "rmxsmtpd: pid 1: 192.0.2.1 fail 2.0.192.in-addr.arpa reject: 451 4.7.1 Your IP [192.0.2.1] is n{second}"
        ),
        format!("rmxsmtpd: pid 1: 192.0.2.1 none - accept; {second}"),
        format!("rmxpolicyd: pid 1: 192.0.2.1 skip - accept (RELAYCLIENT {second} is set)"),
        format!("rmxsmtpd: pid 1: 192.0.2.1 temperror 2.0.{second} (timeout after 10 s)"),
        format!("<22>1 2026-11-30T10:00:00Z mx rmxsmtpd 1 - - 192.0.2.1 none - accept; {second}"),
    ] {
        let input =
            format!("{glued}\nrmxsmtpd: pid 3: 192.0.2.3 pass 2.0.192.in-addr.arpa accept\n");
        let (_, skipped, unread) = figures_and_unread(input.as_bytes());
        let got = json_of(&run(&["-j"], input.as_bytes()));
        assert_eq!(got.int("totals.decisions"), 1, "{glued}");
        assert_eq!(got.int("totals.results.pass.decisions"), 1, "{glued}");
        assert_eq!(skipped, 1, "{glued}");
        assert_eq!(unread, format!("{glued}\n").as_bytes(), "{glued}");
    }
}

/// One line of a writer, whole: rmxsmtpd's or rmxpolicyd's.
fn writer_line() -> impl Strategy<Value = String> {
    (0..MESSAGES.len(), any::<bool>(), 1u32..99_999).prop_map(|(m, policy, pid)| {
        let program = if policy { "rmxpolicyd" } else { "rmxsmtpd" };
        format!("{program}: pid {pid}: {}", MESSAGES[m])
    })
}

/// Two writers' lines in one stream. At each step a writer writes its next
/// line whole, or the first part of it, cut anywhere, and the rest at its
/// next step, any of the other writer's lines between. Then the lines
/// left, whole. Optionally each line of the stream is stamped, as
/// multilog stamps what it reads.
fn interleave(writers: [&[String]; 2], steps: &[(bool, Option<usize>)], stamp: bool) -> Vec<u8> {
    let mut next = [0, 0];
    let mut rest: [Option<&str>; 2] = [None, None];
    let mut stream = String::new();
    for &(second, cut) in steps {
        let w = usize::from(second);
        if let Some(tail) = rest[w].take() {
            stream.push_str(tail);
            stream.push('\n');
            continue;
        }
        let Some(line) = writers[w].get(next[w]) else {
            continue;
        };
        next[w] += 1;
        match cut {
            // One cut at a time: the other writer's lines are whole.
            Some(at) if rest[1 - w].is_none() => {
                let at = at % (line.len() + 1);
                stream.push_str(&line[..at]);
                rest[w] = Some(&line[at..]);
            }
            _ => {
                stream.push_str(line);
                stream.push('\n');
            }
        }
    }
    for w in 0..2 {
        if let Some(tail) = rest[w].take() {
            stream.push_str(tail);
            stream.push('\n');
        }
        for line in &writers[w][next[w]..] {
            stream.push_str(line);
            stream.push('\n');
        }
    }
    if !stamp {
        return stream.into_bytes();
    }
    let stamp = tai64n(1_790_000_000);
    let mut stamped = String::new();
    for line in stream.split_inclusive('\n') {
        stamped.push_str(&stamp);
        stamped.push(' ');
        stamped.push_str(line);
    }
    stamped.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Any interleaving of two writers' lines, cut anywhere, gives
    /// decisions for the whole lines alone, and `-u` keeps every other
    /// line byte for byte.
    #[test]
    fn interleaved_writers_give_decisions_for_whole_lines_only(
        first in proptest::collection::vec(writer_line(), 0..12),
        second in proptest::collection::vec(writer_line(), 0..12),
        steps in proptest::collection::vec((any::<bool>(), proptest::option::of(any::<usize>())), 0..40),
        stamp in any::<bool>(),
    ) {
        let stream = interleave([&first, &second], &steps, stamp);
        let written: std::collections::HashSet<&str> =
            first.iter().chain(&second).map(String::as_str).collect();
        let mut whole = Vec::new();
        let mut rest = Vec::new();
        let mut others = 0;
        for line in stream.split_inclusive(|&b| b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = std::str::from_utf8(text).unwrap();
            let content = if stamp { &text[26..] } else { text };
            if written.contains(content) {
                whole.extend_from_slice(line);
            } else {
                rest.extend_from_slice(line);
                others += 1;
            }
        }
        let (want, none, _) = figures_and_unread(&whole);
        prop_assert_eq!(none, 0);
        let (got, skipped, unread) = figures_and_unread(&stream);
        prop_assert_eq!(got, want);
        prop_assert_eq!(skipped, others);
        prop_assert_eq!(unread, rest);
    }
}

// ---- A file's last line ------------------------------------------------------

/// A rotated `@*.u` file that a crash left mid-line: its last line ends
/// with it. It is not glued to `current`'s first line, which is counted,
/// and `-u` keeps the two apart.
#[test]
fn a_files_last_line_ends_with_its_file() {
    let dir = TempDir::new("rmxreport-lastline");
    let log = dir.join("log");
    fs::create_dir(&log).unwrap();
    fs::write(
        log.join("@400000006900000000000000.u"),
        "rmxsmtpd: pid 1: 192.0.2.1 none - accept\nrmxsmtpd: pid 2: 192.0.2.2 no",
    )
    .unwrap();
    fs::write(
        log.join("@400000006900000100000000.s"),
        "rmxsmtpd: pid 3: 192.0.2.3 none - accept",
    )
    .unwrap();
    fs::write(
        log.join("current"),
        "ne - accept\nrmxsmtpd: pid 4: 192.0.2.4 pass 2.0.192.in-addr.arpa accept\njunk",
    )
    .unwrap();
    let unread = dir.join("unread");
    let out = Command::new(BIN)
        .arg("-j")
        .arg("-u")
        .arg(&unread)
        .arg(&log)
        .output()
        .unwrap();
    let got = json_of(&out);
    assert_eq!(got.int("totals.decisions"), 3);
    assert_eq!(got.int("totals.results.pass.decisions"), 1);
    assert_eq!(got.int("skipped.lines"), 3);
    assert_eq!(
        fs::read_to_string(&unread).unwrap(),
        "rmxsmtpd: pid 2: 192.0.2.2 no\nne - accept\njunk"
    );
}

// ---- Timestamps that cannot be ----------------------------------------------

/// A verdict line stamped before 2000 or more than a day after the run is
/// skipped and counted apart; the day series spans the days of the lines
/// counted, and the report stays small.
#[test]
fn impossible_timestamps_are_skipped_and_counted_apart() {
    let line = "rmxsmtpd: pid 1: 192.0.2.1 none - accept";
    let now = now();
    let impossible = [
        format!("@7fffffffffffffff00000000 {line}"),
        format!("@000000000000000000000000 {line}"),
        format!("{} {line}", tai64n(0)),
        format!("{} {line}", tai64n(946_684_799)),
        format!("{} {line}", tai64n(now + 2 * 86_400)),
        format!("0001-01-01_00:00:00.00000 {line}"),
        format!("9999-12-31_23:59:59.99999 {line}"),
        "<22>1 2099-01-01T00:00:00Z mx rmxsmtpd 1 - - 192.0.2.1 none - accept".to_string(),
    ];
    let possible = [
        format!("{} {line}", tai64n(now - 86_400)),
        format!("{} {line}", tai64n(now)),
        format!("{} {line}", tai64n(now + 12 * 3600)),
        format!("2000-01-01_00:00:00.00000 {line}"),
    ];
    let mut input = String::new();
    for l in impossible.iter().chain(&possible) {
        input.push_str(l);
        input.push('\n');
    }
    let dir = TempDir::new("rmxreport-impossible");
    let unread = dir.join("unread");
    let out = run(&["-j", "-u", unread.to_str().unwrap()], input.as_bytes());
    let got = json_of(&out);
    assert_eq!(got.int("totals.decisions"), possible.len() as u64);
    assert_eq!(got.int("skipped.lines"), impossible.len() as u64);
    assert_eq!(got.int("skipped.impossible_time"), impossible.len() as u64);
    let kept: String = impossible.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(fs::read_to_string(&unread).unwrap(), kept);
    // From 2000-01-01 to tomorrow, day by day: bounded by the lines counted.
    let first = 10_957;
    let last = (now + 12 * 3600).div_euclid(86_400);
    assert_eq!(got.len("days"), (last - first + 1) as usize);
    assert_eq!(got.text("days.0.day"), "2000-01-01");
    // Without the line of 2000, a few days, and a small report.
    let recent: String = impossible
        .iter()
        .chain(&possible[..3])
        .map(|l| format!("{l}\n"))
        .collect();
    let out = run(&[], recent.as_bytes());
    let text = text_of(&out);
    assert!(text.len() < 8 * 1024, "{} bytes", text.len());
    assert!(
        text.contains(&format!(
            "{:>10}  of them verdict lines stamped before 2000 or more than a day after now",
            impossible.len()
        )),
        "{text}"
    );
}

// ---- The report's figures and words -----------------------------------------

/// A result refused for some clients and accepted for others has a row of
/// its own total: its decisions, and its distinct addresses, which the two
/// rows cannot give.
#[test]
fn a_result_split_over_actions_has_its_own_total() {
    let input = "rmxsmtpd: pid 1: 203.0.113.1 none - accept\n\
                 rmxsmtpd: pid 2: 203.0.113.2 none - accept\n\
                 rmxsmtpd: pid 3: 203.0.113.2 none - accept\n\
                 rmxsmtpd: pid 4: 203.0.113.2 none - dry-run accept, would reject: 451 4.7.1 x\n\
                 rmxsmtpd: pid 5: 203.0.113.3 none - dry-run accept, would reject: 451 4.7.1 x\n\
                 rmxsmtpd: pid 6: 198.51.100.5 pass 100.51.198.in-addr.arpa accept\n";
    let text = text_of(&run(&[], input.as_bytes()));
    assert!(
        text.contains(
            "         3          2  none       accept\n\
             \x20        2          2  none       would refuse (dry run)\n\
             \x20        5          3  none       total\n\
             \x20        1          1  pass       accept\n"
        ) || text.contains(
            "         1          1  pass       accept\n\
             \x20        3          2  none       accept\n\
             \x20        2          2  none       would refuse (dry run)\n\
             \x20        5          3  none       total\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches(" total\n").count(), 1, "{text}");
    let json = json_of(&run(&["-j"], input.as_bytes()));
    assert_eq!(json.int("totals.results.none.addresses"), 3);
}

/// The manual's `-c` example, run over the README's week, shows what a
/// cut-off on that day would have refused, and says which option it is;
/// a `-c` after the last day read says so on stderr.
#[test]
fn the_manuals_cutoff_example_shows_a_what_if() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manual = fs::read_to_string(root.join("man/rmxreport.1")).unwrap();
    let example = manual
        .lines()
        .find(|l| l.starts_with("$ rmxreport ") && l.contains(" -c "))
        .expect("an example with -c in rmxreport(1)");
    let words: Vec<&str> = example.split_whitespace().skip(2).collect();
    let cutoff = words[words.iter().position(|&w| w == "-c").unwrap() + 1];
    let dir = TempDir::new("rmxreport-cutoff");
    let log = dir.join("rmxsmtpd");
    fs::create_dir(&log).unwrap();
    fs::write(log.join("current"), genlog(&WEEK)).unwrap();
    let args: Vec<&str> = words
        .iter()
        .map(|&w| {
            if w.starts_with("/var/log/") {
                log.to_str().unwrap()
            } else {
                w
            }
        })
        .collect();
    let json = json_of(&run(&[&args[..], &["-j"]].concat(), b""));
    let after: u64 = (0..json.len("days"))
        .filter(|i| json.text(&format!("days.{i}.day")) >= cutoff)
        .map(|i| json.int(&format!("days.{i}.none")))
        .sum();
    assert!(after > 0, "{example}: no none decision from {cutoff} on");
    assert_eq!(json.int("whatif.decisions"), after, "{example}");
    assert_eq!(json.text("whatif.from"), cutoff);
    let out = run(&args, b"");
    assert!(out.stderr.is_empty(), "{out:?}");
    let text = text_of(&out);
    assert!(
        text.contains(&format!(
            "  with -c {cutoff}, the none decisions from that day on"
        )),
        "{text}"
    );
    assert!(!text.contains("under -d"), "{text}");

    // A day after the log: an empty what-if, and a warning.
    let out = run(&["-c", "2027-01-04", log.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rmxreport: warning: -c 2027-01-04 is after the last day read, 2026-11-29: \
         the what-if is empty\n"
    );
}

/// A share that is not all or none never shows as one.
#[test]
fn shares_never_round_to_all_or_none() {
    let pass = "rmxsmtpd: pid 1: 198.51.100.5 pass 100.51.198.in-addr.arpa accept\n";
    let none = "rmxsmtpd: pid 1: 203.0.113.7 none - accept\n";
    // 29,999 of 30,000 and 1 of 30,000.
    for (many, one, published, percent, share) in [
        (pass, none, 29_999, ">99.9%", "0.9999"),
        (none, pass, 1, "<0.1%", "0.0001"),
    ] {
        let input = many.repeat(29_999) + one;
        let text = text_of(&run(&[], input.as_bytes()));
        let line = format!(
            "{published:>10}  of them from networks that publish a list (pass, fail): {percent}\n"
        );
        assert!(text.contains(&line), "{text}");
        let json = json_of(&run(&["-j"], input.as_bytes()));
        assert_eq!(json.at("adoption.share").to_string(), share);
    }
}

// ---- Write errors --------------------------------------------------------------

/// A report that cannot be written says why, and exits 111; a reader that
/// closed the pipe ends the run quietly with 0; a `-u` file that cannot be
/// made stops the run before it reads, as the manual says.
#[test]
fn write_errors_are_said_and_a_closed_pipe_ends_quietly() {
    let input = "rmxsmtpd: pid 1: 203.0.113.7 none - accept\n";
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [&["-j"][..], &[]] {
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(111), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "rmxreport: fatal: unable to write the report: out of disk space\n"
        );
    }
    let out = Command::new(BIN).arg("-V").stdout(full()).output().unwrap();
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rmxreport: fatal: unable to write the version: out of disk space\n"
    );

    // Like `rmxreport | head -1`: the reader has gone before the report.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(BIN)
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.repeat(1000).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    let out = run(&["-u", "/nonexistent/x"], input.as_bytes());
    assert_eq!(out.status.code(), Some(111));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rmxreport: fatal: unable to create /nonexistent/x: file does not exist\n"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manual = fs::read_to_string(root.join("man/rmxreport.1")).unwrap();
    assert!(
        manual.contains("If the\n.Fl u\nfile cannot be created, nothing is read"),
        "rmxreport(1) says what a -u file that cannot be made does"
    );
}

// ---- File names are bytes ----------------------------------------------------

/// Names that are not UTF-8 are opened as given: a file, a log directory
/// and its rotated files, the `-u` file; a warning shows the name.
#[test]
fn file_names_are_bytes() {
    use std::ffi::OsStr;
    let name = |bytes: &[u8]| OsStr::from_bytes(bytes).to_os_string();
    let dir = TempDir::new("rmxreport-bytes");
    let line = |n: u32| format!("rmxsmtpd: pid {n}: 203.0.113.{n} none - accept\n");
    let file = dir.path().join(name(b"latin-\xe9.log"));
    fs::write(&file, line(1)).unwrap();
    let logdir = dir.path().join(name(b"log-\xff"));
    fs::create_dir(&logdir).unwrap();
    fs::write(
        logdir.join(name(b"@400000006900000000000000\xfe.s")),
        line(2),
    )
    .unwrap();
    fs::write(logdir.join("current"), line(3)).unwrap();
    let unread = dir.path().join(name(b"unread-\xfd"));
    let missing = dir.path().join(name(b"missing-\xfc"));
    let out = Command::new(BIN)
        .arg("-j")
        .arg("-u")
        .arg(&unread)
        .args([&file, &logdir, &missing])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(111));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.int("totals.decisions"), 3);
    assert!(unread.exists(), "the -u file under its own name");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "rmxreport: warning: unable to read {}/missing-?: file does not exist\n",
            dir.path().display()
        )
    );
}

// ---- One network, one row ----------------------------------------------------

/// A block and the reverse name of the same range are one network: a /24
/// without a list whose temperror lines name its reverse name is one row,
/// called by its block, its addresses counted once; a list's network is
/// called by the list's name; a name of another length is another network.
#[test]
fn one_network_is_one_row_whatever_its_lines_call_it() {
    let stamp = tai64n(now() - 86_400);
    let input: String = [
        "203.0.113.7 none - accept",
        "203.0.113.8 temperror 113.0.203.in-addr.arpa accept (timeout after 10 s)",
        "203.0.113.7 temperror 113.0.203.IN-ADDR.ARPA accept (timeout after 10 s)",
        "198.51.100.6 none - accept",
        "198.51.100.5 pass 100.51.198.in-addr.arpa accept",
        "198.51.100.6 pass 100.51.198.in-addr.arpa accept",
        "2001:db8:1:2::25 none - accept",
        "2001:db8:1:3::25 temperror 1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa accept (timeout after 10 s)",
        "198.51.100.7 temperror 51.198.in-addr.arpa accept (timeout after 10 s)",
    ]
    .iter()
    .enumerate()
    .map(|(pid, message)| format!("{stamp} rmxsmtpd: pid {pid}: {message}\n"))
    .collect();
    let got = json_of(&run(&["-j"], input.as_bytes()));
    let rows: Vec<(String, u64, u64, u64)> = (0..got.len("networks.top"))
        .map(|i| {
            let at = |key: &str| got.int(&format!("networks.top.{i}.{key}"));
            let name = got.text(&format!("networks.top.{i}.network")).to_string();
            (name, at("decisions"), at("addresses"), at("temperror"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("100.51.198.in-addr.arpa".to_string(), 3, 2, 0),
            ("203.0.113.0/24".to_string(), 3, 2, 2),
            ("2001:db8:1::/48".to_string(), 2, 2, 1),
            ("198.51.0.0/16".to_string(), 1, 1, 1),
        ]
    );
    assert_eq!(got.int("networks.count"), 4);
    assert_eq!(got.int("adoption.networks"), 3);
    assert_eq!(got.int("adoption.published_networks"), 1);
    assert_eq!(got.int("adoption.days.0.networks"), 3);
    assert_eq!(got.int("adoption.days.0.published_networks"), 1);
    assert_eq!(got.int("whatif.networks"), 3);
    // At -4 16 the block is 203.0.0.0/16, and the /24 is another network.
    let got = json_of(&run(&["-j", "-4", "16"], input.as_bytes()));
    assert_eq!(got.int("networks.count"), 5);
}

// ---- Memory over a long log ---------------------------------------------------

/// The same volume of log, 5000 networks, over 400 days takes about the
/// memory it takes over 60: a network's days are bits, not a set.
#[test]
fn memory_over_many_days_is_that_of_few() {
    let dir = TempDir::new("rmxreport-days");
    let peak = |days: i64| {
        // From midnight, `days` days ago: `days` days of log.
        let first = (now().div_euclid(86_400) - days) * 86_400;
        let log = genlog(&["1000000", "5000", &days.to_string(), &first.to_string()]);
        let file = dir.join("log");
        fs::write(&file, log).unwrap();
        let child = Command::new(BIN)
            .arg("-j")
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let watch = memory::Peak::watch(child.id());
        let out = child.wait_with_output().unwrap();
        let peak = watch.stop();
        let got = json_of(&out);
        assert_eq!(got.len("days") as i64, days, "{days} days");
        assert_eq!(got.int("totals.decisions"), 1_000_000);
        peak
    };
    let (long, short) = (peak(400), peak(60));
    assert!(
        long < short + 4 * 1024,
        "400 days: {long} KiB; 60 days: {short} KiB"
    );
}

// ---- The manual -----------------------------------------------------------------

/// rmxreport(1) as mandoc renders it: brackets that close, quotes that
/// do not nest; and what it says of multilog's `previous` holds.
#[test]
fn the_manual_renders_as_written_and_previous_is_not_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("mandoc")
        .args(["-T", "utf8", "-O", "width=1000"])
        .arg(root.join("man/rmxreport.1"))
        .output();
    let Ok(out) = out else {
        crate::support::skip::skip("mandoc", "apt-get install mandoc");
        return;
    };
    // Bold and underline are overstruck: `X\bX`, `_\bX`.
    let mut page = String::new();
    for c in String::from_utf8(out.stdout).unwrap().chars() {
        if c == '\u{8}' {
            page.pop();
        } else {
            page.push(c);
        }
    }
    for sentence in [
        "Of the decisions that got an answer (pass, fail, none; not temperror nor skip),",
        "(‘YYYY-MM-DDTHH:MM:SSZ’ or ‘null’)",
        "previous",
    ] {
        assert!(page.contains(sentence), "rmxreport(1) lacks {sentence:?}");
    }
    let dir = TempDir::new("rmxreport-previous");
    fs::write(
        dir.join("current"),
        "rmxsmtpd: pid 1: 203.0.113.1 none - accept\n",
    )
    .unwrap();
    fs::write(
        dir.join("previous"),
        "rmxsmtpd: pid 2: 203.0.113.2 none - accept\n",
    )
    .unwrap();
    let got = json_of(&run(&["-j", dir.path().to_str().unwrap()], b""));
    assert_eq!(got.int("totals.decisions"), 1);
    assert_eq!(got.int("totals.addresses"), 1);
}
