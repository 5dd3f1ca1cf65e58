//! The rmxsmtpd binary end to end, against the scriptable DNS responder and
//! around the reporter program (rmxsmtpd(8)): every row of the results
//! table, the clients of a network that lists two MTAs, list shapes, exec
//! hygiene, the held session, temperror and usage errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::responder::{Behaviour, DeadServer, Responder, Zone};
use crate::support::wrapper::{BIN, Outcome, Wrapper, inherited_fds, reporter};

const LISTED: &str = "198.51.100.5";
const UNLISTED: &str = "198.51.100.10";
const UNPUBLISHED: &str = "203.0.113.7";
const ZONE: &str = "100.51.198.in-addr.arpa";
const REFUSAL: &str = "451 4.7.1 Your IP [198.51.100.10] is not listed in Reverse MX! Contact your mail or your network administrator.";

/// Network 198.51.100.0/24 lists two MTAs, at .5 and .6.
fn two_mtas_listed() -> Zone {
    Zone::new()
        .mx(ZONE, 10, "mx1.example.net")
        .mx(ZONE, 20, "mx2.example.net")
        .a("mx1.example.net", LISTED)
        .a("mx2.example.net", "198.51.100.6")
}

fn dns() -> Responder {
    Responder::start(two_mtas_listed())
}

fn run(dns: &Responder, client: &str, options: &[&str], input: &[u8]) -> Outcome {
    Wrapper::new(dns.addr(), client, options).run(input)
}

/// Asserts the wrapped program ran with this RMXRESULT.
fn assert_exec(outcome: &Outcome, result: &str) {
    assert!(outcome.status.success(), "{outcome:?}");
    assert_eq!(outcome.result().as_deref(), Some(result), "{outcome:?}");
    assert_eq!(outcome.stdout, "250 reporter\r\n");
}

/// Asserts a held session that refused RCPT with `refusal`.
fn assert_held(outcome: &Outcome, refusal: &str) {
    assert_eq!(outcome.status.code(), Some(0), "{outcome:?}");
    assert!(
        outcome.report.is_none(),
        "the program must not run: {outcome:?}"
    );
    let want = format!(
        "220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{refusal}\r\n{refusal}\r\n221 rmxsmtpd.local\r\n"
    );
    assert_eq!(outcome.stdout, want);
}

const SMTP: &[u8] = b"HELO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nQUIT\r\n";

// ---- A listed MTA, unlisted hosts, an unpublished network -----------------

#[test]
fn a_listed_mta_is_accepted() {
    let dns = dns();
    let outcome = run(&dns, LISTED, &[], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(outcome.log(), format!("{LISTED} pass {ZONE} accept"));
    let report = outcome.report.unwrap();
    assert_eq!(report.stdin, SMTP, "the client's bytes reach the daemon");
}

#[test]
fn an_unlisted_host_in_a_listed_network_is_refused() {
    let dns = dns();
    let outcome = run(&dns, UNLISTED, &[], SMTP);
    assert_held(&outcome, REFUSAL);
    assert_eq!(
        outcome.log(),
        format!("{UNLISTED} fail {ZONE} reject: {REFUSAL}")
    );
}

#[test]
fn with_b_an_unlisted_host_is_refused_permanently() {
    let dns = dns();
    let outcome = run(&dns, "198.51.100.66", &["-b"], SMTP);
    let refusal = "554 5.7.1 Your IP [198.51.100.66] is not listed in Reverse MX! \
                   Contact your mail or your network administrator.";
    assert_held(&outcome, refusal);
    // -B after -b restores the temporary code.
    let outcome = run(&dns, "198.51.100.66", &["-b", "-B"], SMTP);
    assert!(
        outcome
            .stdout
            .contains("\r\n451 4.7.1 Your IP [198.51.100.66]")
    );
}

#[test]
fn an_unpublished_network_is_accepted() {
    let dns = dns();
    let outcome = run(&dns, UNPUBLISHED, &[], SMTP);
    assert_exec(&outcome, "none");
    assert_eq!(outcome.log(), format!("{UNPUBLISHED} none - accept"));
}

#[test]
fn with_s_an_unpublished_network_is_refused() {
    let dns = dns();
    let outcome = run(&dns, UNPUBLISHED, &["-s"], SMTP);
    let refusal = "451 4.7.1 Your IP [203.0.113.7] is not listed in Reverse MX! \
                   Contact your mail or your network administrator.";
    assert_held(&outcome, refusal);
    assert!(
        outcome
            .log()
            .starts_with("203.0.113.7 none - reject: 451 4.7.1")
    );
}

#[test]
fn after_the_cut_off_date_an_unpublished_network_is_refused() {
    let dns = dns();
    let outcome = run(&dns, UNPUBLISHED, &["-d", "2004-06-01"], SMTP);
    assert!(outcome.report.is_none(), "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("\r\n451 4.7.1 Your IP [203.0.113.7]")
    );
}

#[test]
fn before_the_cut_off_date_an_unpublished_network_is_accepted() {
    let dns = dns();
    let outcome = run(&dns, UNPUBLISHED, &["-d", "2999-12-31"], SMTP);
    assert_exec(&outcome, "none");
}

// ---- The other rows of the results table ----------------------------------

#[test]
fn temperror_fails_open() {
    let dead = DeadServer::start();
    let outcome = Wrapper::new(dead.addr(), LISTED, &["-T", "2"]).run(SMTP);
    assert_exec(&outcome, "temperror");
    assert_eq!(
        outcome.log(),
        format!("{LISTED} temperror {ZONE} accept (timeout after 2 s)")
    );
    assert!(
        outcome.elapsed < Duration::from_millis(3500),
        "decided within -T plus a margin: {:?}",
        outcome.elapsed
    );
    assert!(
        outcome.elapsed >= Duration::from_secs(2),
        "{:?}",
        outcome.elapsed
    );
}

#[test]
fn temperror_with_c_is_refused_with_4_4_3() {
    let dead = DeadServer::start();
    let outcome = Wrapper::new(dead.addr(), LISTED, &["-T", "1", "-c"]).run(SMTP);
    let refusal = "451 4.4.3 Reverse MX lookup for [198.51.100.5] failed; try again later.";
    assert_held(&outcome, refusal);
    // -C after -c fails open again.
    let outcome = Wrapper::new(dead.addr(), LISTED, &["-T", "1", "-c", "-C"]).run(SMTP);
    assert_exec(&outcome, "temperror");
}

/// Makes every getrandom(2) of the child, and of what it executes, fail
/// with `errno`: a seccomp filter (seccomp(2)), as a container's policy
/// installs one. The filter only knows x86_64's system call numbers.
#[cfg(target_arch = "x86_64")]
fn without_getrandom(wrapper: &mut Wrapper, errno: i32) {
    use std::os::unix::process::CommandExt;
    /// AUDIT_ARCH_X86_64 of <linux/audit.h>.
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    /// Offsets in struct seccomp_data.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let statement = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    let filter = [
        statement(load, ARCH),
        jump(AUDIT_ARCH_X86_64, 1, 0),
        statement(ret, libc::SECCOMP_RET_KILL_PROCESS),
        statement(load, NR),
        jump(libc::SYS_getrandom as u32, 0, 1),
        statement(ret, libc::SECCOMP_RET_ERRNO | errno as u32),
        statement(ret, libc::SECCOMP_RET_ALLOW),
    ];
    let install = move || {
        let program = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr().cast_mut(),
        };
        // SAFETY: prctl(2) with integer arguments, then with a pointer to a
        // filter program that lives until the call returns (the kernel
        // copies it). Both only change this child process.
        let installed = unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                && libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog,
                ) == 0
        };
        if installed {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: the closure makes two system calls and allocates nothing,
    // which is all a child between fork and exec may do.
    unsafe { wrapper.command.pre_exec(install) };
}

