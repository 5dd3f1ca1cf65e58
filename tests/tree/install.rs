//! `make install`: the four programs and their manual pages arrive under
//! DESTDIR/PREFIX, and `make uninstall` takes exactly those away. The
//! copying half (`make install-files`) runs for real with the binaries this
//! `cargo test` built, since a cargo started from inside `cargo test` would
//! wait on the build lock; the building half is checked from `make -n
//! install`, which must be that cargo build and the same copy.
//! Without cargo on PATH, as under `sudo make install` after a user's
//! `make`, `make install` runs for real in a copy of the tree that holds a
//! release directory and no cargo or rustc anywhere on PATH; and again with
//! Debian 12's own cargo there, too old to build, unpacked from its package.

use std::path::Path;
use std::process::Command;

use crate::support::temp::TempDir;

const RMXSMTPD: &str = env!("CARGO_BIN_EXE_rmxsmtpd");
const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const RMXREPORT: &str = env!("CARGO_BIN_EXE_rmxreport");
const RMXPOLICYD: &str = env!("CARGO_BIN_EXE_rmxpolicyd");
/// What `make install` installs: the programs, as this `cargo test` built
/// them, and their manual pages.
const PROGRAMS: [(&str, &str); 4] = [
    ("rmxsmtpd", RMXSMTPD),
    ("rmxcheck", RMXCHECK),
    ("rmxpolicyd", RMXPOLICYD),
    ("rmxreport", RMXREPORT),
];
const PAGES: [&str; 4] = [
    "man/rmxsmtpd.8",
    "man/rmxcheck.1",
    "man/rmxpolicyd.8",
    "man/rmxreport.1",
];
/// What `make install` leaves under DESTDIR with PREFIX=/usr/local.
const INSTALLED: [&str; 8] = [
    "755 usr/local/bin/rmxcheck",
    "755 usr/local/bin/rmxpolicyd",
    "755 usr/local/bin/rmxreport",
    "755 usr/local/bin/rmxsmtpd",
    "644 usr/local/share/man/man1/rmxcheck.1",
    "644 usr/local/share/man/man1/rmxreport.1",
    "644 usr/local/share/man/man8/rmxpolicyd.8",
    "644 usr/local/share/man/man8/rmxsmtpd.8",
];
/// What `make` passes to rustc for the release build: glibc linked in
/// (crt-static) with the default relocation model, which makes a static
/// position-independent executable, and RELR for its relative relocations.
const RELEASE_RUSTFLAGS: &str =
    "-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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

