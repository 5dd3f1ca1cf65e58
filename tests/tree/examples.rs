//! The administrators' kit held to what it says: every run example parsed
//! by the program that reads it (tcprules, sh, execlineb, inetd,
//! systemd-analyze) or checked for shape; the demo played; and the README's
//! commands and snippets traced to what the tests run. The zone examples
//! are served in `publish`, the service directories run in `services`.
//!
//! A missing peer program prints a line saying what to install and ends the
//! test; under CI=true it fails the test instead.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::responder;
use crate::support::skip::{find, need, skip};
use crate::support::temp::TempDir;

#[path = "../../examples/demo/scenes.rs"]
mod scenes;

const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const RMXSMTPD: &str = env!("CARGO_BIN_EXE_rmxsmtpd");
const RMXPOLICYD: &str = env!("CARGO_BIN_EXE_rmxpolicyd");
const RMXREPORT: &str = env!("CARGO_BIN_EXE_rmxreport");

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---- Peers -----------------------------------------------------------------

/// Whether this process may make network namespaces (`unshare -n`), which
/// the tests that bind port 53 or 25 need. If not, the test skips.
fn can_unshare() -> bool {
    let ok = Command::new("unshare")
        .args(["-n", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip("`unshare -n`", "run the tests as root");
    }
    ok
}

// ---- Run examples ----------------------------------------------------------

fn run_example(path: &str) -> PathBuf {
    root().join("examples/run").join(path)
}

/// The words of the rmxsmtpd command in `text`: from `rmxsmtpd` (or the
/// path that ends in it) to the program, backslash-continued lines joined.
fn rmxsmtpd_words(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && l.contains("rmxsmtpd "))
        .expect("a line that runs rmxsmtpd");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .rposition(|w| *w == "rmxsmtpd" || w.ends_with("/rmxsmtpd"))
        .expect("the rmxsmtpd word");
    words[at + 1..].iter().map(|w| w.to_string()).collect()
}

/// Behind tcpserver, which sets `TCPREMOTEIP` and `TCPREMOTEHOST` for
/// qmail-smtpd's Received lines.
const QMAIL_SMTPD: &[&str] = &["/var/qmail/bin/qmail-smtpd"];
/// Behind any other connection server: qmail's tcp-env sets them.
const TCP_ENV_QMAIL_SMTPD: &[&str] = &["/var/qmail/bin/tcp-env", "/var/qmail/bin/qmail-smtpd"];

/// rmxsmtpd's own parser accepts these options, the example starts in a dry
/// run that logs every client (a copy taken as it stands refuses nobody,
/// and its log gives rmxreport the whole mail: rmxsmtpd(8), "Rolling it
/// out"), and the program is `program`.
fn assert_rmxsmtpd_options(example: &str, words: &[String], program: &[&str]) {
    let args: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
    let options = rmxsmtpd::argv::parse(&args)
        .unwrap_or_else(|e| panic!("{example}: rmxsmtpd {words:?}: {e}"));
    assert!(options.dry_run, "{example}: rmxsmtpd {words:?} without -n");
    assert!(!options.quiet, "{example}: rmxsmtpd {words:?} with -q");
    assert_eq!(
        options.program, program,
        "{example}: the program rmxsmtpd runs"
    );
}

#[test]
fn daemontools_run_scripts_parse() {
    for script in ["daemontools/run", "daemontools/log/run"] {
        let path = run_example(script);
        let status = Command::new("sh").arg("-n").arg(&path).status().unwrap();
        assert!(status.success(), "sh -n {script}");
        assert!(read(&path).starts_with("#!/bin/sh\n"));
    }
    assert_rmxsmtpd_options(
        "daemontools/run",
        &rmxsmtpd_words(&read(&run_example("daemontools/run"))),
        QMAIL_SMTPD,
    );
    for (program, package) in [
        ("tcpserver", "ucspi-tcp"),
        ("softlimit", "daemontools"),
        ("multilog", "daemontools"),
        ("setuidgid", "daemontools"),
    ] {
        need(program, package);
    }
}