/// With no random source there is no query id to send: temperror at once,
/// and not one query leaves (rmxsmtpd(8), "The DNS"). ENOSYS is an old
/// kernel, EPERM a seccomp policy, EIO a failing source. On EIO the Rust
/// runtime has no fallback for the seeds of hashed maps and aborts: the
/// lookup keeps none.
#[cfg(target_arch = "x86_64")]
#[test]
fn no_random_source_is_temperror_and_no_query() {
    for (errno, text) in [
        (libc::ENOSYS, "function not implemented"),
        (libc::EPERM, "permission denied"),
        (libc::EIO, "input/output error"),
    ] {
        let dns = dns();
        let mut wrapper = Wrapper::new(dns.addr(), LISTED, &[]);
        without_getrandom(&mut wrapper, errno);
        let outcome = wrapper.run(SMTP);
        assert_exec(&outcome, "temperror");
        assert_eq!(
            outcome.log(),
            format!("{LISTED} temperror {ZONE} accept (no random source: getrandom: {text})")
        );
        let mut wrapper = Wrapper::new(dns.addr(), UNLISTED, &["-c"]);
        without_getrandom(&mut wrapper, errno);
        let outcome = wrapper.run(SMTP);
        assert_held(
            &outcome,
            "451 4.4.3 Reverse MX lookup for [198.51.100.10] failed; try again later.",
        );
        assert_eq!(dns.total_queries(), 0, "no query under a guessed id");
    }
}

#[test]
fn servfail_everywhere_is_temperror() {
    let dns = dns();
    dns.script(ZONE, "MX", vec![Behaviour::ServFail]);
    let outcome = run(&dns, UNLISTED, &[], SMTP);
    assert_exec(&outcome, "temperror");
    assert!(
        outcome
            .log()
            .ends_with("accept (no server answered: SERVFAIL)"),
        "{}",
        outcome.log()
    );
}

#[test]
fn no_client_address_is_temperror() {
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), "", &[]).run(SMTP);
    assert_exec(&outcome, "temperror");
    assert!(
        outcome
            .log()
            .starts_with("- temperror - accept (no client address")
    );
    let outcome = Wrapper::new(dns.addr(), "not-an-address", &[]).run(SMTP);
    assert_exec(&outcome, "temperror");
    assert_eq!(
        outcome.log(),
        "- temperror - accept (TCPREMOTEIP is not an address: \"not-an-address\")"
    );
    assert_eq!(dns.total_queries(), 0, "junk is never guessed at");
}

