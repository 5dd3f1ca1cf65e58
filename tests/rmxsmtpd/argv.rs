//! Any argument vector (rmxsmtpd(8), rmxcheck(1)): either a run, or one
//! usage line on stderr and exit 100; never a panic or a signal.
//!
//! - `argv::parse` over arbitrary argument vectors, and over good
//!   options followed by a program whose arguments are any bytes;
//! - the real rmxsmtpd binary over arbitrary argument vectors, against
//!   what `argv::parse` says of the same vector;
//! - `--help`, `--version`, `--foo` and `-V` for rmxsmtpd and rmxcheck
//!   (rmxpolicyd's and rmxreport's usage errors are tested in their own
//!   suites), and a usage line written to a closed pipe.
//!
//! `RMXSMTPD_BIN` names another rmxsmtpd binary to run instead of the one
//! cargo built (`make check-musl` gives a build for musl).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::temp::TempDir;
use crate::support::wrapper::{Report, reporter};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use rmxsmtpd::argv::{self, Options, PROGRAM};
use rmxsmtpd::cli::Error;

const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn rmxsmtpd() -> OsString {
    std::env::var_os("RMXSMTPD_BIN").unwrap_or_else(|| crate::support::wrapper::BIN.into())
}

/// An argument's bytes: anything but NUL, which no argument can hold, and
/// `/`, so that no word but the reporter's path names a program that exists
/// (PATH is an empty directory).
fn bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(
        any::<u8>().prop_map(|b| if b == 0 || b == b'/' { b'x' } else { b }),
        len,
    )
}

/// The words an argument vector is made of: every option letter, alone,
/// grouped and with a value; dashes and long options; numbers and dates;
/// free words and dashed words of any bytes.
fn word() -> impl Strategy<Value = OsString> {
    let fixed = select(vec![
        "-b",
        "-B",
        "-c",
        "-C",
        "-n",
        "-q",
        "-s",
        "-V",
        "-d",
        "-t",
        "-T",
        "-m",
        "-h",
        "-4",
        "-6",
        "-bBq",
        "-nqs",
        "-qV",
        "-t30",
        "-T1",
        "-d2004-06-01",
        "-qm",
        "-sd",
        "24,16",
        "64,48",
        "--",
        "-",
        "---",
        "--help",
        "--version",
        "--foo",
        "-x",
        "-b-",
        "-\u{e9}",
        "\u{e9}",
        "0",
        "1",
        "30",
        "86400",
        "86401",
        "-1",
        "2004-06-01",
        "2004-02-30",
        "qmail-smtpd",
        "",
    ])
    .prop_map(OsString::from);
    prop_oneof![
        4 => fixed,
        1 => bytes(0..6).prop_map(OsString::from_vec),
        1 => bytes(0..6).prop_map(|b| OsString::from_vec([&b"-"[..], &b].concat())),
    ]
}

fn argv() -> impl Strategy<Value = Vec<OsString>> {
    vec(word(), 0..8)
}

/// Options that are all good, each as its words.
fn good_option() -> impl Strategy<Value = Vec<OsString>> {
    let words = |w: &[&[u8]]| w.iter().map(|w| OsString::from_vec(w.to_vec())).collect();
    prop_oneof![
        select(vec![
            "-b", "-B", "-c", "-C", "-n", "-q", "-s", "-bBq", "-nqs"
        ])
        .prop_map(move |f| words(&[f.as_bytes()])),
        (0u64..=86_400).prop_map(move |n| words(&[b"-t", n.to_string().as_bytes()])),
        (1u64..=3_600).prop_map(move |n| words(&[format!("-T{n}").as_bytes()])),
        select(vec!["2004-06-01", "2000-02-29"]).prop_map(move |d| words(&[b"-d", d.as_bytes()])),
        bytes(1..8).prop_map(move |m| words(&[b"-m", &m])),
        bytes(1..8).prop_map(move |h| words(&[b"-h", &h])),
        select(vec!["24", "16,24", "8,16,24,32"]).prop_map(move |p| words(&[b"-4", p.as_bytes()])),
        select(vec!["64,48", "56", "4,128"]).prop_map(move |p| words(&[b"-6", p.as_bytes()])),
    ]
}

/// A usage error as the contract has it: one line of printable ASCII.
fn one_line(error: &str) -> Result<(), TestCaseError> {
    prop_assert!(!error.is_empty());
    prop_assert!(
        error.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "printable: {:?}",
        error
    );
    prop_assert!(error.len() <= 200, "bounded: {}", error.len());
    Ok(())
}

