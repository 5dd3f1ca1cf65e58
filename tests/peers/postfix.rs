//! rmxpolicyd under the real Postfix (rmxpolicyd(8), POSTFIX): Postfix's
//! master, smtpd and spawn(8) running rmxpolicyd, with the manual's
//! examples/postfix fragments loaded as shipped; tinydns and dnscache in
//! front of the test zones (tests/peers/data); swaks as the client.
//!
//! Debian's postfix conflicts with exim, which other tests use, so it is
//! not installed: its package, fetched into target/debs by `apt-get
//! download postfix` (.ci/run does it), is unpacked and laid over /usr
//! inside new PID, mount and network namespaces (tests/peers/postfix/postfix.sh).
//! Nothing on the host changes; every socket is on the namespace's loopback.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::inside::{self, ROOT, sh};

const POLICYD: &str = env!("CARGO_BIN_EXE_rmxpolicyd");
/// The zones (tests/peers/data): 127.0.0.0/24 lists 127.0.0.5 and
/// 127.0.0.6; 127.0.1.0/24 publishes no list.
const LISTED: &str = "127.0.0.5";
const LISTED_TOO: &str = "127.0.0.6";
const UNLISTED: &str = "127.0.0.9";
const UNPUBLISHED: &str = "127.0.1.7";
const TEXT: &str = "Your IP [127.0.0.9] is not listed in Reverse MX! Contact your mail or your network administrator.";

/// Whether this machine can run Postfix here; if not, the test skips
/// (a failure under CI=true).
fn ready() -> Option<PathBuf> {
    let mut ready = crate::support::skip::need_root();
    for (program, package) in [
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
        ("dpkg-deb", "dpkg"),
        ("tinydns", "tinydns"),
        ("tinydns-data", "tinydns"),
        ("dnscache", "dnscache"),
        ("dnsqr", "djbdns-utils"),
        ("swaks", "swaks"),
        ("perl", "perl-base"),
    ] {
        ready &= crate::support::skip::need(program, package);
    }
    let debs = Path::new(ROOT).join("target/debs");
    let deb = fs::read_dir(&debs).ok().and_then(|dir| {
        dir.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("postfix_")
        })
    });
    if deb.is_none() {
        crate::support::skip::skip(
            "target/debs/postfix_*.deb",
            "mkdir -p target/debs && cd target/debs && apt-get download postfix",
        );
    }
    deb.filter(|_| ready)
}

/// What one run of Postfix left: swaks's dialogue and time per session,
/// Postfix's own log, and what reached syslog.
#[derive(Debug)]
struct Ran {
    swaks: Vec<String>,
    ms: Vec<u64>,
    maillog: String,
    syslog: String,
    mailbox: String,
}

impl Ran {
    /// rmxpolicyd's syslog messages: `PID: MESSAGE`, from lines such as
    /// `<22>Nov 30 19:11:08 rmxpolicyd[6259]: MESSAGE`.
    fn policyd(&self) -> Vec<(String, String)> {
        self.syslog
            .lines()
            .filter_map(|l| {
                let (_, rest) = l.split_once(" rmxpolicyd[")?;
                let (pid, message) = rest.split_once("]: ")?;
                Some((pid.to_string(), message.to_string()))
            })
            .collect()
    }

    /// The messages alone.
    fn lines(&self) -> Vec<String> {
        self.policyd().into_iter().map(|(_, m)| m).collect()
    }
}

