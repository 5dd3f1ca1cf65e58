//! rmxreport(1) over real log directories: rmxsmtpd under tcpserver, with
//! known traffic from swaks (listed, unlisted, no list, a null MX, a dead
//! resolver, a dry run), its log written by multilog (daemontools) and by
//! svlogd (runit) at once, both rotating. The report must count exactly
//! the traffic sent. Then multilog rotating while rmxreport reads its
//! directory, deleting its oldest file, and rotating live beside it; and
//! the log of the real rmxsmtpd under `-q`.
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
use crate::support::temp::{TempDir, free_port};

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

/// A child of the test, stopped by SIGTERM and waited for when dropped: a
/// log writer or syslog daemon writes out what it holds before it exits.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        if self.0.try_wait().unwrap().is_none() {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        // One that does not end (multilog pausing on a directory that a
        // failing test has removed) is killed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.0.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.0.kill();
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The time now, as rmxreport writes a time (`date` formats it).
pub fn utc_now() -> String {
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
        (real_port, "127.0.3.4", 2),  // none: the same network
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
            5 + 4 + 2 + 2,
            "{writer}"
        );
        assert_eq!(at(&format!("{r}.none.addresses")), 4, "{writer}");
        assert_eq!(
            at(&format!("{r}.temperror.accept.decisions")),
            3 + 1,
            "{writer}"
        );
        assert_eq!(at("totals.decisions"), 39 + 3, "{writer}");
        assert_eq!(at("totals.addresses"), 9, "{writer}");
        assert_eq!(at("skipped.lines"), 0, "{writer}");
        assert_eq!(at("adoption.answered"), 10 + 15 + 13, "{writer}");
        assert_eq!(at("adoption.published"), 25, "{writer}");
        assert_eq!(at("adoption.networks"), 4, "{writer}");
        assert_eq!(at("adoption.published_networks"), 2, "{writer}");
        assert_eq!(at("whatif.decisions"), 13, "{writer}");
        assert_eq!(at("whatif.networks"), 2, "{writer}");
        assert_eq!(got.text("whatif.top.0.network"), "127.0.1.0/24", "{writer}");
        assert_eq!(
            (at("whatif.top.0.decisions"), at("whatif.top.0.addresses")),
            (11, 3),
            "{writer}"
        );
        // 127.0.3.0/24 has no list: its none lines and the temperror lines
        // that name 3.0.127.in-addr.arpa are one network, one row.
        assert_eq!(
            got.text("networks.top.2.network"),
            "127.0.3.0/24",
            "{writer}"
        );
        assert_eq!(
            (
                at("networks.top.2.decisions"),
                at("networks.top.2.addresses")
            ),
            (3 + 2, 2),
            "{writer}"
        );
        assert_eq!(at("networks.top.2.temperror"), 3, "{writer}");
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
        assert_eq!(days, 42, "{writer}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

// ---- Rotation while rmxreport reads -------------------------------------------

/// A log directory that multilog writes, with these options after `t`.
/// Dropped in this order: multilog's input closed, multilog waited for,
/// then its directory removed.
struct Multilog {
    /// What [`log_line`] writes here, multilog reads.
    log: std::os::fd::OwnedFd,
    writer: Server,
    dir: std::path::PathBuf,
    /// Holds `dir`.
    scratch: TempDir,
}

impl Multilog {
    /// multilog started in a scratch directory named after `tag`; `None`
    /// (and a skip) without it.
    fn start(tag: &str, options: &[&str]) -> Option<Multilog> {
        if !need("multilog", "daemontools") {
            return None;
        }
        let scratch = TempDir::new(tag);
        let dir = scratch.join("log");
        let mut child = Command::new("multilog")
            .arg("t")
            .args(options)
            .arg(&dir)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let log = child.stdin.take().unwrap().into();
        Some(Multilog {
            log,
            writer: Server(child),
            dir,
            scratch,
        })
    }
}

/// One connection to the real rmxsmtpd, with `options` and only `env` (and
/// PATH), exec'ing `true`: its log line into `log`.
fn connection(log: &std::os::fd::OwnedFd, env: &[(&str, &str)], options: &[&str]) {
    let status = Command::new(RMXSMTPD)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .args(options)
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone().unwrap())
        .status()
        .unwrap();
    assert!(status.success());
}

