//! Running the real rmxsmtpd binary in tests: a controlled environment that
//! always points the resolver at a loopback test server (never the
//! machine's resolver), the reporter program to wrap, and its report read
//! back.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::temp::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_rmxsmtpd");

/// The reporter (tests/support/report_main.rs), which cargo builds as the
/// example `reporter` beside this test binary: it is PROFILE/deps/NAME-HASH,
/// the examples are in PROFILE/examples. `cargo test` builds the examples;
/// `cargo test --test NAME` alone does not. Without it the whole test
/// binary stops at once, saying what to run: every test that needs it
/// would fail alike, and a property test would keep its failure as a seed
/// in tests/proptest-regressions.
pub fn reporter() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("PROFILE/deps/NAME");
        let reporter = profile.join("examples/reporter");
        if !reporter.is_file() {
            // Straight to stderr: libtest shows what a test prints only
            // when the test ends, and this one will not.
            let _ = writeln!(
                std::io::stderr(),
                "no reporter at {}: `cargo test` builds it with the examples; \
                 before `cargo test --test NAME` alone, run `cargo build --example reporter`",
                reporter.display()
            );
            std::process::exit(101);
        }
        reporter
    })
}

/// The descriptors any child of this test process inherits without
/// rmxsmtpd in between, fds 0, 1 and 2 included: cargo's jobserver pipe,
/// for one, is not close-on-exec. rmxsmtpd may pass these on, and must add
/// nothing.
pub fn inherited_fds() -> Vec<u32> {
    let dir = TempDir::new("wrapper");
    let path = dir.path().join("report");
    let status = Command::new(reporter())
        .env("RMX_REPORT", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    Report::read(&path).unwrap().fds
}

/// What the reporter saw.
#[derive(Debug, Default)]
pub struct Report {
    pub fds: Vec<u32>,
    pub sigign: u64,
    /// The signal mask (SigBlk): bit N-1 set when signal N is blocked.
    pub sigblk: u64,
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    pub stdin: Vec<u8>,
}

impl Report {
    pub fn read(path: &Path) -> Option<Report> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut report = Report::default();
        for line in text.lines() {
            let (kind, value) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "fd" => report.fds.push(value.parse().unwrap()),
                "sigign" => report.sigign = u64::from_str_radix(value, 16).unwrap(),
                "sigblk" => report.sigblk = u64::from_str_radix(value, 16).unwrap(),
                "arg" => report.args.push(OsString::from_vec(unhex(value))),
                "env" => report.env.push(OsString::from_vec(unhex(value))),
                "stdin" => report.stdin = unhex(value),
                _ => panic!("unknown report line {line:?}"),
            }
        }
        Some(report)
    }

    /// The value of an environment variable the reporter received.
    pub fn var(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.env
            .iter()
            .find_map(|pair| pair.to_str()?.strip_prefix(&prefix).map(str::to_string))
    }

    pub fn sigpipe_ignored(&self) -> bool {
        self.sigign & (1 << (libc::SIGPIPE - 1)) != 0
    }
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// One rmxsmtpd invocation being set up.
pub struct Wrapper {
    pub command: Command,
    pub report: PathBuf,
    _dir: TempDir,
}

impl Wrapper {
    /// rmxsmtpd with `options`, wrapping the reporter, for `client`, asking
    /// only `dns`. The environment holds nothing else but PATH.
    pub fn new(dns: SocketAddr, client: &str, options: &[&str]) -> Wrapper {
        let dir = TempDir::new("wrapper");
        let report = dir.path().join("report");
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DNSCACHEIP", dns.to_string())
            .env("RMX_REPORT", &report)
            .args(options)
            .arg(reporter());
        if !client.is_empty() {
            command.env("TCPREMOTEIP", client);
        }
        Wrapper {
            command,
            report,
            _dir: dir,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Wrapper {
        self.command.env(name, value);
        self
    }

    /// Runs to the end with `input` on fd 0 (then end of input).
    pub fn run(mut self, input: &[u8]) -> Outcome {
        let child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rmxsmtpd");
        finish(child, input, &self.report)
    }
}

/// How an invocation ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub report: Option<Report>,
    pub elapsed: Duration,
}

impl Outcome {
    /// The one log line, without the `rmxsmtpd: pid N: ` prefix.
    pub fn log(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one log line: {:?}", self.stderr);
        let (_, rest) = lines[0].split_once(": pid ").expect("pid prefix");
        rest.split_once(": ").expect("pid number").1.to_string()
    }

    /// Whether the wrapped program ran, and with which RMXRESULT.
    pub fn result(&self) -> Option<String> {
        self.report.as_ref().and_then(|r| r.var("RMXRESULT"))
    }
}

/// Writes `input`, closes fd 0, and collects everything until exit.
pub fn finish(child: Child, input: &[u8], report: &Path) -> Outcome {
    let talked = talk(child, input);
    Outcome {
        status: talked.status,
        stdout: talked.stdout,
        stderr: talked.stderr,
        report: Report::read(report),
        elapsed: talked.elapsed,
    }
}

/// What a child said, and when it ended.
pub struct Talked {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Writes `input` to a child's piped stdin and closes it, reads its piped
/// stdout and stderr at once (neither can fill and stall it), and waits.
pub fn talk(mut child: Child, input: &[u8]) -> Talked {
    let started = Instant::now();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let elapsed = started.elapsed();
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Talked {
        status,
        stdout,
        stderr,
        elapsed,
    }
}

/// What the client saw of one rmxsmtpd run whose fds 0, 1 and 2 are all
/// one socket, as inetd and xinetd hand it over: its log line goes to
/// syslog(3).
pub struct OverOneSocket {
    pub pid: u32,
    pub code: Option<i32>,
    /// Everything the client read.
    pub said: String,
}

/// Runs `command` with fds 0, 1 and 2 the server end of a socket pair;
/// the client end writes `input`, then reads to the end.
pub fn over_one_socket(mut command: Command, input: &[u8]) -> OverOneSocket {
    let (mut client, server) = UnixStream::pair().unwrap();
    let server = OwnedFd::from(server);
    let mut child = command
        .stdin(Stdio::from(server.try_clone().unwrap()))
        .stdout(Stdio::from(server.try_clone().unwrap()))
        .stderr(Stdio::from(server))
        .spawn()
        .expect("start rmxsmtpd");
    // The command holds copies of the server end; only the child may.
    drop(command);
    client.write_all(input).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut said = Vec::new();
    let read = client.read_to_end(&mut said);
    if read.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    read.expect("rmxsmtpd ends the connection in time");
    OverOneSocket {
        pid: child.id(),
        code: status.code(),
        said: String::from_utf8_lossy(&said).into_owned(),
    }
}

/// rmxsmtpd with this environment and these arguments, nothing else.
pub fn rmxsmtpd(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .args(args);
    command
}
