//! The service directories of examples/ as a site runs them: copied as
//! they are into a scan directory, under the real supervisor (daemontools'
//! svscan, s6-svscan), with the real tcpserver, multilog and s6-log, the
//! programs installed at /usr/local/bin, and exim standing in for
//! qmail-smtpd at /var/qmail/bin/qmail-smtpd. Nothing in them is edited:
//! the test runs itself again inside new PID, mount and network namespaces,
//! where overlays of /etc (the qmaild and qmaill users, tcp.smtp.cdb
//! compiled from examples/run/tcp.smtp, a resolv.conf), /usr and /var put
//! each path the scripts name in its place, and tinydns serves
//! examples/publish/tinydns/data on the loopback.
//!
//! Mail passes; then each service holds far more conversations than the
//! log pipe holds lines (a pipe holds 64 KiB): a log service that cannot
//! start leaves the pipe unread, and once it is full tcpserver and every
//! rmxsmtpd wait on it, and the port stops answering while svstat says
//! "up". Each conversation must end, and each must leave its line in the
//! log directory. The commands the examples and rmxcheck(1) give for
//! reading that directory run over it.
//!
//! A service directory is one line of [`SVSCAN`] or [`S6_SVSCAN`].

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::again;
use crate::support::skip::{need, need_root};
use crate::support::temp::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
/// What `make install` puts in /usr/local/bin that the services run.
const INSTALLED: [(&str, &str); 2] = [
    ("rmxsmtpd", env!("CARGO_BIN_EXE_rmxsmtpd")),
    ("rmxpolicyd", env!("CARGO_BIN_EXE_rmxpolicyd")),
];
/// The users of a qmail installation that the examples run as.
const QMAILD: u32 = 64010;
const QMAILL: u32 = 64011;
/// Conversations with each service, from 8 clients at once: over 100 KiB
/// of log.
const CONVERSATIONS: usize = 400;
const CLIENTS: usize = 8;
/// The longest wait for one reply, or for the log to catch up.
const PATIENCE: Duration = Duration::from_secs(10);
/// A client whose network publishes a null MX (examples/publish), and
/// whom examples/run/tcp.smtp leaves to the lookup.
const POOL_CLIENT: &str = "203.0.113.7";

/// A service directory of examples/, as a site installs it.
struct Service {
    /// The directory, from the top of the tree: `run`, and `log/run`.
    dir: &'static str,
    /// Where `log/run` keeps the log: relative to `log/`, or absolute.
    log: &'static str,
    /// The port `run` listens on.
    port: u16,
    /// The program that writes one line per conversation.
    program: &'static str,
    /// One conversation: what the client sends, and the start of the line
    /// it then waits for, in turn.
    talk: &'static [(&'static str, &'static str)],
    /// Whether mail is sent through it too, with swaks.
    smtp: bool,
}

/// An SMTP session that says nothing but QUIT.
const QUIT: &[(&str, &str)] = &[("", "220 "), ("QUIT\r\n", "221 ")];

/// The service directories that svscan runs.
const SVSCAN: &[Service] = &[Service {
    dir: "examples/run/daemontools",
    log: "main",
    port: 25,
    program: "rmxsmtpd",
    talk: QUIT,
    smtp: true,
}];

/// The service directories that s6-svscan runs.
const S6_SVSCAN: &[Service] = &[Service {
    dir: "examples/run/s6",
    log: "/var/log/smtpd",
    port: 25,
    program: "rmxsmtpd",
    talk: QUIT,
    smtp: true,
}];

/// exim as the SMTP daemon behind rmxsmtpd, run as qmaild as qmail-smtpd
/// is: it takes mail for rmx.test and delivers it at once into
/// @DIR@/mail/inbox, with the RMXRESULT it was handed as a header.
const EXIM_CONF: &str = "\
primary_hostname = mx.rmx.test
spool_directory = @DIR@/spool
log_file_path = @DIR@/exim/%slog
exim_user = qmaild
exim_group = nogroup
never_users =
keep_environment = RMXRESULT
rfc1413_query_timeout = 0s
host_lookup =
acl_smtp_rcpt = rcpt
acl_smtp_data = data
begin acl
rcpt:
  accept domains = rmx.test
  deny   message = relaying denied
data:
  accept add_header = X-RMXRESULT: ${env{RMXRESULT}{$value}{unset}}
begin routers
mailbox:
  driver = accept
  domains = rmx.test
  transport = mailbox
