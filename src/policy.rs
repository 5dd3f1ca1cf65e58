//! rmxpolicyd (rmxpolicyd(8)): the Reverse MX check as a Postfix SMTP
//! access policy service. This module owns its command line, the reading of
//! one request within its bounds, the verdicts kept for a while, and the
//! answer to a request; the program itself only moves the bytes.
//!
//! The protocol is Postfix's SMTPD_POLICY_README: a request is `name=value`
//! lines ended by an empty line; the answer is one `action=...` line and an
//! empty line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, Read};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::client;
use crate::date::Date;
use crate::dns::Config;
use crate::findings;
use crate::log::{self, Priority};
use crate::lookup::lookup_kept;
use crate::names::{Prefixes, reverse_names};
use crate::options;
use crate::text;
use crate::verdict::{Action, Judgement, Outcome, Policy, decide, judge};

pub const USAGE: &str =
    "rmxpolicyd [-bBcCnqs] [-d YYYY-MM-DD] [-T SECONDS] [-m TEXT] [-4 PREFIXES] [-6 PREFIXES]";

/// The largest request, in bytes, empty line included.
pub const MAX_REQUEST: usize = 64 * 1024;
/// The most attributes in one request.
pub const MAX_ATTRIBUTES: usize = 1000;
/// The longest a verdict is reused, whatever the TTLs say.
pub const MAX_KEPT: Duration = Duration::from_secs(60);
/// The most verdicts kept at once.
pub const CACHE_SIZE: usize = 1024;
/// Longest error text.
const MAX_ERROR: usize = 200;

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

/// Parses the arguments after `argv[0]`: options only. The error is one
/// line of printable ASCII; `-V` gives one too, naming the version.
pub fn parse(args: &[OsString]) -> Result<Options, String> {
    read_options(args).map_err(|error| text::printable(&error, MAX_ERROR))
}

fn read_options(args: &[OsString]) -> Result<Options, String> {
    let mut spec = getopts::Options::new();
    for flag in ["b", "B", "c", "C", "n", "q", "s", "V"] {
        spec.optflagmulti(flag, "", "");
    }
    for option in ["d", "T", "m", "4", "6"] {
        spec.optmulti(option, "", "", "");
    }
    // As text, each byte outside printable ASCII one `?`.
    let words: Vec<String> = args
        .iter()
        .map(|a| text::printable(a.as_encoded_bytes(), a.len()))
        .collect();
    let matches = spec.parse(&words).map_err(options::getopts_error)?;
    if matches.opt_present("V") {
        return Err(format!("this is rmxpolicyd {}", env!("CARGO_PKG_VERSION")));
    }
    if let Some(word) = matches.free.first() {
        return Err(format!("options only, not {word:?}"));
    }
    Ok(Options {
        policy: options::policy(&matches)?,
        dry_run: matches.opt_present("n"),
        quiet: matches.opt_present("q"),
        dns_timeout: options::dns_timeout(&matches)?,
        prefixes: options::prefixes(&matches)?,
    })
}

/// The attributes of one request that rmxpolicyd reads; the rest are
/// ignored. A later line overrides an earlier one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub request: Option<String>,
    pub client_address: Option<String>,
    pub instance: Option<String>,
}

/// Reads one request: `Ok(None)` at the end of input before one starts.
/// The error says why the input is no request, and no answer may follow:
/// a request over [`MAX_REQUEST`] bytes or [`MAX_ATTRIBUTES`] attributes, a
/// line without `=`, with an empty name or with a NUL byte, a request cut
/// short by the end of input, or a read error. Memory stays within the
/// bound whatever arrives. A line may end in CR LF.
pub fn read_request(input: &mut impl BufRead) -> Result<Option<Request>, String> {
    let mut request = Request::default();
    let mut size = 0;
    let mut attributes = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let budget = (MAX_REQUEST - size) as u64;
        let read = input
            .by_ref()
            .take(budget + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read a request: {}", crate::error_str::of(&e)))?;
        size += read;
        if size > MAX_REQUEST {
            return Err(format!("request over {MAX_REQUEST} bytes"));
        }
        let Some(body) = line.strip_suffix(b"\n") else {
            if size == 0 {
                return Ok(None);
            }
            return Err("request cut short by the end of input".into());
        };
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.is_empty() {
            return Ok(Some(request));
        }
        attributes += 1;
        if attributes > MAX_ATTRIBUTES {
            return Err(format!("request over {MAX_ATTRIBUTES} attributes"));
        }
        let shown = || text::printable(body, 60);
        if body.contains(&0) {
            return Err(format!("NUL byte in request line {attributes}"));
        }
        let Some(at) = body.iter().position(|&b| b == b'=') else {
            return Err(format!("request line without '=': {:?}", shown()));
        };
        let (name, value) = (&body[..at], &body[at + 1..]);
        if name.is_empty() {
            return Err(format!("request line with an empty name: {:?}", shown()));
        }
        let value = || Some(String::from_utf8_lossy(value).into_owned());
        match name {
            b"request" => request.request = value(),
            b"client_address" => request.client_address = value(),
            b"instance" => request.instance = value(),
            _ => {}
        }
    }
}

