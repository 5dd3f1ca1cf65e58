//! The verdict (rmxsmtpd(8), Results): pure functions from what the environment
//! and the lookup said, the options and today's date, to a result and an
//! action. No I/O here.
//!
//! - [`screen`]: before any lookup, `RMXSMTPD` and `RELAYCLIENT`;
//! - [`judge`]: the lookup's findings to `pass`, `fail`, `none` or
//!   `temperror`, with the [`Reason`], or nothing yet while the answer is
//!   not known;
//! - [`decide`]: a judgement and the policy to accept or refuse.

use std::fmt;
use std::net::IpAddr;

use hickory_proto::rr::Name;

use crate::date::Date;
use crate::dns;
use crate::findings::{Addrs, Exchange, Findings, List};
use crate::names::shown;
use crate::text;

/// The default rejection text, after the 2003 proposal.
pub const DEFAULT_MESSAGE: &str =
    "Your IP [%i] is not listed in Reverse MX! Contact your mail or your network administrator.";

/// The text of a hand block with no text of its own (`RMXSMTPD=-`): the
/// administrator refused this host, whatever its network lists, so the
/// `-m` text, which speaks of the list, would mislead.
pub const BLOCKED_MESSAGE: &str = "Your IP [%i] is refused here.";

/// The text when `-c` rejects a temporary DNS failure.
const TEMPERROR_MESSAGE: &str = "Reverse MX lookup for [%i] failed; try again later.";

/// A result, in the order the manuals and rmxreport show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Pass,
    Fail,
    /// No list at any name queried: "none" in the log, `RMXRESULT` and the
    /// manual's table.
    NoList,
    TempError,
    Skip,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::NoList,
        Outcome::TempError,
        Outcome::Skip,
    ];

    /// The word in the log and in `RMXRESULT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NoList => "none",
            Outcome::TempError => "temperror",
            Outcome::Skip => "skip",
        }
    }

    /// The result a word of the log names.
    pub fn from_word(word: &[u8]) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str().as_bytes() == word)
    }

    /// Whether the lookup answered: the results that say whether a network
    /// publishes a list (`pass`, `fail`, `none`).
    pub fn answered(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::Fail | Outcome::NoList)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a result is what it is. Each reason belongs to one result; its text
/// (`Display`) is the log line's `(WHY)` and the last field of `rmxcheck -p`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `pass`: the client is an address of this exchange.
    Listed(Name),
    /// `pass`, for a network (rmxcheck's publisher's check): the addresses
    /// its list lets send.
    Senders(Vec<IpAddr>),
    /// `fail`: the client is none of this many exchanges.
    NotListed(usize),
    /// `fail`: the list is a null MX (RFC 7505).
    NullMx,
    /// `fail`, for a network: no exchange of its list has an address.
    NoSenders,
    /// `none`: no name queried has a list.
    NoList,
    /// `temperror`: the query for a list failed.
    QueryFailed(dns::Error),
    /// `temperror`: an exchange could not be resolved, and no other matched.
    ExchangeFailed(Name, dns::Error),
    /// `temperror`: the lookup stopped before the result was known.
    Unfinished,
    /// `temperror`: no client address, and why.
    NoClient(String),
    /// `skip`: why no lookup was made (`RELAYCLIENT is set`).
    Skipped(&'static str),
}

impl Reason {
    /// The result this reason gives.
    pub fn outcome(&self) -> Outcome {
        match self {
            Reason::Listed(_) | Reason::Senders(_) => Outcome::Pass,
            Reason::NotListed(_) | Reason::NullMx | Reason::NoSenders => Outcome::Fail,
            Reason::NoList => Outcome::NoList,
            Reason::QueryFailed(_)
            | Reason::ExchangeFailed(..)
            | Reason::Unfinished
            | Reason::NoClient(_) => Outcome::TempError,
            Reason::Skipped(_) => Outcome::Skip,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Listed(host) => f.write_str(&shown(host)),
            Reason::Senders(senders) => {
                for (n, ip) in senders.iter().enumerate() {
                    let space = if n > 0 { " " } else { "" };
                    write!(f, "{space}{ip}")?;
                }
                Ok(())
            }
            Reason::NotListed(1) => f.write_str("no match among 1 listed exchange"),
            Reason::NotListed(n) => write!(f, "no match among {n} listed exchanges"),
            Reason::NullMx => f.write_str("null MX"),
            Reason::NoSenders => f.write_str("no exchange has an address"),
            Reason::NoList => f.write_str("no list"),
            Reason::QueryFailed(error) => write!(f, "{error}"),
            Reason::ExchangeFailed(host, error) => write!(f, "exchange {}: {error}", shown(host)),
            Reason::Unfinished => f.write_str("lookup did not finish"),
            Reason::NoClient(why) => f.write_str(why),
            Reason::Skipped(why) => f.write_str(why),
        }
    }
}