/// execlineb reads an s6 run script into one command line and runs it: the
/// execline programs in it for real, and then `stand_in`, whose arguments
/// (the rest of the line) show what execline made of the script. Before it,
/// `mkdir` and `chown` stand in for themselves, and say how they were
/// called, one line each: the second list.
fn execline_words(script: &Path, stand_in: &str) -> (Vec<String>, Vec<String>) {
    let dir = TempDir::new(&format!("examples-execline-{stand_in}"));
    let out = dir.join("argv");
    let calls = dir.join("calls");
    for (stub, body) in [
        (
            stand_in,
            format!("printf '%s\\n' \"$@\" > '{}'", out.display()),
        ),
        (
            "mkdir",
            format!("echo mkdir \"$@\" >> '{}'", calls.display()),
        ),
        (
            "chown",
            format!("echo chown \"$@\" >> '{}'", calls.display()),
        ),
    ] {
        std::fs::write(dir.join(stub), format!("#!/bin/sh\n{body}\n")).unwrap();
        let status = Command::new("chmod")
            .arg("755")
            .arg(dir.join(stub))
            .status()
            .unwrap();
        assert!(status.success());
    }
    // The stand-in first on PATH, then execline's own programs (Debian's
    // execlineb puts its directory in front by itself).
    let execlineb = find("execlineb").expect("execlineb");
    let path = std::env::join_paths([dir.path(), execlineb.parent().unwrap()]).unwrap();
    let status = Command::new(&execlineb)
        .arg("-P")
        .arg(script)
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(status.success(), "execlineb -P {}", script.display());
    let lines = |path: &Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    (lines(&out), lines(&calls))
}

#[test]
fn s6_run_scripts_parse_in_execline() {
    if !need("execlineb", "execline") {
        return;
    }
    // fdmove runs for real, then hands over to s6-envuidgid.
    let (words, _) = execline_words(&run_example("s6/run"), "s6-envuidgid");
    let text = words.join(" ");
    assert!(
        text.starts_with("qmaild s6-softlimit -m 64000000 tcpserver "),
        "{text}"
    );
    assert_rmxsmtpd_options("s6/run", &rmxsmtpd_words(&text), QMAIL_SMTPD);
    // The log directory is made qmaill's, then s6-log runs as qmaill
    // (tests/tree/services.rs runs it for real).
    let (words, calls) = execline_words(&run_example("s6/log/run"), "s6-setuidgid");
    assert_eq!(words[..2], ["qmaill", "s6-log"]);
    let logdir = words.last().unwrap();
    assert_eq!(
        calls,
        [
            format!("mkdir -p {logdir}"),
            format!("chown -R qmaill {logdir}")
        ]
    );
    for (program, package) in [
        ("s6-envuidgid", "s6"),
        ("s6-softlimit", "s6"),
        ("s6-setuidgid", "s6"),
        ("s6-log", "s6"),
        ("tcpserver", "ucspi-tcp"),
    ] {
        need(program, package);
    }
}

