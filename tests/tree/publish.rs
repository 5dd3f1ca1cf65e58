//! The zones of examples/publish served by each DNS server a network owner
//! may run, from its Debian package, through the example written for it
//! (nsd.conf, BIND's named.conf, Knot's knot.conf, PowerDNS's pdns.conf with
//! its bind backend, tinydns's data), as shipped but for the paths where the
//! zone files lie; each on 127.0.0.1 port 53 inside a network namespace of
//! the test's own, started once; and the real rmxcheck asking it. Every
//! verdict the examples write in their comments (`rmxcheck -p ARGS =>
//! LINE`), and every rmxcheck session of the README and rmxcheck(1), output
//! and exit status, holds against each; each server's own checker accepts
//! the files. An RFC 2317 delegation is served as receivers meet it: the
//! ISP's and the customer's tinydns, behind a dnscache.
//!
//! A missing server prints a line saying what to install and ends the
//! test; under CI=true it fails the test instead.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::examples::{normal, read, root, unfold};
use crate::support::again;
use crate::support::skip::{need, need_root};
use crate::support::temp::TempDir;

const RMXCHECK: &str = env!("CARGO_BIN_EXE_rmxcheck");
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the servers answer, inside the namespace.
const DNS: &str = "127.0.0.1";
/// The longest a server may take to start.
const START: Duration = Duration::from_secs(20);

fn publish() -> PathBuf {
    root().join("examples/publish")
}

/// The zone files, by name.
fn zone_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(publish())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "zone"))
        .collect();
    files.sort();
    files
}

/// The origin of a zone file: its name less `.zone`.
fn origin(file: &Path) -> String {
    file.file_stem().unwrap().to_string_lossy().into_owned()
}

// ---- Documented verdicts ---------------------------------------------------

/// `rmxcheck -p ARGS  =>  LINE` in the comments of an example file.
fn documented(path: &Path) -> Vec<(Vec<String>, String)> {
    read(path)
        .lines()
        .filter_map(|line| {
            let text = line.trim_start_matches([';', '#', ' ', '\t']);
            let rest = text.strip_prefix("rmxcheck -p ")?;
            let (args, want) = rest.split_once("=>")?;
            let args = args.split_whitespace().map(str::to_string).collect();
            Some((args, want.trim().to_string()))
        })
        .collect()
}

/// The exit status rmxcheck gives for one target with this result.
fn status_of(line: &str) -> i32 {
    match line.split(' ').nth(1) {
        Some("pass") => 0,
        Some("fail") => 1,
        Some("none") => 2,
        _ => 111,
    }
}

/// rmxcheck with these arguments, asking only `dns`: its output and status.
fn rmxcheck(dns: &str, args: &[&str]) -> (String, i32) {
    let output = Command::new(RMXCHECK)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DNSCACHEIP", dns)
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

/// Every documented verdict of these files, checked against `dns`.
fn check_documented(dns: &str, files: &[PathBuf]) -> usize {
    let mut checked = 0;
    for file in files {
        for (args, want) in documented(file) {
            let mut all = vec!["-p"];
            all.extend(args.iter().map(String::as_str));
            let (got, status) = rmxcheck(dns, &all);
            let shown = format!("{}: rmxcheck {}", file.display(), all.join(" "));
            assert_eq!(got.trim_end(), want, "{shown}");
            assert_eq!(status, status_of(&want), "exit status of {shown}");
            checked += 1;
        }
    }
    checked
}

/// `$ rmxcheck ...` lines in literal displays, with the output and exit
/// status shown after them: (arguments, output, status).
fn sessions(text: &str) -> Vec<(Vec<String>, String, Option<i32>)> {
    let mut found: Vec<(Vec<String>, String, Option<i32>)> = Vec::new();
    let mut in_session = false;
    let mut last_was_echo = false;
    for line in unfold(text).lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            last_was_echo = command == "echo $?";
            in_session = command.starts_with("rmxcheck ");
            if in_session {
                let args = command.split_whitespace().skip(1).map(str::to_string);
                found.push((args.collect(), String::new(), None));
            }
            continue;
        }
        if line.starts_with('.') || line.starts_with("```") {
            in_session = false;
            last_was_echo = false;
            continue;
        }
        let Some(last) = found.last_mut() else {
            continue;
        };
        if last_was_echo {
            last.2 = Some(line.trim().parse().expect("an exit status after echo $?"));
            last_was_echo = false;
        } else if in_session {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    found
}

fn check_sessions(dns: &str, document: &str, text: &str) -> usize {
    let found = sessions(text);
    for (args, want, status) in &found {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, code) = rmxcheck(dns, &args);
        assert_eq!(got, *want, "{document}: $ rmxcheck {}", args.join(" "));
        if let Some(status) = status {
            assert_eq!(
                code, *status,
                "{document}: exit status of rmxcheck {args:?}"
            );
        }
    }
    found.len()
}