/// A result's reason, and the name whose list decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub reason: Reason,
    pub name: Option<Name>,
    /// The deciding list had more exchanges than the cap
    /// ([`crate::findings::MAX_EXCHANGES`]), and the rest were not
    /// resolved: the client may be one of them.
    pub cut: bool,
}

impl Judgement {
    /// A judgement for `reason`, decided at `name` if any.
    pub fn new(reason: Reason, name: Option<&Name>) -> Judgement {
        Judgement {
            reason,
            name: name.cloned(),
            cut: false,
        }
    }

    pub fn outcome(&self) -> Outcome {
        self.reason.outcome()
    }
}

/// The result the findings give, or `None` while it is not yet known. The
/// most specific name that has a list decides; a more specific name that
/// has not answered, or failed, stands in the way of a broader one.
pub fn judge(findings: &Findings) -> Option<Judgement> {
    for entry in &findings.names {
        let name = Some(&entry.name);
        match &entry.list {
            List::Pending => return None,
            List::Failed(error) => {
                return Some(Judgement::new(Reason::QueryFailed(error.clone()), name));
            }
            List::Unpublished(_) => continue,
            List::Null => return Some(Judgement::new(Reason::NullMx, name)),
            List::Exchanges { hosts, ignored, .. } => {
                let judgement = |reason| Judgement {
                    cut: *ignored > 0,
                    ..Judgement::new(reason, name)
                };
                if let Some(host) = hosts.iter().find(|h| h.matches(findings.client)) {
                    return Some(judgement(Reason::Listed(host.host.clone())));
                }
                if hosts.iter().any(|h| h.addrs == Addrs::Pending) {
                    return None;
                }
                let reason = failed_exchange(hosts).unwrap_or(Reason::NotListed(hosts.len()));
                return Some(judgement(reason));
            }
        }
    }
    Some(Judgement::new(Reason::NoList, None))
}

/// The first exchange whose addresses could not be had, as a reason: a list
/// with such an exchange cannot say who is not on it.
pub fn failed_exchange(hosts: &[Exchange]) -> Option<Reason> {
    hosts.iter().find_map(|h| match &h.addrs {
        Addrs::Failed(error) => Some(Reason::ExchangeFailed(h.host.clone(), error.clone())),
        _ => None,
    })
}

/// What a network that publishes no list gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpublished {
    Accept,
    /// `-s`
    Reject,
    /// `-d`: rejected from that day on, UTC.
    RejectFrom(Date),
}

/// The options that shape the action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `-b`: `fail` (and `none` under `-s`/`-d`) get a permanent 554.
    pub permanent: bool,
    /// `-c`: `temperror` gets `451 4.4.3` instead of the exec.
    pub reject_temperror: bool,
    pub unpublished: Unpublished,
    /// `-m`: the rejection text, `%i` for the client.
    pub message: String,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            permanent: false,
            reject_temperror: false,
            unpublished: Unpublished::Accept,
            message: DEFAULT_MESSAGE.to_string(),
        }
    }
}

/// A refusal: the SMTP reply code follows from `permanent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub permanent: bool,
    /// The enhanced status code's subject and detail (RFC 3463): `7.1`, `4.3`.
    pub detail: &'static str,
    /// Printable ASCII, at most `text::MAX_MESSAGE` characters.
    pub text: String,
}

impl Rejection {
    fn new(permanent: bool, detail: &'static str, template: &[u8], client: &str) -> Rejection {
        Rejection {
            permanent,
            detail,
            text: text::render(template, client),
        }
    }