#[test]
fn tcp_smtp_rules_compile_and_do_what_they_say() {
    if !need("tcprules", "ucspi-tcp") || !need("tcprulescheck", "ucspi-tcp") {
        return;
    }
    let dir = TempDir::new("examples-tcprules");
    let cdb = dir.join("tcp.smtp.cdb");
    let status = Command::new("tcprules")
        .arg(&cdb)
        .arg(dir.join("tcp.smtp.tmp"))
        .stdin(std::fs::File::open(run_example("tcp.smtp")).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "tcprules compiles examples/run/tcp.smtp");
    let rule = |address: &str| -> String {
        let output = Command::new("tcprulescheck")
            .arg(&cdb)
            .env_clear()
            .env("TCPREMOTEIP", address)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let env_of = |checked: &str| -> Vec<(String, String)> {
        checked
            .lines()
            .filter_map(|l| l.strip_prefix("set environment variable "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let cases = [
        ("127.0.0.1", Some(("RELAYCLIENT", ""))),
        ("198.51.100.5", Some(("RELAYCLIENT", ""))),
        ("203.0.113.25", Some(("RMXSMTPD", ""))),
        ("203.0.113.7", None),
    ];
    for (address, want) in cases {
        let checked = rule(address);
        assert!(
            checked.ends_with("allow connection\n"),
            "{address}: {checked}"
        );
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(env_of(&checked), want, "{address}");
    }
    // The refusals, as rmxsmtpd speaks them under -t 0 with the rule's
    // environment; no lookup happens (the resolver is a closed port).
    for (address, want) in [
        (
            "203.0.113.66",
            "554 5.7.1 [203.0.113.66] refused; mail postmaster@example.com\r\n",
        ),
        (
            "203.0.113.130",
            "421 4.7.1 Your network [203.0.113.130] is blocked until its open relays are fixed\r\n",
        ),
    ] {
        let vars = env_of(&rule(address));
        assert_eq!(vars.len(), 1, "{address}: {vars:?}");
        let output = Command::new(RMXSMTPD)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DNSCACHEIP", responder::closed_port().to_string())
            .env("TCPREMOTEIP", address)
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .args(["-t", "0", "/bin/false"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), want, "{address}");
        assert_eq!(output.status.code(), Some(0));
    }
}

/// Runs `program` until it has printed `wanted` lines that start with
/// `prefix` on stderr (or 10 s pass), then kills it; returns all it printed.
fn stderr_until(program: &mut Command, prefix: &str, wanted: usize) -> Vec<String> {
    let mut child = program
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got: Vec<String> = Vec::new();
    while got.iter().filter(|l| l.starts_with(prefix)).count() < wanted {
        let wait = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(wait) {
            Ok(line) => got.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    got
}

#[test]
fn inetd_reads_the_inetd_conf_lines() {
    let text = read(&run_example("inetd.conf"));
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    for line in &lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            fields[..4],
            ["smtp", "stream", fields[2], "nowait"],
            "{line}"
        );
        assert!(["tcp", "tcp6"].contains(&fields[2]), "{line}");
        assert_eq!(fields[5], "/usr/local/bin/rmxsmtpd");
        assert_eq!(fields[6], "rmxsmtpd", "argv[0] comes first: {line}");
        assert_rmxsmtpd_options("inetd.conf", &rmxsmtpd_words(line), TCP_ENV_QMAIL_SMTPD);
    }
    if !need("/usr/sbin/inetd", "openbsd-inetd") || !can_unshare() {
        return;
    }
    // inetd -d, in a namespace of its own, says what it made of each line.
    // It needs the server and the user to exist: the binary cargo built, root.
    let dir = TempDir::new("examples-inetd");
    let conf = dir.join("inetd.conf");
    let local = text
        .replace("/usr/local/bin/rmxsmtpd", RMXSMTPD)
        .replace("qmaild", "root");
    std::fs::write(&conf, local).unwrap();
    let said = stderr_until(
        Command::new("unshare")
            .args(["-n", "/usr/sbin/inetd", "-d"])
            .arg(&conf),
        "ADD: ",
        lines.len(),
    );
    let added: Vec<&String> = said
        .iter()
        .filter(|l| l.starts_with("ADD: smtp "))
        .collect();
    assert_eq!(added.len(), lines.len(), "inetd took every line: {said:?}");
    for (line, protocol) in added.iter().zip(["tcp", "tcp6"]) {
        assert!(line.contains(&format!("proto={protocol},")), "{line}");
        assert!(line.ends_with(&format!("server={RMXSMTPD}")), "{line}");
    }
}

/// `service NAME { key = value ... }`, the shape xinetd.conf(5) gives.
/// (xinetd conflicts with openbsd-inetd in Debian, so only the shape is
/// checked here.)
#[test]
fn xinetd_service_has_the_right_shape() {
    let text = read(&run_example("xinetd.d/smtp"));
    let body: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(body[..2], ["service smtp", "{"]);
    assert_eq!(body.last(), Some(&"}"));
    let mut seen = BTreeSet::new();
    let known = [
        "socket_type",
        "protocol",
        "wait",
        "user",
        "flags",
        "server",
        "server_args",
        "log_on_success",
        "log_on_failure",
        "instances",
        "disable",
    ];
    let mut server_args = "";
    for line in &body[2..body.len() - 1] {
        let (key, value) = line.split_once('=').expect("key = value");
        let (key, value) = (key.trim(), value.trim());
        assert!(known.contains(&key), "unknown attribute {key}");
        assert!(seen.insert(key), "{key} twice");
        match key {
            "socket_type" => assert_eq!(value, "stream"),
            "protocol" => assert_eq!(value, "tcp"),
            "wait" => assert_eq!(value, "no"),
            "disable" => assert_eq!(value, "no"),
            "server" => assert_eq!(value, "/usr/local/bin/rmxsmtpd"),
            "server_args" => server_args = value,
            _ => {}
        }
    }
    for required in ["socket_type", "wait", "user", "server", "server_args"] {
        assert!(seen.contains(required), "{required} is missing");
    }
    // server_args leaves out argv[0], unlike inetd.conf.
    let words: Vec<String> = server_args.split_whitespace().map(str::to_string).collect();
    assert_rmxsmtpd_options("xinetd.d/smtp", &words, TCP_ENV_QMAIL_SMTPD);
}

#[test]
fn systemd_units_verify() {
    let socket = read(&run_example("systemd/rmxsmtpd.socket"));
    let service = read(&run_example("systemd/rmxsmtpd@.service"));
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with('['))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(sections(&socket), ["[Unit]", "[Socket]", "[Install]"]);
    assert_eq!(sections(&service), ["[Unit]", "[Service]"]);
    assert!(socket.lines().any(|l| l == "Accept=yes"));
    for key in ["StandardInput=socket", "StandardOutput=socket"] {
        assert!(service.lines().any(|l| l == key), "{key}");
    }
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart=");
    assert_rmxsmtpd_options(
        "rmxsmtpd@.service",
        &rmxsmtpd_words(exec),
        TCP_ENV_QMAIL_SMTPD,
    );
    if !need("systemd-analyze", "systemd") {
        return;
    }
    // systemd-analyze wants the programs to exist: the binary cargo built,
    // and a stand-in for qmail-smtpd.
    let dir = TempDir::new("examples-systemd");
    std::fs::write(dir.join("rmxsmtpd.socket"), &socket).unwrap();
    let local = service
        .replace("/usr/local/bin/rmxsmtpd", RMXSMTPD)
        .replace("/var/qmail/bin/qmail-smtpd", "/bin/cat");
    std::fs::write(dir.join("rmxsmtpd@.service"), local).unwrap();
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.join("rmxsmtpd.socket"))
        .arg(dir.join("rmxsmtpd@.service"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let complaints = String::from_utf8_lossy(&output.stderr);
    assert!(
        complaints.trim().is_empty(),
        "systemd-analyze: {complaints}"
    );
}

// ---- The demo --------------------------------------------------------------

#[test]
fn the_demo_shows_the_three_clients() {
    let played = scenes::play(Path::new(RMXSMTPD)).unwrap();
    let logs: Vec<String> = played
        .iter()
        .map(|s| {
            s.log
                .split_once(": pid ")
                .unwrap()
                .1
                .split_once(": ")
                .unwrap()
                .1
                .to_string()
        })
        .collect();
    assert_eq!(logs[0], "198.51.100.5 pass 100.51.198.in-addr.arpa accept");
    assert!(
        logs[1].starts_with("198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 Your IP"),
        "{}",
        logs[1]
    );
    assert_eq!(logs[2], "192.0.2.7 none - accept");
    // One story: each client's network is what examples/publish says it
    // is, and rmxcheck gives there the result the demo shows.
    let published: String = std::fs::read_dir(root().join("examples/publish"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "zone"))
        .map(|path| read(&path))
        .collect();
    for scene in &played {
        let (address, rest) = scene
            .log
            .split_once(": pid ")
            .unwrap()
            .1
            .split_once(": ")
            .unwrap()
            .1
            .split_once(' ')
            .unwrap();
        let result = rest.split(' ').next().unwrap();
        let documented = format!("rmxcheck -p {address} ");
        let line = published
            .lines()
            .find(|l| l.contains(&documented))
            .unwrap_or_else(|| panic!("examples/publish documents no verdict for {address}"));
        assert!(
            line.contains(&format!("=>  {address} {result} ")),
            "the demo says {result} for {address}; examples/publish: {line}"
        );
    }
    let reply_to = |scene: &scenes::Scene, command: &str| -> String {
        let at = scene
            .transcript
            .iter()
            .position(|l| l.starts_with(&format!("C: {command}")))
            .unwrap();
        scene.transcript[at + 1].clone()
    };
    assert!(played[0].transcript[0].ends_with("(RMXRESULT=pass)"));
    assert_eq!(reply_to(&played[0], "RCPT"), "S: 250 ok");
    assert_eq!(played[1].transcript[0], "S: 220 mail.example.com");
    assert!(reply_to(&played[1], "RCPT").starts_with("S: 451 4.7.1 Your IP [198.51.100.10]"));
    assert_eq!(reply_to(&played[1], "QUIT"), "S: 221 mail.example.com");
    assert!(played[2].transcript[0].ends_with("(RMXRESULT=none)"));
    assert_eq!(reply_to(&played[2], "RCPT"), "S: 250 ok");
    let shown = scenes::render(&played);
    // A 451 is retried for days, as the manual's -B says; only 554 bounces.
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "451: a temporary refusal, so the sender's MTA keeps the mail and tries again"
        ),
        "{shown}"
    );
    assert!(
        !words.contains("451, so that the sender's MTA bounces"),
        "{shown}"
    );
    for scene in &played {
        assert!(shown.contains(&scene.log));
        for line in &scene.transcript {
            assert!(shown.contains(line.as_str()));
        }
    }
}

// ---- The documents ---------------------------------------------------------

/// A line as it compares: roff escapes undone, blanks squeezed.
pub fn normal(line: &str) -> String {
    let line = line.replace("\\e", "\\").replace("\\&", "");
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A document's displays with their folded lines joined, as RFC 8792
/// folds them: a line that ends in a backslash (`\e` in roff) goes on with
/// the next, less the blanks that start it.
pub fn unfold(text: &str) -> String {
    let mut out = String::new();
    let mut folded = false;
    for line in text.lines() {
        let line = if folded { line.trim_start() } else { line };
        match line.strip_suffix("\\e").or_else(|| line.strip_suffix('\\')) {
            Some(head) => {
                out.push_str(head);
                folded = true;
            }
            None => {
                out.push_str(line);
                out.push('\n');
                folded = false;
            }
        }
    }
    out
}

/// Every line of every example file, normalised.
fn example_lines() -> BTreeSet<String> {
    fn walk(dir: &Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, into);
            } else if path.extension().is_none_or(|e| e != "rs") {
                into.extend(read(&path).lines().map(normal));
            }
        }
    }
    let mut lines = BTreeSet::new();
    walk(&root().join("examples"), &mut lines);
    lines
}

