//! What the real binaries write about a lookup, end to end (rmxsmtpd(8),
//! "The log"; rmxcheck(1)): the line in syslog when stderr is the client's
//! socket, names as they are on the wire, the same name in the NAME field
//! and in the notes, a `DNSCACHEIP` that was not understood, and an
//! `/etc/resolv.conf` that gives no server.
//!
//! What needs `/dev/log` or `/etc/resolv.conf` runs inside namespaces of its
//! own: the test runs itself again under `unshare`, with files of its own
//! mounted there (see [`again::inside`]), so the machine's syslog and resolver are
//! never touched. That needs root; without it the test says so and steps
//! aside, and under CI=true it fails instead.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::again;
use crate::support::responder::{Behaviour, Responder, Zone};
use crate::support::temp::TempDir;
use crate::support::wrapper::{
    Report, Wrapper, inherited_fds, over_one_socket, reporter, rmxsmtpd,
};

const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const ZONE: &str = "100.51.198.in-addr.arpa";
const LISTED: &str = "198.51.100.5";
const UNLISTED: &str = "198.51.100.10";
const REFUSAL: &str = "451 4.7.1 Your IP [198.51.100.10] is not listed in Reverse MX! \
                       Contact your mail or your network administrator.";
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

/// Inside `unshare -m -n`: the loopback up, and this text at
/// `/etc/resolv.conf`, which the test's resolver on 127.0.0.1 port 53
/// answers. Runs the calling test there.
fn with_resolv_conf(resolv_conf: &str) {
    let dir = TempDir::new("log");
    let file = dir.path().join("resolv.conf");
    std::fs::write(&file, resolv_conf).unwrap();
    again::inside(
        &["-m", "-n"],
        r#"ip link set lo up && mount --bind "$RESOLV_CONF" /etc/resolv.conf"#,
        &[("RESOLV_CONF", &file)],
    );
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

// ---- syslog when stderr is the client's socket -------------------------------

/// How long anything here may take before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// The next syslog(3) datagram: `<PRI>TIMESTAMP TAG: MESSAGE` (RFC 3164) as
/// the priority and what follows the time stamp.
fn next_syslog(socket: &UnixDatagram) -> (u8, String) {
    let mut buffer = vec![0; 4096];
    let n = socket.recv(&mut buffer).expect("a line in syslog");
    let datagram = text(&buffer[..n]);
    let (priority, rest) = datagram
        .strip_prefix('<')
        .and_then(|d| d.split_once('>'))
        .unwrap_or_else(|| panic!("no <PRI>: {datagram:?}"));
    // The tag starts after the time stamp, `Nov 30 19:11:08 `.
    let tag = rest
        .find("rmxsmtpd[")
        .unwrap_or_else(|| panic!("no tag: {datagram:?}"));
    assert!(rest[..tag].ends_with(' '), "time stamp: {datagram:?}");
    (priority.parse().unwrap(), rest[tag..].to_string())
}

/// syslog(3)'s priority: facility mail (2) times 8, plus the level.
const MAIL_INFO: u8 = 2 * 8 + 6;
const MAIL_WARNING: u8 = 2 * 8 + 4;

#[test]
fn with_stderr_on_the_socket_the_line_goes_to_syslog() {
    if !again::is_again() {
        again::with_dev_of_its_own();
        return;
    }
    let dns = Responder::start(one_mta_listed());
    let dir = TempDir::new("log");
    let report = dir.path().join("report");
    let dnscacheip = dns.addr().to_string();
    let report_path = report.to_str().unwrap();
    let listed = [
        ("DNSCACHEIP", dnscacheip.as_str()),
        ("TCPREMOTEIP", LISTED),
        ("RMX_REPORT", report_path),
    ];
    let wrapped = reporter().to_str().unwrap();

    // No syslog socket at all: the line is dropped, and all goes on.
    let _ = std::fs::remove_file("/dev/log");
    let started = Instant::now();
    let run = over_one_socket(rmxsmtpd(&listed, &[wrapped]), b"");
    assert_eq!(run.code, Some(0));
    assert_eq!(run.said, "250 reporter\r\n", "the client sees SMTP only");
    assert!(started.elapsed() < DEADLINE);

    let syslog = UnixDatagram::bind("/dev/log").expect("bind /dev/log");
    syslog.set_read_timeout(Some(DEADLINE)).unwrap();

    // A verdict: mail.info, and the program gets no descriptor of syslog's.
    let run = over_one_socket(rmxsmtpd(&listed, &[wrapped]), b"");
    assert_eq!(run.said, "250 reporter\r\n", "the client sees SMTP only");
    assert_eq!(
        next_syslog(&syslog),
        (
            MAIL_INFO,
            format!("rmxsmtpd[{}]: {LISTED} pass {ZONE} accept", run.pid)
        )
    );
    let ran = Report::read(&report).expect("the program ran");
    assert_eq!(ran.var("RMXRESULT").as_deref(), Some("pass"));
    assert_eq!(ran.fds, inherited_fds(), "no descriptor leaked");

    // A refusal, then its held session on the same socket.
    let unlisted = [
        ("DNSCACHEIP", dnscacheip.as_str()),
        ("TCPREMOTEIP", UNLISTED),
    ];
    let run = over_one_socket(rmxsmtpd(&unlisted, &[wrapped]), b"QUIT\r\n");
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.said, "220 rmxsmtpd.local\r\n221 rmxsmtpd.local\r\n",
        "the client sees SMTP only"
    );
    assert_eq!(
        next_syslog(&syslog),
        (
            MAIL_INFO,
            format!(
                "rmxsmtpd[{}]: {UNLISTED} fail {ZONE} reject: {REFUSAL}",
                run.pid
            )
        )
    );

    // A temporary error: mail.warning.
    dns.script(ZONE, "MX", vec![Behaviour::ServFail]);
    let run = over_one_socket(rmxsmtpd(&listed, &[wrapped]), b"");
    assert_eq!(run.said, "250 reporter\r\n", "the client sees SMTP only");
    assert_eq!(
        next_syslog(&syslog),
        (
            MAIL_WARNING,
            format!(
                "rmxsmtpd[{}]: {LISTED} temperror {ZONE} accept (no server answered: SERVFAIL)",
                run.pid
            )
        )
    );

    // A program that cannot run: the verdict, then the fatal line as a warning.
    let skip = [("RMXSMTPD", ""), ("TCPREMOTEIP", LISTED)];
    let run = over_one_socket(rmxsmtpd(&skip, &["/nonexistent/qmail-smtpd"]), b"");
    assert_eq!(run.code, Some(111));
    assert_eq!(run.said, "", "the client sees nothing");
    let tag = format!("rmxsmtpd[{}]: ", run.pid);
    assert_eq!(
        next_syslog(&syslog),
        (
            MAIL_INFO,
            format!("{tag}{LISTED} skip - accept (RMXSMTPD is empty)")
        )
    );
    let (priority, fatal) = next_syslog(&syslog);
    assert_eq!(priority, MAIL_WARNING, "{fatal}");
    assert_eq!(
        fatal,
        format!("{tag}fatal: unable to run /nonexistent/qmail-smtpd: file does not exist")
    );

    // A usage error: the line in syslog, not on the client's socket.
    let run = over_one_socket(rmxsmtpd(&skip, &["--help"]), b"");
    assert_eq!(run.code, Some(100));
    assert_eq!(run.said, "", "the client sees nothing");
    let (priority, usage) = next_syslog(&syslog);
    assert_eq!(priority, MAIL_WARNING, "{usage}");
    assert!(
        usage.starts_with(&format!(
            "rmxsmtpd[{}]: usage error: unknown option --help; usage: rmxsmtpd ",
            run.pid
        )),
        "{usage}"
    );

    // One datagram a line, and no other.
    syslog.set_nonblocking(true).unwrap();
    let mut buffer = [0; 4096];
    let more = syslog.recv(&mut buffer);
    assert_eq!(
        more.map_err(|e| e.kind()),
        Err(ErrorKind::WouldBlock),
        "{:?}",
        text(&buffer)
    );
}

