//! rmxcheck: rmxsmtpd's Reverse MX lookup for the addresses named on the
//! command line, for administrators (DESIGN.md §9). It asks every name and
//! resolves every exchange (no early stop), prints what each answered and
//! the result with its reason, and warns on stderr about the mistakes in a
//! published list that it can see.

use std::fmt::Write as _;
use std::io::{ErrorKind, Write as _};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use getopts::ParsingStyle;

use rmxsmtpd::dns::{Answer, Config};
use rmxsmtpd::exit::{self, Error};
use rmxsmtpd::findings::{deciding_list, not_among, warnings};
use rmxsmtpd::log::trimmed;
use rmxsmtpd::lookup::{Addrs, Findings, List, family, lookup};
use rmxsmtpd::names::{Prefixes, reverse_names};
use rmxsmtpd::verdict::{Judgement, Outcome, judge};
use rmxsmtpd::{client, options, text};

const USAGE: &str = "rmxcheck [-ps] [-4 PREFIXES] [-6 PREFIXES] [-T SECONDS] ADDRESS ...";

const EXIT_FAIL: u8 = 1;
const EXIT_NONE: u8 = 2;

/// Longest line of `-p` output and of a warning.
const MAX_LINE: usize = 1000;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Check(Check),
    /// `-V`: the version on stdout.
    Version,
}

#[derive(Debug, PartialEq, Eq)]
struct Check {
    prefixes: Prefixes,
    timeout: Duration,
    /// `-s`: a missing list counts as a failure in the exit status.
    strict: bool,
    /// `-p`: one line per address, for scripts.
    parseable: bool,
    addresses: Vec<IpAddr>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run(&args) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            let line = match &error {
                Error::Usage(_) => format!("rmxcheck: {error}; usage: {USAGE}"),
                // `rmxcheck ... | head`: a closed stdout ends the run quietly.
                Error::Trouble { error, .. } if error.kind() == ErrorKind::BrokenPipe => {
                    String::new()
                }
                Error::Trouble { .. } => format!("rmxcheck: fatal: {error}"),
            };
            if !line.is_empty() {
                // Nothing useful can be done if stderr is gone.
                let _ = writeln!(std::io::stderr(), "{}", text::printable(&line, MAX_LINE));
            }
            ExitCode::from(error.status())
        }
    }
}

/// Checks what the command line names, in order, and returns the exit
/// status that all the results give together.
fn run(args: &[String]) -> Result<u8, Error> {
    let check = match parse(args).map_err(Error::Usage)? {
        Request::Check(check) => check,
        Request::Version => {
            let line = format!("rmxcheck {}\n", env!("CARGO_PKG_VERSION"));
            write_out(&line)?;
            return Ok(0);
        }
    };
    let (config, misread) = Config::from_system();
    if let Some(misread) = misread {
        warn(&format!("rmxcheck: warning: {misread}"));
    }
    let mut outcomes = Vec::new();
    for (n, &ip) in check.addresses.iter().enumerate() {
        let names = reverse_names(ip, &check.prefixes);
        let findings = lookup(ip, names, config.clone(), check.timeout, |_| false);
        let judgement = judge(&findings)
            .unwrap_or_else(|| Judgement::new(Outcome::TempError, None, "lookup did not finish"));
        let mut out = String::new();
        if check.parseable {
            out = parseable(ip, &judgement);
        } else {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&report(&findings, &judgement, check.strict));
        }
        write_out(&out)?;
        for warning in warnings(&findings) {
            warn(&format!("rmxcheck: warning: {ip}: {warning}"));
        }
        outcomes.push(judgement.outcome);
    }
    Ok(exit_status(&outcomes, check.strict))
}

/// Writes to stdout at once, so that the report and the warnings keep
/// their order when both go to one terminal.
fn write_out(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| Error::Trouble {
            doing: "write the report".into(),
            error,
        })
}

/// One warning line on stderr, printable and bounded.
fn warn(line: &str) {
    let _ = writeln!(std::io::stderr(), "{}", text::printable(line, MAX_LINE));
}