#[test]
fn empty_rmxsmtpd_skips_the_lookup() {
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), UNLISTED, &[])
        .env("RMXSMTPD", "")
        .run(SMTP);
    assert_exec(&outcome, "skip");
    assert_eq!(
        outcome.log(),
        format!("{UNLISTED} skip - accept (RMXSMTPD is empty)")
    );
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn relayclient_skips_the_lookup() {
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), UNLISTED, &[])
        .env("RELAYCLIENT", "")
        .run(SMTP);
    assert_exec(&outcome, "skip");
    assert_eq!(
        outcome.log(),
        format!("{UNLISTED} skip - accept (RELAYCLIENT is set)")
    );
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn rmxsmtpd_text_refuses_without_lookup() {
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), LISTED, &[])
        .env("RMXSMTPD", "Mail from [%i] is not welcome here")
        .env("RELAYCLIENT", "")
        .run(SMTP);
    assert_held(
        &outcome,
        "451 4.7.1 Mail from [198.51.100.5] is not welcome here",
    );
    let outcome = Wrapper::new(dns.addr(), LISTED, &[])
        .env("RMXSMTPD", "-Go away")
        .run(SMTP);
    assert_held(&outcome, "554 5.7.1 Go away");
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn rmxsmtpd_text_that_is_not_utf8_still_refuses() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dns = dns();
    // A tcprules block written in Latin-1, and one in UTF-8: each byte
    // outside printable ASCII is one `?`, on the wire and in the log alike.
    for (text, refusal) in [
        (&b"go away \xe9t\xe9"[..], "451 4.7.1 go away ?t?"),
        (b"-go away \xe9t\xe9", "554 5.7.1 go away ?t?"),
        ("-go away été".as_bytes(), "554 5.7.1 go away ??t??"),
    ] {
        let mut wrapper = Wrapper::new(dns.addr(), LISTED, &[]);
        wrapper.command.env("RMXSMTPD", OsStr::from_bytes(text));
        let outcome = wrapper.run(SMTP);
        assert_held(&outcome, refusal);
        assert_eq!(
            outcome.log(),
            format!("{LISTED} skip - reject: {refusal} (RMXSMTPD is set)")
        );
    }
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn dry_run_logs_the_rejection_and_execs() {
    let dns = dns();
    let outcome = run(&dns, UNLISTED, &["-n"], SMTP);
    assert_exec(&outcome, "fail");
    assert_eq!(
        outcome.log(),
        format!("{UNLISTED} fail {ZONE} dry-run accept, would reject: {REFUSAL}")
    );
}