/// A list of one MTA: mx1.example.net at 198.51.100.5.
fn one_mta_listed() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .a("mx1.example.net", LISTED)
}

#[test]
fn words_of_dnscacheip_not_understood_are_logged() {
    let dns = Responder::start(one_mta_listed());
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
    let dns = Responder::start(one_mta_listed());
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

/// What rmxcheck, which `command` runs, says on stderr for the listed
/// client, whose lookup must pass.
fn warned_of_listed(mut command: Command) -> String {
    let output = command.args(["-p", LISTED]).output().expect("run rmxcheck");
    assert_eq!(
        text(&output.stdout),
        format!("{LISTED} pass {ZONE} mx1.example.net\n")
    );
    text(&output.stderr)
}

/// rmxsmtpd's log line for the listed client with `DNSCACHEIP` as given,
/// when its lookup, asked of `dns` on port 53, passes.
fn logged_with_dnscacheip(dns: &Responder, dnscacheip: &str) -> String {
    let outcome = Wrapper::new(dns.addr(), LISTED, &[])
        .env("DNSCACHEIP", dnscacheip)
        .run(b"");
    assert_eq!(outcome.result().as_deref(), Some("pass"), "{outcome:?}");
    outcome.log()
}

#[test]
fn a_dnscacheip_not_understood_at_all_falls_back_to_resolv_conf_and_says_so() {
    if !again::is_again() {
        with_resolv_conf("nameserver 127.0.0.1\n");
        return;
    }
    let dns = Responder::start_on_port_53(one_mta_listed());
    assert_eq!(
        logged_with_dnscacheip(&dns, "localhost"),
        format!(
            "{LISTED} pass {ZONE} accept; \
             DNSCACHEIP \"localhost\" not understood, using /etc/resolv.conf"
        )
    );
    let mut rmxcheck = Command::new(RMXCHECK);
    rmxcheck.env_clear().env("DNSCACHEIP", "localhost");
    assert_eq!(
        warned_of_listed(rmxcheck),
        "rmxcheck: warning: DNSCACHEIP \"localhost\" not understood, using /etc/resolv.conf\n"
    );
    assert_eq!(dns.queries(ZONE, "MX"), 2, "both asked the file's server");
}

/// No `/etc/resolv.conf`, one that only root may read, and one that names
/// no server: each means 127.0.0.1, as the C library has it, and the log
/// line and rmxcheck say so, naming the server asked and why that one.
/// Inside `unshare -m -n`, over an `/etc` overlaid so that the file can be
/// taken away and put back.
#[test]
fn a_resolv_conf_that_gives_no_server_means_127_0_0_1_and_says_so() {
    if !again::is_again() {
        let dir = TempDir::new("log-etc");
        let (upper, work) = (dir.join("upper"), dir.join("work"));
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        again::inside(
            &["-m", "-n"],
            r#"ip link set lo up &&
               mount -t overlay overlay -o "lowerdir=/etc,upperdir=$UPPER,workdir=$WORK" /etc &&
               rm -f /etc/resolv.conf"#,
            &[("UPPER", &upper), ("WORK", &work)],
        );
        return;
    }
    let dns = Responder::start_on_port_53(one_mta_listed());
    let missing = "/etc/resolv.conf unreadable (file does not exist), using 127.0.0.1";
    // rmxsmtpd, with DNSCACHEIP empty: as good as unset.
    assert_eq!(
        logged_with_dnscacheip(&dns, ""),
        format!("{LISTED} pass {ZONE} accept; {missing}")
    );
    // rmxcheck, as root and as nobody, for whom a file of mode 600 is
    // unreadable; then a file that names no server.
    let check = |as_nobody: bool| {
        let mut command = if as_nobody {
            let mut setpriv = Command::new("setpriv");
            setpriv.args(["--reuid=65534", "--regid=65534", "--clear-groups", RMXCHECK]);
            setpriv
        } else {
            Command::new(RMXCHECK)
        };
        command.env_clear();
        warned_of_listed(command)
    };
    assert_eq!(check(false), format!("rmxcheck: warning: {missing}\n"));
    std::fs::write("/etc/resolv.conf", "nameserver 127.0.0.1\n").unwrap();
    assert_eq!(check(true), "", "the file's server, named");
    std::fs::set_permissions(
        "/etc/resolv.conf",
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(
        check(true),
        "rmxcheck: warning: /etc/resolv.conf unreadable (access denied), using 127.0.0.1\n"
    );
    std::fs::write("/etc/resolv.conf", "# no server here\n").unwrap();
    assert_eq!(
        check(false),
        "rmxcheck: warning: /etc/resolv.conf names no server, using 127.0.0.1\n"
    );
    assert_eq!(dns.queries(ZONE, "MX"), 5, "each asked 127.0.0.1");
}
