//! A test run again, alone, in a new process of its own test binary:
//! inside namespaces made for it (tests/rmxsmtpd/log.rs), where no other
//! test's descriptors come and go (tests/dns/sockets.rs), or with another
//! environment (tests/tree/skips.rs). libtest finds a test by its full
//! name, module path included, which is also the name of the test's
//! thread; a test that moves to another module needs no change here.

use std::process::{Command, Output};

/// Set in the environment of a test run again.
const AGAIN: &str = "RMX_TEST_AGAIN";

/// Whether this process is a test run again.
pub fn is_again() -> bool {
    std::env::var_os(AGAIN).is_some()
}

/// The running test's full name, which libtest gives its thread.
pub fn this_test() -> String {
    let thread = std::thread::current();
    thread
        .name()
        .expect("libtest names a test's thread")
        .to_string()
}

/// A command that runs `test` (ignored or not) alone, on one thread, in a
/// new process of this test binary, after `prefix`: a program and its
/// arguments, which run the rest of the command line; or nothing.
pub fn command(test: &str, prefix: &[&str]) -> Command {
    let binary = std::env::current_exe().expect("the test binary");
    let mut command = match prefix.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .args(["--exact", test, "--include-ignored", "--test-threads=1"])
        .env(AGAIN, "1");
    command
}

/// Fails unless `output`, of a `command` for `test`, shows that it ran and
/// passed.
pub fn assert_passed(test: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test}, run again: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