#[test]
fn dry_run_keeps_the_administrators_own_refusals() {
    // -n is a dry run of the Reverse MX check; RMXSMTPD text still refuses.
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-n"])
        .env("RMXSMTPD", "-go away")
        .run(SMTP);
    assert_held(&outcome, "554 5.7.1 go away");
    assert_eq!(
        outcome.log(),
        format!("{LISTED} skip - reject: 554 5.7.1 go away (RMXSMTPD is set)")
    );
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-n", "-q"])
        .env("RMXSMTPD", "go away")
        .run(SMTP);
    assert_held(&outcome, "451 4.7.1 go away");
    assert_eq!(
        outcome.log(),
        format!("{LISTED} skip - reject: 451 4.7.1 go away (RMXSMTPD is set)")
    );
    // An empty RMXSMTPD still skips the lookup under -n.
    let outcome = Wrapper::new(dns.addr(), UNLISTED, &["-n"])
        .env("RMXSMTPD", "")
        .run(SMTP);
    assert_exec(&outcome, "skip");
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn quiet_logs_only_rejections_and_errors() {
    let dns = dns();
    let outcome = run(&dns, LISTED, &["-q"], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(outcome.stderr, "");
    let outcome = run(&dns, UNLISTED, &["-q", "-n"], SMTP);
    assert_exec(&outcome, "fail");
    assert!(outcome.log().contains("would reject"));
    let dead = DeadServer::start();
    let outcome = Wrapper::new(dead.addr(), LISTED, &["-q", "-T", "1"]).run(SMTP);
    assert_exec(&outcome, "temperror");
    assert!(outcome.log().contains("temperror"));
}

#[test]
fn the_message_option_and_the_host_name() {
    let dns = dns();
    let outcome = run(
        &dns,
        UNLISTED,
        &[
            "-m",
            "No list has %i; see https://example.org/rmx",
            "-h",
            "mx.example.com",
        ],
        b"HELO x\r\nRCPT TO:<a@b>\r\nQUIT\r\n",
    );
    assert_eq!(
        outcome.stdout,
        "220 mx.example.com\r\n250 mx.example.com\r\n\
         451 4.7.1 No list has 198.51.100.10; see https://example.org/rmx\r\n221 mx.example.com\r\n"
    );
}

// ---- List shapes ----------------------------------------------------------

#[test]
fn a_null_mx_refuses_every_client_of_the_network() {
    let dns = Responder::start(Zone::new().null_mx(ZONE).a("mx1.example.net", LISTED));
    let outcome = run(&dns, LISTED, &[], SMTP);
    assert!(outcome.report.is_none());
    assert!(
        outcome
            .log()
            .starts_with(&format!("{LISTED} fail {ZONE} reject: 451 4.7.1"))
    );
}

/// A reply to the MX question at the zone that is no answer to a standard
/// query: opcode UPDATE (RFC 2136 §2.2), and at the name asked an MX record
/// whose data is empty, not a preference and a name (RFC 1035 §3.3.9). The
/// responder writes the query's id over the first two bytes.
fn update_reply_with_an_empty_mx() -> Vec<u8> {
    // QR, opcode 5; RA; one question, one answer.
    let mut bytes = vec![0, 0, 0x80 | 5 << 3, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    for label in ZONE.split('.') {
        bytes.push(label.len() as u8);
        bytes.extend(label.as_bytes());
    }
    bytes.extend([0, 0, 15, 0, 1]);
    // The question's name by pointer, MX, IN, TTL 300, RDLENGTH 0.
    bytes.extend([0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 0]);
    bytes
}

#[test]
fn a_malformed_reply_is_no_null_mx() {
    let bad = dns();
    bad.script(
        ZONE,
        "MX",
        vec![Behaviour::RawWithId(update_reply_with_an_empty_mx())],
    );
    let good = dns();
    let both = format!("{} {}", bad.addr(), good.addr());
    let via_both = |client: &str| {
        Wrapper::new(bad.addr(), client, &["-b"])
            .env("DNSCACHEIP", &both)
            .run(SMTP)
    };
    // The next server's list decides.
    assert_exec(&via_both(LISTED), "pass");
    assert_eq!(bad.queries(ZONE, "MX"), 1);
    assert_eq!(good.queries(ZONE, "MX"), 1, "the next server was asked");
    let outcome = via_both(UNLISTED);
    assert!(outcome.report.is_none(), "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("\r\n554 5.7.1 Your IP [198.51.100.10]")
    );
    // With no other server it is temperror, never a refusal.
    for (client, options) in [(LISTED, &[][..]), (UNLISTED, &["-b"][..])] {
        let outcome = Wrapper::new(bad.addr(), client, options).run(SMTP);
        assert_exec(&outcome, "temperror");
        assert_eq!(
            outcome.log(),
            format!("{client} temperror {ZONE} accept (no server answered: malformed reply)")
        );
    }
}

#[test]
fn an_address_literal_exchange_needs_no_query() {
    let dns = Responder::start(Zone::new().mx(ZONE, 10, "198.51.100.5"));
    let outcome = run(&dns, LISTED, &[], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(dns.queries("198.51.100.5", "A"), 0);
    let outcome = run(&dns, UNLISTED, &[], SMTP);
    assert!(outcome.report.is_none());
}

#[test]
fn a_dead_exchange_name_beside_a_good_one() {
    let zone = Zone::new()
        .mx(ZONE, 10, "gone.example.net")
        .mx(ZONE, 20, "mx1.example.net")
        .a("mx1.example.net", LISTED);
    let dns = Responder::start(zone);
    assert_exec(&run(&dns, LISTED, &[], SMTP), "pass");
    assert!(run(&dns, UNLISTED, &[], SMTP).report.is_none(), "fail");
    // An exchange whose lookup times out: temperror, unless another matched.
    dns.script("gone.example.net", "A", vec![Behaviour::Drop]);
    assert_exec(&run(&dns, LISTED, &["-T", "1"], SMTP), "pass");
    assert_exec(&run(&dns, UNLISTED, &["-T", "1"], SMTP), "temperror");
}

#[test]
fn only_the_first_twenty_exchanges_count() {
    let mut zone = Zone::new();
    for n in 0..25u16 {
        let host = format!("mx{n:02}.example.net");
        zone = zone
            .mx(ZONE, 10 + n, &host)
            .a(&host, &format!("198.51.100.{}", 100 + n));
    }
    let dns = Responder::start(zone);
    // The 20th by preference is listed; the 21st is past the cap.
    assert_exec(&run(&dns, "198.51.100.119", &[], SMTP), "pass");
    let outcome = run(&dns, "198.51.100.120", &[], SMTP);
    assert!(outcome.report.is_none(), "{outcome:?}");
    assert!(
        outcome
            .log()
            .ends_with("; 100.51.198.in-addr.arpa: 5 exchanges past the first 20 ignored"),
        "{}",
        outcome.log()
    );
    assert_eq!(dns.queries("mx20.example.net", "A"), 0, "never resolved");
    // The client may be one of the exchanges past the cap: the refusal is
    // temporary whatever -b says, and 421 in place of the greeting under -t 0.
    let outcome = run(&dns, "198.51.100.120", &["-b"], SMTP);
    assert_held(
        &outcome,
        "451 4.7.1 Your IP [198.51.100.120] is not listed in Reverse MX! \
         Contact your mail or your network administrator.",
    );
    let outcome = run(&dns, "198.51.100.120", &["-b", "-t", "0"], SMTP);
    assert!(
        outcome
            .stdout
            .starts_with("421 4.7.1 Your IP [198.51.100.120]"),
        "{outcome:?}"
    );
}

#[test]
fn an_exchange_at_two_preferences_takes_one_place_under_the_cap() {
    // Twenty distinct exchanges, mx05 also at a better preference: mx19,
    // the twentieth distinct name, is still within the cap.
    let mut zone = Zone::new().mx(ZONE, 5, "mx05.example.net");
    for n in 0..20u16 {
        let host = format!("mx{n:02}.example.net");
        zone = zone
            .mx(ZONE, 10 + n, &host)
            .a(&host, &format!("198.51.100.{}", 100 + n));
    }
    let dns = Responder::start(zone);
    let outcome = run(&dns, "198.51.100.119", &["-b"], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(outcome.log(), format!("198.51.100.119 pass {ZONE} accept"));
    // A list cut at nothing refuses permanently under -b, as any fail does.
    let outcome = run(&dns, "198.51.100.120", &["-b"], SMTP);
    assert_held(
        &outcome,
        "554 5.7.1 Your IP [198.51.100.120] is not listed in Reverse MX! \
         Contact your mail or your network administrator.",
    );
}

#[test]
fn a_cname_at_the_zone_is_followed() {
    let zone = Zone::new()
        .cname(ZONE, "list.example.net")
        .mx("list.example.net", 10, "mx1.example.net")
        .a("mx1.example.net", LISTED);
    let dns = Responder::start(zone);
    assert_exec(&run(&dns, LISTED, &[], SMTP), "pass");
    assert!(run(&dns, UNLISTED, &[], SMTP).report.is_none());
}

#[test]
fn the_most_specific_list_wins() {
    // The /16 lists .6; the /24 lists .5. With both asked, the /24 decides.
    let zone = two_mtas_listed()
        .mx("51.198.in-addr.arpa", 10, "wide.example.net")
        .a("wide.example.net", "198.51.100.10")
        .a("wide.example.net", "198.51.7.7");
    let dns = Responder::start(zone);
    let both = ["-4", "16,24"];
    assert!(
        run(&dns, UNLISTED, &both, SMTP).report.is_none(),
        "/24 says no"
    );
    assert_exec(&run(&dns, LISTED, &both, SMTP), "pass");
    // A client whose /24 publishes nothing falls back to the /16.
    let outcome = run(&dns, "198.51.7.7", &both, SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(outcome.log(), "198.51.7.7 pass 51.198.in-addr.arpa accept");
    assert!(run(&dns, "198.51.7.8", &both, SMTP).report.is_none());
    // With -4 16 alone, only the /16 list is asked.
    assert_exec(&run(&dns, UNLISTED, &["-4", "16"], SMTP), "pass");
}

#[test]
fn ipv6_lists_at_64_and_48() {
    let at64 = "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let at48 = "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let zone = Zone::new()
        .mx(at64, 10, "mx6.example.net")
        .aaaa("mx6.example.net", "2001:db8:1:2::25")
        .mx(at48, 10, "mx48.example.net")
        .aaaa("mx48.example.net", "2001:db8:1:9::25");
    let dns = Responder::start(zone);
    let outcome = run(&dns, "2001:db8:1:2::25", &[], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(
        outcome.log(),
        format!("2001:db8:1:2::25 pass {at64} accept")
    );
    // The /64 list overrides the /48 one.
    let outcome = run(&dns, "2001:db8:1:2::99", &[], SMTP);
    assert!(
        outcome
            .log()
            .starts_with(&format!("2001:db8:1:2::99 fail {at64} reject"))
    );
    // A /64 without a list falls back to the /48 list.
    let outcome = run(&dns, "2001:db8:1:9::25", &[], SMTP);
    assert_exec(&outcome, "pass");
    assert!(outcome.log().contains(at48));
    assert!(run(&dns, "2001:db8:1:9::26", &[], SMTP).report.is_none());
}

#[test]
fn an_ipv4_mapped_client_is_ipv4() {
    let dns = dns();
    let outcome = run(&dns, "::ffff:198.51.100.5", &[], SMTP);
    assert_exec(&outcome, "pass");
    assert_eq!(outcome.log(), format!("{LISTED} pass {ZONE} accept"));
    let outcome = Wrapper::new(dns.addr(), "", &[])
        .env("PROTO", "TCP6")
        .env("TCP6REMOTEIP", "::ffff:198.51.100.10")
        .run(SMTP);
    assert!(outcome.log().starts_with("198.51.100.10 fail"));
    assert!(outcome.stdout.contains("Your IP [198.51.100.10]"));
}

// ---- Exec hygiene ----------------------------------------------------------

#[test]
fn the_program_gets_a_clean_hand_over() {
    let dns = dns();
    let early = b"EHLO early.example\r\nMAIL FROM:<x@y>\r\n\x00\xff binary too\r\n";
    let wrapper = Wrapper::new(dns.addr(), LISTED, &["-q"])
        .env("RMXRESULT", "stale")
        .env("ODD", "a=b c");
    let report_path = wrapper.report.display().to_string();
    let outcome = wrapper.run(early);
    let report = outcome.report.expect("the program ran");
    assert!(!report.sigpipe_ignored(), "SIGPIPE not ignored");
    assert_eq!(report.fds, inherited_fds(), "no descriptor leaked");
    assert_eq!(report.fds[..3], [0, 1, 2]);
    assert_eq!(report.stdin, early, "the client's early bytes, intact");
    let mut env: Vec<String> = report
        .env
        .iter()
        .map(|e| e.to_string_lossy().into())
        .collect();
    env.sort();
    let mut want = vec![
        format!("DNSCACHEIP={}", dns.addr()),
        "ODD=a=b c".to_string(),
        "PATH=/usr/bin:/bin".to_string(),
        "RMXRESULT=pass".to_string(),
        format!("RMX_REPORT={report_path}"),
        format!("TCPREMOTEIP={LISTED}"),
    ];
    want.sort();
    assert_eq!(env, want);
}

#[test]
fn arguments_pass_unchanged() {
    let dns = dns();
    let mut wrapper = Wrapper::new(dns.addr(), LISTED, &[]);
    wrapper.command.args(["-x", "--y", "-b", "--", "", "a b"]);
    let report = wrapper.run(b"").report.expect("ran");
    assert_eq!(report.args, ["-x", "--y", "-b", "--", "", "a b"]);
}

#[test]
fn inherited_dispositions_and_descriptors_are_kept() {
    // Started with SIGPIPE ignored and fd 5 open, rmxsmtpd passes both on.
    let dns = dns();
    let wrapper = Wrapper::new(dns.addr(), LISTED, &[]);
    let script = format!("trap '' PIPE; exec 5</dev/null; exec {} \"$@\"", BIN);
    let mut command = std::process::Command::new("/bin/sh");
    command
        .args(["-c", &script, "sh"])
        .arg(reporter())
        .env_clear()
        .env("DNSCACHEIP", dns.addr().to_string())
        .env("TCPREMOTEIP", LISTED)
        .env("RMX_REPORT", &wrapper.report)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    assert!(command.status().unwrap().success());
    let report = crate::support::wrapper::Report::read(&wrapper.report).expect("ran");
    assert!(report.sigpipe_ignored(), "an ignored SIGPIPE stays ignored");
    let mut want = inherited_fds();
    want.push(5);
    want.sort_unstable();
    assert_eq!(report.fds, want);
}

/// The signal mask SigBlk shows for `signals` blocked: bit N-1 for signal N.
fn mask_of(signals: &[libc::c_int]) -> u64 {
    signals
        .iter()
        .fold(0, |mask, &signal| mask | 1 << (signal - 1))
}

#[test]
fn blocked_signals_pass_through_exec_unchanged() {
    // A blocked signal stays blocked across execve(2), as an ignored one
    // stays ignored: rmxsmtpd hands the program the mask it was given, with
    // some signals blocked, and with none.
    let dns = dns();
    let blocked = vec![
        libc::SIGHUP,
        libc::SIGPIPE,
        libc::SIGUSR1,
        libc::SIGALRM,
        libc::SIGTERM,
        libc::SIGCHLD,
        libc::SIGRTMIN() + 2,
    ];
    for signals in [blocked, Vec::new()] {
        let mut wrapper = Wrapper::new(dns.addr(), LISTED, &[]);
        let mask = signals.clone();
        let set_mask = move || {
            // SAFETY: sigset_t is plain data, filled in by sigemptyset next.
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a valid sigset_t.
            unsafe { libc::sigemptyset(&mut set) };
            for &signal in &mask {
                // SAFETY: as above; `signal` is a valid signal number.
                unsafe { libc::sigaddset(&mut set, signal) };
            }
            // SAFETY: `set` is valid; the old mask is not asked for.
            if unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        };
        // SAFETY: between fork and exec the closure makes only
        // async-signal-safe calls (sigemptyset, sigaddset, sigprocmask) on
        // memory of its own, and allocates nothing.
        unsafe { wrapper.command.pre_exec(set_mask) };
        let outcome = wrapper.run(b"");
        assert_exec(&outcome, "pass");
        let report = outcome.report.expect("the program ran");
        assert_eq!(
            report.sigblk,
            mask_of(&signals),
            "SigBlk {:016x}, blocked {signals:?}",
            report.sigblk
        );
    }
}

#[test]
fn the_program_is_found_on_path() {
    let dns = dns();
    let mut command = std::process::Command::new(BIN);
    let dir = reporter().parent().unwrap();
    let outcome = crate::support::wrapper::finish(
        command
            .env_clear()
            .env("PATH", format!("/nonexistent:{}", dir.display()))
            .env("DNSCACHEIP", dns.addr().to_string())
            .env("TCPREMOTEIP", LISTED)
            .env("RMX_REPORT", "/dev/null")
            .arg(reporter().file_name().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        b"",
        std::path::Path::new("/nonexistent"),
    );
    assert!(outcome.status.success(), "{outcome:?}");
    assert_eq!(outcome.stdout, "250 reporter\r\n");
}

// ---- The held session ------------------------------------------------------

/// A held session for UNLISTED with these options and this client input.
fn held(options: &[&str], input: &[u8]) -> Outcome {
    let dns = dns();
    let outcome = run(&dns, UNLISTED, options, input);
    assert!(outcome.report.is_none(), "held, not exec'd: {outcome:?}");
    assert_eq!(outcome.status.code(), Some(0));
    outcome
}

#[test]
fn session_pipelined_commands_are_answered_in_order() {
    let input = b"EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nNOOP\r\nRSET\r\nDATA\r\nQUIT\r\n";
    let outcome = held(&[], input);
    let want = format!(
        "220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{REFUSAL}\r\n{REFUSAL}\r\n\
         250 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{REFUSAL}\r\n221 rmxsmtpd.local\r\n"
    );
    assert_eq!(outcome.stdout, want);
}

#[test]
fn session_bare_lf_and_mixed_case() {
    let outcome = held(&[], b"helo a\nMail From:<a@b>\nrcpt to:<c@d>\nquit\n");
    let want = format!(
        "220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{REFUSAL}\r\n221 rmxsmtpd.local\r\n"
    );
    assert_eq!(outcome.stdout, want);
}

/// A held session for UNLISTED fed `input`; once the reply `last` has come
/// back, its anonymous memory (RssAnon, KiB) while it still runs; then QUIT. The
/// transcript, and that peak.
fn held_peak(input: Vec<u8>, last: &str) -> (String, u64) {
    let dns = dns();
    let mut command = Wrapper::new(dns.addr(), UNLISTED, &[]).command;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rmxsmtpd");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input).map(|()| stdin));
    let mut replies = BufReader::new(child.stdout.take().expect("stdout"));
    let mut transcript = String::new();
    loop {
        let mut line = String::new();
        let n = replies.read_line(&mut line).expect("read a reply");
        assert_ne!(n, 0, "ended before {last:?}: {transcript:?}");
        transcript.push_str(&line);
        if line.trim_end() == last {
            break;
        }
    }
    let peak = crate::support::memory::anon_kib(child.id()).expect("rmxsmtpd still runs");
    let mut stdin = writer.join().expect("writer").expect("all input read");
    stdin.write_all(b"QUIT\r\n").expect("write QUIT");
    drop(stdin);
    replies.read_to_string(&mut transcript).expect("read");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    (transcript, peak)
}

/// How much more memory a session that discarded a 1 MB line may have
/// used than one that saw only short lines. Keeping the line whole would
/// add at least 1024 KiB.
const DISCARDED_LINE_SLACK_KIB: u64 = 256;

#[test]
fn session_a_one_megabyte_line_is_refused_in_bounded_memory() {
    let (short, base) = held_peak(b"HELO a\r\nRCPT TO:<a@b>\r\n".to_vec(), REFUSAL);
    assert_eq!(
        short,
        format!("220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{REFUSAL}\r\n221 rmxsmtpd.local\r\n")
    );
    let mut input = b"HELO a\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 1 << 20));
    input.extend_from_slice(b"\r\n");
    let (long, peak) = held_peak(input, "500 5.5.2 rmxsmtpd.local line too long");
    assert_eq!(
        long,
        "220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n500 5.5.2 rmxsmtpd.local line too long\r\n221 rmxsmtpd.local\r\n"
    );
    assert!(
        peak < base + DISCARDED_LINE_SLACK_KIB,
        "RssAnon {peak} KiB after the 1 MB line, {base} KiB after short lines"
    );
}

#[test]
fn session_binary_junk_is_harmless() {
    let junk: Vec<u8> = (0..50_000u32).map(|n| (n * 7919 % 251) as u8).collect();
    let lines = junk.iter().filter(|&&b| b == b'\n').count();
    let outcome = held(&[], &junk);
    let replies: Vec<&str> = outcome
        .stdout
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(replies[0], "220 rmxsmtpd.local");
    assert_eq!(replies.len(), 1 + lines, "one reply per line");
    assert!(
        replies[1..]
            .iter()
            .all(|r| r.starts_with("451 ") || r.starts_with("500 "))
    );
}

#[test]
fn session_end_of_input_ends_it() {
    let outcome = held(&[], b"HELO a\r\nRCPT TO:<x@y>\r\n");
    assert_eq!(
        outcome.stdout,
        format!("220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n{REFUSAL}\r\n")
    );
}

#[test]
fn session_t_ends_a_silent_session() {
    let dns = dns();
    let wrapper = Wrapper::new(dns.addr(), UNLISTED, &["-t", "2"]);
    let mut command = wrapper.command;
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"HELO a\r\n").unwrap();
    // Keep fd 0 open and silent; rmxsmtpd must end the session itself.
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = child.wait().unwrap();
    let elapsed = started.elapsed();
    drop(stdin);
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        out,
        "220 rmxsmtpd.local\r\n250 rmxsmtpd.local\r\n421 4.4.2 rmxsmtpd.local timeout, closing connection\r\n"
    );
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn session_t_0_says_one_line() {
    let outcome = held(&["-t", "0"], SMTP);
    assert_eq!(
        outcome.stdout,
        "421 4.7.1 Your IP [198.51.100.10] is not listed in Reverse MX! \
         Contact your mail or your network administrator.\r\n"
    );
    let outcome = held(&["-t0", "-b"], SMTP);
    assert!(outcome.stdout.starts_with("554 5.7.1 Your IP"));
    assert_eq!(outcome.stdout.matches("\r\n").count(), 1);
}

#[test]
fn the_log_says_exactly_the_line_the_client_got_under_t_0() {
    let told = |outcome: &Outcome| {
        let line = outcome.stdout.strip_suffix("\r\n").expect("one line");
        assert!(!line.contains("\r\n"), "{outcome:?}");
        line.to_string()
    };
    let outcome = held(&["-t", "0"], SMTP);
    let line = told(&outcome);
    assert!(line.starts_with("421 4.7.1 Your IP"), "{line}");
    assert_eq!(
        outcome.log(),
        format!("{UNLISTED} fail {ZONE} reject: {line}")
    );
    // With -c, a DNS failure: 421 4.4.3 on the wire and in the log.
    let dead = DeadServer::start();
    let outcome = Wrapper::new(dead.addr(), LISTED, &["-T", "1", "-c", "-t", "0"]).run(SMTP);
    assert!(outcome.report.is_none(), "{outcome:?}");
    let line = told(&outcome);
    assert_eq!(
        line,
        "421 4.4.3 Reverse MX lookup for [198.51.100.5] failed; try again later."
    );
    assert_eq!(
        outcome.log(),
        format!("{LISTED} temperror {ZONE} reject: {line} (timeout after 1 s)")
    );
    // From RMXSMTPD, permanent: 554 both ways.
    let dns = dns();
    let outcome = Wrapper::new(dns.addr(), LISTED, &["-t", "0"])
        .env("RMXSMTPD", "-go away")
        .run(SMTP);
    assert_eq!(told(&outcome), "554 5.7.1 go away");
    assert!(outcome.log().contains(" reject: 554 5.7.1 go away ("));
    // A dry run says what would have been sent.
    let outcome = run(&dns, UNLISTED, &["-n", "-t", "0"], SMTP);
    assert_exec(&outcome, "fail");
    assert_eq!(
        outcome.log(),
        format!(
            "{UNLISTED} fail {ZONE} dry-run accept, would reject: 421 4.7.1 Your IP \
             [198.51.100.10] is not listed in Reverse MX! Contact your mail or your \
             network administrator."
        )
    );
}

// ---- Usage errors and trouble ---------------------------------------------

#[test]
fn usage_errors_exit_100_with_one_line() {
    let dns = dns();
    for options in [
        &["-x"][..],
        &["-t", "soon"],
        &["-T", "0"],
        &["-d", "2004-02-30"],
        &["-4", "20"],
        &["-6", "50"],
        &["-h", ""],
    ] {
        let outcome = run(&dns, LISTED, options, b"");
        assert_eq!(outcome.status.code(), Some(100), "{options:?}");
        assert_eq!(
            outcome.stderr.lines().count(),
            1,
            "{options:?}: {}",
            outcome.stderr
        );
        assert!(outcome.stderr.starts_with("rmxsmtpd: usage error: "));
        assert!(outcome.report.is_none());
    }
    let bare = std::process::Command::new(BIN)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&bare.stderr).lines().count(), 1);
    assert_eq!(dns.total_queries(), 0);
}

#[test]
fn a_program_that_cannot_run_exits_111() {
    let dns = dns();
    for (program, why) in [
        ("/nonexistent/qmail-smtpd", "file does not exist"),
        ("no-such-program-anywhere", "file does not exist"),
        ("/dev/null", "access denied"),
        ("/etc/passwd/x", "not a directory"),
    ] {
        let outcome = std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DNSCACHEIP", dns.addr().to_string())
            .env("TCPREMOTEIP", LISTED)
            .arg(program)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(outcome.status.code(), Some(111), "{program}");
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        let fatal = stderr.lines().last().unwrap_or_default();
        assert!(fatal.starts_with("rmxsmtpd: pid "), "{stderr}");
        assert!(
            fatal.ends_with(&format!(": fatal: unable to run {program}: {why}")),
            "{stderr}"
        );
        assert!(outcome.stdout.is_empty());
    }
}

// ---- getpeername(0) --------------------------------------------------------

/// rmxsmtpd on a real TCP connection whose other end, the client, is at
/// `source`, with no address in the environment: it must ask the socket on
/// fd 0. The client's end is the one that listens (std binds no socket
/// before it connects); getpeername(2) sees no difference.
fn over_a_socket(dns: &Responder, source: &str) -> (String, String) {
    over_a_socket_with(dns, source, false)
}

/// As `over_a_socket`; with `stderr_too`, fd 2 is the socket as well, as
/// inetd and xinetd hand it over.
fn over_a_socket_with(dns: &Responder, source: &str, stderr_too: bool) -> (String, String) {
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::os::fd::OwnedFd;
    let source: SocketAddr = source.parse().unwrap();
    let listener = TcpListener::bind(source).unwrap();
    let accepted = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut client, _) = listener.accept().unwrap();
    assert_eq!(accepted.peer_addr().unwrap().ip(), source.ip());
    let wrapper = Wrapper::new(dns.addr(), "", &[]);
    let report = wrapper.report.clone();
    let fd = OwnedFd::from(accepted);
    let stdout = fd.try_clone().unwrap();
    let stderr = if stderr_too {
        Stdio::from(fd.try_clone().unwrap())
    } else {
        Stdio::piped()
    };
    let child = {
        let mut command = wrapper.command;
        command
            .stdin(Stdio::from(fd))
            .stdout(Stdio::from(stdout))
            .stderr(stderr)
            .spawn()
            .unwrap()
    };
    client.write_all(b"QUIT\r\n").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut said = String::new();
    client.read_to_string(&mut said).unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let result = crate::support::wrapper::Report::read(&report)
        .and_then(|r| r.var("RMXRESULT"))
        .unwrap_or_else(|| format!("held: {said}"));
    (log, result)
}

#[test]
fn getpeername_finds_an_ipv4_client() {
    let dns = Responder::start(
        Zone::new()
            .mx("0.0.127.in-addr.arpa", 10, "mx.loopback.test")
            .a("mx.loopback.test", "127.0.0.5"),
    );
    let (log, result) = over_a_socket(&dns, "127.0.0.5:0");
    assert!(
        log.contains(": 127.0.0.5 pass 0.0.127.in-addr.arpa accept"),
        "{log}"
    );
    assert_eq!(result, "pass");
    let (log, result) = over_a_socket(&dns, "127.0.0.9:0");
    assert!(
        log.contains(": 127.0.0.9 fail 0.0.127.in-addr.arpa reject"),
        "{log}"
    );
    assert!(
        result.starts_with("held: 220 rmxsmtpd.local\r\n221"),
        "{result}"
    );
}

#[test]
fn getpeername_finds_an_ipv6_client() {
    let at64 = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa";
    let dns = Responder::start(
        Zone::new()
            .mx(at64, 10, "mx6.loopback.test")
            .aaaa("mx6.loopback.test", "::1"),
    );
    let (log, result) = over_a_socket(&dns, "[::1]:0");
    assert!(log.contains(&format!(": ::1 pass {at64} accept")), "{log}");
    assert_eq!(result, "pass");
}

#[test]
fn with_stderr_on_the_socket_the_log_stays_off_the_wire() {
    let dns = Responder::start(
        Zone::new()
            .mx("0.0.127.in-addr.arpa", 10, "mx.loopback.test")
            .a("mx.loopback.test", "127.0.0.5"),
    );
    let (log, result) = over_a_socket_with(&dns, "127.0.0.9:0", true);
    assert_eq!(log, "");
    assert_eq!(
        result, "held: 220 rmxsmtpd.local\r\n221 rmxsmtpd.local\r\n",
        "the client sees SMTP only"
    );
}
