//! rmxpolicyd (rmxpolicyd(8)): the Reverse MX check as a Postfix SMTP
//! access policy service. This module owns its command line and the reply
//! to a request: the action, the trial header, the exceptions for
//! postmaster, and the log line; [`request`] reads one request within its
//! bounds, and [`cache`] keeps verdicts for a while. The program itself
//! only moves the bytes.
//!
//! The protocol is Postfix's SMTPD_POLICY_README: a request is `name=value`
//! lines ended by an empty line; the reply is one `action=...` line and an
//! empty line.

pub mod cache;
pub mod request;

use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::{Duration, Instant};

use crate::check::{Dns, Until, check};
use crate::cli::{Error, Kind, Program, Spec};
use crate::date::Date;
use crate::log::{Entry, Priority};
use crate::names::{Prefixes, shown};
use crate::verdict::{Decision, Judgement, Outcome, Policy, Reason, decide};
use crate::{client, error_str, text};
use cache::Cache;
use request::Request;

pub const PROGRAM: Program = Program {
    name: "rmxpolicyd",
    usage: "rmxpolicyd [-bBcCHnpqs] [-d YYYY-MM-DD] [-T SECONDS] [-i SECONDS] [-m TEXT] \
            [-4 PREFIXES] [-6 PREFIXES]",
    kind: Kind::Daemon,
};

const SPEC: Spec = Spec {
    flags: b"bBcCHnpqsV",
    values: b"dTim46",
    floating: false,
};

/// What Postfix is told when rmxpolicyd has nothing against the client: the
/// rest of the administrator's restrictions still apply.
const DUNNO: &str = "DUNNO";
/// The header a trial (`-H`) prepends to each message.
const HEADER: &str = "X-Reverse-MX";
/// `-i` when none is given: Postfix's own `smtpd_policy_service_max_idle`.
const DEFAULT_IDLE: Duration = Duration::from_secs(300);
const MAX_IDLE_SECS: u64 = 86_400;
/// Why a request without a usable `client_address` is not looked up.
const NO_CLIENT: &str = "no client address";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub policy: Policy,
    /// `-n`: answer `DUNNO`, log what would have been done.
    pub dry_run: bool,
    /// `-q`: log only rejections and errors.
    pub quiet: bool,
    /// `-T`: each lookup ends by then.
    pub dns_timeout: Duration,
    pub prefixes: Prefixes,
    /// `-i`: the longest wait for a request, and for a request to end.
    pub idle: Duration,
    /// Mail to `postmaster` and `abuse` is never refused; `-p` turns it off.
    pub spare_postmaster: bool,
    /// `-H`: the first answer of each message prepends [`HEADER`].
    pub header: bool,
}

/// Parses the arguments after `argv[0]`: options only. `-V` is an error
/// too ([`Error::Version`]): rmxpolicyd's stdout is Postfix's.
pub fn parse(args: &[OsString]) -> Result<Options, Error> {
    let args = SPEC.parse(args)?;
    if let Some(word) = args.free.first() {
        return Err(Error::usage(format!(
            "options only, not {:?}",
            text::printable(word.as_encoded_bytes(), 60)
        )));
    }
    Ok(Options {
        policy: args.policy()?,
        dry_run: args.flag('n'),
        quiet: args.flag('q'),
        dns_timeout: args.dns_timeout()?,
        prefixes: args.prefixes()?,
        idle: args.seconds('i', 1, MAX_IDLE_SECS)?.unwrap_or(DEFAULT_IDLE),
        spare_postmaster: !args.flag('p'),
        header: args.flag('H'),
    })
}

/// Fails when standard output leads nowhere: closed when rmxpolicyd was
/// started (the Rust runtime then opens /dev/null in its place), or
/// /dev/null itself. Answers written there would vanish while Postfix
/// waits for them.
pub fn check_output() -> Result<(), Error> {
    let null = fs::metadata("/dev/null").ok();
    let output = io::stdout().as_fd().try_clone_to_owned();
    let stat = output.and_then(|fd| File::from(fd).metadata());
    let nowhere = match (stat, null) {
        (Err(_), _) => true,
        (Ok(stat), Some(null)) => stat.file_type().is_char_device() && stat.rdev() == null.rdev(),
        (Ok(_), None) => false,
    };
    if nowhere {
        let why = "standard output is /dev/null, or was closed";
        return Err(Error::trouble("answer", io::Error::other(why)));
    }
    Ok(())
}