begin transports
mailbox:
  driver = appendfile
  file = @DIR@/mail/inbox
";

/// qmail-smtpd's stand-in. exim says on stderr, which is the log's pipe,
/// that -C costs it its privileges: that goes to a file of its own.
const QMAIL_SMTPD: &str = "#!/bin/sh\n\
exec exim -C @DIR@/exim.conf -odi -bs 2>>@DIR@/exim/stderr\n";

fn ready(supervisor: &[(&str, &str)]) -> bool {
    let mut ready = need_root();
    for (program, package) in supervisor.iter().chain(&[
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
        ("tcpserver", "ucspi-tcp"),
        ("tcprules", "ucspi-tcp"),
        ("exim", "exim4-daemon-light"),
        ("swaks", "swaks"),
        ("tinydns", "tinydns"),
        ("tinydns-data", "tinydns"),
    ]) {
        ready &= need(program, package);
    }
    ready
}

#[test]
fn svscan_runs_the_daemontools_services_as_shipped() {
    let programs = [
        ("svscan", "daemontools"),
        ("supervise", "daemontools"),
        ("multilog", "daemontools"),
        ("setuidgid", "daemontools"),
        ("softlimit", "daemontools"),
    ];
    if again::is_again() {
        serve(&["svscan"], SVSCAN);
    } else if ready(&programs) {
        inside(SVSCAN);
    }
}

#[test]
fn s6_svscan_runs_the_s6_services_as_shipped() {
    let programs = [
        ("s6-svscan", "s6"),
        ("s6-supervise", "s6"),
        ("s6-log", "s6"),
        ("s6-setuidgid", "s6"),
        ("s6-envuidgid", "s6"),
        ("s6-softlimit", "s6"),
        ("execlineb", "execline"),
    ];
    if again::is_again() {
        serve(&["s6-svscan"], S6_SVSCAN);
    } else if ready(&programs) {
        inside(S6_SVSCAN);
    }
}

// ---- Outside: the files, then the namespaces --------------------------------