/// What every server of the examples must give: the verdicts that the zone
/// files and the tinydns data document, and the README's and rmxcheck(1)'s
/// sessions.
fn check_the_examples(dns: &str) {
    let mut files = zone_files();
    files.push(publish().join("tinydns/data"));
    let checked = check_documented(dns, &files);
    assert!(checked >= 15, "only {checked} documented verdicts");
    let manual = check_sessions(dns, "rmxcheck.1", &read(&root().join("man/rmxcheck.1")));
    assert!(manual >= 3, "the manual shows rmxcheck sessions");
    let readme = check_sessions(dns, "README.md", &read(&root().join("README.md")));
    assert!(readme >= 1, "the README shows an rmxcheck session");
}

// ---- Servers ---------------------------------------------------------------

/// Runs the calling test again inside a network namespace of its own, its
/// loopback up, and says whether this is that run. Outside, it first
/// checks for `programs` and root, and steps aside without them.
fn inside(programs: &[(&str, &str)]) -> bool {
    if again::is_again() {
        return true;
    }
    let mut ready = need_root() && need("unshare", "util-linux") && need("ip", "iproute2");
    for (program, package) in programs {
        ready &= need(program, package);
    }
    if ready {
        let test = again::this_test();
        let setup = "ip link set lo up || exit 1; exec \"$@\"";
        // A PID namespace too: whatever the test started ends with it.
        let unshare = ["unshare", "--net", "--pid", "--fork", "--kill-child"];
        let prefix = [&unshare[..], &["sh", "-c", setup, "sh"]].concat();
        let output = again::command(&test, &prefix)
            .output()
            .expect("run unshare");
        again::assert_passed(&format!("{test} inside `unshare -n`"), &output);
    }
    false
}

/// A DNS server in the foreground, its output in a file of its scratch
/// directory, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    dir: TempDir,
}