/// The real rmxsmtpd's line for one connection from `client`, a skip
/// (`RMXSMTPD` empty, as tcprules sets it), into `log`.
fn log_line(log: &std::os::fd::OwnedFd, client: &str) {
    connection(log, &[("RMXSMTPD", ""), ("TCPREMOTEIP", client)], &[]);
}

/// The lines of connections from `clients` through multilog into `dir`'s
/// `current`, which holds them all, and nothing else, on return.
fn into_current(log: &std::os::fd::OwnedFd, dir: &Path, clients: &[String]) {
    for client in clients {
        log_line(log, client);
    }
    let current = dir.join("current");
    wait_until("the lines in current", || {
        lines_in(&current) == clients.len()
    });
}

/// multilog rotates at once (SIGALRM): `current` becomes an `@*.s` file.
fn rotate(multilog: &Server, dir: &Path) {
    let before = rotated(dir).len();
    // SAFETY: kill(2) on our own child, running.
    unsafe { libc::kill(multilog.0.id() as libc::pid_t, libc::SIGALRM) };
    wait_until("multilog rotating", || rotated(dir).len() > before);
}

/// The clients `first.1` to `first.N`.
fn clients(first: &str, hosts: std::ops::RangeInclusive<u8>) -> Vec<String> {
    hosts.map(|host| format!("{first}.{host}")).collect()
}

/// The whole lines of a file (or none if it has gone).
fn lines_in(path: &Path) -> usize {
    fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Waits until `what` holds, for at most ten seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "waited in vain: {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// The rotated files of a log directory (none before multilog makes it).
fn rotated(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('@'))
        .collect();
    names.sort();
    names
}

/// Whether process `pid` is in read(2) on the file `path`: its main
/// thread's system call, and the file its descriptor is.
fn reading(pid: u32, path: &Path) -> bool {
    let Ok(syscall) = fs::read_to_string(format!("/proc/{pid}/syscall")) else {
        return false;
    };
    let mut fields = syscall.split_whitespace();
    let (Some(number), Some(fd)) = (fields.next(), fields.next()) else {
        return false;
    };
    let fd = fd.trim_start_matches("0x");
    number == libc::SYS_read.to_string()
        && u32::from_str_radix(fd, 16)
            .is_ok_and(|fd| fs::read_link(format!("/proc/{pid}/fd/{fd}")).is_ok_and(|p| p == path))
}

/// multilog renames `current` while rmxreport reads the directory: the
/// lines of the `current` that rmxreport listed are all counted, not
/// those of the new one. A rotated file that is a FIFO (sorted first)
/// holds rmxreport between its listing and the rest, for as long as the
/// test needs to make multilog rotate (SIGALRM).
#[test]
fn a_rotation_while_the_directory_is_read_loses_nothing() {
    let Some(m) = Multilog::start("rmxreport-rotation", &["s999999", "n20"]) else {
        return;
    };
    into_current(&m.log, &m.dir, &clients("198.51.100", 1..=5));
    let fifo = m.dir.join("@400000000000000000000000.s");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let report = Command::new(RMXREPORT)
        .arg("-j")
        .arg(&m.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opens when rmxreport opens it to read.
    let held = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    wait_until("rmxreport reading the FIFO", || reading(report.id(), &fifo));
    rotate(&m.writer, &m.dir);
    into_current(&m.log, &m.dir, &clients("203.0.113", 6..=8));
    drop(held);
    let out = report.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.int("totals.decisions"), 5);
    assert_eq!(got.int("totals.results.skip.accept.decisions"), 5);
    assert_eq!(got.text("networks.top.0.network"), "198.51.100.0/24");
}

/// A rotated file that has gone by the time rmxreport opens it, as
/// multilog deletes its oldest: a dangling `@*.s` link costs itself alone,
/// with a warning; the rest of the directory, `current` included, is read.
#[test]
fn a_file_gone_from_a_log_directory_costs_itself_alone() {
    let Some(m) = Multilog::start("rmxreport-gone", &["s999999", "n20"]) else {
        return;
    };
    into_current(&m.log, &m.dir, &clients("198.51.100", 1..=4));
    rotate(&m.writer, &m.dir);
    into_current(&m.log, &m.dir, &clients("198.51.100", 5..=6));
    let gone = m.dir.join("@400000000000000000000001.s");
    std::os::unix::fs::symlink(m.scratch.join("deleted"), &gone).unwrap();
    let out = Command::new(RMXREPORT)
        .arg("-j")
        .arg(&m.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "rmxreport: warning: unable to read {}: file does not exist\n",
            gone.display()
        )
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.int("totals.decisions"), 6);
    assert_eq!(got.int("totals.addresses"), 6);
}

