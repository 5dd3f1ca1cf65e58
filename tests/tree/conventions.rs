//! One set of command-line conventions for the four programs (rmxsmtpd(8),
//! rmxpolicyd(8), rmxcheck(1), rmxreport(1)): a bad option is one line in
//! the same words and exit 100, the last of a repeated option wins, `-V`
//! prints the version where stdout is the user's and is a usage error where
//! it is the client's, and trouble is said in error_str's words.

use std::process::{Command, Output, Stdio};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Each program, whether its stdout is the client's (a daemon), and
/// arguments that make a run with nothing to look up: rmxsmtpd skips the
/// lookup (`RMXSMTPD` empty, below) and runs `true`; rmxpolicyd and
/// rmxcheck read an empty stdin; rmxreport reads an empty log.
const PROGRAMS: [(&str, bool, &[&str]); 4] = [
    (env!("CARGO_BIN_EXE_rmxsmtpd"), true, &["true"]),
    (env!("CARGO_BIN_EXE_rmxpolicyd"), true, &[]),
    (env!("CARGO_BIN_EXE_rmxcheck"), false, &["-"]),
    (env!("CARGO_BIN_EXE_rmxreport"), false, &["/dev/null"]),
];

fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

/// `program` with `options` before its usual arguments; the resolver a
/// closed loopback port, never the machine's.
fn run(program: &str, options: &[&str], rest: &[&str]) -> Output {
    Command::new(program)
        .args(options)
        .args(rest)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("RMXSMTPD", "")
        .env("DNSCACHEIP", "127.0.0.1:1")
        .stdin(Stdio::null())
        .output()
        .expect("start the program")
}

/// The one line a usage error writes, and that it exits 100 with nothing
/// on stdout.
fn usage_error(program: &str, output: &Output) -> String {
    assert_eq!(output.status.code(), Some(100), "{program}: {output:?}");
    assert!(output.stdout.is_empty(), "{program}: {output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{program}: {stderr:?}");
    let line = stderr.trim_end();
    let prefix = format!("{}: usage error: ", name(program));
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{line}"));
    let (why, usage) = rest
        .split_once("; usage: ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(usage.starts_with(name(program)), "{line}");
    why.to_string()
}

#[test]
fn a_bad_option_is_one_line_in_the_same_words() {
    for (program, _, rest) in PROGRAMS {
        // rmxreport's option with a value, where the others have -T.
        let value = if name(program) == "rmxreport" {
            "-N"
        } else {
            "-T"
        };
        for (options, rest, want) in [
            (&["-x"][..], rest, "unknown option -x".to_string()),
            (&["--help"], rest, "unknown option --help".into()),
            (&["--version"], rest, "unknown option --version".into()),
            // Each byte outside printable ASCII is one `?`: the first
            // byte of an unknown option is named.
            (&["-\u{e9}"], rest, "unknown option -?".into()),
            (&[value], &[], format!("{value} wants a value")),
        ] {
            let output = run(program, options, rest);
            assert_eq!(usage_error(program, &output), want, "{program} {options:?}");
        }
    }
}

#[test]
fn the_last_of_a_repeated_option_wins() {
    for (program, _, rest) in PROGRAMS {
        let (bad, good) = if name(program) == "rmxreport" {
            ("-Nx", "-N3")
        } else {
            ("-T0", "-T5")
        };
        let output = run(program, &[bad, good], rest);
        assert_eq!(output.status.code(), Some(0), "{program}: {output:?}");
        let output = run(program, &[good, bad], rest);
        let why = usage_error(program, &output);
        assert!(why.starts_with(&bad[..2]), "{program}: {why}");
    }
}

#[test]
fn v_prints_the_version_unless_stdout_is_the_clients() {
    for (program, daemon, rest) in PROGRAMS {
        let output = run(program, &["-V"], rest);
        let name = name(program);
        if daemon {
            let why = usage_error(program, &output);
            assert_eq!(why, format!("this is {name} {VERSION}"));
        } else {
            assert_eq!(output.status.code(), Some(0), "{program}: {output:?}");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("{name} {VERSION}\n")
            );
            assert!(output.stderr.is_empty(), "{program}: {output:?}");
        }
    }
}

/// A system error in error_str's words, never Rust's `(os error 2)`, and
/// the file named once.
#[test]
fn trouble_is_said_in_words() {
    let [(rmxsmtpd, ..), _, _, (rmxreport, ..)] = PROGRAMS;
    let output = run(rmxsmtpd, &[], &["/nonexistent/qmail-smtpd"]);
    assert_eq!(output.status.code(), Some(111), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.ends_with(": fatal: unable to run /nonexistent/qmail-smtpd: file does not exist\n"),
        "{stderr}"
    );
    let output = run(rmxreport, &[], &["/nonexistent/log"]);
    assert_eq!(output.status.code(), Some(111), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "rmxreport: warning: unable to read /nonexistent/log: file does not exist\n"
    );
}
