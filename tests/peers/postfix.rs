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
const REPORT: &str = env!("CARGO_BIN_EXE_rmxreport");
/// The zones (tests/peers/data): 127.0.0.0/24 lists 127.0.0.5 and
/// 127.0.0.6; 127.0.1.0/24 publishes no list.
const LISTED: &str = "127.0.0.5";
const LISTED_TOO: &str = "127.0.0.6";
const UNLISTED: &str = "127.0.0.9";
const UNPUBLISHED: &str = "127.0.1.7";
const UNLISTED_TOO: &str = "127.0.0.10";
const TEXT: &str = "Your IP [127.0.0.9] is not listed in Reverse MX! Contact your mail or your network administrator.";
/// A resolver that never answers (tests/peers/postfix/postfix.sh).
const DEAD: &str = "127.0.0.77";

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
/// Postfix's own log, what reached syslog, and the mailboxes.
struct Ran {
    swaks: Vec<String>,
    ms: Vec<u64>,
    maillog: String,
    syslog: String,
    dir: PathBuf,
    /// Kept until the run is looked at.
    _scratch: crate::support::temp::TempDir,
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

    /// The mailbox of local user `user`.
    fn mailbox(&self, user: &str) -> String {
        fs::read_to_string(self.dir.join("mail").join(user)).unwrap_or_default()
    }
}

/// How the site is set up: the shipped fragments, and what an
/// administrator changes in them.
struct Site<'a> {
    /// rmxpolicyd's options on master.cf's argv line, in place of the `-n`
    /// it is shipped with.
    options: &'a str,
    /// Where /etc/resolv.conf points.
    nameserver: &'a str,
    /// main.cf settings of the test's own, after the shipped fragment.
    main: &'a str,
    /// The check_client_access line uncommented, and these lines added to
    /// the shipped rmx_exceptions.
    exceptions: Option<&'a str>,
    /// Wait, before stopping Postfix, until syslog has COUNT lines that
    /// match PATTERN ("COUNT PATTERN").
    wait_for: &'a str,
}

const SITE: Site = Site {
    options: "",
    nameserver: "127.0.0.53",
    main: "",
    exceptions: None,
    wait_for: "",
};

/// The shipped argv line of examples/postfix/master.cf.
const ARGV: &str = "argv=/usr/local/bin/rmxpolicyd -n\n";
/// The shipped line of examples/postfix/main.cf that names the exceptions.
const EXCEPTIONS: &str = "#   check_client_access cidr:/etc/postfix/rmx_exceptions,\n";

/// Runs Postfix set up as `site` says, with swaks sending one session per
/// `(source, recipients)`.
fn postfix(deb: &Path, site: &Site, sends: &[(&str, &str)]) -> Ran {
    let scratch = inside::scratch("postfix");
    let dir = scratch.path().to_path_buf();
    let d = dir.display();
    sh(&format!("dpkg-deb -x '{}' '{d}/root'", deb.display()));
    // /etc: the users Postfix wants, a resolver, and the configuration:
    // the test's own settings, then the shipped fragments.
    sh(&format!(
        "mkdir -p '{d}/etc' && cp -a '{d}/root/etc/postfix' '{d}/etc/' && \
         cp /etc/passwd /etc/group '{d}/etc/' && \
         echo 'postfix:x:64990:64990::/nonexistent:/usr/sbin/nologin' >>'{d}/etc/passwd' && \
         printf 'postfix:x:64990:\\npostdrop:x:64991:\\n' >>'{d}/etc/group' && \
         echo 'nameserver {}' >'{d}/etc/resolv.conf' && \
         mkdir -p '{d}/data' '{d}/spool' && chown 64990 '{d}/data' && mkdir -m 1777 '{d}/mail'",
        site.nameserver
    ));
    let fixtures = Path::new(ROOT).join("tests/peers/postfix");
    let examples = Path::new(ROOT).join("examples/postfix");
    let conf = |name: &str, edit: &dyn Fn(String) -> String, after: &str| {
        let mut text = fs::read_to_string(fixtures.join(name)).unwrap_or_default();
        text.push_str(&edit(fs::read_to_string(examples.join(name)).unwrap()));
        text.push_str(after);
        let text = text.replace("@DIR@", dir.to_str().unwrap());
        fs::write(dir.join("etc/postfix").join(name), text).unwrap();
    };
    let replace = |text: String, from: &str, to: &str| {
        assert!(text.contains(from), "the shipped file has {from:?}");
        text.replace(from, to)
    };
    let argv = format!("argv=/usr/local/bin/rmxpolicyd {}", site.options);
    let argv = format!("{}\n", argv.trim_end());
    conf("master.cf", &|text| replace(text, ARGV, &argv), "");
    conf(
        "main.cf",
        &|text| match site.exceptions {
            Some(_) => replace(text, EXCEPTIONS, &EXCEPTIONS[1..]),
            None => text,
        },
        site.main,
    );
    if let Some(more) = site.exceptions {
        conf("rmx_exceptions", &|text| text, more);
    }
    let sends: String = sends.iter().map(|(s, r)| format!("{s} {r}\n")).collect();
    fs::write(dir.join("sends"), &sends).unwrap();
    fs::write(dir.join("await"), site.wait_for).unwrap();
    inside::run(
        &dir,
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
        dir,
        _scratch: scratch,
    }
}

