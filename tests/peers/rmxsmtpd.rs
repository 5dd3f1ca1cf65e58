//! End to end among the real programs that rmxsmtpd's users run:
//! djbdns, nsd and unbound for DNS; tcpserver with tcprules, and
//! openbsd-inetd, as connection servers; swaks as the client and exim as the
//! SMTP daemon. tests/peers/ holds the zone data, configurations, and the
//! scripts that run inside namespaces.
//!
//! Everything talks over loopback. What binds port 53
//! or must read /etc/resolv.conf runs inside `unshare -m -n`, on a loopback
//! of its own; the rest listens on 127.0.0.1 at free ports. Every server is
//! a child of the test, stopped by its PID and waited for.
//!
//! A missing peer skips its test with a line that says what to install;
//! under CI=true it fails the test instead.

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::support::temp::{TempDir, free_port};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rmxsmtpd::dns::Question;
use rmxsmtpd::dns::wire::query;

const BIN: &str = env!("CARGO_BIN_EXE_rmxsmtpd");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers");
/// The PATH of every program started here: the peers are daemons, in sbin.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long a server may take to come up.
const START: Duration = Duration::from_secs(20);
/// How long anything that must end may take: a client's session, a script.
const RUN: Duration = Duration::from_secs(60);

// ---- Which peers a test needs ---------------------------------------------

/// A file a test needs (a program on PATH, or an absolute path), and
/// the Debian package that ships it.
type Peer = (&'static str, &'static str);

const NAMESPACES: &[Peer] = &[
    ("unshare", "util-linux"),
    ("mount", "mount"),
    ("ip", "iproute2"),
];
const DJBDNS: &[Peer] = &[
    ("tinydns", "tinydns"),
    ("tinydns-data", "tinydns"),
    ("dnscache", "dnscache"),
    ("dnsqr", "djbdns-utils"),
];
const NSD: &[Peer] = &[("nsd", "nsd")];
const UNBOUND: &[Peer] = &[("unbound", "unbound")];
const TCPSERVER: &[Peer] = &[("tcpserver", "ucspi-tcp"), ("tcprules", "ucspi-tcp")];
/// inetd runs in a mount namespace of its own, where it may write /run.
const INETD: &[Peer] = &[
    ("inetd", "openbsd-inetd"),
    ("unshare", "util-linux"),
    ("mount", "mount"),
];
const MAIL: &[Peer] = &[("exim", "exim4-daemon-light"), ("swaks", "swaks")];
/// swaks speaks IPv6 only with this Perl module.
const SWAKS_IPV6: &[Peer] = &[(
    "/usr/share/perl5/IO/Socket/INET6.pm",
    "libio-socket-inet6-perl",
)];

/// Whether this machine can run the current test, which needs `peers`,
/// and root if `root` (for namespaces, port 53, and exim's own
/// configuration). If not, it skips, saying what is missing (a failure
/// under CI=true).
fn ready(root: bool, peers: &[&[Peer]]) -> bool {
    let mut ready = !root || crate::support::skip::need_root();
    for &(file, package) in peers.iter().copied().flatten() {
        ready &= crate::support::skip::need(file, package);
    }
    ready
}

// ---- Files, commands, servers ---------------------------------------------

/// A test's own directory, which exim, delivering as nobody, can reach.
fn own_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(&format!("peers-{tag}"));
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The file `name` in `scratch`, or nothing if it is not there (yet).
fn read(scratch: &TempDir, name: &str) -> String {
    fs::read_to_string(scratch.join(name)).unwrap_or_default()
}

/// Writes the fixture `fixture` in `scratch` as `target`, with `@DIR@` (that
/// directory), `@BIN@`, `@FIXTURES@` and every `@KEY@` of `values`
/// filled in. Scripts are made executable.
fn render(scratch: &TempDir, fixture: &str, target: &str, values: &[(&str, &str)]) -> PathBuf {
    let mut text = fs::read_to_string(Path::new(FIXTURES).join(fixture)).unwrap();
    let common = [
        ("DIR", scratch.path().to_str().unwrap()),
        ("BIN", BIN),
        ("FIXTURES", FIXTURES),
    ];
    for (key, value) in common.iter().chain(values) {
        text = text.replace(&format!("@{key}@"), value);
    }
    let parts: Vec<&str> = text.split('@').collect();
    let left = parts
        .iter()
        .skip(1)
        .take(parts.len().saturating_sub(2))
        .find(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase()));
    assert!(
        left.is_none(),
        "{fixture}: @{}@ is not filled in",
        left.unwrap()
    );
    let path = scratch.join(target);
    fs::write(&path, text).unwrap();
    if fixture.ends_with(".sh") || fixture.ends_with(".run") {
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// `program` with an empty environment but PATH, and no input.
fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env_clear().env("PATH", PATH).stdin(Stdio::null());
    command
}