/// Lays out what the namespaces will see, then runs the calling test again
/// inside them, with the scratch directory as `RMX_SERVICES`.
fn inside(services: &[Service]) {
    let scratch = TempDir::new("services");
    let dir = scratch.path();
    let at = |path: &str| dir.join(path);
    for sub in [
        "etc",
        "usr/local/bin",
        "var/qmail/bin",
        "var.work",
        "scan",
        "spool",
        "mail",
        "exim",
        "tinydns",
    ] {
        fs::create_dir_all(at(sub)).unwrap();
    }
    // /etc: the users, the rules as tcprules compiles them, the resolver.
    let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
    passwd.push_str(&format!(
        "qmaild:x:{QMAILD}:65534:qmail daemon:/var/qmail:/usr/sbin/nologin\n\
         qmaill:x:{QMAILL}:65534:qmail logger:/var/qmail:/usr/sbin/nologin\n"
    ));
    fs::write(at("etc/passwd"), passwd).unwrap();
    fs::write(at("etc/resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
    let rules = fs::File::open(Path::new(ROOT).join("examples/run/tcp.smtp")).unwrap();
    let compiled = Command::new("tcprules")
        .arg(at("etc/tcp.smtp.cdb"))
        .arg(at("etc/tcp.smtp.tmp"))
        .stdin(rules)
        .status()
        .unwrap();
    assert!(compiled.success(), "tcprules examples/run/tcp.smtp");
    // /usr/local/bin, as `make install` leaves it.
    for (name, built) in INSTALLED {
        fs::copy(built, at("usr/local/bin").join(name)).unwrap();
    }
    // /var/qmail/bin/qmail-smtpd, and what exim needs, qmaild's.
    let fill = |text: &str| text.replace("@DIR@", &dir.display().to_string());
    fs::write(at("exim.conf"), fill(EXIM_CONF)).unwrap();
    let smtpd = at("var/qmail/bin/qmail-smtpd");
    fs::write(&smtpd, fill(QMAIL_SMTPD)).unwrap();
    sh(&format!(
        "chmod 755 '{}' && chown {QMAILD} '{}' '{}' '{}'",
        smtpd.display(),
        at("spool").display(),
        at("mail").display(),
        at("exim").display()
    ));
    // The zones every server example publishes, compiled.
    fs::copy(
        Path::new(ROOT).join("examples/publish/tinydns/data"),
        at("tinydns/data"),
    )
    .unwrap();
    let compiled = Command::new("tinydns-data")
        .current_dir(at("tinydns"))
        .status()
        .unwrap();
    assert!(compiled.success(), "tinydns-data");
    // The service directories, copied as an administrator copies them.
    for service in services {
        let name = Path::new(service.dir).file_name().unwrap();
        let status = Command::new("cp")
            .arg("-R")
            .arg(Path::new(ROOT).join(service.dir))
            .arg(at("scan").join(name))
            .status()
            .unwrap();
        assert!(status.success(), "cp -R {}", service.dir);
    }
    let d = dir.display();
    let setup = format!(
        "ip link set lo up && ip addr add {POOL_CLIENT}/32 dev lo && \
         mount -t overlay overlay -o lowerdir={d}/etc:/etc /etc && \
         mount -t overlay overlay -o lowerdir={d}/usr:/usr /usr && \
         mount -t overlay overlay -o lowerdir=/var,upperdir={d}/var,workdir={d}/var.work /var"
    );
    let script = format!("{setup} || exit 1; exec \"$@\"");
    let test = again::this_test();
    let mut command = again::command(
        &test,
        &[
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--net",
            "sh",
            "-c",
            &script,
            "sh",
        ],
    );
    command.env("RMX_SERVICES", dir).env("PATH", PATH);
    let output = command.output().expect("run unshare");
    again::assert_passed(&format!("{test} inside namespaces"), &output);
}

fn sh(command: &str) {
    let status = Command::new("sh").args(["-c", command]).status().unwrap();
    assert!(status.success(), "{command}");
}

// ---- Inside: the supervisor and its services --------------------------------

/// What the services left, for a failure's message: the last lines the
/// supervisor and its services, and exim, said on stderr.
fn evidence(dir: &Path) -> String {
    let tail = |name: &str| {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    };
    format!(
        "the supervisor said, last:\n{}\nexim said, last:\n{}",
        tail("supervisor.log"),
        tail("exim/stderr")
    )
}

/// Runs `supervisor` over the scan directory, and holds each of `services`
/// to the module's promises.
fn serve(supervisor: &[&str], services: &[Service]) {
    let dir = PathBuf::from(std::env::var_os("RMX_SERVICES").expect("RMX_SERVICES"));
    let scan = dir.join("scan");
    let tinydns = Command::new("tinydns")
        .env_clear()
        .env("PATH", PATH)
        .env("ROOT", dir.join("tinydns"))
        .env("IP", "127.0.0.1")
        .env("UID", "0")
        .env("GID", "0")
        .stdout(Stdio::null())
        .spawn()
        .expect("start tinydns");
    let log = fs::File::create(dir.join("supervisor.log")).unwrap();
    let supervising = Command::new(supervisor[0])
        .args(&supervisor[1..])
        .arg(&scan)
        .env_clear()
        .env("PATH", PATH)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start the supervisor");
    // Both end with this process, the first of its PID namespace.
    let _ = (tinydns, supervising);
    wait_for(
        || listening("/proc/net/udp", 53),
        "tinydns on port 53",
        &dir,
    );
    for service in services {
        wait_for(
            || listening("/proc/net/tcp", service.port),
            &format!("{} on port {}", service.dir, service.port),
            &dir,
        );
    }
    let mut mails = 0;
    for service in services.iter().filter(|s| s.smtp) {
        mails += send_mail(service, &dir);
    }
    for service in services {
        converse(service, &dir);
        let lines = log_lines(service, &scan);
        let current = log_dir(service, &scan).join("current");
        wait_for(
            || lines() >= CONVERSATIONS + mails,
            &format!(
                "{} lines of {} in {} (there are {})",
                CONVERSATIONS + mails,
                service.program,
                current.display(),
                lines()
            ),
            &dir,
        );
        let size = fs::metadata(&current).unwrap().len();
        assert!(size > 2 * 65536, "{}: {size} bytes", current.display());
    }
    readers(services, &scan);
    if services.iter().any(|s| s.dir == "examples/run/daemontools") {
        preflight();
    }
}

/// The README's check of the rmxsmtpd part of the daemontools run script,
/// which rmxsmtpd(8) gives too, run where qmail-smtpd is: the program's
/// greeting; and, with the mistakes it is there to catch, a usage line and
/// 100, or `fatal: unable to run` and 111.
fn preflight() {
    let prompt = "$ RELAYCLIENT= rmxsmtpd ";
    let find = |text: &str| -> String {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(prompt))
            .expect("the check of a run script");
        format!("RELAYCLIENT= rmxsmtpd {line}")
    };
    let readme = find(&fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap());
    let page = fs::read_to_string(Path::new(ROOT).join("man/rmxsmtpd.8")).unwrap();
    assert_eq!(find(&crate::examples::unfold(&page)), readme, "rmxsmtpd(8)");
    let run = fs::read_to_string(Path::new(ROOT).join("examples/run/daemontools/run")).unwrap();
    let options = run
        .lines()
        .find_map(|l| l.trim().strip_prefix("rmxsmtpd "))
        .expect("rmxsmtpd in the run script")
        .trim_end_matches(['\\', ' ']);
    let program = "/var/qmail/bin/qmail-smtpd";
    assert_eq!(
        readme,
        format!("RELAYCLIENT= rmxsmtpd {options} {program} </dev/null"),
        "the README checks the run script's line"
    );
    let check = |command: &str| {
        let output = Command::new("sh")
            .args(["-c", command])
            .env_clear()
            .env("PATH", PATH)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            said,
        )
    };
    let (_, greeting, said) = check(&readme);
    assert!(
        greeting.starts_with("220 "),
        "{readme}: {greeting:?} {said:?}"
    );
    assert!(
        said.starts_with("rmxsmtpd: pid ")
            && said.ends_with(": - skip - accept (RELAYCLIENT is set)\n"),
        "{said:?}"
    );
    let typo = readme.replace("-t 30", "-d 2026-02-30");
    let (status, out, said) = check(&typo);
    assert_eq!((status, out.as_str()), (Some(100), ""), "{typo}");
    assert!(
        said.starts_with("rmxsmtpd: usage error: -d wants a date"),
        "{said:?}"
    );
    let wrong = readme.replace(program, "/var/qmail/bin/qmail-smptd");
    let (status, out, said) = check(&wrong);
    assert_eq!((status, out.as_str()), (Some(111), ""), "{wrong}");
    assert!(
        said.contains("fatal: unable to run /var/qmail/bin/qmail-smptd: file does not exist"),
        "{said:?}"
    );
}