/// Whether swaks's session ended with the message queued.
fn delivered(swaks: &str) -> bool {
    swaks.contains("<-  250 2.0.0 Ok: queued")
}

/// The refusal swaks sees at RCPT, and Postfix logs: a client restriction,
/// delayed to RCPT, names the client and says "Client host rejected".
fn refused(code: &str, client: &str, text: &str) -> String {
    format!("{code} <unknown[{client}]>: Client host rejected: {text}")
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
    let mailbox = ran.mailbox("nobody");
    assert!(
        mailbox.contains(&format!("Subject: rmx {n} ")),
        "{n}: {mailbox}"
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
        &SITE,
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
    assert_refused(&ran, 2, &refused("451 4.7.1", UNLISTED, TEXT));
    assert_delivered(&ran, 3);
    assert_delivered(&ran, 4);
    assert!(
        ran.maillog.contains("to=<root@rmx.test>, relay=local"),
        "{}",
        ran.maillog
    );
    assert_refused(&ran, 5, &refused("451 4.7.1", UNLISTED, TEXT));
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
    let site = Site {
        options: "-b",
        ..SITE
    };
    let ran = postfix(
        &deb,
        &site,
        &[(UNLISTED, "nobody@rmx.test"), (LISTED, "nobody@rmx.test")],
    );
    assert_refused(&ran, 1, &refused("554 5.7.1", UNLISTED, TEXT));
    assert_delivered(&ran, 2);
}

/// -s: a network that publishes no list is refused.
#[test]
fn postfix_strict() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-s",
        ..SITE
    };
    let ran = postfix(
        &deb,
        &site,
        &[
            (UNPUBLISHED, "nobody@rmx.test"),
            (LISTED, "nobody@rmx.test"),
        ],
    );
    let text = TEXT.replace(UNLISTED, UNPUBLISHED);
    assert_refused(&ran, 1, &refused("451 4.7.1", UNPUBLISHED, &text));
    assert_delivered(&ran, 2);
}

/// A resolver that never answers: rmxpolicyd answers DUNNO once -T is
/// over, and the mail flows; the log line is a warning (<20>).
#[test]
fn postfix_dead_resolver_fails_open() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-T 2",
        nameserver: DEAD,
        ..SITE
    };
    let ran = postfix(&deb, &site, &[(UNLISTED, "nobody@rmx.test")]);
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
    let site = Site {
        options: "-T 2 -c",
        nameserver: DEAD,
        ..SITE
    };
    let ran = postfix(&deb, &site, &[(UNLISTED, "nobody@rmx.test")]);
    let text = "Reverse MX lookup for [127.0.0.9] failed; try again later.";
    assert_refused(&ran, 1, &refused("451 4.4.3", UNLISTED, text));
    assert!(ran.ms[0] < 6_000, "the session took {} ms", ran.ms[0]);
}

