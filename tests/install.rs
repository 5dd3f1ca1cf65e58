//! `make install`: both binaries and both manual pages arrive under
//! DESTDIR/PREFIX. The copying half (`make install-files`) runs for real with
//! the binaries this `cargo test` built, since a cargo started from inside
//! `cargo test` would wait on the build lock; the building half is checked
//! from `make -n install`, which must be that cargo build and the same copy.

use std::path::{Path, PathBuf};
use std::process::Command;

const RMXSMTPD: &str = env!("CARGO_BIN_EXE_rmxsmtpd");
const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh DESTDIR, removed when dropped.
struct DestDir(PathBuf);

impl DestDir {
    fn new(tag: &str) -> DestDir {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("install-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        DestDir(path)
    }
}

impl Drop for DestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir`, as `MODE PATH` relative to it, by path.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, into: &mut Vec<String>) {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            if meta.is_dir() {
                walk(base, &path, into);
            } else {
                let relative = path.strip_prefix(base).unwrap().display();
                into.push(format!(
                    "{:o} {relative}",
                    meta.permissions().mode() & 0o777
                ));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort_by(|a, b| {
        a.split_once(' ')
            .unwrap()
            .1
            .cmp(b.split_once(' ').unwrap().1)
    });
    files
}

/// make in the source tree, without what cargo and an outer make (`make
/// check`) put in the environment: the Makefile's own defaults apply.
fn make(args: &[&str]) -> std::process::Output {
    let output = Command::new("make")
        .env_remove("CARGO")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .arg("--no-print-directory")
        .args(args)
        .current_dir(root())
        .output()
        .expect("run make");
    assert!(output.status.success(), "make {args:?}: {output:?}");
    output
}

fn binaries() -> String {
    let dir = Path::new(RMXSMTPD).parent().unwrap();
    assert_eq!(Path::new(RMXCHECK).parent().unwrap(), dir);
    dir.display().to_string()
}

#[test]
fn install_files_puts_both_programs_and_both_pages_under_destdir() {
    let dest = DestDir::new("files");
    make(&[
        "install-files",
        "PREFIX=/usr/local",
        &format!("DESTDIR={}", dest.0.display()),
        &format!("BINARIES={}", binaries()),
    ]);
    assert_eq!(
        listing(&dest.0),
        [
            "755 usr/local/bin/rmxcheck",
            "755 usr/local/bin/rmxsmtpd",
            "644 usr/local/share/man/man1/rmxcheck.1",
            "644 usr/local/share/man/man8/rmxsmtpd.8",
        ]
    );
    let installed = dest.0.join("usr/local/bin/rmxcheck");
    assert_eq!(
        std::fs::read(installed).unwrap(),
        std::fs::read(RMXCHECK).unwrap()
    );
    let page = dest.0.join("usr/local/share/man/man8/rmxsmtpd.8");
    assert_eq!(
        std::fs::read(page).unwrap(),
        std::fs::read(root().join("man/rmxsmtpd.8")).unwrap()
    );
    // The installed programs run from where they landed.
    let output = Command::new(dest.0.join("usr/local/bin/rmxcheck"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(100));
}

#[test]
fn another_prefix_and_mandir() {
    let dest = DestDir::new("prefix");
    make(&[
        "install-files",
        "PREFIX=/opt/rmx",
        "MANDIR=/opt/rmx/man",
        &format!("DESTDIR={}", dest.0.display()),
        &format!("BINARIES={}", binaries()),
    ]);
    let files: Vec<String> = listing(&dest.0)
        .into_iter()
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(
        files,
        [
            "opt/rmx/bin/rmxcheck",
            "opt/rmx/bin/rmxsmtpd",
            "opt/rmx/man/man1/rmxcheck.1",
            "opt/rmx/man/man8/rmxsmtpd.8",
        ]
    );
}

/// The README's `make install PREFIX=/usr/local`: a release build, then the
/// same copying as above (make -n shows the plan without running cargo).
#[test]
fn make_install_builds_then_installs_the_same_files() {
    let dest = DestDir::new("plan");
    let output = make(&[
        "-n",
        "install",
        "PREFIX=/usr/local",
        &format!("DESTDIR={}", dest.0.display()),
    ]);
    let plan = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = plan.lines().collect();
    let d = dest.0.display();
    // The release build is static, for the host target named explicitly.
    let rustc = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc");
    let version = String::from_utf8_lossy(&rustc.stdout);
    let host = version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let release = format!("target/{host}/release");
    assert_eq!(
        lines,
        [
            format!(
                "RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' \
                 cargo build --release --target {host}"
            ),
            "make install-files".to_string(),
            format!(
                "install -d {d}/usr/local/bin {d}/usr/local/share/man/man1 {d}/usr/local/share/man/man8"
            ),
            format!("install -m 755 {release}/rmxsmtpd {release}/rmxcheck {d}/usr/local/bin"),
            format!("install -m 644 man/rmxcheck.1 {d}/usr/local/share/man/man1"),
            format!("install -m 644 man/rmxsmtpd.8 {d}/usr/local/share/man/man8"),
        ]
    );
    assert!(!dest.0.exists(), "make -n installs nothing");
}
