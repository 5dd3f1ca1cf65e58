//! A test run again, alone, in a new process of its own test binary:
//! inside namespaces made for it ([`inside`], with a `/dev` of its own
//! where it needs `/dev/log`), where no other
//! test's descriptors come and go (tests/dns/sockets.rs), or with another
//! environment (tests/tree/skips.rs). libtest finds a test by its full
//! name, module path included, which is also the name of the test's
//! thread; a test that moves to another module needs no change here.

use std::path::Path;
use std::process::{Command, Output};

use super::temp::TempDir;

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

/// Runs the calling test again as a new process of this test binary (see
/// this module), under `unshare FLAGS` after the shell commands of `setup`
/// (which see `vars` in their environment, and sbin on PATH). Panics if
/// that run fails; when this machine cannot make the namespaces, says so
/// instead.
pub fn inside(flags: &[&str], setup: &str, vars: &[(&str, &Path)]) {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let probe = root
        && Command::new("unshare")
            .args(flags)
            .arg("true")
            .output()
            .is_ok_and(|o| o.status.success());
    let script = format!("PATH=$PATH:/usr/sbin:/sbin; {setup} || exit 77; exec \"$@\"");
    let prefix = [&["unshare"], flags, &["sh", "-c", &script, "sh"]].concat();
    let test = this_test();
    let mut command = command(&test, &prefix);
    for (name, path) in vars {
        command.env(name, path);
    }
    let output = probe.then(|| command.output().expect("run unshare"));
    match output {
        Some(output) if output.status.code() != Some(77) => {
            assert_passed(
                &format!("{test} inside `unshare {}`", flags.join(" ")),
                &output,
            );
        }
        _ => super::skip::skip(
            &format!("`unshare {}` with mounts inside", flags.join(" ")),
            "run the tests as root",
        ),
    }
}

/// Inside `unshare -m`: `/dev` overlaid with a tmpfs of the namespace's own,
/// where the test binds `/dev/log`. Runs the calling test there.
pub fn with_dev_of_its_own() {
    let dir = TempDir::new("dev");
    inside(
        &["-m"],
        r#"mount -t tmpfs tmpfs "$DIR" && mkdir "$DIR/upper" "$DIR/work" &&
           mount -t overlay overlay -o "lowerdir=/dev,upperdir=$DIR/upper,workdir=$DIR/work" /dev"#,
        &[("DIR", dir.path())],
    );
}