/// Runs Postfix with rmxpolicyd given `options`, its resolver at
/// `nameserver`, and swaks sending one session per `(source, recipients)`.
fn postfix(deb: &Path, options: &str, nameserver: &str, sends: &[(&str, &str)]) -> Ran {
    let scratch = inside::scratch("postfix");
    let dir = scratch.path();
    let d = dir.display();
    sh(&format!("dpkg-deb -x '{}' '{d}/root'", deb.display()));
    // /etc: the users Postfix wants, a resolver, and the configuration:
    // the test's own settings, then the shipped fragments.
    sh(&format!(
        "mkdir -p '{d}/etc' && cp -a '{d}/root/etc/postfix' '{d}/etc/' && \
         cp /etc/passwd /etc/group '{d}/etc/' && \
         echo 'postfix:x:64990:64990::/nonexistent:/usr/sbin/nologin' >>'{d}/etc/passwd' && \
         printf 'postfix:x:64990:\\npostdrop:x:64991:\\n' >>'{d}/etc/group' && \
         echo 'nameserver {nameserver}' >'{d}/etc/resolv.conf' && \
         mkdir -p '{d}/data' '{d}/spool' && chown 64990 '{d}/data' && mkdir -m 1777 '{d}/mail'"
    ));
    let fixtures = Path::new(ROOT).join("tests/peers/postfix");
    let examples = Path::new(ROOT).join("examples/postfix");
    let conf = |name: &str| {
        let mut text = fs::read_to_string(fixtures.join(name)).unwrap();
        text.push_str(&fs::read_to_string(examples.join(name)).unwrap());
        let text = text.replace("@DIR@", dir.to_str().unwrap());
        let argv = "argv=/usr/local/bin/rmxpolicyd";
        let text = if options.is_empty() {
            text
        } else {
            text.replace(argv, &format!("{argv} {options}"))
        };
        fs::write(dir.join("etc/postfix").join(name), text).unwrap();
    };
    conf("main.cf");
    conf("master.cf");
    let sends: String = sends.iter().map(|(s, r)| format!("{s} {r}\n")).collect();
    fs::write(dir.join("sends"), &sends).unwrap();
    inside::run(
        dir,
        &fixtures.join("postfix.sh"),
        POLICYD,
        &["start.log", "maillog", "syslog"],
    );
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    let count = sends.lines().count();
    Ran {
        swaks: (1..=count).map(|n| read(&format!("swaks.{n}"))).collect(),
        ms: (1..=count)
            .map(|n| read(&format!("ms.{n}")).trim().parse().unwrap_or(u64::MAX))
            .collect(),
        maillog: read("maillog"),
        syslog: read("syslog"),
        mailbox: read("mail/nobody"),
    }
}

/// Whether swaks's session ended with the message queued.
fn delivered(swaks: &str) -> bool {
    swaks.contains("<-  250 2.0.0 Ok: queued")
}

/// The refusal swaks sees at RCPT, and Postfix logs.
fn refused(code: &str, text: &str) -> String {
    format!("{code} <nobody@rmx.test>: Recipient address rejected: {text}")
}

/// Asserts that session `n` (from 1) was refused at RCPT with `reply`,
/// that Postfix's own log shows it, and that nothing was queued.
fn assert_refused(ran: &Ran, n: usize, reply: &str) {
    let swaks = &ran.swaks[n - 1];
    assert!(swaks.contains(&format!("<** {reply}\n")), "{n}: {swaks}");
    assert!(!delivered(swaks), "{n}: {swaks}");
    let logged = "NOQUEUE: reject: RCPT from unknown[";
    let logged = ran
        .maillog
        .lines()
        .any(|l| l.contains(logged) && l.contains(&format!("]: {reply}; from=<sender@")));
    assert!(logged, "{n}: {}", ran.maillog);
}

/// Asserts that session `n` (from 1) was delivered into the mailbox.
fn assert_delivered(ran: &Ran, n: usize) {
    let swaks = &ran.swaks[n - 1];
    assert!(delivered(swaks), "{n}: {swaks}");
    assert!(
        ran.mailbox.contains(&format!("Subject: rmx {n} ")),
        "{n}: {}",
        ran.mailbox
    );
}