/// The reply to one request: the action, and the log line it calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// What follows `action=`: `DUNNO`, the refusal (`451 4.7.1 TEXT`), or
    /// `PREPEND` and the trial header.
    pub action: String,
    /// The line to log once the answer is delivered, if any.
    pub log: Option<(Priority, String)>,
    /// What the log says of this request, logged or not.
    pub line: String,
}

impl Reply {
    /// The answer, as the protocol writes it.
    pub fn answer(&self) -> String {
        format!("action={}\n\n", self.action)
    }

    /// Why the run ends when the answer could not be written (Postfix timed
    /// out, and closed the connection): a fatal line that says what was not
    /// delivered, in place of the line that would say it was.
    pub fn undelivered(&self, error: &io::Error) -> Error {
        let why = format!("{}; not delivered: {}", error_str::of(error), self.line);
        Error::trouble("answer", io::Error::new(error.kind(), why))
    }
}

/// The service: options and the verdicts it keeps.
pub struct Service {
    pub options: Options,
    pub cache: Cache,
    /// The last message (`instance`) whose header was prepended.
    headed: Option<String>,
}

impl Service {
    pub fn new(options: Options) -> Service {
        Service {
            options,
            cache: Cache::default(),
            headed: None,
        }
    }

    /// Replies to `request`, looking the client's lists up through the
    /// system's resolver unless a verdict is kept. One log line per lookup
    /// (and per request without a usable client address), none for a
    /// verdict reused.
    pub fn reply(&mut self, request: &Request, now: Instant) -> Reply {
        if request.request.as_deref() != Some("smtpd_access_policy") {
            let what = request.request.as_deref().unwrap_or("");
            let line = format!(
                "request {:?} is not smtpd_access_policy: action={DUNNO}",
                text::printable(what, 60)
            );
            return Reply {
                action: DUNNO.into(),
                log: Some((Priority::Warning, line.clone())),
                line,
            };
        }
        let instance = request.instance.as_deref().unwrap_or("");
        let client = client_of(request);
        let shown = client::shown(&client);
        let mut notes = Vec::new();
        let (judgement, looked_up) = match client {
            Err(why) => (Judgement::new(Reason::NoClient(why), None), true),
            Ok(ip) => match self.cache.get(ip, instance, now) {
                Some(kept) => (kept.clone(), false),
                None => (self.look_up(ip, instance, now, &mut notes), true),
            },
        };
        let decision = decide(&judgement, &self.options.policy, Date::today(), &shown);
        let refusal = match (&judgement.reason, decision) {
            // No retry can give Postfix an address it does not have.
            (Reason::NoClient(_), _) | (_, Decision::Accept) => None,
            (_, Decision::Refuse(rejection)) => Some(rejection.reply()),
        };
        let spared = refusal.is_some()
            && self.options.spare_postmaster
            && request.recipient.as_deref().is_some_and(for_postmaster);
        let refusal = if spared {
            notes.push("postmaster".to_string());
            None
        } else {
            refusal
        };
        let dry_run = self.options.dry_run;
        let mut action = match &refusal {
            Some(reply) if !dry_run => reply.clone(),
            _ => DUNNO.into(),
        };
        let first = !instance.is_empty() && self.headed.as_deref() != Some(instance);
        if self.options.header && action == DUNNO && first {
            self.headed = Some(instance.to_string());
            let doing = match (&refusal, spared) {
                (Some(_), _) => "would refuse",
                (None, true) => "accept for postmaster",
                (None, false) => "accept",
            };
            action = format!("PREPEND {}", header(&shown, &judgement, doing));
        }
        if !instance.is_empty() {
            notes.push(format!("instance {}", text::printable(instance, 60)));
        }
        let entry = Entry {
            client: &shown,
            judgement: &judgement,
            refusal: refusal.as_deref(),
            dry_run,
            notes: &notes,
        };
        Reply {
            action,
            log: looked_up.then(|| entry.line(self.options.quiet)).flatten(),
            line: entry.format(),
        }
    }

    /// The line that says the wait for a request ran out.
    pub fn idle(&self) -> String {
        let secs = self.options.idle.as_secs();
        format!("no request within {secs} s: exiting")
    }