/// Options with the program left out, to compare what comes before it.
/// What rmxsmtpd says of a usage error, after its name.
fn said(error: &Error) -> String {
    match error {
        Error::Version => format!("usage error: this is rmxsmtpd {VERSION}"),
        error => error.to_string(),
    }
}

fn without_program(options: Options) -> Options {
    Options {
        program: Vec::new(),
        ..options
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_argv_is_options_then_a_program_or_one_line(args in argv(), more in argv()) {
        match argv::parse(&args).map_err(|e| said(&e)) {
            Ok(parsed) => {
                prop_assert!(!parsed.program.is_empty());
                prop_assert!(args.ends_with(&parsed.program), "a tail of {:?}", args);
                // What follows the program is the program's: the options
                // stay as they were.
                let longer = argv::parse(&[args.clone(), more.clone()].concat());
                let longer = longer.map_err(|e| TestCaseError::fail(said(&e)))?;
                prop_assert_eq!(&longer.program, &[parsed.program.clone(), more].concat());
                prop_assert_eq!(without_program(longer), without_program(parsed));
            }
            Err(error) => one_line(&error)?,
        }
    }

    #[test]
    fn good_options_then_any_program(
        options in vec(good_option(), 0..6),
        first in bytes(0..6),
        rest in vec(bytes(0..6), 0..4),
        dashes: bool,
    ) {
        let mut program = vec![OsString::from_vec(first.clone())];
        program.extend(rest.into_iter().map(OsString::from_vec));
        let mut args: Vec<OsString> = options.concat();
        if dashes || (first.starts_with(b"-") && first != b"-") {
            args.push("--".into());
        }
        args.extend(program.iter().cloned());
        let parsed = argv::parse(&args).map_err(|e| TestCaseError::fail(said(&e)))?;
        prop_assert_eq!(parsed.program, program);
    }
}

/// rmxsmtpd with `args`, no lookup (`RMXSMTPD` empty), and a PATH that
/// finds nothing.
fn run_rmxsmtpd(args: &[OsString], dir: &Path) -> Output {
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    Command::new(rmxsmtpd())
        .args(args)
        .env_clear()
        .env("PATH", &empty)
        .env("RMXSMTPD", "")
        .env("RMX_REPORT", dir.join("report"))
        .stdin(Stdio::null())
        .output()
        .expect("start rmxsmtpd")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_binary_runs_or_says_one_usage_line(
        args in prop_oneof![argv(), vec(good_option(), 0..4).prop_map(|o| o.concat())],
        tail in prop::option::of(vec(word(), 0..3)),
    ) {
        let mut args = args;
        if let Some(tail) = tail {
            args.push(reporter().into());
            args.extend(tail);
        }
        let dir = TempDir::new("argv");
        let output = run_rmxsmtpd(&args, dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert_eq!(output.status.signal(), None, "{:?}", stderr);
        match argv::parse(&args) {
            Err(error) => {
                prop_assert_eq!(output.status.code(), Some(100));
                prop_assert_eq!(
                    stderr,
                    format!("rmxsmtpd: {}; usage: {}\n", said(&error), PROGRAM.usage)
                );
                prop_assert!(output.stdout.is_empty());
            }
            Ok(parsed) if parsed.program[0] == reporter() => {
                prop_assert_eq!(output.status.code(), Some(0), "{:?}", stderr);
                let report = Report::read(&dir.path().join("report"));
                let report = report.ok_or_else(|| TestCaseError::fail("the reporter ran"))?;
                prop_assert_eq!(&report.args[..], &parsed.program[1..]);
            }
            Ok(_) => {
                prop_assert_eq!(output.status.code(), Some(111), "{:?}", stderr);
                prop_assert!(stderr.contains(": fatal: unable to run "), "{:?}", stderr);
            }
        }
    }
}

/// The one line on stderr, checking that stdout is empty.
fn usage_line(output: &Output) -> String {
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.ends_with('\n'));
    stderr
}

#[test]
fn rmxsmtpd_help_version_and_unknown_options_are_usage_errors() {
    let program = reporter().as_os_str();
    let dir = TempDir::new("argv");
    for args in [
        &["--help"][..],
        &["--version"],
        &["--foo"],
        &["-V"],
        &["-b-"],
        &["-\u{e9}"],
    ] {
        for with_program in [false, true] {
            let mut args: Vec<OsString> = args.iter().map(OsString::from).collect();
            if with_program {
                args.push(program.into());
            }
            let output = run_rmxsmtpd(&args, dir.path());
            assert_eq!(output.status.code(), Some(100), "{args:?}");
            let line = usage_line(&output);
            assert!(line.starts_with("rmxsmtpd: usage error: "), "{line}");
            assert!(
                line.ends_with(&format!("; usage: {}\n", PROGRAM.usage)),
                "{line}"
            );
            assert!(!dir.path().join("report").exists(), "{args:?}: nothing ran");
        }
    }
    let version = run_rmxsmtpd(&["-V".into()], dir.path());
    assert_eq!(
        usage_line(&version),
        format!(
            "rmxsmtpd: usage error: this is rmxsmtpd {VERSION}; usage: {}\n",
            PROGRAM.usage
        )
    );
    let help = run_rmxsmtpd(&["--help".into(), program.into()], dir.path());
    assert!(usage_line(&help).starts_with("rmxsmtpd: usage error: unknown option --help;"));
    // An empty refusal text would refuse with a bare `451 4.7.1 `.
    let empty = run_rmxsmtpd(&["-m".into(), "".into(), program.into()], dir.path());
    assert_eq!(empty.status.code(), Some(100));
    assert!(usage_line(&empty).starts_with("rmxsmtpd: usage error: -m wants a text;"));
    assert!(!dir.path().join("report").exists(), "-m '': nothing ran");
}

#[test]
fn rmxsmtpd_gets_its_arguments_from_main() {
    // The program and arguments that look like options, or are not UTF-8,
    // arrive byte for byte.
    let dir = TempDir::new("argv");
    let tail: Vec<OsString> = [&b"-V"[..], b"--help", b"\xff\xfe", b"", b"--"]
        .iter()
        .map(|b| OsString::from_vec(b.to_vec()))
        .collect();
    let mut args: Vec<OsString> = vec!["-q".into(), "-m".into(), "--".into()];
    args.push(reporter().into());
    args.extend(tail.iter().cloned());
    let output = run_rmxsmtpd(&args, dir.path());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stderr.is_empty(), "-q: {output:?}");
    let report = Report::read(&dir.path().join("report")).expect("the reporter ran");
    assert_eq!(report.args, tail);
}