impl Server {
    /// Starts `command`, and waits until it is bound to `ip` port 53 and
    /// its output says `started` (each of them, for a list).
    fn start(mut command: Command, dir: TempDir, ip: &str, started: &[&str]) -> Server {
        let log = fs::File::create(dir.join("server.log")).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the server");
        let server = Server { child, dir };
        let deadline = Instant::now() + START;
        while !(bound_to_53(ip) && started.iter().all(|s| server.log().contains(s))) {
            assert!(
                Instant::now() < deadline,
                "the server did not start:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Whether a UDP socket is bound to `ip` port 53.
fn bound_to_53(ip: &str) -> bool {
    let hex: String = ip
        .split('.')
        .rev()
        .map(|octet| format!("{:02X}", octet.parse::<u8>().unwrap()))
        .collect();
    let bound = format!(" {hex}:0035 ");
    fs::read_to_string("/proc/net/udp").is_ok_and(|t| t.contains(&bound))
}

/// `text` with the directory an example names for the zone files replaced
/// by examples/publish, where they are.
fn zones_at(text: &str, named: &str) -> String {
    text.replace(named, &format!("{}/", publish().display()))
}

/// Runs `checker` with `args`; it must succeed.
fn checks(checker: &str, args: &[&str]) {
    let output = Command::new(checker).args(args).output().unwrap();
    assert!(output.status.success(), "{checker} {args:?}: {output:?}");
}

/// Runs `checker` with `options`, then each zone's origin and file; it must
/// accept every zone.
fn checks_each_zone(checker: &str, options: &[&str]) {
    for file in zone_files() {
        let (origin, file) = (origin(&file), file.display().to_string());
        let mut args = options.to_vec();
        args.extend([origin.as_str(), file.as_str()]);
        checks(checker, &args);
    }
}

// ---- The server configurations --------------------------------------------

/// Each server's configuration names every zone file, and nothing else.
#[test]
fn every_zone_file_is_in_every_server_configuration() {
    let files: BTreeSet<String> = zone_files().iter().map(|f| origin(f)).collect();
    let names = |file: &str, prefix: &str, suffix: &str| -> BTreeSet<String> {
        read(&publish().join(file))
            .lines()
            .filter_map(|l| l.trim().strip_prefix(prefix)?.strip_suffix(suffix))
            .map(|name| name.trim_matches('"').to_string())
            .collect()
    };
    assert_eq!(names("nsd.conf", "name: ", ""), files, "nsd.conf");
    assert_eq!(
        names("nsd.conf", "zonefile: \"", ".zone\""),
        files,
        "nsd.conf's files"
    );
    assert_eq!(names("named.conf", "zone \"", "\" {"), files, "named.conf");
    assert_eq!(
        names("named.conf", "file \"/etc/bind/", ".zone\";"),
        files,
        "named.conf's files"
    );
    assert_eq!(names("knot.conf", "- domain: ", ""), files, "knot.conf");
    // The tinydns data holds each zone's SOA and NS.
    let data = names("tinydns/data", ".", "::ns1.example.net");
    let data: BTreeSet<String> = data
        .into_iter()
        .chain(names("tinydns/data", ".", "::ns2.example.net"))
        .collect();
    assert_eq!(data, files, "tinydns/data");
}

// ---- NSD -------------------------------------------------------------------

#[test]
fn nsd_serves_the_examples() {
    if !inside(&[
        ("nsd", "nsd"),
        ("nsd-checkconf", "nsd"),
        ("nsd-checkzone", "nsd"),
    ]) {
        return;
    }
    checks_each_zone("nsd-checkzone", &[]);
    let dir = TempDir::new("publish-nsd");
    let at = |name: &str| dir.join(name).display().to_string();
    let conf = format!(
        "server:\n\tip-address: {DNS}@53\n\tusername: \"\"\n\tchroot: \"\"\n\
         \tdatabase: \"\"\n\tzonesdir: \"{}\"\n\tpidfile: \"{}\"\n\txfrdfile: \"{}\"\n\
         \tzonelistfile: \"{}\"\n\tverbosity: 1\n\
         remote-control:\n\tcontrol-enable: no\ninclude: \"{}\"\n",
        publish().display(),
        at("nsd.pid"),
        at("xfrd.state"),
        at("zone.list"),
        publish().join("nsd.conf").display(),
    );
    fs::write(dir.join("nsd.conf"), conf).unwrap();
    checks("nsd-checkconf", &[&at("nsd.conf")]);
    let mut command = Command::new("nsd");
    command.args(["-d", "-c", &at("nsd.conf")]);
    let loaded: Vec<String> = zone_files()
        .iter()
        .map(|f| format!("zone {} read with success", origin(f)))
        .collect();
    let loaded: Vec<&str> = loaded.iter().map(String::as_str).collect();
    let _nsd = Server::start(command, dir, DNS, &loaded);
    check_the_examples(DNS);
    // The report in full, IPv6 and null MX.
    let (report, status) = rmxcheck(DNS, &["2001:db8:1:2::25", "203.0.113.7"]);
    assert_eq!(
        report,
        "2001:db8:1:2::25\n\
         \x20 /64 2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa: NODATA (no MX records): no list\n\
         \x20 /48 1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa: list of 1 exchange\n\
         \x20   MX 10 mx1.example.net: 2001:db8:1:2::25  <- matches\n\
         \x20 result: pass: 2001:db8:1:2::25 is an address of mx1.example.net, listed at \
         1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa\n\
         \n\
         203.0.113.7\n\
         \x20 /24 113.0.203.in-addr.arpa: null MX: the empty list, no host may send\n\
         \x20 result: fail: 113.0.203.in-addr.arpa publishes a null MX: no host of that \
         network may send\n"
    );
    assert_eq!(status, 1);
}

// ---- BIND ------------------------------------------------------------------

#[test]
fn bind_serves_the_examples() {
    if !inside(&[
        ("named", "bind9"),
        ("named-checkconf", "bind9-utils"),
        ("named-checkzone", "bind9-utils"),
    ]) {
        return;
    }
    let example = publish().join("named.conf");
    checks("named-checkconf", &[&example.display().to_string()]);
    checks_each_zone("named-checkzone", &[]);
    let dir = TempDir::new("publish-bind");
    let d = dir.path().display();
    fs::write(
        dir.join("zones.conf"),
        zones_at(&read(&example), "/etc/bind/"),
    )
    .unwrap();
    let conf = format!(
        "options {{\n\tdirectory \"{d}\";\n\tlisten-on port 53 {{ {DNS}; }};\n\
         \tlisten-on-v6 {{ none; }};\n\trecursion no;\n\tdnssec-validation no;\n\
         \tpid-file \"{d}/named.pid\";\n\tsession-keyfile \"{d}/session.key\";\n}};\n\
         include \"{d}/zones.conf\";\n"
    );
    fs::write(dir.join("named.conf"), conf).unwrap();
    let config = dir.join("named.conf").display().to_string();
    checks("named-checkconf", &["-z", &config]);
    let mut command = Command::new("named");
    command.args(["-g", "-c", &config]);
    let _named = Server::start(command, dir, DNS, &["all zones loaded"]);
    check_the_examples(DNS);
}

// ---- Knot DNS --------------------------------------------------------------

#[test]
fn knot_serves_the_examples() {
    if !inside(&[
        ("knotd", "knot"),
        ("knotc", "knot"),
        ("kzonecheck", "knot-dnssecutils"),
    ]) {
        return;
    }
    checks_each_zone("kzonecheck", &["-o"]);
    // Debian's default template, with examples/publish as its storage; the
    // example's zone section as shipped.
    let dir = TempDir::new("publish-knot");
    let d = dir.path().display();
    let conf = format!(
        "server:\n    rundir: \"{d}\"\n    listen: {DNS}@53\n\
         log:\n  - target: stderr\n    any: info\n\
         database:\n    storage: \"{d}\"\n\
         template:\n  - id: default\n    storage: \"{}\"\n    file: \"%s.zone\"\n\
         \x20   zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n\
         include: \"{}\"\n",
        publish().display(),
        publish().join("knot.conf").display()
    );
    fs::write(dir.join("knot.conf"), conf).unwrap();
    let config = dir.join("knot.conf").display().to_string();
    checks("knotc", &["-c", &config, "conf-check"]);
    let mut command = Command::new("knotd");
    command.args(["-c", &config]);
    let loaded: Vec<String> = zone_files()
        .iter()
        .map(|f| format!("[{}.] loaded, serial", origin(f)))
        .collect();
    let loaded: Vec<&str> = loaded.iter().map(String::as_str).collect();
    let _knotd = Server::start(command, dir, DNS, &loaded);
    check_the_examples(DNS);
}

// ---- PowerDNS --------------------------------------------------------------

#[test]
fn powerdns_serves_the_examples() {
    // The backend is a library in an architecture's directory.
    let backend = fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .map(|entry| entry.unwrap().path().join("pdns/libbindbackend.so"))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/lib/ARCH/pdns/libbindbackend.so"));
    if !inside(&[
        ("pdns_server", "pdns-server"),
        ("pdnsutil", "pdns-server"),
        (&backend.display().to_string(), "pdns-backend-bind"),
    ]) {
        return;
    }
    // pdns.conf as shipped, pointing at BIND's zone stanzas, and the
    // settings of this test: the address, no daemon, no security poll.
    let dir = TempDir::new("publish-pdns");
    let d = dir.path().display();
    let zones = dir.join("named.conf");
    fs::write(
        &zones,
        zones_at(&read(&publish().join("named.conf")), "/etc/bind/"),
    )
    .unwrap();
    let mut conf = read(&publish().join("pdns.conf"))
        .replace("/etc/powerdns/named.conf", &zones.display().to_string());
    conf.push_str(&format!(
        "local-address={DNS}\nlocal-port=53\nsocket-dir={d}\nguardian=no\ndaemon=no\n\
         security-poll-suffix=\n"
    ));
    fs::write(dir.join("pdns.conf"), conf).unwrap();
    let config_dir = format!("--config-dir={d}");
    let mut command = Command::new("pdns_server");
    command.arg(&config_dir);
    let ready = format!(
        "Done parsing domains, 0 rejected, {} new",
        zone_files().len()
    );
    let _pdns = Server::start(
        command,
        dir,
        DNS,
        &[
            &ready,
            "Done launching threads, ready to distribute questions",
        ],
    );
    for file in zone_files() {
        checks("pdnsutil", &[&config_dir, "check-zone", &origin(&file)]);
    }
    check_the_examples(DNS);
}

// ---- tinydns ---------------------------------------------------------------

/// The data file at `path` compiled by tinydns-data in a scratch directory.
fn tinydns_root(tag: &str, path: &Path) -> TempDir {
    let dir = TempDir::new(tag);
    fs::copy(path, dir.join("data")).unwrap();
    let compiled = Command::new("tinydns-data")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(compiled.status.success(), "tinydns-data: {compiled:?}");
    dir
}

/// tinydns serving `root` on `ip` port 53.
fn tinydns(root: TempDir, ip: &str) -> Server {
    let mut command = Command::new("tinydns");
    command
        .env_clear()
        .env("PATH", PATH)
        .env("ROOT", root.path())
        .env("IP", ip)
        .env("UID", "0")
        .env("GID", "0");
    Server::start(command, root, ip, &[])
}

const TINYDNS: [(&str, &str); 2] = [("tinydns", "tinydns"), ("tinydns-data", "tinydns")];

#[test]
fn tinydns_serves_the_examples() {
    if !inside(&TINYDNS) {
        return;
    }
    let root = tinydns_root("publish-tinydns", &publish().join("tinydns/data"));
    let _tinydns = tinydns(root, DNS);
    check_the_examples(DNS);
}

/// The small tinydns data file that the README points at and rmxsmtpd(8)
/// shows, as a reader would copy it into tinydns's `data`, served by a real
/// tinydns: the README's rmxcheck session gives the output printed there,
/// with no warning. (Without the `.` lines, tinydns drops every query and
/// rmxcheck says temperror after 10 s.)
#[test]
fn the_small_tinydns_data_serves_the_readme_verdicts() {
    let readme = read(&root().join("README.md"));
    let path = "examples/publish/tinydns/small/data";
    assert!(readme.contains(path), "the README points at {path}");
    let snippet = read(&root().join(path));
    let records: Vec<String> = snippet
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(normal)
        .collect();
    assert!(records.len() >= 5, "{snippet}");
    let page = read(&root().join("man/rmxsmtpd.8"));
    let manual: Vec<String> = page
        .split("file; the\n")
        .nth(1)
        .and_then(|rest| rest.split(".Bd -literal -offset indent\n").nth(1))
        .and_then(|rest| rest.split("\n.Ed").next())
        .expect("the manual's tinydns-data display")
        .lines()
        .map(normal)
        .collect();
    assert_eq!(manual, records, "the manual shows the records of {path}");
    if !inside(&TINYDNS) {
        return;
    }
    let _tinydns = tinydns(tinydns_root("publish-small", &root().join(path)), DNS);
    let sessions = sessions(&readme);
    assert!(!sessions.is_empty(), "the README shows an rmxcheck session");
    for (args, want, _) in sessions {
        let output = Command::new(RMXCHECK)
            .env_clear()
            .env("DNSCACHEIP", DNS)
            .args(&args)
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&output.stdout);
        assert_eq!(got, want, "{path} in tinydns: rmxcheck {args:?}");
        // rmxcheck(1): 111 for any temperror, else 1 for any fail, else 2
        // for any none, else 0.
        let statuses: Vec<i32> = want.lines().map(status_of).collect();
        let overall = [111, 1, 2]
            .into_iter()
            .find(|s| statuses.contains(s))
            .unwrap_or(0);
        assert_eq!(output.status.code(), Some(overall), "rmxcheck {args:?}");
        assert!(output.stderr.is_empty(), "warnings: {output:?}");
    }
}

/// A /29 delegated by RFC 2317, as a receiver meets it: the ISP's tinydns
/// (examples/publish/tinydns/rfc2317/isp/data) on 127.0.0.2, the
/// customer's (customer/data) on 127.0.0.3, and dnscache on 127.0.0.53,
/// which knows where each zone is and follows the ISP's CNAME to the
/// customer's zone. The verdicts the ISP's file documents hold there.
#[test]
fn an_rfc_2317_delegation_gives_the_documented_verdicts_through_dnscache() {
    let mut programs = TINYDNS.to_vec();
    programs.push(("dnscache", "dnscache"));
    if !inside(&programs) {
        return;
    }
    let example = publish().join("tinydns/rfc2317");
    let _isp = tinydns(
        tinydns_root("rfc2317-isp", &example.join("isp/data")),
        "127.0.0.2",
    );
    let _customer = tinydns(
        tinydns_root("rfc2317-customer", &example.join("customer/data")),
        "127.0.0.3",
    );
    let cache = TempDir::new("rfc2317-dnscache");
    fs::create_dir_all(cache.join("ip")).unwrap();
    fs::create_dir_all(cache.join("servers")).unwrap();
    fs::write(cache.join("ip/127"), "").unwrap();
    for (zone, server) in [
        ("@", "127.0.0.2"),
        ("113.0.203.in-addr.arpa", "127.0.0.2"),
        ("8-15.113.0.203.in-addr.arpa", "127.0.0.3"),
        ("example.org", "127.0.0.3"),
    ] {
        fs::write(cache.join("servers").join(zone), format!("{server}\n")).unwrap();
    }
    // dnscache reads a seed of 128 bytes on its standard input.
    let mut seed = [0u8; 128];
    std::io::Read::read_exact(&mut fs::File::open("/dev/urandom").unwrap(), &mut seed).unwrap();
    let mut command = Command::new("dnscache");
    command
        .env_clear()
        .env("PATH", PATH)
        .env("IP", "127.0.0.53")
        .env("IPSEND", "0.0.0.0")
        .env("CACHESIZE", "1000000")
        .env("ROOT", cache.path())
        .env("UID", "0")
        .env("GID", "0")
        .stdin(Stdio::piped());
    let log = fs::File::create(cache.join("dnscache.log")).unwrap();
    let mut dnscache = command
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut stdin = dnscache.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &seed).unwrap();
    drop(stdin);
    let deadline = Instant::now() + START;
    while !bound_to_53("127.0.0.53") {
        assert!(Instant::now() < deadline, "dnscache on 127.0.0.53");
        std::thread::sleep(Duration::from_millis(50));
    }
    let checked = check_documented("127.0.0.53", &[example.join("isp/data")]);
    let _ = dnscache.kill();
    let _ = dnscache.wait();
    assert!(checked >= 4, "only {checked} documented verdicts");
}