    /// The client's check, kept for as long as it may be; its notes for
    /// the log into `notes`.
    fn look_up(
        &mut self,
        ip: IpAddr,
        instance: &str,
        now: Instant,
        notes: &mut Vec<String>,
    ) -> Judgement {
        let dns = Dns::from_system(self.options.dns_timeout);
        let checked = check(ip, &self.options.prefixes, &dns, Until::Decided);
        let judgement = checked.judgement.clone();
        self.cache
            .put(ip, instance, checked.judgement, checked.ttl, now);
        *notes = checked.notes;
        judgement
    }
}

/// The client of a request: `client_address`, or why there is none
/// (missing, Postfix's `unknown`, or not an address).
fn client_of(request: &Request) -> Result<IpAddr, String> {
    match request.client_address.as_deref() {
        None | Some("unknown") => Err(NO_CLIENT.to_string()),
        Some(text) => client::address(text)
            .ok_or_else(|| format!("{NO_CLIENT}: {:?}", text::printable(text, 60))),
    }
}

/// Whether mail to `recipient` must reach the site's people whatever the
/// check says: `postmaster` (RFC 5321 §4.5.1) or `abuse` (RFC 2142), in any
/// domain and any case.
fn for_postmaster(recipient: &str) -> bool {
    let local = recipient
        .rsplit_once('@')
        .map_or(recipient, |(local, _)| local);
    local.eq_ignore_ascii_case("postmaster") || local.eq_ignore_ascii_case("abuse")
}