/// What a finished command did.
#[derive(Debug)]
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `command` to its end; fails if that takes longer than `limit`.
fn run(mut command: Command, limit: Duration) -> Ran {
    let what = format!("{:?}", command.get_program());
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let Some(status) = wait(&mut child, limit) else {
        stop(&mut child);
        panic!("{what} did not end within {limit:?}");
    };
    Ran {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The child's exit status, if it exits within `limit`.
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Stops a child of ours by its PID: SIGTERM, so that a server stops its own
/// helpers (nsd has two), then SIGKILL if it is still there after 10 s.
fn stop(child: &mut Child) {
    if child.try_wait().unwrap().is_some() {
        return;
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child, not yet reaped (try_wait just said
    // it runs), so the PID still names it.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    if wait(child, Duration::from_secs(10)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A server started by a test, stopped by its PID when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `command` with its output to the file `log`.
    fn start(mut command: Command, log: PathBuf) -> Daemon {
        let file = fs::File::create(&log).unwrap();
        let child = command
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", command.get_program()));
        Daemon { child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Starts a server on a free port with `start`, and waits until `up` says
/// it serves. Another process may take the port before the server binds it:
/// if the server exits, it gets another port.
fn serve(
    what: &str,
    start: impl Fn(u16) -> Daemon,
    up: impl Fn(&Daemon, u16) -> bool,
) -> (Daemon, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut daemon = start(port);
        let deadline = Instant::now() + START;
        while daemon.child.try_wait().unwrap().is_none() {
            if up(&daemon, port) {
                return (daemon, port);
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not come up within {START:?}: {}",
                daemon.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{what} exited on port {port}; another port: {}",
            daemon.log()
        );
    }
    panic!("{what} did not start on any of five free ports");
}

/// Whether the process `pid` itself holds a socket listening on TCP `port`
/// (in this network namespace).
fn listens(pid: u32, port: u16) -> bool {
    let sockets: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|table| {
            fs::read_to_string(table)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let inode = fields.get(9)?;
            let listening =
                u16::from_str_radix(local_port, 16).ok()? == port && fields.get(3)? == &"0A";
            listening.then(|| format!("socket:[{inode}]"))
        })
        .collect();
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .any(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
}

// ---- DNS -------------------------------------------------------------------

/// Asks `server` one question over UDP, as rmxsmtpd does; the reply, if
/// one comes within 200 ms.
fn ask(server: SocketAddr, name: &str, rtype: RecordType) -> Option<Message> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    socket.connect(server).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let id = 0x4d58;
    let question = Question {
        name: Name::from_ascii(name).unwrap(),
        rtype,
    };
    socket.send(&query(id, &question)).ok()?;
    let mut buffer = [0; 4096];
    let length = socket.recv(&mut buffer).ok()?;
    Message::from_vec(&buffer[..length])
        .ok()
        .filter(|reply| reply.metadata.id == id)
}

/// Whether the server on 127.0.0.1:`port` answers for the test zones.
fn serves_zones(port: u16) -> bool {
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    ask(server, "rmx.test.", RecordType::SOA)
        .is_some_and(|reply| reply.metadata.response_code == ResponseCode::NoError)
}

/// nsd, authoritative for tests/peers/zones on a free port of 127.0.0.1.
fn start_nsd(scratch: &TempDir) -> (Daemon, SocketAddr) {
    let (nsd, port) = serve(
        "nsd",
        |port| {
            let port = port.to_string();
            let conf = render(scratch, "nsd.conf", "nsd.conf", &[("PORT", &port)]);
            let mut nsd = command("nsd");
            nsd.arg("-d").arg("-c").arg(conf);
            Daemon::start(nsd, scratch.join("nsd.log"))
        },
        |_, port| serves_zones(port),
    );
    (nsd, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// unbound on a free port of 127.0.0.1, resolving through `nsd` only.
fn start_unbound(scratch: &TempDir, nsd: SocketAddr) -> (Daemon, SocketAddr) {
    let forward = format!("{}@{}", nsd.ip(), nsd.port());
    let (unbound, port) = serve(
        "unbound",
        |port| {
            let port = port.to_string();
            let conf = render(
                scratch,
                "unbound.conf",
                "unbound.conf",
                &[("PORT", &port), ("NSD", &forward)],
            );
            let mut unbound = command("unbound");
            unbound.arg("-d").arg("-c").arg(conf);
            Daemon::start(unbound, scratch.join("unbound.log"))
        },
        |_, port| serves_zones(port),
    );
    (unbound, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// The zones that dnscache asks tinydns about; as `@`, the root, tinydns
/// gets every other question too.
const DJBDNS_ZONES: &[&str] = &[
    "127.in-addr.arpa",
    "rmx.test",
    "0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
];

/// tinydns's data.cdb, compiled from tests/peers/data, and dnscache's root,
/// sending every question to tinydns, for djbdns.sh.
fn djbdns(scratch: &TempDir) {
    let tinydns = scratch.join("tinydns");
    fs::create_dir(&tinydns).unwrap();
    fs::copy(Path::new(FIXTURES).join("data"), tinydns.join("data")).unwrap();
    let mut compile = command("tinydns-data");
    compile.current_dir(&tinydns);
    let compiled = run(compile, RUN);
    assert!(compiled.status.success(), "tinydns-data: {compiled:?}");
    let dnscache = scratch.join("dnscache");
    fs::create_dir_all(dnscache.join("ip")).unwrap();
    fs::create_dir_all(dnscache.join("servers")).unwrap();
    fs::write(dnscache.join("ip/127"), "").unwrap();
    for zone in DJBDNS_ZONES.iter().chain(&["@"]) {
        fs::write(dnscache.join("servers").join(zone), "127.0.0.2\n").unwrap();
    }
}

/// Runs the fixture script `script` inside new PID, mount and network
/// namespaces, by djbdns.sh, with tinydns and dnscache up. The namespaces,
/// and anything left running in them, end with it.
fn in_namespaces(scratch: &TempDir, script: &str) {
    djbdns(scratch);
    let harness = render(scratch, "djbdns.sh", "djbdns.sh", &[]);
    let body = render(scratch, script, script, &[]);
    let mut unshare = command("unshare");
    unshare
        .args(["--pid", "--fork", "--kill-child", "--mount", "--net", "sh"])
        .arg(harness)
        .arg(body);
    let ran = run(unshare, RUN);
    assert!(
        ran.status.success(),
        "{script} in namespaces: {ran:?}\ntinydns: {}\ndnscache: {}",
        read(scratch, "tinydns.log"),
        read(scratch, "dnscache.log")
    );
}

// ---- The verdicts of the test zones ---------------------------------------

const SLASH24: &str = "0.0.127.in-addr.arpa";
const SLASH64: &str = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa";
const SLASH48: &str = "0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa";

/// What rmxsmtpd does after its verdict.
#[derive(Clone, Copy, Debug)]
enum Then {
    Exec,
    /// Refuses with 451 4.7.1 (or 421 4.7.1 in place of the greeting, -t 0).
    Refuse,
    /// Refuses with 554 5.7.1.
    RefusePermanently,
}

/// A client (with options) and what rmxsmtpd must log and do with the test
/// zones, whichever resolver serves them: client, options, result, the
/// name that decided, action.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    Then,
);

const VERDICTS: &[Case] = &[
    // An exchange in another zone, and one in the list's own zone.
    ("127.0.0.5", &[], "pass", SLASH24, Then::Exec),
    ("127.0.0.6", &[], "pass", SLASH24, Then::Exec),
    ("127.0.0.9", &[], "fail", SLASH24, Then::Refuse),
    (
        "127.0.0.9",
        &["-b"],
        "fail",
        SLASH24,
        Then::RefusePermanently,
    ),
    // No such name: no list.
    ("127.0.1.9", &[], "none", "-", Then::Exec),
    ("127.0.1.9", &["-s"], "none", "-", Then::Refuse),
    // A null MX refuses everyone.
    (
        "127.0.2.5",
        &[],
        "fail",
        "2.0.127.in-addr.arpa",
        Then::Refuse,
    ),
    // An address literal.
    ("127.0.3.5", &[], "pass", "3.0.127.in-addr.arpa", Then::Exec),
    (
        "127.0.3.9",
        &[],
        "fail",
        "3.0.127.in-addr.arpa",
        Then::Refuse,
    ),
    // An exchange behind a CNAME.
    ("127.0.4.5", &[], "pass", "4.0.127.in-addr.arpa", Then::Exec),
    // A name without MX records: no list.
    ("127.0.5.9", &[], "none", "-", Then::Exec),
    // The /64 list names ::1; the /48 one does not, and decides alone.
    ("::1", &[], "pass", SLASH64, Then::Exec),
    ("::1", &["-6", "48"], "fail", SLASH48, Then::Refuse),
];

/// The program that rmxsmtpd execs in the verdict cases: it says it ran.
const SAY_RESULT: &[&str] = &["sh", "-c", "echo \"exec RMXRESULT=$RMXRESULT\""];

/// The log line (without `rmxsmtpd: pid N: `) and the output of
/// `rmxsmtpd -t 0 ... sh -c ...` that `case` must give.
fn expected(case: &Case) -> (String, String) {
    let (client, _, result, name, then) = *case;
    let text = format!(
        "Your IP [{client}] is not listed in Reverse MX! Contact your mail or your network administrator."
    );
    match then {
        Then::Exec => (
            format!("{client} {result} {name} accept"),
            format!("exec RMXRESULT={result}\n"),
        ),
        // Under -t 0 the log shows the line sent in place of the greeting.
        Then::Refuse => (
            format!("{client} {result} {name} reject: 421 4.7.1 {text}"),
            format!("421 4.7.1 {text}\r\n"),
        ),
        Then::RefusePermanently => (
            format!("{client} {result} {name} reject: 554 5.7.1 {text}"),
            format!("554 5.7.1 {text}\r\n"),
        ),
    }
}

/// The rmxsmtpd lines of a log, without their `rmxsmtpd: pid N: ` prefix.
fn rmxsmtpd_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.strip_prefix("rmxsmtpd: pid "))
        .filter_map(|rest| rest.split_once(": "))
        .map(|(_, entry)| entry.to_string())
        .collect()
}

/// Checks every case of VERDICTS, whose rmxsmtpd wrote `outputs` (stderr,
/// stdout) when `resolver` answered; all mismatches are reported at once.
fn check_verdicts(resolver: &str, outputs: &[(String, String)]) {
    assert_eq!(outputs.len(), VERDICTS.len());
    let mut wrong = Vec::new();
    for (case, (stderr, stdout)) in VERDICTS.iter().zip(outputs) {
        let (log, output) = expected(case);
        if rmxsmtpd_lines(stderr) != [log.clone()] || *stdout != output {
            wrong.push(format!(
                "{} {:?}:\n  want log {log:?}, output {output:?}\n  got stderr {stderr:?}, stdout {stdout:?}",
                case.0, case.1
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "through {resolver}:\n{}",
        wrong.join("\n")
    );
}

// ---- Mail: exim, swaks, the SMTP chain -------------------------------------

/// exim's configuration, and the mailbox directory that nobody writes into.
fn exim(scratch: &TempDir) {
    let mail = scratch.join("mail");
    fs::create_dir(&mail).unwrap();
    let mut chown = command("chown");
    chown.arg("nobody:nogroup").arg(&mail);
    assert!(run(chown, RUN).status.success(), "chown nobody:nogroup");
    render(scratch, "exim.conf", "exim.conf", &[]);
}

/// The header line that marks the message swaks sends from `source`.
fn subject(source: &str) -> String {
    format!("Subject: rmx test from {source}")
}

/// swaks sends one message from the address `source` to 127.0.0.1:`port`.
fn send(port: u16, source: &str) -> Ran {
    let server = format!("127.0.0.1:{port}");
    let mut swaks = command("swaks");
    swaks
        .args(["--server", &server, "--local-interface", source])
        .args(["--timeout", "20", "--helo", "client.rmx.test"])
        .args(["--from", "sender@example.org", "--to", "user@rmx.test"])
        .args(["--header", &subject(source)]);
    run(swaks, RUN)
}

/// The mailbox, once it holds the message with `subject`: exim may still
/// be delivering when swaks has its last reply.
fn delivered(scratch: &TempDir, subject: &str) -> String {
    let deadline = Instant::now() + RUN;
    loop {
        let mailbox = read(scratch, "mail/inbox");
        if mailbox.contains(subject) {
            return mailbox;
        }
        assert!(
            Instant::now() < deadline,
            "no {subject:?} in the mailbox: {mailbox:?}\nexim: {}",
            read(scratch, "exim-mainlog")
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// The messages in the mailbox (mbox format).
fn messages(mailbox: &str) -> usize {
    mailbox
        .lines()
        .filter(|line| line.starts_with("From "))
        .count()
}

/// Asserts that swaks's message from `source` went through exim and
/// arrived with RMXRESULT=`result`.
fn assert_delivered(scratch: &TempDir, sent: &Ran, source: &str, result: &str) {
    assert!(sent.status.success(), "swaks from {source}: {sent:?}");
    assert!(
        sent.stdout.contains("<-  220 mx.rmx.test ESMTP Exim"),
        "{sent:?}"
    );
    let mailbox = delivered(scratch, &subject(source));
    let message = mailbox
        .split("\nFrom ")
        .find(|message| message.contains(&subject(source)))
        .unwrap();
    assert!(message.contains(&format!("from [{source}]")), "{message}");
    assert!(
        message.contains(&format!("X-RMXRESULT: {result}\n")),
        "{message}"
    );
}

/// Asserts that rmxsmtpd held swaks's session from `source` and refused
/// its recipient with `refusal`, so that exim never saw it.
fn assert_refused(scratch: &TempDir, sent: &Ran, source: &str, refusal: &str) {
    assert!(!sent.status.success(), "swaks from {source}: {sent:?}");
    assert!(sent.stdout.contains("<-  220 rmxsmtpd.local"), "{sent:?}");
    assert!(
        sent.stdout
            .contains(&format!(" -> RCPT TO:<user@rmx.test>\n<** {refusal}")),
        "{sent:?}"
    );
    assert!(!sent.stdout.contains("Exim"), "{sent:?}");
    assert!(!read(scratch, "mail/inbox").contains(&subject(source)));
    assert!(!read(scratch, "exim-mainlog").contains(&format!("[{source}]")));
}

/// The default refusal for `source`, as the client sees it.
fn refusal(source: &str) -> String {
    format!(
        "451 4.7.1 Your IP [{source}] is not listed in Reverse MX! Contact your mail or your network administrator."
    )
}

/// A connection server on 127.0.0.1 that runs rmxsmtpd in front of exim,
/// with DNS from nsd; rmxsmtpd's log lines land in the file `log`.
struct Smtp {
    server: Daemon,
    _nsd: Daemon,
    port: u16,
    log: PathBuf,
}

impl Smtp {
    /// tcpserver, with the rules of `rules` (tcprules source) if given.
    fn tcpserver(scratch: &TempDir, rules: Option<&str>) -> Smtp {
        exim(scratch);
        let (nsd, dns) = start_nsd(scratch);
        let cdb = rules.map(|rules| {
            let cdb = scratch.join("tcp.smtp.cdb");
            let mut tcprules = command("tcprules");
            tcprules
                .arg(&cdb)
                .arg(scratch.join("tcp.smtp.tmp"))
                .stdin(fs::File::open(Path::new(FIXTURES).join(rules)).unwrap());
            let compiled = run(tcprules, RUN);
            assert!(compiled.status.success(), "tcprules: {compiled:?}");
            cdb
        });
        let log = scratch.join("tcpserver.log");
        let (server, port) = serve(
            "tcpserver",
            |port| {
                let mut tcpserver = command("tcpserver");
                tcpserver
                    .env("DNSCACHEIP", dns.to_string())
                    .args(["-v", "-H", "-R", "-l0"]);
                if let Some(cdb) = &cdb {
                    tcpserver.arg("-x").arg(cdb);
                }
                tcpserver
                    .args(["127.0.0.1", &port.to_string(), BIN, "exim", "-C"])
                    .arg(scratch.join("exim.conf"))
                    .args(["-odi", "-bs"]);
                Daemon::start(tcpserver, log.clone())
            },
            |daemon, port| listens(daemon.child.id(), port),
        );
        Smtp {
            server,
            _nsd: nsd,
            port,
            log,
        }
    }

    /// openbsd-inetd in the foreground, running tests/peers/smtpd.run. It
    /// runs in a mount namespace of its own, with a tmpfs on /run, where it
    /// writes inetd.pid.
    fn inetd(scratch: &TempDir) -> Smtp {
        exim(scratch);
        let (nsd, dns) = start_nsd(scratch);
        let service = render(
            scratch,
            "smtpd.run",
            "smtpd.run",
            &[("DNS", &dns.to_string()), ("OPTIONS", "")],
        );
        let conf = scratch.join("inetd.conf");
        let (server, port) = serve(
            "inetd",
            |port| {
                let line = format!(
                    "127.0.0.1:{port} stream tcp4 nowait root {} smtpd\n",
                    service.display()
                );
                fs::write(&conf, line).unwrap();
                let mut inetd = command("unshare");
                inetd
                    .args(["--mount", "sh", "-c"])
                    .arg("mount -t tmpfs tmpfs /run && exec inetd -i -d \"$0\"")
                    .arg(&conf);
                Daemon::start(inetd, scratch.join("inetd.log"))
            },
            |daemon, port| listens(daemon.child.id(), port),
        );
        Smtp {
            server,
            _nsd: nsd,
            port,
            log: scratch.join("rmxsmtpd.log"),
        }
    }

    /// rmxsmtpd's log lines so far, without their prefix.
    fn log(&self) -> Vec<String> {
        rmxsmtpd_lines(&fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// Asserts that one logged line starts with `start`.
    fn assert_logged(&self, start: &str) {
        let log = self.log();
        let matching = log.iter().filter(|line| line.starts_with(start)).count();
        assert_eq!(
            matching,
            1,
            "one log line {start:?} in {log:#?}\nserver: {}",
            self.server.log()
        );
    }
}

// ---- The tests -------------------------------------------------------------

/// tinydns serves the zones, dnscache resolves them, and rmxsmtpd finds
/// dnscache through /etc/resolv.conf (a file bind-mounted over it in a mount
/// namespace), with DNSCACHEIP unset.
#[test]
fn djbdns_found_through_resolv_conf() {
    if !ready(true, &[NAMESPACES, DJBDNS]) {
        return;
    }
    let scratch = own_dir("resolv-conf");
    fs::write(scratch.join("resolv.conf"), "nameserver 127.0.0.53\n").unwrap();
    let mut cases = String::new();
    for (n, (client, options, ..)) in VERDICTS.iter().enumerate() {
        cases.push_str(&format!("{n} {client} {}\n", options.join(" ")));
    }
    fs::write(scratch.join("cases"), cases).unwrap();
    in_namespaces(&scratch, "verdicts.sh");
    let outputs: Vec<(String, String)> = (0..VERDICTS.len())
        .map(|n| {
            (
                read(&scratch, &format!("{n}.err")),
                read(&scratch, &format!("{n}.out")),
            )
        })
        .collect();
    check_verdicts("dnscache found in /etc/resolv.conf", &outputs);
    // Every answer came from the tinydns behind that dnscache.
    let tinydns = read(&scratch, "tinydns.log");
    assert!(tinydns.contains(" 000f 0.0.127.in-addr.arpa"), "{tinydns}");
}

/// tcpserver runs rmxsmtpd in front of exim. swaks from a listed address
/// delivers a message into the mailbox; from an unlisted one it gets the 451
/// at RCPT, and nothing arrives.
#[test]
fn tcpserver_swaks_exim_deliver_the_listed_and_refuse_the_unlisted() {
    if !ready(true, &[TCPSERVER, NSD, MAIL]) {
        return;
    }
    let scratch = own_dir("tcpserver");
    let smtp = Smtp::tcpserver(&scratch, None);

    let refused = send(smtp.port, "127.0.0.9");
    assert_refused(&scratch, &refused, "127.0.0.9", &refusal("127.0.0.9"));
    smtp.assert_logged(&format!(
        "127.0.0.9 fail {SLASH24} reject: {}",
        refusal("127.0.0.9")
    ));

    let accepted = send(smtp.port, "127.0.0.5");
    assert_delivered(&scratch, &accepted, "127.0.0.5", "pass");
    smtp.assert_logged(&format!("127.0.0.5 pass {SLASH24} accept"));

    let mailbox = read(&scratch, "mail/inbox");
    assert_eq!(messages(&mailbox), 1, "{mailbox}");
    assert!(!mailbox.contains("127.0.0.9"), "{mailbox}");
}

/// tcprules: RMXSMTPD="" skips one unlisted client and RELAYCLIENT another;
/// both reach exim, and the log says skip. RMXSMTPD with a text refuses a
/// third without a lookup; an unlisted client without a rule is still
/// refused.
#[test]
fn tcprules_skip_or_refuse_without_a_lookup() {
    if !ready(true, &[TCPSERVER, NSD, MAIL]) {
        return;
    }
    let scratch = own_dir("tcprules");
    let smtp = Smtp::tcpserver(&scratch, Some("tcp.smtp"));

    for source in ["127.0.0.7", "127.0.0.8"] {
        let sent = send(smtp.port, source);
        assert_delivered(&scratch, &sent, source, "skip");
    }
    smtp.assert_logged("127.0.0.7 skip - accept");
    smtp.assert_logged("127.0.0.8 skip - accept");

    let text = "554 5.7.1 Mail from 127.0.0.10 is refused here";
    let sent = send(smtp.port, "127.0.0.10");
    assert_refused(&scratch, &sent, "127.0.0.10", text);
    smtp.assert_logged(&format!("127.0.0.10 skip - reject: {text}"));

    let sent = send(smtp.port, "127.0.0.9");
    assert_refused(&scratch, &sent, "127.0.0.9", &refusal("127.0.0.9"));
    smtp.assert_logged("127.0.0.9 fail ");
    assert_eq!(messages(&read(&scratch, "mail/inbox")), 2);
}

/// openbsd-inetd sets no TCPREMOTEIP: rmxsmtpd finds the client with
/// getpeername, and the verdict is right for a listed and an unlisted source
/// address.
#[test]
fn under_inetd_the_client_is_found_with_getpeername() {
    if !ready(true, &[INETD, NSD, MAIL]) {
        return;
    }
    let scratch = own_dir("inetd");
    let smtp = Smtp::inetd(&scratch);

    let accepted = send(smtp.port, "127.0.0.5");
    assert_delivered(&scratch, &accepted, "127.0.0.5", "pass");
    smtp.assert_logged(&format!("127.0.0.5 pass {SLASH24} accept"));

    let refused = send(smtp.port, "127.0.0.9");
    assert_refused(&scratch, &refused, "127.0.0.9", &refusal("127.0.0.9"));
    smtp.assert_logged(&format!("127.0.0.9 fail {SLASH24} reject: 451 4.7.1"));
}

/// nsd (authoritative) and unbound (a caching resolver in front of it) serve
/// the same zones as djbdns does in `djbdns_found_through_resolv_conf`, in
/// replies of another shape, and rmxsmtpd reaches the same verdicts through
/// each.
#[test]
fn nsd_and_unbound_agree_with_djbdns() {
    if !ready(false, &[NSD, UNBOUND]) {
        return;
    }
    let scratch = own_dir("nsd-unbound");
    let (_nsd, nsd) = start_nsd(&scratch);
    let (_unbound, unbound) = start_unbound(&scratch, nsd);

    // The replies differ in shape from djbdns's. nsd gives the exchanges in
    // lower case (tinydns keeps tests/peers/data's mixed case), with TTL 0,
    // and the in-zone exchange's address, TTL 2^31-1, in the additional
    // section. unbound answers as a recursive resolver, not
    // authoritatively, and caps that TTL at a day.
    let reply = ask(nsd, "0.0.127.in-addr.arpa.", RecordType::MX).expect("nsd answers");
    assert!(reply.metadata.authoritative, "{reply:?}");
    let mut exchanges: Vec<String> = reply
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::MX(mx) if record.ttl == 0 => Some(mx.exchange.to_ascii()),
            _ => None,
        })
        .collect();
    exchanges.sort();
    assert_eq!(
        exchanges,
        ["mx1.rmx.test.", "mx2.0.0.127.in-addr.arpa."],
        "{reply:?}"
    );
    let in_zone = |record: &&Record| record.name.to_ascii() == "mx2.0.0.127.in-addr.arpa.";
    let glue = reply
        .additionals
        .iter()
        .find(in_zone)
        .expect("nsd adds the address");
    assert_eq!(glue.ttl, 2147483647);
    let reply = ask(unbound, "0.0.127.in-addr.arpa.", RecordType::MX).expect("unbound answers");
    assert!(
        !reply.metadata.authoritative && reply.metadata.recursion_available,
        "{reply:?}"
    );
    assert_eq!(reply.answers.len(), 2, "{reply:?}");
    let reply = ask(unbound, "mx2.0.0.127.in-addr.arpa.", RecordType::A).expect("unbound answers");
    assert!(
        reply.answers.iter().all(|record| record.ttl <= 86400),
        "{reply:?}"
    );
    assert_eq!(reply.answers.len(), 1, "{reply:?}");

    for (resolver, server) in [("nsd", nsd), ("unbound", unbound)] {
        let outputs: Vec<(String, String)> = VERDICTS
            .iter()
            .map(|(client, options, ..)| {
                let mut rmxsmtpd = command(BIN);
                rmxsmtpd
                    .env("DNSCACHEIP", server.to_string())
                    .env("TCPREMOTEIP", client)
                    .arg("-t")
                    .arg("0")
                    .args(*options)
                    .args(SAY_RESULT);
                let ran = run(rmxsmtpd, RUN);
                (ran.stderr, ran.stdout)
            })
            .collect();
        check_verdicts(resolver, &outputs);
    }
}

/// IPv6 from end to end: inside namespaces, with djbdns serving ip6.arpa
/// lists (AAAA records as tinydns generic lines), openbsd-inetd accepts
/// swaks's connections from ::1. Against the /64 list, which names ::1, the
/// message is delivered; against the /48 list alone, the session is held and
/// RCPT refused.
#[test]
fn ipv6_end_to_end() {
    let peers = [NAMESPACES, DJBDNS, INETD, MAIL, SWAKS_IPV6];
    if !ready(true, &peers) {
        return;
    }
    let scratch = own_dir("ipv6");
    exim(&scratch);
    let mut inetd = String::new();
    for (port, options) in [("25", ""), ("26", "-6 48")] {
        let name = format!("smtpd-{port}.run");
        let values = [("DNS", "127.0.0.53"), ("OPTIONS", options)];
        let service = render(&scratch, "smtpd.run", &name, &values);
        inetd.push_str(&format!(
            "::1:{port} stream tcp6 nowait root {} smtpd\n",
            service.display()
        ));
    }
    fs::write(scratch.join("inetd.conf"), inetd).unwrap();
    in_namespaces(&scratch, "inet6.sh");
    let log = rmxsmtpd_lines(&read(&scratch, "rmxsmtpd.log"));

    let sent = read(&scratch, "swaks-25");
    assert!(sent.contains("<-  250 OK id="), "{sent}");
    assert!(!sent.contains("<**"), "{sent}");
    assert_eq!(
        log.iter()
            .filter(|l| **l == format!("::1 pass {SLASH64} accept"))
            .count(),
        1,
        "{log:#?}"
    );
    let mailbox = read(&scratch, "mail/inbox");
    assert_eq!(messages(&mailbox), 1, "{mailbox}");
    assert!(
        mailbox.contains("Subject: rmx test to port 25\n"),
        "{mailbox}"
    );
    assert!(mailbox.contains("X-RMXRESULT: pass\n"), "{mailbox}");
    assert!(mailbox.contains("from [::1]"), "{mailbox}");

    let sent = read(&scratch, "swaks-26");
    assert!(sent.contains("<-  220 rmxsmtpd.local"), "{sent}");
    assert!(
        sent.contains(&format!(
            " -> RCPT TO:<user@rmx.test>\n<** {}",
            refusal("::1")
        )),
        "{sent}"
    );
    let refused = format!("::1 fail {SLASH48} reject: {}", refusal("::1"));
    assert_eq!(log.iter().filter(|l| **l == refused).count(), 1, "{log:#?}");
    assert!(!mailbox.contains("port 26"), "{mailbox}");
}
