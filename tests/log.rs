//! What the real binaries write about a lookup, end to end (rmxsmtpd(8),
//! "The log"; rmxcheck(1)): names as they are on the wire, the same name in
//! the NAME field and in the notes, and a `DNSCACHEIP` that was not
//! understood.
//!
//! What needs `/etc/resolv.conf` runs inside namespaces of its own: the test
//! runs itself again under `unshare`, with a file of its own mounted there
//! (see [`inside`]), so the machine's resolver is never asked. That needs
//! root; without it the test says so and steps aside, and under CI=true it
//! fails instead.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use support::responder::{Behaviour, Responder, Zone};
use support::wrapper::{TempDir, Wrapper};

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

// ---- Running a test inside namespaces of its own ----------------------------

/// Set in the environment of the test binary that runs inside the namespaces.
const INSIDE: &str = "RMX_LOG_TEST_INSIDE";

/// Whether this process is the run of a test inside its namespaces.
fn is_inside() -> bool {
    std::env::var_os(INSIDE).is_some()
}

/// Runs `test` (the caller's own name) again as a new process of this test
/// binary, under `unshare FLAGS` after the shell commands of `setup` (which
/// see `vars` in their environment). Panics if that run fails; false, after
/// a visible line, when this machine cannot make the namespaces.
fn inside(test: &str, flags: &[&str], setup: &str, vars: &[(&str, &Path)]) -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let probe = root
        && Command::new("unshare")
            .args(flags)
            .arg("true")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut command = Command::new("unshare");
    command
        .args(flags)
        .args([
            "sh",
            "-c",
            &format!("{setup} || exit 77; exec \"$@\""),
            "sh",
        ])
        .arg(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1");
    for (name, path) in vars {
        command.env(name, path);
    }
    let output = probe.then(|| command.output().expect("run unshare"));
    match output {
        Some(output) if output.status.code() != Some(77) => {
            assert!(
                output.status.success(),
                "{test} inside `unshare {}`: {}\n{}\n{}",
                flags.join(" "),
                output.status,
                text(&output.stdout),
                text(&output.stderr)
            );
            assert!(
                text(&output.stdout).contains("test result: ok. 1 passed"),
                "{test} ran inside: {}",
                text(&output.stdout)
            );
            true
        }
        _ => {
            let why = format!(
                "SKIP: {test}: needs root, unshare {} and the mounts of: {setup}",
                flags.join(" ")
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{why}; with CI=true that is a failure"
            );
            // Straight to stderr: libtest hides what a passing test prints.
            let _ = writeln!(std::io::stderr(), "{why}");
            false
        }
    }
}

/// Inside `unshare -m -n`: the loopback up, and this text at
/// `/etc/resolv.conf`, which the test's resolver on 127.0.0.1 port 53
/// answers. Runs `test` there; false when skipped.
fn with_resolv_conf(test: &str, resolv_conf: &str) -> bool {
    let dir = TempDir::new();
    let file = dir.path().join("resolv.conf");
    std::fs::write(&file, resolv_conf).unwrap();
    inside(
        test,
        &["-m", "-n"],
        r#"ip link set lo up && mount --bind "$RESOLV_CONF" /etc/resolv.conf"#,
        &[("RESOLV_CONF", &file)],
    )
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

// ---- A DNSCACHEIP that was not understood ------------------------------------

/// The seed's list: mx1.example.net at 198.51.100.5.
fn seed_zone() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", LISTED)
}

#[test]
fn words_of_dnscacheip_not_understood_are_logged() {
    let dns = Responder::start(seed_zone());
    let dnscacheip = format!("localhost {} [::1]", dns.addr());
    let outcome = Wrapper::new(dns.addr(), LISTED, &[])
        .env("DNSCACHEIP", &dnscacheip)
        .run(b"");
    assert_eq!(outcome.result().as_deref(), Some("pass"));
    assert_eq!(
        outcome.log(),
        format!(
            "{LISTED} pass {ZONE} accept; \
             DNSCACHEIP \"localhost\", \"[::1]\" not understood, ignored"
        )
    );
    // The note alone does not make -q log a pass.
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-q"])
        .env("DNSCACHEIP", &dnscacheip)
        .run(b"");
    assert_eq!(outcome.result().as_deref(), Some("pass"));
    assert_eq!(outcome.stderr, "");
}

#[test]
fn rmxcheck_warns_of_words_of_dnscacheip_not_understood() {
    let dns = Responder::start(seed_zone());
    let output = Command::new(RMXCHECK)
        .env_clear()
        .env("DNSCACHEIP", format!("127.0.0.53:0,{}", dns.addr()))
        .args(["-p", LISTED, "198.51.100.6"])
        .output()
        .expect("run rmxcheck");
    assert_eq!(
        text(&output.stdout),
        format!(
            "{LISTED} pass {ZONE} mx1.example.net\n\
             198.51.100.6 fail {ZONE} no match among 1 listed exchange\n"
        )
    );
    assert_eq!(
        text(&output.stderr),
        "rmxcheck: warning: DNSCACHEIP \"127.0.0.53:0\" not understood, ignored\n",
        "once, whatever the number of addresses"
    );
}

#[test]
fn a_dnscacheip_not_understood_at_all_falls_back_to_resolv_conf_and_says_so() {
    const TEST: &str = "a_dnscacheip_not_understood_at_all_falls_back_to_resolv_conf_and_says_so";
    if !is_inside() {
        with_resolv_conf(TEST, "nameserver 127.0.0.1\n");
        return;
    }
    let dns = Responder::start_on_port_53(seed_zone());
    let outcome = Wrapper::new(dns.addr(), LISTED, &[])
        .env("DNSCACHEIP", "localhost")
        .run(b"");
    assert_eq!(outcome.result().as_deref(), Some("pass"), "{outcome:?}");
    assert_eq!(
        outcome.log(),
        format!(
            "{LISTED} pass {ZONE} accept; \
             DNSCACHEIP \"localhost\" not understood, using /etc/resolv.conf"
        )
    );
    let output = Command::new(RMXCHECK)
        .env_clear()
        .env("DNSCACHEIP", "localhost")
        .args(["-p", LISTED])
        .output()
        .expect("run rmxcheck");
    assert_eq!(
        text(&output.stdout),
        format!("{LISTED} pass {ZONE} mx1.example.net\n")
    );
    assert_eq!(
        text(&output.stderr),
        "rmxcheck: warning: DNSCACHEIP \"localhost\" not understood, using /etc/resolv.conf\n"
    );
    assert_eq!(dns.queries(ZONE, "MX"), 2, "both asked the file's server");
}