/// Asserts that Postfix passed over the policy service and said so, and
/// never deferred mail for it (`451 4.3.5 Server configuration problem`).
fn assert_passed_over(ran: &Ran, why: &str) {
    let over = format!("warning: problem talking to server private/rmx: {why}");
    assert!(ran.maillog.contains(&over), "{}", ran.maillog);
    assert!(!ran.maillog.contains("4.3.5"), "{}", ran.maillog);
    for swaks in &ran.swaks {
        assert!(!swaks.contains("4.3.5"), "{swaks}");
    }
}

/// A rmxpolicyd that cannot start (a bad option in master.cf): with the
/// shipped `default_action=DUNNO`, Postfix passes over it, delivers from
/// every client, a client that would be refused too, and logs the
/// fallback; rmxpolicyd's usage line is in syslog, as a warning (<20>).
#[test]
fn postfix_a_policy_service_that_cannot_start_defers_no_mail() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-x",
        ..SITE
    };
    let ran = postfix(
        &deb,
        &site,
        &[(UNLISTED, "nobody@rmx.test"), (LISTED, "nobody@rmx.test")],
    );
    assert_delivered(&ran, 1);
    assert_delivered(&ran, 2);
    assert_passed_over(&ran, "Connection reset by peer");
    let usage = "<20>";
    let lines: Vec<&str> = ran.syslog.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(line.starts_with(usage), "{line}");
        assert!(
            line.contains(" rmxpolicyd[")
                && line.contains("]: usage error: unknown option -x; usage: "),
            "{line}"
        );
    }
}

/// rmxreport's JSON report of syslog lines as received (`<PRI>STAMP
/// TAG[PID]: MESSAGE`), written as a syslog daemon writes them to a file.
fn report(syslog: &str) -> crate::support::json::Value {
    let file: String = syslog
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once('>')?;
            let (stamp, message) = rest.split_at_checked(15)?;
            Some(format!("{stamp} mx{message}\n"))
        })
        .collect();
    let scratch = crate::support::temp::TempDir::new("report");
    let path = scratch.path().join("maillog");
    fs::write(&path, file).unwrap();
    let output = std::process::Command::new(REPORT)
        .arg("-j")
        .arg(&path)
        .env_clear()
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A rmxpolicyd that does not answer within Postfix's
/// smtpd_policy_service_timeout (a resolver that never answers, and -T
/// longer than that): Postfix passes over it, delivers, and logs the
/// fallback. The answer rmxpolicyd writes once Postfix has given up is
/// logged as not delivered, never as an accept, and rmxreport counts no
/// decision from it.
#[test]
fn postfix_a_policy_service_that_never_answers_defers_no_mail() {
    use crate::support::json::At;
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-T 6",
        nameserver: DEAD,
        main: "smtpd_policy_service_timeout = 2s\n",
        wait_for: "1 not delivered",
        ..SITE
    };
    let ran = postfix(&deb, &site, &[(UNLISTED, "nobody@rmx.test")]);
    assert_delivered(&ran, 1);
    assert_passed_over(&ran, "Connection timed out");
    let lines = ran.lines();
    assert!(!lines.is_empty(), "{}", ran.syslog);
    for line in &lines {
        assert!(
            line.starts_with(&format!(
                "fatal: unable to answer: broken pipe; not delivered: {UNLISTED} temperror \
                 0.0.127.in-addr.arpa accept (timeout after 6 s); instance "
            )),
            "{line}"
        );
    }
    let json = report(&ran.syslog);
    assert_eq!(json.int("totals.decisions"), 0, "{json}");
    assert_eq!(json.int("skipped.lines") as usize, lines.len(), "{json}");
}

/// A client whose reverse zone is lame (a resolver that never answers):
/// one lookup per message, not one per recipient. Two messages of three
/// recipients each cost two lookups, of -T each, and both are delivered.
#[test]
fn postfix_a_lame_zone_is_waited_for_once_per_message() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-T 2",
        nameserver: DEAD,
        ..SITE
    };
    let three = "nobody@rmx.test,root@rmx.test,daemon@rmx.test";
    let ran = postfix(&deb, &site, &[(UNLISTED, three), (UNLISTED, three)]);
    assert_delivered(&ran, 1);
    assert_delivered(&ran, 2);
    let instances: Vec<String> = ran
        .lines()
        .iter()
        .map(|line| {
            let want = format!(
                "{UNLISTED} temperror 0.0.127.in-addr.arpa accept (timeout after 2 s); instance "
            );
            assert!(line.starts_with(&want), "{line}");
            line[want.len()..].to_string()
        })
        .collect();
    assert_eq!(instances.len(), 2, "one lookup per message: {}", ran.syslog);
    assert_ne!(instances[0], instances[1]);
}