/// Each line of `lines` is a line of an example file; a folded line (see
/// [`unfold`]) is one either as its parts, which a shell script's
/// continued lines are, or joined.
fn assert_from_examples(document: &str, lines: &[&str]) {
    let known = example_lines();
    let mut group: Vec<&str> = Vec::new();
    for line in lines {
        group.push(line);
        if line.ends_with("\\e") || line.ends_with('\\') {
            continue;
        }
        let parts = group.iter().all(|l| known.contains(&normal(l)));
        let joined = normal(&unfold(&group.join("\n")));
        assert!(
            joined.is_empty() || parts || known.contains(&joined),
            "{document}: {joined:?} is in no example file"
        );
        group.clear();
    }
}

/// The literal displays of a manual's EXAMPLES section, other than
/// rmxcheck sessions, come from the example files.
#[test]
fn the_manuals_examples_come_from_the_example_files() {
    let page = read(&root().join("man/rmxsmtpd.8"));
    let examples = page
        .split(".Sh EXAMPLES")
        .nth(1)
        .unwrap()
        .split("\n.Sh ")
        .next()
        .unwrap();
    let mut lines = Vec::new();
    let mut inside = false;
    for line in examples.lines() {
        match line {
            l if l.starts_with(".Bd -literal") => inside = true,
            ".Ed" => inside = false,
            l if inside => lines.push(l),
            _ => {}
        }
    }
    assert!(lines.len() > 15, "the EXAMPLES section has displays");
    assert_from_examples("rmxsmtpd.8", &lines);
}