    /// The reply to every refused command: `451 4.7.1 TEXT`, `554 5.7.1 TEXT`.
    pub fn reply(&self) -> String {
        self.with_code(if self.permanent { 554 } else { 451 })
    }

    /// The one line that replaces the greeting under `-t 0`: `421` closes a
    /// session temporarily (RFC 5321 §3.8), `554` refuses it (§4.2.2).
    pub fn farewell(&self) -> String {
        self.with_code(if self.permanent { 554 } else { 421 })
    }

    fn with_code(&self, code: u16) -> String {
        let class = if self.permanent { 5 } else { 4 };
        format!("{code} {class}.{} {}", self.detail, self.text)
    }
}

/// What is done with the client: accepted, or refused with a rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refuse(Rejection),
}

/// What the environment says before any lookup (the rblsmtpd convention for
/// tcprules): `RMXSMTPD` set and empty, or `RELAYCLIENT` set, skips the
/// lookup; `RMXSMTPD` with text rejects with it, permanently after a `-`;
/// a `-` alone rejects permanently with `BLOCKED_MESSAGE`.
/// The text is bytes, in whatever encoding the rule was written: Latin-1
/// text refuses as well as ASCII does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    Lookup,
    Skip(&'static str),
    Reject(Rejection),
}

/// Why a client refused by hand (`RMXSMTPD` with text) was not looked up.
pub const SCREENED: &str = "RMXSMTPD is set";

