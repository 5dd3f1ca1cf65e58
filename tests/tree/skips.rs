//! The skips of `make check` are seen and counted: a test that lacks a
//! program says so on stderr past libtest's capture and in the RMX_SKIPS
//! file (tests/support/skip.rs); a lint that lacks its tool does the same
//! (tests/skip); tests/summary turns cargo's count and those lines into the
//! true count at the end of the run. Under CI=true a skip fails.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::again;
use crate::support::temp::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The probe's full name, as libtest gives it and its skip line shows it:
/// this module's path less the crate's name, then the function's.
fn probe_name() -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::skip_probe"),
        None => "skip_probe".to_string(),
    }
}

/// The probe's skip line.
fn probe_line() -> String {
    format!(
        "SKIP: {}: needs rmx-no-such-tool (apt-get install rmx-no-such-package)",
        probe_name()
    )
}

/// Run only by the tests below, in a child whose PATH lacks the tool.
#[test]
#[ignore = "run by a_test_that_lacks_a_program_is_seen_and_counted"]
fn skip_probe() {
    assert!(!crate::support::skip::need(
        "rmx-no-such-tool",
        "rmx-no-such-package"
    ));
}

/// This test binary running `skip_probe` alone, with an empty PATH, its
/// skips written to `skips`, CI set to `ci` or not set.
fn probe(skips: &Path, ci: Option<&str>) -> Output {
    let mut command = again::command(&probe_name(), &[]);
    command
        .env("PATH", "")
        .env("RMX_SKIPS", skips)
        .env_remove("CI");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// tests/summary over cargo's `output` and the `skips` file.
fn summary(dir: &TempDir, output: &str, skips: &Path) -> String {
    let file = dir.join("output");
    std::fs::write(&file, output).unwrap();
    let run = Command::new(Path::new(ROOT).join("tests/summary"))
        .arg(&file)
        .arg(skips)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    text(&run.stdout)
}

#[test]
fn a_test_that_lacks_a_program_is_seen_and_counted() {
    let line = probe_line();
    let dir = TempDir::new("skips");
    let skips = dir.join("skips");
    let child = probe(&skips, None);
    assert!(child.status.success(), "{child:?}");
    let stdout = text(&child.stdout);
    // Passed, as far as cargo can tell; seen on stderr all the same.
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
    assert_eq!(text(&child.stderr), format!("{line}\n"));
    assert_eq!(
        std::fs::read_to_string(&skips).unwrap(),
        format!("{line}\n")
    );
    // The end of the run: the line again, what to install, the true count.
    assert_eq!(
        summary(&dir, &stdout, &skips),
        format!(
            "{line}\n\
             skipped 1 check; to run them: apt-get install rmx-no-such-package\n\
             0 passed, 0 failed, 1 skipped\n"
        )
    );
}

#[test]
fn under_ci_a_test_that_lacks_a_program_fails() {
    let line = probe_line();
    let dir = TempDir::new("skips-ci");
    let skips = dir.join("skips");
    let child = probe(&skips, Some("true"));
    assert!(!child.status.success(), "{child:?}");
    let stdout = text(&child.stdout);
    assert!(
        stdout.contains(&format!("{line}; with CI=true that is a failure")),
        "{stdout}"
    );
    assert!(!skips.exists());
}

/// tests/skip, as the Makefile runs it for a missing mandoc, with `ci`.
fn lint_skip(skips: &Path, ci: &str) -> Output {
    Command::new(Path::new(ROOT).join("tests/skip"))
        .args(["make lint-man", "mandoc", "apt-get install mandoc"])
        .env("RMX_SKIPS", skips)
        .env("CI", ci)
        .output()
        .unwrap()
}

#[test]
fn a_lint_that_lacks_its_tool_is_seen_and_counted_apart_from_the_tests() {
    const LINT: &str = "SKIP: make lint-man: needs mandoc (apt-get install mandoc)";
    let (line, probe) = (probe_line(), probe_name());
    let dir = TempDir::new("skips-lint");
    let skips = dir.join("skips");
    let run = lint_skip(&skips, "");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(text(&run.stderr), format!("{LINT}\n"));
    // Two tests skipped, the same one twice for two programs, and the lint:
    // three checks skipped, of which two cargo counted as passed.
    std::fs::write(
        &skips,
        format!(
            "{}{line}\n{line}\nSKIP: {probe}: needs nsd (apt-get install nsd)\n",
            std::fs::read_to_string(&skips).unwrap()
        ) + "SKIP: other: needs root (run the tests as root)\n",
    )
    .unwrap();
    let output = "test result: ok. 7 passed; 0 failed; 1 ignored\n\
                  test result: FAILED. 2 passed; 1 failed; 0 ignored\n";
    let shown = summary(&dir, output, &skips);
    let last: Vec<&str> = shown.lines().rev().take(2).collect();
    assert_eq!(
        last,
        [
            "7 passed, 1 failed, 3 skipped",
            "skipped 3 checks; to run them: apt-get install mandoc nsd \
             rmx-no-such-package; run the tests as root",
        ]
    );
    assert_eq!(shown.lines().filter(|l| l.starts_with("SKIP: ")).count(), 5);
    // Under CI=true the lint fails and writes nothing to count.
    let dir = TempDir::new("skips-lint-ci");
    let skips = dir.join("skips");
    let run = lint_skip(&skips, "true");
    assert!(!run.status.success(), "{run:?}");
    assert!(!skips.exists());
}