/// The displays of rmxpolicyd(8) marked `.\" From examples/FILE.` quote
/// that file: its lines in order, roff's escapes undone, with only the
/// file's comment lines left out between them. Postfix's fragments and
/// exceptions, Exim's ACL and its run scripts are all quoted so.
#[test]
fn rmxpolicyd_quotes_the_example_files() {
    let page = read(&root().join("man/rmxpolicyd.8"));
    let mut quoted = BTreeSet::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let marked = line.strip_prefix(".\\\" From ");
        let Some(file) = marked.and_then(|f| f.strip_suffix('.')) else {
            continue;
        };
        assert!(lines.next().is_some_and(|l| l.starts_with(".Bd -literal")));
        let display: Vec<String> = lines
            .by_ref()
            .take_while(|l| *l != ".Ed")
            .map(|l| l.replace("\\e", "\\").replace("\\&", ""))
            .collect();
        let text = read(&root().join(file));
        let mut from = text
            .lines()
            .skip_while(|l| Some(*l) != display.first().map(String::as_str));
        for want in &display {
            let got = from.find(|l| !l.starts_with('#') || l == want);
            assert_eq!(got, Some(want.as_str()), "rmxpolicyd.8 quoting {file}");
        }
        quoted.insert(file.to_string());
    }
    let files = [
        "examples/exim/log/run",
        "examples/exim/rmx.acl",
        "examples/exim/run",
        "examples/postfix/main.cf",
        "examples/postfix/master.cf",
        "examples/postfix/rmx_exceptions",
    ];
    assert_eq!(quoted, files.map(String::from).into());
}