pub fn screen(rmxsmtpd: Option<&[u8]>, relayclient: bool, client: &str) -> Screen {
    match rmxsmtpd {
        Some(b"") => Screen::Skip("RMXSMTPD is empty"),
        Some(text) => {
            let (permanent, text) = match text.strip_prefix(b"-") {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let template = if text.is_empty() {
                BLOCKED_MESSAGE.as_bytes()
            } else {
                text
            };
            Screen::Reject(Rejection::new(permanent, "7.1", template, client))
        }
        None if relayclient => Screen::Skip("RELAYCLIENT is set"),
        None => Screen::Lookup,
    }
}

/// The decision for a judgement. A `fail` from a list that was cut
/// (`Judgement::cut`) is refused temporarily even under `-b`: the client may
/// be one of the exchanges that were not resolved.
pub fn decide(judgement: &Judgement, policy: &Policy, today: Date, client: &str) -> Decision {
    let refuse = |permanent| {
        Decision::Refuse(Rejection::new(
            permanent,
            "7.1",
            policy.message.as_bytes(),
            client,
        ))
    };
    match judgement.outcome() {
        Outcome::Pass | Outcome::Skip => Decision::Accept,
        Outcome::Fail => refuse(policy.permanent && !judgement.cut),
        Outcome::NoList => match policy.unpublished {
            Unpublished::Accept => Decision::Accept,
            Unpublished::Reject => refuse(policy.permanent),
            Unpublished::RejectFrom(day) if today >= day => refuse(policy.permanent),
            Unpublished::RejectFrom(_) => Decision::Accept,
        },
        Outcome::TempError if policy.reject_temperror => Decision::Refuse(Rejection::new(
            false,
            "4.3",
            TEMPERROR_MESSAGE.as_bytes(),
            client,
        )),
        Outcome::TempError => Decision::Accept,
    }
}

#[cfg(test)]
#[path = "../tests/support/decide_table.rs"]
mod decide_table;

#[cfg(test)]
mod tests {
    use super::decide_table;
    use super::*;
    use crate::dns::Answer;
    use crate::findings::fixtures::{self, exchange, found, ip, list};
    use std::time::Duration;

    const CLIENT: &str = "198.51.100.10";

    /// The client's findings at names n0, n1, ... from the most specific.
    fn findings(lists: Vec<List>) -> Findings {
        let owners: Vec<String> = (0..lists.len())
            .map(|n| format!("n{n}.in-addr.arpa."))
            .collect();
        let names = lists
            .into_iter()
            .zip(&owners)
            .enumerate()
            .map(|(n, (list, owner))| (24 - 8 * n as u8, owner.as_str(), list))
            .collect();
        fixtures::findings(CLIENT, names)
    }

    /// A reason that gives `outcome`.
    fn reason_for(outcome: Outcome) -> Reason {
        match outcome {
            Outcome::Pass => Reason::Listed(fixtures::name("mx.example.")),
            Outcome::Fail => Reason::NotListed(1),
            Outcome::NoList => Reason::NoList,
            Outcome::TempError => Reason::Unfinished,
            Outcome::Skip => Reason::Skipped("RELAYCLIENT is set"),
        }
    }

    fn timeout() -> dns::Error {
        dns::Error::Timeout(Duration::from_secs(10))
    }

    /// Every shape of findings, with the result and the deciding name index.
    #[test]
    fn judge_table() {
        use Outcome::*;
        let nx = || List::Unpublished(Answer::NxDomain);
        let nodata = || List::Unpublished(Answer::NoData);
        let on = || exchange("on.example.", found(&["198.51.100.9", CLIENT]));
        let off = || exchange("off.example.", found(&["198.51.100.9"]));
        let gone = || exchange("gone.example.", Addrs::Missing(Answer::NxDomain));
        let v6only = || exchange("v6.example.", Addrs::Missing(Answer::NoData));
        let broken = || exchange("broken.example.", Addrs::Failed(timeout()));
        let pending = || exchange("later.example.", Addrs::Pending);
        let literal_on = || exchange("198.51.100.10.", Addrs::Literal(CLIENT.parse().unwrap()));
        let literal_off = || {
            exchange(
                "198.51.100.5.",
                Addrs::Literal("198.51.100.5".parse().unwrap()),
            )
        };
        type Case = (Vec<List>, Option<(Outcome, Option<usize>)>);
        let cases: Vec<Case> = vec![
            // One name.
            (vec![list(vec![on()])], Some((Pass, Some(0)))),
            (vec![list(vec![off()])], Some((Fail, Some(0)))),
            (vec![List::Null], Some((Fail, Some(0)))),
            (vec![nx()], Some((NoList, None))),
            (vec![nodata()], Some((NoList, None))),
            (vec![List::Failed(timeout())], Some((TempError, Some(0)))),
            (vec![List::Pending], None),
            (vec![list(vec![literal_on()])], Some((Pass, Some(0)))),
            (vec![list(vec![literal_off()])], Some((Fail, Some(0)))),
            // Exchanges that add nothing.
            (vec![list(vec![gone(), v6only()])], Some((Fail, Some(0)))),
            (vec![list(vec![gone(), on()])], Some((Pass, Some(0)))),
            // A failed exchange: temperror unless another matched.
            (
                vec![list(vec![broken(), off()])],
                Some((TempError, Some(0))),
            ),
            (vec![list(vec![broken(), on()])], Some((Pass, Some(0)))),
            // Unresolved exchanges: not known yet, unless one matched.
            (vec![list(vec![pending(), off()])], None),
            (vec![list(vec![pending(), on()])], Some((Pass, Some(0)))),
            (vec![list(vec![pending(), broken()])], None),
            // Two names: the most specific with a list decides.
            (
                vec![list(vec![off()]), list(vec![on()])],
                Some((Fail, Some(0))),
            ),
            (
                vec![list(vec![on()]), list(vec![off()])],
                Some((Pass, Some(0))),
            ),
            (vec![nx(), list(vec![on()])], Some((Pass, Some(1)))),
            (vec![nodata(), list(vec![off()])], Some((Fail, Some(1)))),
            (vec![nx(), List::Null], Some((Fail, Some(1)))),
            (vec![nx(), nodata()], Some((NoList, None))),
            (vec![List::Null, list(vec![on()])], Some((Fail, Some(0)))),
            // A more specific name that failed or has not answered stands in the way.
            (
                vec![List::Failed(timeout()), list(vec![on()])],
                Some((TempError, Some(0))),
            ),
            (vec![List::Pending, list(vec![on()])], None),
            (
                vec![nx(), List::Failed(timeout())],
                Some((TempError, Some(1))),
            ),
            (vec![nx(), List::Pending], None),
            // A broader name that has not answered does not matter once a
            // more specific one decided.
            (vec![list(vec![on()]), List::Pending], Some((Pass, Some(0)))),
            (vec![List::Null, List::Pending], Some((Fail, Some(0)))),
            (
                vec![list(vec![off()]), List::Failed(timeout())],
                Some((Fail, Some(0))),
            ),
            // No names at all (no prefixes for this family).
            (vec![], Some((NoList, None))),
        ];
        for (n, (lists, want)) in cases.into_iter().enumerate() {
            let f = findings(lists);
            let got = judge(&f).map(|j| {
                let index = j.name.as_ref().map(|name| {
                    f.names
                        .iter()
                        .position(|e| &e.name == name)
                        .expect("a queried name")
                });
                (j.outcome(), index)
            });
            assert_eq!(got, want, "case {n}");
        }
    }

    #[test]
    fn judge_says_why() {
        let f = findings(vec![list(vec![
            exchange("off.example.", found(&["198.51.100.9"])),
            exchange("broken.example.", Addrs::Failed(timeout())),
        ])]);
        assert_eq!(
            judge(&f).unwrap().reason.to_string(),
            "exchange broken.example: timeout after 10 s"
        );
        let f = findings(vec![List::Failed(timeout())]);
        assert_eq!(judge(&f).unwrap().reason.to_string(), "timeout after 10 s");
        let f = findings(vec![list(vec![exchange("x.example.", found(&[]))])]);
        assert_eq!(
            judge(&f).unwrap().reason.to_string(),
            "no match among 1 listed exchange"
        );
    }

    /// Names reach text as they are on the wire: an internationalized
    /// exchange stays in its `xn--` form, never decoded to Unicode.
    #[test]
    fn why_texts_name_exchanges_in_ascii() {
        let munich = "xn--mnchen-3ya.example.";
        let f = findings(vec![list(vec![exchange(munich, found(&[CLIENT]))])]);
        assert_eq!(
            judge(&f).unwrap().reason.to_string(),
            "xn--mnchen-3ya.example"
        );
        let f = findings(vec![list(vec![exchange(munich, Addrs::Failed(timeout()))])]);
        assert_eq!(
            judge(&f).unwrap().reason.to_string(),
            "exchange xn--mnchen-3ya.example: timeout after 10 s"
        );
    }

    #[test]
    fn an_ipv6_client_matches_only_ipv6() {
        let mut f = findings(vec![list(vec![exchange(
            "mx.example.",
            found(&["2001:db8::25"]),
        )])]);
        f.client = ip("2001:db8::25");
        assert_eq!(judge(&f).unwrap().outcome(), Outcome::Pass);
        f.client = ip("2001:db8::26");
        assert_eq!(judge(&f).unwrap().outcome(), Outcome::Fail);
    }

    /// Every result under every combination of options, dates and cut
    /// lists, against the literal table.
    #[test]
    fn decide_table() {
        // The reader checks that every combination is there exactly once.
        let rows = decide_table::read();
        assert_eq!(decide_table::CLIENT, CLIENT);
        let day = Date::parse("2004-06-01").unwrap();
        for ([result, b, c, unpublished, cut], want) in rows {
            let (unpublished, today) = match unpublished {
                "accept" => (Unpublished::Accept, day),
                "-s" => (Unpublished::Reject, day),
                "-d:before" => (
                    Unpublished::RejectFrom(day),
                    Date::parse("2004-05-31").unwrap(),
                ),
                "-d:on" => (Unpublished::RejectFrom(day), day),
                "-d:after" => (
                    Unpublished::RejectFrom(day),
                    Date::parse("2030-01-01").unwrap(),
                ),
                other => panic!("no-list policy {other}"),
            };
            let policy = Policy {
                permanent: b == "-b",
                reject_temperror: c == "-c",
                unpublished,
                message: "no [%i]".into(),
            };
            let outcome = *Outcome::ALL
                .iter()
                .find(|o| o.as_str() == result)
                .expect("a result");
            let judgement = Judgement {
                cut: cut == "cut",
                ..Judgement::new(reason_for(outcome), None)
            };
            let got = match decide(&judgement, &policy, today, CLIENT) {
                Decision::Accept => "accept".to_string(),
                Decision::Refuse(rejection) => rejection.reply(),
            };
            assert_eq!(got, want, "{result} {b} {c} {policy:?} {today} {cut}");
        }
    }

    #[test]
    fn judge_says_when_the_deciding_list_was_cut() {
        let off = || exchange("off.example.", found(&["198.51.100.9"]));
        let on = || exchange("on.example.", found(&[CLIENT]));
        let cut = |hosts, ignored| List::Exchanges {
            hosts,
            ignored,
            null_dropped: false,
        };
        let judged = |lists| {
            let j = judge(&findings(lists)).unwrap();
            (j.outcome(), j.cut)
        };
        assert_eq!(judged(vec![cut(vec![off()], 5)]), (Outcome::Fail, true));
        assert_eq!(judged(vec![cut(vec![off()], 0)]), (Outcome::Fail, false));
        assert_eq!(judged(vec![cut(vec![on()], 5)]), (Outcome::Pass, true));
        // Only the deciding list counts.
        assert_eq!(
            judged(vec![cut(vec![off()], 0), cut(vec![on()], 5)]),
            (Outcome::Fail, false)
        );
        assert_eq!(
            judged(vec![
                List::Unpublished(Answer::NxDomain),
                cut(vec![off()], 1)
            ]),
            (Outcome::Fail, true)
        );
        assert_eq!(judged(vec![List::Null]), (Outcome::Fail, false));
    }

    #[test]
    fn reply_lines() {
        let temporary = Rejection::new(false, "7.1", DEFAULT_MESSAGE.as_bytes(), CLIENT);
        assert_eq!(
            temporary.reply(),
            "451 4.7.1 Your IP [198.51.100.10] is not listed in Reverse MX! Contact your mail or your network administrator."
        );
        assert!(temporary.farewell().starts_with("421 4.7.1 Your IP"));
        let permanent = Rejection::new(true, "7.1", b"go away", CLIENT);
        assert_eq!(permanent.reply(), "554 5.7.1 go away");
        assert_eq!(permanent.farewell(), "554 5.7.1 go away");
        let dns = Rejection::new(false, "4.3", b"later", CLIENT);
        assert_eq!(dns.reply(), "451 4.4.3 later");
        assert_eq!(dns.farewell(), "421 4.4.3 later");
    }

    #[test]
    fn screen_table() {
        let cases: [(Option<&[u8]>, bool, Screen); 10] = [
            (None, false, Screen::Lookup),
            (None, true, Screen::Skip("RELAYCLIENT is set")),
            (Some(b""), false, Screen::Skip("RMXSMTPD is empty")),
            (Some(b""), true, Screen::Skip("RMXSMTPD is empty")),
            (
                Some(b"blocked [%i]"),
                false,
                Screen::Reject(Rejection::new(false, "7.1", b"blocked [%i]", CLIENT)),
            ),
            // RMXSMTPD wins over RELAYCLIENT, as RBLSMTPD does in rblsmtpd.
            (
                Some(b"-gone\r\n"),
                true,
                Screen::Reject(Rejection {
                    permanent: true,
                    detail: "7.1",
                    text: "gone??".into(),
                }),
            ),
            (
                Some(b"-"),
                false,
                Screen::Reject(Rejection {
                    permanent: true,
                    detail: "7.1",
                    text: "Your IP [198.51.100.10] is refused here.".into(),
                }),
            ),
            (
                Some(b"x"),
                false,
                Screen::Reject(Rejection::new(false, "7.1", b"x", CLIENT)),
            ),
            // Text that is not UTF-8 is still text, each byte outside
            // printable ASCII shown as `?`.
            (
                Some(b"go away \xe9t\xe9"),
                false,
                Screen::Reject(Rejection {
                    permanent: false,
                    detail: "7.1",
                    text: "go away ?t?".into(),
                }),
            ),
            (
                Some(b"-go away \xe9t\xe9"),
                false,
                Screen::Reject(Rejection {
                    permanent: true,
                    detail: "7.1",
                    text: "go away ?t?".into(),
                }),
            ),
        ];
        for (rmxsmtpd, relayclient, want) in cases {
            assert_eq!(
                screen(rmxsmtpd, relayclient, CLIENT),
                want,
                "{rmxsmtpd:?} {relayclient}"
            );
        }
        let Screen::Reject(r) = screen(Some(b"blocked [%i]"), false, CLIENT) else {
            panic!()
        };
        assert_eq!(r.reply(), "451 4.7.1 blocked [198.51.100.10]");
    }
}
