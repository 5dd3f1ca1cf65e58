//! Running a fixture script inside new PID, mount and network namespaces,
//! with tinydns and dnscache serving the test zones (tests/peers/data) on
//! the namespace's loopback, through tests/peers/djbdns.sh: for the tests
//! of rmxpolicyd under the real Postfix and Exim.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::temp::TempDir;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long one run, all its sessions included, may take.
const RUN: Duration = Duration::from_secs(120);

/// A scratch directory that nobody (Postfix's and Exim's delivery user)
/// can reach.
pub fn scratch(tag: &str) -> TempDir {
    let scratch = TempDir::new(tag);
    fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755)).unwrap();
    scratch
}

/// Runs `command` with sh; it must succeed.
pub fn sh(command: &str) {
    let status = Command::new("sh")
        .args(["-c", command])
        .env_clear()
        .env("PATH", PATH)
        .status()
        .unwrap();
    assert!(status.success(), "{command}");
}

/// Copies the fixture `from` into `to`, with `@DIR@` (the scratch
/// directory) and `@ROOT@` (the source tree) filled in.
pub fn render(from: &Path, to: &Path, dir: &Path) {
    let text = fs::read_to_string(from).unwrap();
    let text = text
        .replace("@DIR@", dir.to_str().unwrap())
        .replace("@ROOT@", ROOT);
    fs::write(to, text).unwrap();
}

/// Runs the fixture script `script` (rendered) in the namespaces, with
/// tinydns and dnscache up, and `rmxpolicyd` at /usr/local/bin/rmxpolicyd
/// of a /usr overlay (DIR/usr, which the script lays over /usr). Fails
/// with `logs` (files of the scratch directory) shown if it fails or
/// takes longer than two minutes.
pub fn run(dir: &Path, script: &Path, rmxpolicyd: &str, logs: &[&str]) {
    let d = dir.display();
    sh(&format!(
        "mkdir -p '{d}/tinydns' '{d}/dnscache/ip' '{d}/dnscache/servers' '{d}/usr/local/bin' && \
         cp '{ROOT}/tests/peers/data' '{d}/tinydns/' && (cd '{d}/tinydns' && tinydns-data) && \
         touch '{d}/dnscache/ip/127' && for z in @ 127.in-addr.arpa rmx.test; do \
         echo 127.0.0.2 >\"{d}/dnscache/servers/$z\"; done && \
         cp '{rmxpolicyd}' '{d}/usr/local/bin/rmxpolicyd'"
    ));
    let peers = Path::new(ROOT).join("tests/peers");
    render(&peers.join("djbdns.sh"), &dir.join("djbdns.sh"), dir);
    let body = dir.join(script.file_name().unwrap());
    render(script, &body, dir);
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount", "--net", "sh"])
        .arg(dir.join("djbdns.sh"))
        .arg(&body)
        .env_clear()
        .env("PATH", PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let shown: String = logs
        .iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
            format!("{name}:\n{text}\n")
        })
        .collect();
    assert!(
        status.success(),
        "{}: {status}\n{}{}\n{shown}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