/// Verdicts kept for a while, by client address: never a `temperror`,
/// never past [`MAX_KEPT`] or the TTL they were given, at most
/// [`CACHE_SIZE`] of them.
#[derive(Debug, Default)]
pub struct Cache {
    kept: BTreeMap<IpAddr, (Judgement, Instant)>,
}

impl Cache {
    /// The verdict kept for `client`, if it has not expired by `now`.
    pub fn get(&self, client: IpAddr, now: Instant) -> Option<&Judgement> {
        match self.kept.get(&client) {
            Some((judgement, until)) if now < *until => Some(judgement),
            _ => None,
        }
    }

    /// Keeps `judgement` for `client` for `ttl`, at most [`MAX_KEPT`]. When
    /// full, the expired verdicts go first, then the one nearest to expiry.
    pub fn put(&mut self, client: IpAddr, judgement: Judgement, ttl: Duration, now: Instant) {
        if judgement.outcome == Outcome::TempError || ttl.is_zero() {
            self.kept.remove(&client);
            return;
        }
        if self.kept.len() >= CACHE_SIZE && !self.kept.contains_key(&client) {
            self.kept.retain(|_, (_, until)| now < *until);
            let soonest = self.kept.iter().min_by_key(|(_, (_, until))| *until);
            if let Some((&gone, _)) = soonest.filter(|_| self.kept.len() >= CACHE_SIZE) {
                self.kept.remove(&gone);
            }
        }
        self.kept
            .insert(client, (judgement, now + ttl.min(MAX_KEPT)));
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

/// The answer to one request: the action, and the log line it calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
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

    /// Answers `request`, looking the client's lists up through the
    /// system's resolver unless a verdict is kept. One log line per lookup
    /// (and per request without a usable client address), none for a
    /// verdict reused.
    pub fn answer(&mut self, request: &Request, now: Instant) -> Answer {
        const DUNNO: &str = "DUNNO";
        if request.request.as_deref() != Some("smtpd_access_policy") {
            let what = request.request.as_deref().unwrap_or("");
            let line = format!(
                "request {:?} is not smtpd_access_policy: action={DUNNO}",
                text::printable(what, 60)
            );
            return Answer {
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
        let shown = client
            .as_ref()
            .map_or_else(|_| "-".to_string(), IpAddr::to_string);
        let mut notes = Vec::new();
        let (judgement, looked_up) = match client {
            Err(why) => (Judgement::new(Outcome::TempError, None, why), true),
            Ok(ip) => match self.cache.get(ip, now) {
                Some(kept) => (kept.clone(), false),
                None => {
                    let names = reverse_names(ip, &self.options.prefixes);
                    let (config, misread) = Config::from_system();
                    let (findings, ttl) =
                        lookup_kept(ip, names, config, self.options.dns_timeout, |f| {
                            judge(f).is_some()
                        });
                    notes = findings::notes(&findings, misread);
                    let judgement = judge(&findings).unwrap_or_else(|| {
                        Judgement::new(Outcome::TempError, None, "lookup did not finish")
                    });
                    let ttl = Duration::from_secs(ttl.into());
                    self.cache.put(ip, judgement.clone(), ttl, now);
                    (judgement, true)
                }
            },
        };
        let action = decide(&judgement, &self.options.policy, Date::today(), &shown);
        let refused = match &action {
            Action::Accept => None,
            Action::Reject(rejection) => Some(rejection.reply()),
        };
        let dry_run = self.options.dry_run;
        let action = match &refused {
            Some(reply) if !dry_run => reply.clone(),
            _ => DUNNO.into(),
        };
        if let Some(instance) = &request.instance {
            notes.push(format!("instance {}", text::printable(instance, 60)));
        }
        let entry = log::Entry {
            client: &shown,
            outcome: judgement.outcome,
            name: judgement.name.as_ref(),
            refused: refused.as_deref(),
            dry_run,
            why: &judgement.why,
            notes: &notes,
        };
        let logged = looked_up && (!self.options.quiet || entry.worth_logging_quietly());
        Answer {
            action,
            log: logged.then(|| (Priority::of(entry.outcome), entry.format())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Unpublished;
    use std::io::Cursor;

    fn read_all(bytes: &[u8]) -> Vec<Result<Option<Request>, String>> {
        let mut input = Cursor::new(bytes.to_vec());
        let mut got = Vec::new();
        loop {
            let one = read_request(&mut input);
            let done = !matches!(one, Ok(Some(_)));
            got.push(one);
            if done {
                return got;
            }
        }
    }

    #[test]
    fn requests_one_after_another() {
        let got = read_all(
            b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.51.100.5\n\
              unknown=x=y\ninstance=1a.2b\n\nrequest=other\r\nclient_address=1\r\n\r\n",
        );
        assert_eq!(
            got,
            [
                Ok(Some(Request {
                    request: Some("smtpd_access_policy".into()),
                    client_address: Some("198.51.100.5".into()),
                    instance: Some("1a.2b".into()),
                })),
                Ok(Some(Request {
                    request: Some("other".into()),
                    client_address: Some("1".into()),
                    instance: None,
                })),
                Ok(None),
            ]
        );
    }

    #[test]
    fn broken_input_is_no_request() {
        for (bytes, why) in [
            (&b"request=x\nno equals sign\n\n"[..], "without '='"),
            (b"=value\n\n", "empty name"),
            (b"request=x\0y\n\n", "NUL byte"),
            (b"request=x\n", "cut short"),
            (b"request=x", "cut short"),
        ] {
            let got = read_all(bytes);
            let error = got.last().unwrap().clone().unwrap_err();
            assert!(error.contains(why), "{bytes:?}: {error}");
        }
    }

    #[test]
    fn bounds() {
        // At the bound, a request; one byte over, none.
        let fill = |total: usize| {
            let head = b"client_address=";
            let mut bytes = head.to_vec();
            bytes.resize(total - 2, b'a');
            bytes.extend(b"\n\n");
            bytes
        };
        assert!(matches!(read_all(&fill(MAX_REQUEST))[0], Ok(Some(_))));
        let over = read_all(&fill(MAX_REQUEST + 1));
        assert!(over[0].as_ref().unwrap_err().contains("bytes"), "{over:?}");
        // A line with no end at all stops at the bound, not at memory's end.
        let endless = vec![b'a'; 10 * MAX_REQUEST];
        assert!(
            read_all(&endless)[0]
                .as_ref()
                .unwrap_err()
                .contains("bytes")
        );
        let many = |n: usize| [b"a=b\n".repeat(n), b"\n".to_vec()].concat();
        assert!(matches!(read_all(&many(MAX_ATTRIBUTES))[0], Ok(Some(_))));
        let over = read_all(&many(MAX_ATTRIBUTES + 1));
        assert!(over[0].as_ref().unwrap_err().contains("attributes"));
    }

    fn judgement(outcome: Outcome) -> Judgement {
        Judgement::new(outcome, None, "")
    }

    #[test]
    fn cache_keeps_by_address_and_time() {
        let now = Instant::now();
        let a: IpAddr = "198.51.100.5".parse().unwrap();
        let b: IpAddr = "198.51.100.6".parse().unwrap();
        let mut cache = Cache::default();
        cache.put(a, judgement(Outcome::Pass), Duration::from_secs(300), now);
        assert_eq!(cache.get(a, now).unwrap().outcome, Outcome::Pass);
        assert!(cache.get(b, now).is_none());
        // Never past MAX_KEPT, never past the TTL.
        assert!(cache.get(a, now + MAX_KEPT).is_none());
        cache.put(b, judgement(Outcome::Fail), Duration::from_secs(5), now);
        assert!(cache.get(b, now + Duration::from_secs(4)).is_some());
        assert!(cache.get(b, now + Duration::from_secs(5)).is_none());
        // Never a temperror, nor an answer that may not be kept.
        cache.put(a, judgement(Outcome::TempError), MAX_KEPT, now);
        assert!(cache.get(a, now).is_none());
        cache.put(a, judgement(Outcome::NoList), Duration::ZERO, now);
        assert!(cache.get(a, now).is_none());
    }

    #[test]
    fn cache_is_bounded() {
        let now = Instant::now();
        let mut cache = Cache::default();
        for n in 0..3 * CACHE_SIZE as u32 {
            let ip = IpAddr::from(n.to_be_bytes());
            let ttl = Duration::from_secs(1 + u64::from(n % 50));
            cache.put(ip, judgement(Outcome::Pass), ttl, now);
            assert!(cache.len() <= CACHE_SIZE);
        }
        // The newest is kept.
        let last = IpAddr::from((3 * CACHE_SIZE as u32 - 1).to_be_bytes());
        assert!(cache.get(last, now).is_some());
    }

    fn parse_words(words: &[&str]) -> Result<Options, String> {
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
            &["-V"],
        ] {
            let error = parse_words(bad).expect_err(&format!("{bad:?}"));
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
