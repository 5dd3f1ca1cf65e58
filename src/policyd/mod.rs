//! rmxpolicyd (rmxpolicyd(8)): the Reverse MX check as a Postfix SMTP
//! access policy service. This module owns its command line and the reply
//! to a request; [`request`] reads one request within its bounds, and
//! [`cache`] keeps verdicts for a while. The program itself only moves the
//! bytes.
//!
//! The protocol is Postfix's SMTPD_POLICY_README: a request is `name=value`
//! lines ended by an empty line; the reply is one `action=...` line and an
//! empty line.

pub mod cache;
pub mod request;

use std::ffi::OsString;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::check::{Dns, Until, check};
use crate::cli::{Error, Kind, Program, Spec};
use crate::client;
use crate::date::Date;
use crate::log::{Entry, Priority};
use crate::names::Prefixes;
use crate::text;
use crate::verdict::{Decision, Judgement, Policy, Reason, decide};
use cache::Cache;
use request::Request;

pub const PROGRAM: Program = Program {
    name: "rmxpolicyd",
    usage: "rmxpolicyd [-bBcCnqs] [-d YYYY-MM-DD] [-T SECONDS] [-m TEXT] [-4 PREFIXES] [-6 PREFIXES]",
    kind: Kind::Daemon,
};

const SPEC: Spec = Spec {
    flags: b"bBcCnqsV",
    values: b"dTm46",
    floating: false,
};

/// What Postfix is told when rmxpolicyd has nothing against the client: the
/// rest of the administrator's restrictions still apply.
const DUNNO: &str = "DUNNO";

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
    })
}

/// The reply to one request: the action, and the log line it calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// What follows `action=`: `DUNNO`, or the refusal (`451 4.7.1 TEXT`).
    pub action: String,
    pub log: Option<(Priority, String)>,
}

/// The service: options and the verdicts it keeps.
pub struct Service {
    pub options: Options,
    pub cache: Cache,
}

impl Service {
    pub fn new(options: Options) -> Service {
        Service {
            options,
            cache: Cache::default(),
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
                log: Some((Priority::Warning, line)),
            };
        }
        let client = match &request.client_address {
            None => Err("no client_address".to_string()),
            Some(text) => client::address(text).ok_or_else(|| {
                format!(
                    "client_address is not an address: {:?}",
                    text::printable(text, 60)
                )
            }),
        };
        let shown = client::shown(&client);
        let mut notes = Vec::new();
        let (judgement, looked_up) = match client {
            Err(why) => (Judgement::new(Reason::NoClient(why), None), true),
            Ok(ip) => match self.cache.get(ip, now) {
                Some(kept) => (kept.clone(), false),
                None => (self.look_up(ip, now, &mut notes), true),
            },
        };
        let refusal = match decide(&judgement, &self.options.policy, Date::today(), &shown) {
            Decision::Accept => None,
            Decision::Refuse(rejection) => Some(rejection.reply()),
        };
        let dry_run = self.options.dry_run;
        let action = match &refusal {
            Some(reply) if !dry_run => reply.clone(),
            _ => DUNNO.into(),
        };
        if let Some(instance) = &request.instance {
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
        }
    }

    /// The client's check, kept for as long as it may be; its notes for
    /// the log into `notes`.
    fn look_up(&mut self, ip: IpAddr, now: Instant, notes: &mut Vec<String>) -> Judgement {
        let dns = Dns::from_system(self.options.dns_timeout);
        let checked = check(ip, &self.options.prefixes, &dns, Until::Decided);
        self.cache
            .put(ip, checked.judgement.clone(), checked.ttl, now);
        *notes = checked.notes;
        checked.judgement
    }
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
    }

    /// Requests that need no lookup: another kind of request, or no usable
    /// client address.
    #[test]
    fn replies_without_a_lookup() {
        let options = parse_words(&["-c"]).unwrap();
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
        let unknown = Request {
            request: Some("smtpd_access_policy".into()),
            client_address: Some("unknown".into()),
            instance: Some("1a.2b".into()),
        };
        let reply = service.reply(&unknown, now);
        assert!(reply.action.starts_with("451 4.4.3 "), "{reply:?}");
        let (priority, line) = reply.log.unwrap();
        assert_eq!(priority, Priority::Warning);
        assert_eq!(
            line,
            "- temperror - reject: 451 4.4.3 Reverse MX lookup for [-] failed; try again later. \
             (client_address is not an address: \"unknown\"); instance 1a.2b"
        );
        assert!(service.cache.is_empty());
    }
}