/// The trial header: the result, what is done (`doing`), and why, as in
/// `X-Reverse-MX: fail (would refuse: 198.51.100.10 is not listed in
/// 100.51.198.in-addr.arpa)`.
fn header(client: &str, judgement: &Judgement, doing: &str) -> String {
    let outcome = judgement.outcome();
    let name = judgement
        .name
        .as_ref()
        .map_or_else(|| "-".to_string(), shown);
    let why = match (outcome, &judgement.reason) {
        (Outcome::Pass, _) => format!("{client} is listed in {name}"),
        (Outcome::Fail, Reason::NullMx) => {
            format!("{client} is not listed in {name}, a null MX")
        }
        (Outcome::Fail, _) => format!("{client} is not listed in {name}"),
        (Outcome::NoList, _) => format!("no list for {client}"),
        (_, Reason::NoClient(_)) => NO_CLIENT.to_string(),
        (_, reason) => format!("lookup for {client} failed: {reason}"),
    };
    text::printable(
        format!("{HEADER}: {outcome} ({doing}: {why})"),
        text::MAX_MESSAGE + 100,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Unpublished;

    fn parse_words(words: &[&str]) -> Result<Options, Error> {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        parse(&args)
    }

    #[test]
    fn options() {
        let o = parse_words(&[]).unwrap();
        assert_eq!(o.policy, Policy::default());
        assert_eq!(o.dns_timeout, Duration::from_secs(10));
        assert!(!o.dry_run && !o.quiet);
        let o = parse_words(&["-bcnq", "-s", "-T", "3", "-m", "go %i", "-4", "16"]).unwrap();
        assert!(o.policy.permanent && o.policy.reject_temperror && o.dry_run && o.quiet);
        assert_eq!(o.policy.unpublished, Unpublished::Reject);
        assert_eq!(o.dns_timeout, Duration::from_secs(3));
        assert_eq!(o.policy.message, "go %i");
        assert_eq!(o.prefixes.v4, [16]);
        let o = parse_words(&["-b", "-B", "-s", "-d", "2004-06-01"]).unwrap();
        assert!(!o.policy.permanent);
        assert!(matches!(o.policy.unpublished, Unpublished::RejectFrom(_)));
        for bad in [
            &["-x"][..],
            &["prog"],
            &["-t", "5"],
            &["-h", "x"],
            &["-T", "0"],
            &["-d", "soon"],
            &["-6", "65"],
            &["--help"],
        ] {
            let error = parse_words(bad).expect_err(&format!("{bad:?}"));
            assert!(matches!(error, Error::Usage(_)), "{bad:?}");
            assert!(!error.to_string().contains('\n'), "{error}");
        }
        assert!(matches!(parse_words(&["-V"]), Err(Error::Version)));
        let o = parse_words(&[]).unwrap();
        assert_eq!(o.idle, Duration::from_secs(300));
        assert!(o.spare_postmaster && !o.header);
        let o = parse_words(&["-pH", "-i", "5"]).unwrap();
        assert_eq!(o.idle, Duration::from_secs(5));
        assert!(!o.spare_postmaster && o.header);
        for bad in [&["-i", "0"][..], &["-i", "86401"], &["-m", ""]] {
            assert!(matches!(parse_words(bad), Err(Error::Usage(_))), "{bad:?}");
        }
    }

    /// Requests that need no lookup: another kind of request, or no usable
    /// client address, which is never refused, even under `-c`: no retry
    /// can give Postfix an address it does not have.
    #[test]
    fn replies_without_a_lookup() {
        let options = parse_words(&["-c", "-H"]).unwrap();
        let mut service = Service::new(options);
        let now = Instant::now();
        let other = Request {
            request: Some("junk\n".into()),
            ..Request::default()
        };
        let reply = service.reply(&other, now);
        assert_eq!(reply.action, "DUNNO");
        assert_eq!(
            reply.log,
            Some((
                Priority::Warning,
                "request \"junk?\" is not smtpd_access_policy: action=DUNNO".into()
            ))
        );
        let unknown = |address: Option<&str>, instance: &str| Request {
            request: Some("smtpd_access_policy".into()),
            client_address: address.map(str::to_string),
            instance: Some(instance.into()),
            recipient: None,
        };
        let reply = service.reply(&unknown(Some("unknown"), "1a.2b"), now);
        assert_eq!(
            reply.action,
            "PREPEND X-Reverse-MX: temperror (accept: no client address)"
        );
        let (priority, line) = reply.log.unwrap();
        assert_eq!(priority, Priority::Warning);
        assert_eq!(
            line,
            "- temperror - accept (no client address); instance 1a.2b"
        );
        // The header once per message; no note for an empty instance.
        let reply = service.reply(&unknown(None, "1a.2b"), now);
        assert_eq!(reply.action, "DUNNO");
        let reply = service.reply(&unknown(Some("198.51.100.300"), ""), now);
        assert_eq!(reply.action, "DUNNO");
        assert_eq!(
            reply.log.unwrap().1,
            "- temperror - accept (no client address: \"198.51.100.300\")"
        );
        assert!(service.cache.is_empty());
    }

    #[test]
    fn postmaster_and_abuse() {
        for yes in [
            "postmaster@example.com",
            "PostMaster@x",
            "abuse@a.b",
            "postmaster",
            "Abuse",
        ] {
            assert!(for_postmaster(yes), "{yes}");
        }
        for no in [
            "postmasters@x",
            "abuse.team@x",
            "x@postmaster",
            "",
            "webmaster@x",
        ] {
            assert!(!for_postmaster(no), "{no}");
        }
    }

    #[test]
    fn the_trial_header_says_the_result_and_the_action() {
        let zone = crate::findings::fixtures::name("100.51.198.in-addr.arpa.");
        let judged = |reason| Judgement::new(reason, Some(&zone));
        let client = "198.51.100.10";
        let cases = [
            (
                judged(Reason::NotListed(2)),
                "would refuse",
                "fail (would refuse: 198.51.100.10 is not listed in 100.51.198.in-addr.arpa)",
            ),
            (
                judged(Reason::NullMx),
                "accept for postmaster",
                "fail (accept for postmaster: 198.51.100.10 is not listed in \
                 100.51.198.in-addr.arpa, a null MX)",
            ),
            (
                judged(Reason::Listed(crate::findings::fixtures::name(
                    "mx.example.",
                ))),
                "accept",
                "pass (accept: 198.51.100.10 is listed in 100.51.198.in-addr.arpa)",
            ),
            (
                Judgement::new(Reason::NoList, None),
                "accept",
                "none (accept: no list for 198.51.100.10)",
            ),
            (
                judged(Reason::Unfinished),
                "accept",
                "temperror (accept: lookup for 198.51.100.10 failed: lookup did not finish)",
            ),
        ];
        for (judgement, doing, want) in cases {
            assert_eq!(
                header(client, &judgement, doing),
                format!("X-Reverse-MX: {want}")
            );
        }
    }
}
