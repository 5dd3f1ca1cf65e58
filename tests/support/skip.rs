//! Tests that need what a machine may lack step aside here, and only here:
//! one `SKIP: TEST: needs WHAT (HOW)` line straight to stderr, where cargo
//! test shows it, and the same line added to the file named by RMX_SKIPS,
//! which `make check` counts at its end (tests/summary). Under CI=true a
//! skip is a failure instead.

use std::io::Write;
use std::path::PathBuf;

/// Where `program` is: that path if it holds a slash, else the first on
/// PATH, then in the sbin directories, where the daemons are.
pub fn find(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.exists());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Whether `program`, which the Debian `package` ships, is here. If not,
/// the running test skips (see `skip`).
pub fn need(program: &str, package: &str) -> bool {
    let found = find(program).is_some();
    if !found {
        skip(program, &format!("apt-get install {package}"));
    }
    found
}

/// Whether this process is root. If not, the running test skips.
pub fn need_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        skip("root", "run the tests as root");
    }
    root
}

/// The running test steps aside: it needs `what`, which `how` provides.
/// Under CI=true this panics, failing the test.
pub fn skip(what: &str, how: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let line = format!("SKIP: {test}: needs {what} ({how})");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{line}; with CI=true that is a failure"
    );
    // Straight to stderr: libtest captures what eprintln! prints, and shows
    // it only for a test that fails.
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(file) = std::env::var_os("RMX_SKIPS") {
        // One write of one line in append mode: lines from tests running at
        // once do not mix.
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(error) = appended {
            panic!("{line}, and RMX_SKIPS {}: {error}", file.display());
        }
    }
}