/// Waits until `done`, for at most [`PATIENCE`].
fn wait_for(done: impl Fn() -> bool, what: &str, dir: &Path) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "no {what} after {PATIENCE:?}\n{}",
            evidence(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a socket of `table` (/proc/net/tcp or udp) is bound to `port`,
/// listening if TCP.
fn listening(table: &str, port: u16) -> bool {
    let port = format!(":{port:04X} ");
    fs::read_to_string(table)
        .unwrap_or_default()
        .lines()
        .any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3
                && format!("{} ", fields[1]).ends_with(&port)
                && (table.ends_with("udp") || fields[3] == "0A")
        })
}

/// Two messages through the service: one from a client that the rules
/// leave to the lookup (a dry-run `fail`: delivered all the same), one from
/// the loopback (`skip`: the rules' RELAYCLIENT). Returns how many.
fn send_mail(service: &Service, dir: &Path) -> usize {
    let senders = [(POOL_CLIENT, "fail"), ("127.0.0.1", "skip")];
    for (client, _) in senders {
        let output = Command::new("swaks")
            .args(["--server", &format!("127.0.0.1:{}", service.port)])
            .args(["--local-interface", client])
            .args([
                "--from",
                "sender@example.org",
                "--to",
                "postmaster@rmx.test",
            ])
            .args(["--header", &format!("Subject: from {client}")])
            .env_clear()
            .env("PATH", PATH)
            .output()
            .expect("run swaks");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && said.contains("<-  250 OK id="),
            "{}: swaks from {client}:\n{said}\n{}",
            service.dir,
            evidence(dir)
        );
    }
    let inbox = fs::read_to_string(dir.join("mail/inbox")).unwrap_or_default();
    for (client, result) in senders {
        let subject = format!("Subject: from {client}\n");
        let message = inbox
            .split("\nFrom ")
            .find(|m| m.contains(&subject))
            .unwrap_or_else(|| panic!("{}: no mail from {client}:\n{inbox}", service.dir));
        assert!(
            message.contains(&format!("X-RMXRESULT: {result}\n")),
            "{message}"
        );
    }
    senders.len()
}