/// A listed client delivers, an unlisted one gets 451 4.7.1 at RCPT with
/// the text, and a network with no list delivers. One rmxpolicyd serves
/// every session (smtpd reuses its connection to spawn(8)), each session
/// gets its own verdict, two recipients cost one lookup, and a client seen
/// again within the TTL costs none. The log goes to syslog as mail.info,
/// never to the SMTP client.
#[test]
fn postfix_listed_unlisted_unpublished() {
    let Some(deb) = ready() else { return };
    let ran = postfix(
        &deb,
        "",
        "127.0.0.53",
        &[
            (LISTED, "nobody@rmx.test"),
            (UNLISTED, "nobody@rmx.test"),
            (UNPUBLISHED, "nobody@rmx.test"),
            (LISTED_TOO, "nobody@rmx.test,root@rmx.test"),
            (UNLISTED, "nobody@rmx.test"),
            (LISTED, "nobody@rmx.test"),
        ],
    );
    assert_delivered(&ran, 1);
    assert_refused(&ran, 2, &refused("451 4.7.1", TEXT));
    assert_delivered(&ran, 3);
    assert_delivered(&ran, 4);
    assert!(
        ran.maillog.contains("to=<root@rmx.test>, relay=local"),
        "{}",
        ran.maillog
    );
    assert_refused(&ran, 5, &refused("451 4.7.1", TEXT));
    assert_delivered(&ran, 6);
    let policyd = ran.policyd();
    let pids: std::collections::BTreeSet<&String> = policyd.iter().map(|(p, _)| p).collect();
    assert_eq!(
        pids.len(),
        1,
        "one rmxpolicyd for every session: {policyd:?}"
    );
    let instance = |line: &str| line.split_once("; instance ").map(|(l, _)| l.to_string());
    let lines: Vec<Option<String>> = ran.lines().iter().map(|l| instance(l)).collect();
    assert_eq!(
        lines,
        [
            Some(format!("{LISTED} pass 0.0.127.in-addr.arpa accept")),
            Some(format!(
                "{UNLISTED} fail 0.0.127.in-addr.arpa reject: 451 4.7.1 {TEXT}"
            )),
            Some(format!("{UNPUBLISHED} none - accept")),
            Some(format!("{LISTED_TOO} pass 0.0.127.in-addr.arpa accept")),
        ],
        "one lookup per client: {}",
        ran.syslog
    );
    // syslog(3), facility mail, priority info: <22>.
    assert!(
        ran.syslog.lines().all(|l| l.starts_with("<22>")),
        "{}",
        ran.syslog
    );
    for swaks in &ran.swaks {
        assert!(!swaks.contains("rmxpolicyd"), "{swaks}");
    }
    assert!(
        !ran.maillog.contains("warning: problem talking"),
        "{}",
        ran.maillog
    );
}

/// -b: the refusal is permanent.
#[test]
fn postfix_permanent() {
    let Some(deb) = ready() else { return };
    let ran = postfix(
        &deb,
        "-b",
        "127.0.0.53",
        &[(UNLISTED, "nobody@rmx.test"), (LISTED, "nobody@rmx.test")],
    );
    assert_refused(&ran, 1, &refused("554 5.7.1", TEXT));
    assert_delivered(&ran, 2);
}

/// -s: a network that publishes no list is refused.
#[test]
fn postfix_strict() {
    let Some(deb) = ready() else { return };
    let ran = postfix(
        &deb,
        "-s",
        "127.0.0.53",
        &[
            (UNPUBLISHED, "nobody@rmx.test"),
            (LISTED, "nobody@rmx.test"),
        ],
    );
    let text = TEXT.replace(UNLISTED, UNPUBLISHED);
    assert_refused(&ran, 1, &refused("451 4.7.1", &text));
    assert_delivered(&ran, 2);
}

/// A resolver that never answers: rmxpolicyd answers DUNNO once -T is
/// over, and the mail flows; the log line is a warning (<20>).
#[test]
fn postfix_dead_resolver_fails_open() {
    let Some(deb) = ready() else { return };
    let ran = postfix(&deb, "-T 2", "127.0.0.77", &[(UNLISTED, "nobody@rmx.test")]);
    assert_delivered(&ran, 1);
    assert!(ran.ms[0] < 6_000, "the session took {} ms", ran.ms[0]);
    let lines = ran.lines();
    assert_eq!(lines.len(), 1, "{}", ran.syslog);
    assert!(
        lines[0].starts_with(&format!(
            "{UNLISTED} temperror 0.0.127.in-addr.arpa accept (timeout after 2 s)"
        )),
        "{lines:?}"
    );
    assert!(ran.syslog.starts_with("<20>"), "{}", ran.syslog);
}

/// A resolver that never answers, under -c: 451 4.4.3 at RCPT.
#[test]
fn postfix_dead_resolver_under_c_defers() {
    let Some(deb) = ready() else { return };
    let ran = postfix(
        &deb,
        "-T 2 -c",
        "127.0.0.77",
        &[(UNLISTED, "nobody@rmx.test")],
    );
    let text = "Reverse MX lookup for [127.0.0.9] failed; try again later.";
    assert_refused(&ran, 1, &refused("451 4.4.3", text));
    assert!(ran.ms[0] < 6_000, "the session took {} ms", ran.ms[0]);
}