/// Beside a live multilog that rotates (and deletes its oldest file) many
/// times a second, rmxreport run again and again always ends well, and
/// counts at least every line of every file that was there before it
/// started and is there still after it ended (under whatever name), and
/// never more than were written.
#[test]
fn beside_a_live_multilog_every_run_counts_what_stayed() {
    use std::collections::HashMap;
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let Some(m) = Multilog::start("rmxreport-live", &["s4096", "n5"]) else {
        return;
    };
    let (dir, log) = (&m.dir, m.log.try_clone().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let feeder = {
        let (stop, written) = (Arc::clone(&stop), Arc::clone(&written));
        thread::spawn(move || {
            for n in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                log_line(&log, &format!("198.51.{}.{}", n / 250 % 250, n % 250 + 1));
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // The whole lines of each file there, by its inode.
    let files = || -> HashMap<u64, usize> {
        let mut files = HashMap::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if (name == "current" || name.starts_with('@'))
                && let Ok(meta) = entry.metadata()
            {
                files.insert(meta.ino(), lines_in(&entry.path()));
            }
        }
        files
    };
    wait_until("multilog rotating twice", || rotated(dir).len() >= 2);
    let gone = format!("rmxreport: warning: unable to read {}/@", dir.display());
    // Some 14 rotations or more, each deleting the oldest file past five.
    let mut run = 0;
    while run < 40 || written.load(Ordering::SeqCst) < 600 {
        run += 1;
        let before = files();
        let out = Command::new(RMXREPORT).arg("-j").arg(dir).output().unwrap();
        let after = files();
        // And the feeder's connection in flight: its line written, its
        // rmxsmtpd not yet waited for.
        let most = written.load(Ordering::SeqCst) + 1;
        assert_eq!(out.status.code(), Some(0), "run {run}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines() {
            assert!(
                line.starts_with(&gone) && line.ends_with(".s: file does not exist"),
                "run {run}: {line}"
            );
        }
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let counted = got.int("totals.decisions");
        let stayed: usize = before
            .iter()
            .filter(|(inode, _)| after.contains_key(inode))
            .map(|(_, lines)| lines)
            .sum();
        assert!(
            counted >= stayed as u64 && counted <= most && counted > 0,
            "run {run}: {counted} counted, {stayed} in files that stayed, {most} written"
        );
    }
    stop.store(true, Ordering::Relaxed);
    feeder.join().unwrap();
}

/// A log written under `-q` has no `pass` line: the report says it was
/// probably written so, and what that does to the shares. The real
/// rmxsmtpd under `-n -q -s`, four clients: one pass, one fail, two none.
#[test]
fn a_log_without_a_pass_line_says_it_was_probably_written_under_q() {
    let zone = Zone::new()
        .mx("100.51.198.in-addr.arpa", 10, "mx1.example.net")
        .a("mx1.example.net", "198.51.100.5");
    let dns = Responder::start(zone);
    let scratch = TempDir::new("rmxreport-quiet");
    let file = scratch.join("log");
    let log = fs::File::create(&file).unwrap().into();
    let dns = dns.addr().to_string();
    for client in [
        "198.51.100.5",
        "198.51.100.10",
        "203.0.113.7",
        "203.0.113.8",
    ] {
        let env = [("DNSCACHEIP", dns.as_str()), ("TCPREMOTEIP", client)];
        connection(&log, &env, &["-n", "-q", "-s"]);
    }
    let out = Command::new(RMXREPORT).arg(&file).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    // One fail and two none were logged; the pass was not.
    assert!(
        text.contains(
            "         1  of them from networks that publish a list (pass, fail): 33.3%\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  note: no pass line at all: the log was probably written under -q, which logs\n  \
             refusals and errors only; the accepted clients, every pass among them, are\n  \
             left out, and these shares are not shares of the mail\n"
        ),
        "{text}"
    );
    // A log with a pass line says nothing of it.
    let mut with_pass = fs::read(&file).unwrap();
    with_pass
        .extend_from_slice(b"rmxsmtpd: pid 1: 198.51.100.5 pass 100.51.198.in-addr.arpa accept\n");
    fs::write(&file, with_pass).unwrap();
    let out = Command::new(RMXREPORT).arg(&file).output().unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains("-q"));
}
