//! rmxreport(1) over real log directories: rmxsmtpd under tcpserver, with
//! known traffic from swaks (listed, unlisted, no list, a null MX, a dead
//! resolver, a dry run), its log written by multilog (daemontools) and by
//! svlogd (runit) at once, both rotating. The report must count exactly
//! the traffic sent.
//!
//! A missing peer skips the test with a line that says what to install;
//! under CI=true it fails instead.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::json::{At, Value};
use crate::support::responder::{Responder, Zone};
use crate::support::skip::need;
use crate::support::temp::free_port;

const RMXSMTPD: &str = env!("CARGO_BIN_EXE_rmxsmtpd");
const RMXREPORT: &str = env!("CARGO_BIN_EXE_rmxreport");

/// An SMTP daemon small enough to write here: it greets, says 250 to
/// everything, and 221 to QUIT.
const SINK: &str = "printf '220 sink\\r\\n'
while IFS= read -r line; do
  case \"$line\" in
    [Qq][Uu][Ii][Tt]*) printf '221 bye\\r\\n'; exit 0 ;;
    *) printf '250 ok\\r\\n' ;;
  esac
done
";

/// Whether every peer is here; each one missing is a skip of its own.
fn ready() -> bool {
    [
        ("tcpserver", "ucspi-tcp"),
        ("swaks", "swaks"),
        ("multilog", "daemontools"),
        ("svlogd", "runit"),
    ]
    .iter()
    .fold(true, |all, (program, package)| need(program, package) & all)
}

/// A child of the test, stopped by its PID when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        if self.0.try_wait().unwrap().is_none() {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let _ = self.0.wait();
    }
}