/// README code blocks: `sh` blocks hold commands, each run by a test or by
/// `make check`; untagged blocks quote example files; there is no third
/// kind, where a command could go unchecked. (The synopses are in the
/// manuals, held to the usage lines below.)
#[test]
fn every_readme_command_is_run_and_every_snippet_is_an_example() {
    let readme = read(&root().join("README.md"));
    let makefile = read(&root().join("Makefile"));
    let check = makefile
        .lines()
        .find_map(|l| l.strip_prefix("check:"))
        .expect("a check target");
    let mut commands = 0;
    let mut quoted = Vec::new();
    let mut block: Option<&str> = None;
    let mut after_command = false;
    for line in readme.lines() {
        if let Some(tag) = line.strip_prefix("```") {
            block = if block.is_some() { None } else { Some(tag) };
            after_command = false;
            continue;
        }
        match block {
            Some("sh") => {
                // A command has a `$ ` prompt, or stands alone in its block;
                // the lines after a prompted command are its output.
                let command = match line.strip_prefix("$ ") {
                    Some(command) => command,
                    None if after_command => continue,
                    None => line,
                };
                after_command = true;
                commands += 1;
                match command {
                    // make check runs the demo; CI runs make check.
                    "make demo" => assert!(check.split_whitespace().any(|t| t == "demo")),
                    "make check" => assert!(read(&root().join(".ci/run")).contains("make check")),
                    // tests/tree/install.rs
                    "make install PREFIX=/usr/local" => {}
                    // tests/tree/services.rs, where qmail-smtpd is.
                    c if c.starts_with("RELAYCLIENT= rmxsmtpd ") => {}
                    // tests/rmxreport/figures.rs runs these, and compares the report with
                    // examples/rmxreport/week.txt.
                    "cc -O2 -o genlog bench/genlog.c"
                    | "./genlog 12000 300 7 1795392000 > week.log"
                    | "rmxreport week.log" => {}
                    // Run against every DNS server, output compared
                    // (tests/tree/publish.rs).
                    c if c.starts_with("rmxcheck ") => {}
                    // A test target: make check runs cargo test, all of them.
                    c if c.starts_with("cargo test --test ") => {
                        let target = &c["cargo test --test ".len()..];
                        let file = root().join(format!("tests/{target}.rs"));
                        let dir = root().join(format!("tests/{target}/main.rs"));
                        assert!(
                            file.exists() || dir.exists(),
                            "README: {c}: no {} or {}",
                            file.display(),
                            dir.display()
                        );
                        assert!(makefile.contains("{ $(CARGO) test 2>&1;"));
                    }
                    other => panic!("README command {other:?} is run by no test"),
                }
            }
            Some("") => quoted.push(line),
            Some(tag) => panic!("README block tagged {tag:?}: sh for commands, none for quotes"),
            None => {}
        }
    }
    assert!(commands >= 4, "the README shows its commands in sh blocks");
    assert!(quoted.len() > 10, "the README quotes the examples");
    assert_from_examples("README.md", &quoted);
}