/// The exceptions, as shipped: main.cf's check_client_access line
/// uncommented, and a line for this client added to the shipped
/// rmx_exceptions. The client is not looked up and its mail is delivered;
/// another client of the same network is still refused.
#[test]
fn postfix_exceptions_before_the_policy_service() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "",
        exceptions: Some("127.0.0.9/32            OK\n"),
        ..SITE
    };
    let ran = postfix(
        &deb,
        &site,
        &[
            (UNLISTED, "nobody@rmx.test"),
            (UNLISTED_TOO, "nobody@rmx.test"),
        ],
    );
    assert_delivered(&ran, 1);
    let text = TEXT.replace(UNLISTED, UNLISTED_TOO);
    assert_refused(&ran, 2, &refused("451 4.7.1", UNLISTED_TOO, &text));
    let lines = ran.lines();
    assert_eq!(lines.len(), 1, "{}", ran.syslog);
    assert!(
        lines[0].starts_with(&format!("{UNLISTED_TOO} fail ")),
        "{lines:?}"
    );
    // Postfix reads the shipped table, its comments and IPv6 line too,
    // without a word.
    let table = ran.maillog.lines().find(|l| l.contains("rmx_exceptions"));
    assert_eq!(table, None, "{}", ran.maillog);
}

/// A trial: the shipped -n, with -H. Each message carries one X-Reverse-MX
/// header, however many recipients it has: the result and what
/// rmxpolicyd would do.
#[test]
fn postfix_a_trial_marks_each_message_once() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-n -H",
        ..SITE
    };
    let three = "nobody@rmx.test,root@rmx.test,daemon@rmx.test";
    let ran = postfix(
        &deb,
        &site,
        &[(UNLISTED, three), (LISTED, "nobody@rmx.test")],
    );
    assert_delivered(&ran, 1);
    assert_delivered(&ran, 2);
    let fail = format!(
        "X-Reverse-MX: fail (would refuse: {UNLISTED} is not listed in 0.0.127.in-addr.arpa)\n"
    );
    let pass = format!("X-Reverse-MX: pass (accept: {LISTED} is listed in 0.0.127.in-addr.arpa)\n");
    for user in ["nobody", "root", "daemon"] {
        let mailbox = ran.mailbox(user);
        let first = mailbox.split("\nFrom ").next().unwrap();
        assert!(first.contains("Subject: rmx 1 "), "{user}: {mailbox}");
        assert_eq!(
            first.matches("X-Reverse-MX:").count(),
            1,
            "{user}: {mailbox}"
        );
        assert!(first.contains(&fail), "{user}: {mailbox}");
    }
    let second = ran.mailbox("nobody");
    let second = second.split("\nFrom ").nth(1).unwrap();
    assert_eq!(second.matches("X-Reverse-MX:").count(), 1, "{second}");
    assert!(second.contains(&pass), "{second}");
}

/// spawn(8) clears the environment: DNSCACHEIP reaches rmxpolicyd only
/// through main.cf, as rmxpolicyd(8) says: a name=value in
/// import_environment, and the name in export_environment. Here
/// /etc/resolv.conf names a resolver that never answers, and DNSCACHEIP
/// dnscache: the lookup is answered.
#[test]
fn postfix_dnscacheip_through_export_environment() {
    let Some(deb) = ready() else { return };
    let site = Site {
        options: "-T 2",
        nameserver: DEAD,
        main: "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY \
               LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME DNSCACHEIP=127.0.0.53\n\
               export_environment = TZ MAIL_CONFIG LANG DNSCACHEIP\n",
        ..SITE
    };
    let ran = postfix(&deb, &site, &[(UNLISTED, "nobody@rmx.test")]);
    assert_refused(&ran, 1, &refused("451 4.7.1", UNLISTED, TEXT));
}