fn run_rmxcheck(args: &[&str]) -> Output {
    Command::new(RMXCHECK)
        .args(args)
        .env_clear()
        // Loopback, and never reached: a usage error asks nothing.
        .env("DNSCACHEIP", "127.0.0.1:9")
        .stdin(Stdio::null())
        .output()
        .expect("start rmxcheck")
}

#[test]
fn rmxcheck_help_and_unknown_options_are_usage_errors_and_v_is_the_version() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["--foo", "198.51.100.5"],
        &["-\u{e9}", "198.51.100.5"],
    ] {
        let output = run_rmxcheck(args);
        assert_eq!(output.status.code(), Some(100), "{args:?}");
        let line = usage_line(&output);
        assert!(line.starts_with("rmxcheck: usage error: "), "{line}");
    }
    // In rmxsmtpd's words, lower case, never getopts' own; an unknown
    // option named by its first byte, as every program names it.
    for (args, want) in [
        (&["--help"][..], "unknown option --help"),
        (&["-x", "198.51.100.5"], "unknown option -x"),
        (&["-\u{e9}", "198.51.100.5"], "unknown option -?"),
        (&["198.51.100.5", "-T"], "-T wants a value"),
    ] {
        let output = run_rmxcheck(args);
        let line = usage_line(&output);
        let error = line.split("; usage: rmxcheck [").next().unwrap();
        assert_eq!(error, format!("rmxcheck: usage error: {want}"), "{args:?}");
    }
    for args in [&["-V"][..], &["-V", "198.51.100.5"]] {
        let output = run_rmxcheck(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("rmxcheck {VERSION}\n")
        );
        assert!(output.stderr.is_empty(), "{output:?}");
    }
}

/// `program ARGS` with SIGPIPE ignored, as a supervisor may start it, and
/// stderr a pipe whose reader has gone.
fn with_broken_stderr(program: &OsString, args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new("/bin/sh")
        .args(["-c", "trap '' PIPE; exec \"$@\"", "sh"])
        .arg(program)
        .args(args)
        .env_clear()
        .env("DNSCACHEIP", "127.0.0.1:9")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap()
}

#[test]
fn a_usage_line_to_a_closed_pipe_still_exits_100() {
    assert_eq!(
        with_broken_stderr(&rmxsmtpd(), &["--help"]).code(),
        Some(100)
    );
    assert_eq!(
        with_broken_stderr(&RMXCHECK.into(), &["--help"]).code(),
        Some(100)
    );
}