/// Every file under `dir`, as its path relative to it, by path.
fn paths(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect()
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

/// The host target, as rustc names it.
fn host() -> String {
    let rustc = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc");
    let version = String::from_utf8_lossy(&rustc.stdout);
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn binaries() -> String {
    let dir = Path::new(RMXSMTPD).parent().unwrap();
    assert_eq!(Path::new(RMXCHECK).parent().unwrap(), dir);
    assert_eq!(Path::new(RMXREPORT).parent().unwrap(), dir);
    dir.display().to_string()
}

#[test]
fn install_files_puts_the_programs_and_their_pages_under_destdir() {
    let dir = TempDir::new("install-files");
    let dest = dir.path();
    make(&[
        "install-files",
        "PREFIX=/usr/local",
        &format!("DESTDIR={}", dest.display()),
        &format!("BINARIES={}", binaries()),
    ]);
    assert_eq!(listing(dest), INSTALLED);
    let installed = dest.join("usr/local/bin/rmxcheck");
    assert_eq!(
        std::fs::read(installed).unwrap(),
        std::fs::read(RMXCHECK).unwrap()
    );
    let page = dest.join("usr/local/share/man/man8/rmxsmtpd.8");
    assert_eq!(
        std::fs::read(page).unwrap(),
        std::fs::read(root().join("man/rmxsmtpd.8")).unwrap()
    );
    // The installed programs run from where they landed.
    let output = Command::new(dest.join("usr/local/bin/rmxcheck"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(100));
}

#[test]
fn another_prefix_and_mandir() {
    let dir = TempDir::new("install-prefix");
    let dest = dir.path();
    make(&[
        "install-files",
        "PREFIX=/opt/rmx",
        "MANDIR=/opt/rmx/man",
        &format!("DESTDIR={}", dest.display()),
        &format!("BINARIES={}", binaries()),
    ]);
    assert_eq!(
        paths(dest),
        [
            "opt/rmx/bin/rmxcheck",
            "opt/rmx/bin/rmxpolicyd",
            "opt/rmx/bin/rmxreport",
            "opt/rmx/bin/rmxsmtpd",
            "opt/rmx/man/man1/rmxcheck.1",
            "opt/rmx/man/man1/rmxreport.1",
            "opt/rmx/man/man8/rmxpolicyd.8",
            "opt/rmx/man/man8/rmxsmtpd.8",
        ]
    );
}

/// `make uninstall` with the PREFIX, MANDIR and DESTDIR of an install
/// removes every file that install put there, and leaves alone the other
/// files in the same directories.
#[test]
fn uninstall_removes_what_install_files_put_and_nothing_else() {
    for (tag, settings, others) in [
        (
            "uninstall",
            &["PREFIX=/usr/local"][..],
            ["usr/local/bin/other", "usr/local/share/man/man8/other.8"],
        ),
        (
            "uninstall-prefix",
            &["PREFIX=/opt/rmx", "MANDIR=/opt/rmx/man"][..],
            ["opt/rmx/bin/other", "opt/rmx/man/man1/other.1"],
        ),
    ] {
        let dir = TempDir::new(tag);
        let dest = dir.path();
        let destdir = format!("DESTDIR={}", dest.display());
        let binaries = format!("BINARIES={}", binaries());
        let mut install = vec!["install-files", &destdir, &binaries];
        install.extend(settings);
        make(&install);
        assert_eq!(listing(dest).len(), INSTALLED.len(), "{settings:?}");
        for other in others {
            std::fs::write(dest.join(other), "not ours\n").unwrap();
        }
        let mut uninstall = vec!["uninstall", &destdir];
        uninstall.extend(settings);
        make(&uninstall);
        assert_eq!(
            paths(dest),
            others,
            "{settings:?}: only the files not ours are left"
        );
    }
}

/// The README's `make install PREFIX=/usr/local`: a release build, then the
/// same copying as above (make -n shows the plan without running cargo).
#[test]
fn make_install_builds_then_installs_the_same_files() {
    let dir = TempDir::new("install-plan");
    let dest = dir.join("root");
    let output = make(&[
        "-n",
        "install",
        "PREFIX=/usr/local",
        &format!("DESTDIR={}", dest.display()),
    ]);
    let plan = String::from_utf8_lossy(&output.stdout);
    // Less the check that there is something to install (below).
    let lines: Vec<&str> = plan
        .lines()
        .filter(|line| !line.starts_with("test -x "))
        .collect();
    let d = dest.display();
    // The release build is a static PIE with packed relative relocations,
    // for the host target named explicitly.
    let host = host();
    let release = format!("target/{host}/release");
    assert_eq!(
        lines,
        [
            format!("RUSTFLAGS='{RELEASE_RUSTFLAGS}' cargo build --release --target {host}"),
            "make install-files".to_string(),
            format!(
                "install -d {d}/usr/local/bin {d}/usr/local/share/man/man1 {d}/usr/local/share/man/man8"
            ),
            format!(
                "install -m 755 {release}/rmxsmtpd {release}/rmxcheck {release}/rmxpolicyd {release}/rmxreport {d}/usr/local/bin"
            ),
            format!("install -m 644 man/rmxcheck.1 man/rmxreport.1 {d}/usr/local/share/man/man1"),
            format!("install -m 644 man/rmxsmtpd.8 man/rmxpolicyd.8 {d}/usr/local/share/man/man8"),
        ]
    );
    assert!(!dest.exists(), "make -n installs nothing");
}

/// A copy of the tree's Makefile and manual pages, with the binaries of
/// this `cargo test` where `make` leaves a release build when `built`, and
/// a PATH that holds only what installing takes: no cargo, no rustc.
fn without_cargo(tag: &str, built: bool, changed: bool) -> (TempDir, std::process::Output) {
    with_cargo(tag, built, changed, None)
}

/// The same, with `cargo` on that PATH: its path, and its libraries'
/// directory for the loader.
fn with_cargo(
    tag: &str,
    built: bool,
    changed: bool,
    cargo: Option<(&Path, &Path)>,
) -> (TempDir, std::process::Output) {
    let dir = TempDir::new(tag);
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("man")).unwrap();
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::copy(root().join("Cargo.toml"), tree.join("Cargo.toml")).unwrap();
    std::fs::copy(root().join("Makefile"), tree.join("Makefile")).unwrap();
    for page in PAGES {
        std::fs::copy(root().join(page), tree.join(page)).unwrap();
    }
    if built {
        let release = tree.join(format!("target/{}/release", host()));
        std::fs::create_dir_all(&release).unwrap();
        for (name, exe) in PROGRAMS {
            std::fs::copy(exe, release.join(name)).unwrap();
        }
        // The build is newer than the sources, or older if `changed`.
        let (older, newer) = if changed {
            (release.join("rmxsmtpd"), tree.join("src/lib.rs"))
        } else {
            (tree.join("Cargo.toml"), release.join("rmxsmtpd"))
        };
        std::fs::write(tree.join("src/lib.rs"), "").unwrap();
        let now = std::time::SystemTime::now();
        let set = |path: &Path, time| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .and_then(|f| f.set_modified(time))
                .unwrap()
        };
        set(&older, now - std::time::Duration::from_secs(60));
        set(&newer, now);
    }
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["make", "sh", "sed", "install", "find", "head"] {
        let found = crate::support::skip::find(tool).unwrap_or_else(|| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let mut make = Command::new("make");
    make.env_clear();
    if let Some((cargo, libraries)) = cargo {
        std::os::unix::fs::symlink(cargo, bin.join("cargo")).unwrap();
        make.env("LD_LIBRARY_PATH", libraries);
    }
    let output = make
        .env("PATH", &bin)
        .args(["--no-print-directory", "install", "PREFIX=/usr/local"])
        .arg(format!("DESTDIR={}", dir.join("root").display()))
        .current_dir(&tree)
        .output()
        .expect("run make");
    (dir, output)
}

/// `sudo make install` after `make` as a user: root's PATH has no cargo
/// and no rustc, and what `make` built is installed as it is.
#[test]
fn make_install_without_cargo_installs_what_make_built() {
    let (dir, output) = without_cargo("install-nocargo", true, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "make install: {output:?}");
    assert!(!stderr.contains("cargo"), "{stderr}");
    assert_eq!(listing(&dir.join("root")), INSTALLED);
    assert_eq!(
        std::fs::read(dir.join("root/usr/local/bin/rmxsmtpd")).unwrap(),
        std::fs::read(RMXSMTPD).unwrap()
    );
}

/// Sources changed since `make`, and no cargo to build them again: what
/// was built is installed, with a warning that says so.
#[test]
fn make_install_without_cargo_warns_of_an_older_build() {
    let (dir, output) = without_cargo("install-older", true, true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "make install: {output:?}");
    assert!(
        stderr.contains("make install: warning: the sources changed since make built"),
        "{stderr}"
    );
    assert!(dir.join("root/usr/local/bin/rmxsmtpd").exists());
    // Not when the build is newer than every source.
    let (_, output) = without_cargo("install-newer", true, false);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
}

/// Nothing built and no cargo to build it: one line that says what to do,
/// exit 111, and nothing installed.
#[test]
fn make_install_without_cargo_or_a_build_says_so() {
    let (dir, output) = without_cargo("install-nothing", false, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "make install: {output:?}");
    assert!(
        stderr.contains("make install: nothing built and no cargo on PATH: run make first"),
        "{stderr}"
    );
    assert!(!dir.join("root").exists());
}

/// Debian 12's own cargo, 1.65, and the libraries it needs that a machine
/// may lack, as `.ci/run` downloads them into target/debs.
const OLD_CARGO: [&str; 7] = [
    "cargo",
    "libgit2-1.5",
    "libhttp-parser2.9",
    "libmbedcrypto7",
    "libmbedtls14",
    "libmbedx509-1",
    "libcurl3-gnutls",
];

/// `sudo make install` where root's PATH finds Debian's own cargo, which
/// cannot read an edition 2024 manifest: what `make` built is installed,
/// with a warning that says why nothing was built. The real cargo 1.65,
/// unpacked from its package with its libraries.
#[test]
fn make_install_with_a_cargo_too_old_installs_what_make_built() {
    let debs = root().join("target/debs");
    let found: Vec<std::path::PathBuf> = OLD_CARGO
        .iter()
        .filter_map(|package| {
            std::fs::read_dir(&debs)
                .ok()?
                .map(|entry| entry.unwrap().path())
                .find(|path| {
                    let name = path.file_name().unwrap().to_string_lossy();
                    name.starts_with(&format!("{package}_")) && name.ends_with(".deb")
                })
        })
        .collect();
    if found.len() < OLD_CARGO.len() || !crate::support::skip::need("dpkg-deb", "dpkg") {
        crate::support::skip::skip(
            "Debian's cargo and its libraries in target/debs",
            &format!(
                "mkdir -p target/debs && cd target/debs && apt-get download {}",
                OLD_CARGO.join(" ")
            ),
        );
        return;
    }
    let unpacked = TempDir::new("install-old-cargo");
    for deb in &found {
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb)
            .arg(unpacked.path())
            .status()
            .unwrap();
        assert!(status.success(), "dpkg-deb -x {}", deb.display());
    }
    let cargo = unpacked.join("usr/bin/cargo");
    let libraries = std::fs::read_dir(unpacked.join("usr/lib"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.join("libgit2.so.1.5").exists())
        .expect("libgit2 in an architecture's directory");
    let version = Command::new(&cargo)
        .arg("--version")
        .env("LD_LIBRARY_PATH", &libraries)
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("cargo 1.65."), "{version}");
    let (dir, output) = with_cargo("install-old-cargo", true, false, Some((&cargo, &libraries)));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "make install: {output:?}");
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("a rust-version")
        .trim_matches('"');
    assert!(
        stderr.contains(&format!(
            "make install: warning: cargo 1.65 is older than rust-version {wanted}: \
             installing what make built"
        )),
        "{stderr}"
    );
    assert_eq!(listing(&dir.join("root")), INSTALLED);
    assert_eq!(
        std::fs::read(dir.join("root/usr/local/bin/rmxsmtpd")).unwrap(),
        std::fs::read(RMXSMTPD).unwrap()
    );
}

/// What the program headers and the dynamic section of an ELF64
/// little-endian executable say about how it is loaded.
#[derive(Debug)]
struct Loading {
    /// ET_DYN: position-independent, loaded at a random address.
    position_independent: bool,
    /// A PT_INTERP header: the kernel starts a dynamic loader first.
    interpreter: bool,
    /// DT_RELR: relative relocations packed (RELR).
    relr: bool,
}

fn loading(elf: &[u8]) -> Loading {
    const ET_DYN: u16 = 3;
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const DT_NULL: u64 = 0;
    const DT_RELR: u64 = 36;
    assert_eq!(&elf[..6], b"\x7fELF\x02\x01", "an ELF64 little-endian file");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let phoff = u64_at(32) as usize;
    let (phentsize, phnum) = (usize::from(u16_at(54)), usize::from(u16_at(56)));
    let headers: Vec<usize> = (0..phnum).map(|i| phoff + i * phentsize).collect();
    let mut relr = false;
    for &header in headers.iter().filter(|&&h| u32_at(h) == PT_DYNAMIC) {
        let (offset, size) = (u64_at(header + 8) as usize, u64_at(header + 32) as usize);
        for entry in (offset..offset + size).step_by(16) {
            match u64_at(entry) {
                DT_NULL => break,
                DT_RELR => relr = true,
                _ => {}
            }
        }
    }
    Loading {
        position_independent: u16_at(16) == ET_DYN,
        interpreter: headers.iter().any(|&h| u32_at(h) == PT_INTERP),
        relr,
    }
}

/// The release flags, taken from the Makefile's own plan, build a static
/// position-independent executable with packed relocations, which runs
/// (glibc's static-pie start-up applies the RELR table, or nothing would
/// work) and lands at another address each time (ASLR). A small program
/// stands in for rmxsmtpd: a release build of it from inside `cargo test`
/// would take minutes of a shared machine.
#[test]
fn the_release_flags_make_a_static_pie_with_packed_relocations() {
    let output = make(&["-n", "all"]);
    let plan = String::from_utf8_lossy(&output.stdout);
    let flags = plan
        .lines()
        .find_map(|line| {
            line.strip_prefix("RUSTFLAGS='")?
                .split_once('\'')
                .map(|(f, _)| f)
        })
        .unwrap_or_else(|| panic!("make -n all sets RUSTFLAGS: {plan}"));
    let dir = TempDir::new("install-pie");
    let source = dir.join("where.rs");
    std::fs::write(
        &source,
        "static HERE: u8 = 0;\n\
         fn main() { println!(\"{:p} {:?}\", &HERE, std::env::args().count()); }\n",
    )
    .unwrap();
    let exe = dir.join("where");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .args(flags.split_whitespace())
        .args(["--edition", "2024", "-O", "--target", &host(), "-o"])
        .arg(&exe)
        .arg(&source)
        .status()
        .expect("run rustc");
    assert!(status.success(), "rustc {flags} builds a program");
    let loaded = loading(&std::fs::read(&exe).unwrap());
    assert!(loaded.position_independent, "ET_DYN: {loaded:?}");
    assert!(!loaded.interpreter, "static: {loaded:?}");
    assert!(loaded.relr, "RELR: {loaded:?}");
    let run = || {
        let output = Command::new(&exe).output().expect("run the program");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let (first, second) = (run(), run());
    assert!(first.ends_with(" 1\n"), "{first:?}");
    let randomized = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space")
        .is_ok_and(|setting| setting.trim() != "0");
    if randomized {
        assert_ne!(first, second, "loaded at a new address each run");
    }
}