/// Reads the arguments after `argv[0]`, whatever they are; an argument
/// that is not UTF-8 has come as text with U+FFFD, which no address has.
/// Every address is checked before any lookup starts, so a typo costs no
/// DNS traffic.
fn parse(args: &[String]) -> Result<Request, String> {
    let mut spec = getopts::Options::new();
    spec.parsing_style(ParsingStyle::FloatingFrees);
    for flag in ["s", "p", "V"] {
        spec.optflagmulti(flag, "", "");
    }
    for option in ["4", "6", "T"] {
        spec.optmulti(option, "", "", "");
    }
    let matches = spec.parse(args).map_err(|e| e.to_string())?;
    if matches.opt_present("V") {
        return Ok(Request::Version);
    }
    let prefixes = options::prefixes(&matches)?;
    let timeout = options::dns_timeout(&matches)?;
    if matches.free.is_empty() {
        return Err("no address to check".into());
    }
    let addresses = matches
        .free
        .iter()
        .map(|word| client::address(word).ok_or_else(|| format!("not an address: {word:?}")))
        .collect::<Result<_, _>>()?;
    Ok(Request::Check(Check {
        prefixes,
        timeout,
        strict: matches.opt_present("s"),
        parseable: matches.opt_present("p"),
        addresses,
    }))
}

/// The exit status for all the results (DESIGN.md §9).
fn exit_status(outcomes: &[Outcome], strict: bool) -> u8 {
    let any = |wanted: &[Outcome]| outcomes.iter().any(|o| wanted.contains(o));
    if any(&[Outcome::TempError]) {
        exit::TROUBLE
    } else if any(&[Outcome::Fail]) || (strict && any(&[Outcome::NoList])) {
        EXIT_FAIL
    } else if any(&[Outcome::NoList]) {
        EXIT_NONE
    } else {
        0
    }
}

/// `-p`: `ADDRESS RESULT NAME WHY`, NAME `-` when no list decided. The same
/// fields as rmxsmtpd's log line, so one parser reads both.
fn parseable(ip: IpAddr, judgement: &Judgement) -> String {
    let name = judgement.name.as_ref().map_or_else(|| "-".into(), trimmed);
    let line = format!("{ip} {} {name} {}", judgement.outcome, judgement.why);
    let mut line = text::printable(&line, MAX_LINE);
    line.push('\n');
    line
}

