//! The check, said once: from a client's address, through the names to
//! query, the lookup and the verdict, to a judgement. rmxsmtpd, rmxpolicyd
//! and rmxcheck each call [`check`] once per client; what they do with the
//! judgement (exec or hold a session, answer Postfix, print a report) is
//! their own.

use std::net::IpAddr;
use std::time::Duration;

use crate::dns::{Config, Misread};
use crate::findings::{self, Findings};
use crate::lookup::lookup;
use crate::names::{Prefixes, reverse_names};
use crate::verdict::{Judgement, Reason, judge};

/// Where the lookup asks, and how long it may take.
#[derive(Clone, Debug)]
pub struct Dns {
    pub config: Config,
    /// Why the servers asked are not the ones named (`DNSCACHEIP` not
    /// understood, `/etc/resolv.conf` missing or naming none): a note for
    /// the log.
    pub misread: Option<Misread>,
    /// `-T`: each whole lookup ends by then.
    pub timeout: Duration,
}

impl Dns {
    /// The system's resolver (`DNSCACHEIP`, `/etc/resolv.conf`), read now.
    pub fn from_system(timeout: Duration) -> Dns {
        let (config, misread) = Config::from_system();
        Dns {
            config,
            misread,
            timeout,
        }
    }
}

/// How far a lookup goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Until the verdict is known: the first matching address ends it.
    Decided,
    /// Every name and every exchange, for a report.
    Everything,
}

/// What a check gives.
#[derive(Clone, Debug)]
pub struct Checked {
    pub judgement: Judgement,
    pub findings: Findings,
    /// How long the judgement may be reused: the smallest TTL of the
    /// answers it used, zero when it used none.
    pub ttl: Duration,
    /// What the log line mentions beyond the verdict.
    pub notes: Vec<String>,
}

/// Looks up the lists of `client`'s networks at `prefixes` and judges what
/// they say. A lookup cut short by its deadline is a `temperror`.
pub fn check(client: IpAddr, prefixes: &Prefixes, dns: &Dns, until: Until) -> Checked {
    let names = reverse_names(client, prefixes);
    let (findings, ttl) = lookup(client, names, dns.config.clone(), dns.timeout, |f| {
        until == Until::Decided && judge(f).is_some()
    });
    let judgement = judge(&findings).unwrap_or_else(|| Judgement::new(Reason::Unfinished, None));
    let notes = findings::notes(&findings, dns.misread.as_ref());
    Checked {
        judgement,
        findings,
        ttl,
        notes,
    }
}