/// [`CONVERSATIONS`] with the service, from [`CLIENTS`] clients at once,
/// each of which must end within [`PATIENCE`] of every reply.
fn converse(service: &Service, dir: &Path) {
    let address = SocketAddr::from(([127, 0, 0, 1], service.port));
    let next = AtomicUsize::new(0);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= CONVERSATIONS {
                            return failures;
                        }
                        if let Err(error) = conversation(address, service.talk) {
                            failures.push(format!("conversation {n}: {error}"));
                            // One is enough: the others would wait as long.
                            next.store(CONVERSATIONS, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{}: a conversation failed: {}\n{}",
        service.dir,
        failures.join("; "),
        evidence(dir)
    );
}

fn conversation(address: SocketAddr, talk: &[(&str, &str)]) -> Result<(), String> {
    let stream = TcpStream::connect_timeout(&address, PATIENCE).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for (n, (send, expect)) in talk.iter().enumerate() {
        writer
            .write_all(send.as_bytes())
            .map_err(|e| format!("sending {send:?}: {e}"))?;
        // Nothing more to say: the server sees the end as it answers
        // (exim waits 200 ms for a close after its 221).
        if n + 1 == talk.len() {
            let _ = writer.shutdown(std::net::Shutdown::Write);
        }
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => return Err(format!("closed before {expect:?}")),
                Ok(_) if line.starts_with(expect) => break,
                Ok(_) => continue,
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(format!("no {expect:?} within {PATIENCE:?}"));
                }
                Err(error) => return Err(format!("waiting for {expect:?}: {error}")),
            }
        }
    }
    Ok(())
}

fn log_dir(service: &Service, scan: &Path) -> PathBuf {
    let name = Path::new(service.dir).file_name().unwrap();
    scan.join(name).join("log").join(service.log)
}

/// A count of the lines of `service.program` in its log's `current`.
fn log_lines(service: &Service, scan: &Path) -> impl Fn() -> usize {
    let current = log_dir(service, scan).join("current");
    let mark = format!(" {}: pid ", service.program);
    move || {
        fs::read_to_string(&current)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&mark))
            .count()
    }
}

/// The commands the examples give for reading the log, and rmxcheck(1)'s
/// for checking its clients, over the log the services just wrote.
fn readers(services: &[Service], scan: &Path) {
    for service in services.iter().filter(|s| s.program == "rmxsmtpd") {
        let log = log_dir(service, scan);
        let script = fs::read_to_string(Path::new(ROOT).join(service.dir).join("log/run")).unwrap();
        if let Some(count) = script
            .lines()
            .find_map(|l| l.strip_prefix("# Count the results:"))
        {
            let counted = in_log(count.trim(), log.parent().unwrap());
            let counts: Vec<(usize, &str)> = counted
                .lines()
                .map(|l| {
                    let (n, word) = l.trim().split_once(' ').expect("COUNT WORD");
                    (n.parse().unwrap(), word)
                })
                .collect();
            assert_eq!(
                counts,
                [(1, "fail"), (CONVERSATIONS + 1, "skip")],
                "{}: {count}",
                service.dir
            );
        }
        let page = fs::read_to_string(Path::new(ROOT).join("man/rmxcheck.1")).unwrap();
        let (command, want) = clients_example(&page);
        let command = command.replace("/service/smtpd/log/main", &log.display().to_string());
        assert_eq!(in_log(&command, &log), want, "rmxcheck(1): {command}");
    }
}

/// The output of `command`, run by sh in `dir`, with rmxcheck on PATH;
/// it must say nothing on stderr. (Its exit status is the last program's:
/// rmxcheck's 1 says that a client failed.)
fn in_log(command: &str, dir: &Path) -> String {
    let rmxcheck_dir = Path::new(RMXCHECK).parent().unwrap().display().to_string();
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{rmxcheck_dir}:{PATH}"))
        .output()
        .unwrap();
    assert!(output.stderr.is_empty(), "{command}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// rmxcheck(1)'s example that checks the clients of a log: the command,
/// its folded lines joined, and the output shown after it.
fn clients_example(page: &str) -> (String, String) {
    let (_, after) = page
        .split_once("\n$ awk ")
        .expect("rmxcheck(1) checks the clients of a log with awk");
    let mut command = String::from("awk ");
    let mut output = String::new();
    let mut folded = true;
    for line in after.lines() {
        if line == ".Ed" {
            break;
        }
        let line = line.replace("\\e", "\\");
        if folded {
            let text = line.trim_start();
            folded = text.ends_with('\\');
            command.push_str(text.trim_end_matches('\\'));
        } else {
            output.push_str(&line);
            output.push('\n');
        }
    }
    (command, output)
}