/// The time now, as rmxreport writes a time (`date` formats it).
fn utc_now() -> String {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// tcpserver on 127.0.0.1 running rmxsmtpd with `options` in front of the
/// sink, its stderr (rmxsmtpd's log) into `log`; waits until it listens.
fn tcpserver(
    dns: &str,
    options: &[&str],
    sink: &Path,
    log: &std::os::fd::OwnedFd,
) -> (Server, u16) {
    let port = free_port();
    let child = Command::new("tcpserver")
        .env("DNSCACHEIP", dns)
        .args([
            "-q",
            "-H",
            "-R",
            "-l0",
            "127.0.0.1",
            &port.to_string(),
            RMXSMTPD,
        ])
        .args(options)
        .args(["sh"])
        .arg(sink)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tcpserver did not listen on {port}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // The probe connection above made a log line: it is one decision, from
    // 127.0.0.1, counted below.
    (Server(child), port)
}

/// swaks connects from `source` and quits after RCPT.
fn send(port: u16, source: &str) {
    let out = Command::new("swaks")
        .args([
            "--server",
            &format!("127.0.0.1:{port}"),
            "--local-interface",
            source,
        ])
        .args(["--timeout", "20", "--quit-after", "RCPT"])
        .args(["--from", "sender@example.org", "--to", "user@rmx.test"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.stdout.is_empty(), "swaks from {source}: {out:?}");
}

#[test]
fn multilog_and_svlogd_directories_count_exactly_the_traffic() {
    if !ready() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rmxreport-logs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let sink = dir.join("sink");
    fs::write(&sink, SINK).unwrap();
    let multilog_dir = dir.join("multilog");
    let svlogd_dir = dir.join("svlogd");
    fs::create_dir_all(&svlogd_dir).unwrap();
    fs::write(svlogd_dir.join("config"), "s4096\nn20\n").unwrap();

    // Both log writers read what a tee thread copies from one pipe.
    let mut multilog = Server(
        Command::new("multilog")
            .args(["t", "s4096", "n20"])
            .arg(&multilog_dir)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut svlogd = Server(
        Command::new("svlogd")
            .arg("-tt")
            .arg(&svlogd_dir)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (mut pipe_read, pipe_write) = std::io::pipe().unwrap();
    let (mut to_multilog, mut to_svlogd) = (
        multilog.0.stdin.take().unwrap(),
        svlogd.0.stdin.take().unwrap(),
    );
    let tee = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = pipe_read.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            to_multilog.write_all(&buf[..n]).unwrap();
            to_svlogd.write_all(&buf[..n]).unwrap();
        }
    });
    let log: std::os::fd::OwnedFd = pipe_write.into();

    let zone = Zone::new()
        .mx("0.0.127.in-addr.arpa", 10, "mx.rmx.test")
        .a("mx.rmx.test", "127.0.0.9")
        .null_mx("2.0.127.in-addr.arpa");
    let dns = Responder::start(zone);
    let dns_ip = dns.addr().to_string();
    // A resolver that is not there: a port just closed.
    let dead = {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket.local_addr().unwrap().to_string()
    };
    // Before the servers: each one's probe connection makes a line too.
    let began = utc_now();
    let (real, real_port) = tcpserver(&dns_ip, &["-t", "5"], &sink, &log);
    let (dry, dry_port) = tcpserver(&dns_ip, &["-n", "-t", "5"], &sink, &log);
    let (deaf, deaf_port) = tcpserver(&dead, &["-T", "1", "-t", "5"], &sink, &log);
    drop(log);

    // (server port, client, connections)
    let traffic = [
        (real_port, "127.0.0.9", 10), // pass: listed
        (real_port, "127.0.0.10", 6), // fail: unlisted
        (real_port, "127.0.1.5", 5),  // none: no list
        (real_port, "127.0.1.6", 4),  // none
        (real_port, "127.0.2.7", 4),  // fail: null MX
        (dry_port, "127.0.0.10", 3),  // fail, dry run: would refuse
        (dry_port, "127.0.1.7", 2),   // none, dry run: accepted
        (deaf_port, "127.0.3.3", 3),  // temperror: the resolver is dead
    ];
    let senders: Vec<_> = traffic
        .iter()
        .map(|&(port, source, n)| {
            thread::spawn(move || {
                for _ in 0..n {
                    send(port, source);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    // tcpserver's children have exited once swaks has its last reply; stop
    // the servers, and the log writers see the end of their input.
    drop((real, dry, deaf));
    let ended = utc_now();
    tee.join().unwrap();
    for writer in [&mut multilog, &mut svlogd] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while writer.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "a log writer did not end");
            thread::sleep(Duration::from_millis(20));
        }
    }

    for (writer, log_dir) in [("multilog", &multilog_dir), ("svlogd", &svlogd_dir)] {
        let rotated = fs::read_dir(log_dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('@')
            })
            .count();
        assert!(
            rotated >= 1,
            "{writer} did not rotate: {:?}",
            fs::read_dir(log_dir).unwrap().collect::<Vec<_>>()
        );
        let out = Command::new(RMXREPORT)
            .arg("-j")
            .arg(log_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{writer}: {out:?}");
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let at = |path: &str| got.int(path);
        let r = "totals.results";
        // And three probe connections from 127.0.0.1 (one per server,
        // while waiting for it to listen), in 0.0.127.in-addr.arpa and not
        // listed: a refusal, a dry-run refusal, and a temperror that names
        // the list it could not read.
        assert_eq!(at(&format!("{r}.pass.accept.decisions")), 10, "{writer}");
        assert_eq!(
            at(&format!("{r}.fail.refuse.decisions")),
            6 + 4 + 1,
            "{writer}"
        );
        assert_eq!(at(&format!("{r}.fail.refuse.addresses")), 3, "{writer}");
        assert_eq!(
            at(&format!("{r}.fail.would_refuse.decisions")),
            3 + 1,
            "{writer}"
        );
        assert_eq!(
            at(&format!("{r}.none.accept.decisions")),
            5 + 4 + 2,
            "{writer}"
        );
        assert_eq!(at(&format!("{r}.none.addresses")), 3, "{writer}");
        assert_eq!(
            at(&format!("{r}.temperror.accept.decisions")),
            3 + 1,
            "{writer}"
        );
        assert_eq!(at("totals.decisions"), 37 + 3, "{writer}");
        assert_eq!(at("totals.addresses"), 8, "{writer}");
        assert_eq!(at("skipped.lines"), 0, "{writer}");
        assert_eq!(at("adoption.answered"), 10 + 15 + 11, "{writer}");
        assert_eq!(at("adoption.published"), 25, "{writer}");
        assert_eq!(at("adoption.networks"), 3, "{writer}");
        assert_eq!(at("adoption.published_networks"), 2, "{writer}");
        assert_eq!(at("whatif.decisions"), 11, "{writer}");
        assert_eq!(at("whatif.networks"), 1, "{writer}");
        assert_eq!(got.text("whatif.top.0.network"), "127.0.1.0/24", "{writer}");
        assert_eq!(
            (at("whatif.top.0.decisions"), at("whatif.top.0.addresses")),
            (11, 3),
            "{writer}"
        );
        assert_eq!(
            got.text("networks.top.0.network"),
            "0.0.127.in-addr.arpa",
            "{writer}"
        );
        assert_eq!(
            at("networks.top.0.decisions"),
            10 + 6 + 3 + 2 + 1,
            "{writer}"
        );
        assert_eq!(at("networks.count"), 4, "{writer}");
        // The timestamps are read as the time the lines were written.
        let (first, last) = (
            got.text("networks.top.0.first"),
            got.text("networks.top.0.last"),
        );
        assert!(
            began.as_str() <= first && first <= last && last <= ended.as_str(),
            "{writer}: {first} {last} not in {began} {ended}"
        );
        // Every line carries a timestamp of today (or of yesterday, just
        // after midnight): every decision is in the day series.
        let days: u64 = (0..got.len("days"))
            .map(|i| at(&format!("days.{i}.decisions")))
            .sum();
        assert_eq!(days, 40, "{writer}");
    }
    fs::remove_dir_all(&dir).unwrap();
}