/// The first step of rolling out, in the README and in rmxsmtpd(8): a dry
/// run that keeps every line. `-q` leaves the `pass` lines out, and the
/// next step's shares (rmxreport's adoption) would leave the passing mail
/// out with them: the step names `-q` only to say so.
#[test]
fn the_first_step_of_rolling_out_keeps_every_line() {
    let readme = read(&root().join("README.md"));
    let step = readme
        .split_once("\n1. **`-n`**")
        .and_then(|(_, rest)| rest.split_once("\n2. **"))
        .expect("the README's first step")
        .0;
    let step = step.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(step.contains("without `-q`"), "{step}");
    assert!(!step.contains("with `-q`"), "{step}");
    let page = read(&root().join("man/rmxsmtpd.8"));
    let step = page
        .split_once(".Ss Rolling it out")
        .and_then(|(_, rest)| rest.split_once(".Bl -enum\n.It\n"))
        .and_then(|(_, rest)| rest.split_once("\n.It\n"))
        .expect("the manual's first step")
        .0;
    let words = step.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("and not .Fl q"), "{words}");
    assert!(
        words.contains(".Cm pass lines, which .Fl q leaves out"),
        "{words}"
    );
}

/// The usage line a program gives for an unknown option: what follows
/// `; usage: ` on its one line of stderr.
fn usage_of(program: &str) -> String {
    let output = Command::new(program)
        .arg("-Z")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(100), "{program} -Z");
    let error = String::from_utf8_lossy(&output.stderr);
    let (_, usage) = error
        .split_once("; usage: ")
        .unwrap_or_else(|| panic!("{program} -Z gives a usage line: {error}"));
    usage.trim_end().to_string()
}