/// The human report for one address: every name and what it answered,
/// every exchange and its addresses, then the result and why.
fn report(findings: &Findings, judgement: &Judgement, strict: bool) -> String {
    let client = findings.client;
    let family = family(client);
    let mut out = format!("{client}\n");
    for entry in &findings.names {
        let name = trimmed(&entry.name);
        let answered = match &entry.list {
            List::Pending => "not answered".to_string(),
            List::Unpublished(Answer::NxDomain) => "NXDOMAIN: no list".to_string(),
            List::Unpublished(_) => "NODATA (no MX records): no list".to_string(),
            List::Failed(error) => format!("error: {error}"),
            List::Null => "null MX: the empty list, no host may send".to_string(),
            List::Exchanges {
                hosts,
                ignored,
                null_dropped,
            } => {
                let mut said = format!("list of {}", count(hosts.len(), "exchange"));
                if *ignored > 0 {
                    let _ = write!(said, ", {ignored} more ignored");
                }
                if *null_dropped {
                    said.push_str(", null MX ignored");
                }
                said
            }
        };
        let _ = writeln!(out, "  /{} {name}: {answered}", entry.prefix);
        let List::Exchanges { hosts, .. } = &entry.list else {
            continue;
        };
        for exchange in hosts {
            let addrs = match &exchange.addrs {
                Addrs::Pending => "not resolved".to_string(),
                Addrs::Literal(v4) => format!("{v4} (address literal)"),
                Addrs::Found(found) if found.is_empty() => format!("no {family} address"),
                Addrs::Found(found) => found
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                Addrs::Missing(Answer::NxDomain) => "NXDOMAIN: does not exist".to_string(),
                Addrs::Missing(_) => format!("NODATA: no {family} address"),
                Addrs::Failed(error) => format!("error: {error}"),
            };
            let mark = if exchange.matches(client) {
                "  <- matches"
            } else {
                ""
            };
            let host = trimmed(&exchange.host);
            let _ = writeln!(out, "    MX {} {host}: {addrs}{mark}", exchange.preference);
        }
    }
    let name = judgement.name.as_ref().map(trimmed);
    let at = name.as_deref().unwrap_or("-");
    let why = match judgement.outcome {
        Outcome::Pass => format!(
            "{client} is an address of {}, listed at {at}",
            judgement.why
        ),
        Outcome::Fail if matches!(deciding_list(findings, &judgement.name), Some(List::Null)) => {
            format!("{at} publishes a null MX: no host of that network may send")
        }
        Outcome::Fail => format!(
            "{client} is {} listed at {at}",
            not_among(findings, judgement)
        ),
        Outcome::NoList if strict => {
            "no list at any name queried (-s: counted as a failure)".into()
        }
        Outcome::NoList => "no list at any name queried".into(),
        Outcome::TempError | Outcome::Skip => format!("{at}: {}", judgement.why),
    };
    let _ = writeln!(out, "  result: {}: {why}", judgement.outcome);
    out
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Name;
    use rmxsmtpd::dns;
    use rmxsmtpd::lookup::{Exchange, NameFindings};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn exchange(host: &str, addrs: Addrs) -> Exchange {
        Exchange {
            preference: 10,
            host: name(host),
            addrs,
        }
    }

    fn list(hosts: Vec<Exchange>) -> List {
        List::Exchanges {
            hosts,
            ignored: 0,
            null_dropped: false,
        }
    }

    fn findings(client: &str, lists: Vec<(u8, &str, List)>) -> Findings {
        Findings {
            client: ip(client),
            names: lists
                .into_iter()
                .map(|(prefix, owner, list)| NameFindings {
                    prefix,
                    name: name(owner),
                    list,
                })
                .collect(),
        }
    }

    fn words(args: &[&str]) -> Result<Check, String> {
        match parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())? {
            Request::Check(check) => Ok(check),
            Request::Version => Err("-V".into()),
        }
    }

    #[test]
    fn arguments() {
        let check = words(&["198.51.100.5"]).unwrap();
        assert_eq!(check.prefixes, Prefixes::default());
        assert_eq!(check.timeout, Duration::from_secs(10));
        assert!(!check.strict && !check.parseable);
        let check = words(&[
            "-sp",
            "-4",
            "16,24",
            "-6",
            "56",
            "-T3",
            "::ffff:1.2.3.4",
            "::1",
        ])
        .unwrap();
        assert!(check.strict && check.parseable);
        assert_eq!(check.prefixes.v4, [24, 16]);
        assert_eq!(check.prefixes.v6, [56]);
        assert_eq!(check.timeout, Duration::from_secs(3));
        assert_eq!(check.addresses, [ip("1.2.3.4"), ip("::1")]);
        // Options may follow the addresses; `--` ends them.
        assert!(words(&["198.51.100.5", "-s"]).unwrap().strict);
        assert!(words(&["--", "-s"]).is_err());
        for bad in [
            &[][..],
            &["-x", "1.2.3.4"],
            &["-T", "0", "1.2.3.4"],
            &["-T"],
            &["-4", "20", "1.2.3.4"],
            &["-6", "66", "::1"],
            &["1.2.3.4", "mx.example.net"],
            &["1.2.3"],
            &["-s"],
            &["--help"],
            &["--version", "1.2.3.4"],
            &["--foo", "1.2.3.4"],
            &["-b-", "1.2.3.4"],
            &["-", "1.2.3.4"],
            &["-\u{e9}", "1.2.3.4"],
            &["1.2.3.4\u{fffd}"],
            &["-T", "1\n", "1.2.3.4"],
        ] {
            let error = words(bad).expect_err(&format!("{bad:?}"));
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn version() {
        for args in [
            &["-V"][..],
            &["198.51.100.5", "-V"],
            &["-sV", "not-an-address"],
            &["-T", "0", "-V"],
        ] {
            assert_eq!(words(args).unwrap_err(), "-V", "{args:?}");
        }
        assert!(words(&["-x", "-V"]).unwrap_err().contains("'x'"));
        let error = words(&["--", "-V"]).unwrap_err();
        assert_eq!(error, "not an address: \"-V\"");
    }

    #[test]
    fn exit_statuses() {
        use Outcome::*;
        let cases: [(&[Outcome], bool, u8); 9] = [
            (&[Pass], false, 0),
            (&[Pass, NoList], false, 2),
            (&[Pass, NoList], true, 1),
            (&[NoList, Fail], false, 1),
            (&[Fail, TempError, NoList], false, 111),
            (&[TempError], true, 111),
            (&[NoList, NoList], false, 2),
            (&[Pass, Pass], true, 0),
            (&[Fail], false, 1),
        ];
        for (outcomes, strict, want) in cases {
            assert_eq!(exit_status(outcomes, strict), want, "{outcomes:?} {strict}");
        }
    }

    #[test]
    fn the_report() {
        let f = findings(
            "198.51.100.5",
            vec![
                (
                    24,
                    "100.51.198.in-addr.arpa.",
                    list(vec![
                        exchange("mx1.example.net.", Addrs::Found(vec![ip("198.51.100.5")])),
                        exchange("gone.example.net.", Addrs::Missing(Answer::NxDomain)),
                    ]),
                ),
                (
                    16,
                    "51.198.in-addr.arpa.",
                    List::Unpublished(Answer::NoData),
                ),
            ],
        );
        let judgement = judge(&f).unwrap();
        assert_eq!(
            report(&f, &judgement, false),
            "198.51.100.5\n\
             \x20 /24 100.51.198.in-addr.arpa: list of 2 exchanges\n\
             \x20   MX 10 mx1.example.net: 198.51.100.5  <- matches\n\
             \x20   MX 10 gone.example.net: NXDOMAIN: does not exist\n\
             \x20 /16 51.198.in-addr.arpa: NODATA (no MX records): no list\n\
             \x20 result: pass: 198.51.100.5 is an address of mx1.example.net, \
             listed at 100.51.198.in-addr.arpa\n"
        );
        assert_eq!(
            parseable(f.client, &judgement),
            "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
        );
    }

    #[test]
    fn results_say_why() {
        let last = |f: &Findings, strict: bool| {
            let text = report(f, &judge(f).unwrap(), strict);
            text.lines().last().unwrap().to_string()
        };
        let null = findings(
            "198.51.100.9",
            vec![(24, "100.51.198.in-addr.arpa.", List::Null)],
        );
        assert_eq!(
            last(&null, false),
            "  result: fail: 100.51.198.in-addr.arpa publishes a null MX: no host of that network may send"
        );
        let one = findings(
            "198.51.100.9",
            vec![(
                24,
                "100.51.198.in-addr.arpa.",
                list(vec![exchange(
                    "198.51.100.5.",
                    Addrs::Literal("198.51.100.5".parse().unwrap()),
                )]),
            )],
        );
        assert_eq!(
            last(&one, false),
            "  result: fail: 198.51.100.9 is not the one exchange listed at 100.51.198.in-addr.arpa"
        );
        let nothing = findings(
            "203.0.113.7",
            vec![(
                24,
                "113.0.203.in-addr.arpa.",
                List::Unpublished(Answer::NxDomain),
            )],
        );
        assert_eq!(
            last(&nothing, false),
            "  result: none: no list at any name queried"
        );
        assert_eq!(
            last(&nothing, true),
            "  result: none: no list at any name queried (-s: counted as a failure)"
        );
        let timeout = dns::Error::Timeout(Duration::from_secs(10));
        let failed = findings(
            "203.0.113.7",
            vec![(24, "113.0.203.in-addr.arpa.", List::Failed(timeout))],
        );
        let text = report(&failed, &judge(&failed).unwrap(), false);
        assert!(
            text.contains("/24 113.0.203.in-addr.arpa: error: timeout after 10 s\n"),
            "{text}"
        );
        assert!(
            text.ends_with("result: temperror: 113.0.203.in-addr.arpa: timeout after 10 s\n"),
            "{text}"
        );
    }
}