/// A synopsis as it compares: blanks squeezed, none around `|`, and the
/// placeholders in one case (`SECONDS`, `seconds`); options keep theirs.
fn synopsis_words(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" | ", "|")
        .split(' ')
        .map(|word| {
            if word.trim_start_matches('[').starts_with('-') {
                word.to_string()
            } else {
                word.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A manual as mandoc renders it for a terminal, overstrikes undone.
fn rendered(page: &str) -> String {
    let output = Command::new("mandoc")
        .args(["-T", "ascii"])
        .arg(root().join(page))
        .output()
        .unwrap();
    assert!(output.status.success(), "mandoc {page}: {output:?}");
    let mut text = String::new();
    for c in String::from_utf8_lossy(&output.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

/// The first form of a manual's SYNOPSIS as mandoc renders it for a
/// terminal, continuation lines joined.
fn rendered_synopsis(page: &str) -> String {
    let section = rendered(page)
        .split_once("\nSYNOPSIS\n")
        .and_then(|(_, rest)| rest.split("\n\n").next())
        .unwrap_or_else(|| panic!("{page} has a SYNOPSIS"))
        .to_string();
    // Each form starts at the section's indent; a longer one is wrapped
    // onto lines indented further.
    let mut forms: Vec<String> = Vec::new();
    for line in section.lines() {
        let starts = line.starts_with("     ") && !line[5..].starts_with([' ', '\t']);
        match forms.last_mut() {
            Some(form) if !starts => form.push_str(line),
            _ => forms.push(line.to_string()),
        }
        forms.last_mut().unwrap().push(' ');
    }
    forms.into_iter().next().unwrap_or_default()
}

/// Each manual's SYNOPSIS, as a reader sees it, is the program's own usage
/// line, but for the case of the placeholders.
#[test]
fn the_manuals_synopses_are_the_usage_lines() {
    if !need("mandoc", "mandoc") {
        return;
    }
    for (program, page) in [
        (RMXSMTPD, "man/rmxsmtpd.8"),
        (RMXCHECK, "man/rmxcheck.1"),
        (RMXPOLICYD, "man/rmxpolicyd.8"),
        (RMXREPORT, "man/rmxreport.1"),
    ] {
        assert_eq!(
            synopsis_words(&rendered_synopsis(page)),
            synopsis_words(&usage_of(program)),
            "the SYNOPSIS of {page}"
        );
    }
}

/// The four manual pages.
const MAN_PAGES: [&str; 4] = [
    "man/rmxsmtpd.8",
    "man/rmxpolicyd.8",
    "man/rmxcheck.1",
    "man/rmxreport.1",
];

/// The manuals, as mandoc renders them for a terminal, fit in 80 columns:
/// a display too wide is folded, as the manuals say (RFC 8792).
#[test]
fn the_manuals_fit_in_80_columns() {
    if !need("mandoc", "mandoc") {
        return;
    }
    for page in MAN_PAGES {
        for line in rendered(page).lines() {
            let mut columns = 0;
            for c in line.chars() {
                columns = if c == '\t' {
                    columns + 8 - columns % 8
                } else {
                    columns + 1
                };
            }
            assert!(columns <= 80, "{page}, {columns} columns: {line}");
        }
    }
}

/// `make lint-man` renders each page with groff too, and fails on any word
/// groff says: the title word `No` in a STANDARDS reference, read as a
/// macro, once cut rmxsmtpd.8 short there with a warning and exit 0, and
/// mandoc let it pass.
#[test]
fn lint_man_fails_on_a_page_that_groff_cuts_short() {
    if !need("make", "make") || !need("mandoc", "mandoc") || !need("groff", "groff-base") {
        return;
    }
    let page = read(&root().join("man/rmxsmtpd.8"));
    let title = page
        .lines()
        .find(|l| l.starts_with(".%T ") && l.contains("Null MX"))
        .expect("the RFC 7505 reference");
    let dir = TempDir::new("lint-man");
    let broken = dir.join("rmxsmtpd.8");
    std::fs::write(&broken, page.replace(title, &title.replace("\\&No", "No"))).unwrap();
    let lint = |pages: &str| {
        Command::new("make")
            .args(["-s", "lint-man"])
            .arg(format!("MAN_PAGES={pages}"))
            .current_dir(root())
            .output()
            .unwrap()
    };
    let output = lint(&broken.display().to_string());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "make lint-man passed: {said}");
    assert!(said.contains("cannot chop empty macro"), "{said}");
    // The pages as shipped pass.
    let output = lint("man/rmxsmtpd.8 man/rmxcheck.1");
    assert!(output.status.success(), "{output:?}");
}
