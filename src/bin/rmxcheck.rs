//! rmxcheck: rmxsmtpd's Reverse MX lookup for the addresses named on the
//! command line, for administrators (rmxcheck(1)). It asks every name and
//! resolves every exchange (no early stop), prints what each answered and
//! the result with its reason, and warns on stderr about the mistakes in a
//! published list that it can see.

use std::fmt::Write as _;
use std::io::{BufRead, ErrorKind, Write as _};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use getopts::ParsingStyle;
use hickory_proto::rr::Name;

use rmxsmtpd::dns::{Answer, Config};
use rmxsmtpd::exit::{self, Error};
use rmxsmtpd::findings::{deciding_list, not_among, warnings};
use rmxsmtpd::hosts::{self, Pointers, PointsBack};
use rmxsmtpd::log::trimmed;
use rmxsmtpd::lookup::{Addrs, Exchange, Findings, List, family, lookup};
use rmxsmtpd::names::{Network, Prefixes, reverse_names};
use rmxsmtpd::verdict::{Judgement, Outcome, judge};
use rmxsmtpd::{client, options, text};

const USAGE: &str =
    "rmxcheck [-ps] [-4 PREFIXES] [-6 PREFIXES] [-T SECONDS] ADDRESS|NETWORK/LEN|HOST|- ...";

const EXIT_FAIL: u8 = 1;
const EXIT_NONE: u8 = 2;

/// Longest line of `-p` output and of a warning.
const MAX_LINE: usize = 1000;
/// Longest line read from stdin, its newline included.
const MAX_INPUT_LINE: usize = 1000;

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
    /// `-p`: one line per address or network, for scripts.
    parseable: bool,
    words: Vec<Word>,
}

/// One argument after the options.
#[derive(Debug, PartialEq, Eq)]
enum Word {
    Target(Target),
    /// `-`: targets from stdin, one a line.
    Stdin,
}

/// What to check.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A client's address: the lookup rmxsmtpd makes for it.
    Address(IpAddr),
    /// A published list, from the publisher's side.
    Network(Network),
    /// Each address of a host.
    Host(Name),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run(&args) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            match &error {
                // `rmxcheck ... | head`: a closed stdout ends the run quietly.
                Error::Trouble { error, .. } if error.kind() == ErrorKind::BrokenPipe => {}
                Error::Usage(_) => warn(&format!("rmxcheck: {error}; usage: {USAGE}")),
                Error::Trouble { .. } => warn(&format!("rmxcheck: fatal: {error}")),
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
    let mut checker = Checker {
        check: &check,
        config,
        outcomes: Vec::new(),
        bad_input: false,
        reports: 0,
    };
    for word in &check.words {
        match word {
            Word::Target(target) => checker.target(target)?,
            Word::Stdin => checker.stdin()?,
        }
    }
    Ok(exit_status(
        &checker.outcomes,
        check.strict,
        checker.bad_input,
    ))
}

/// The run so far: what was checked, and what each gave.
struct Checker<'a> {
    check: &'a Check,
    config: Config,
    outcomes: Vec<Outcome>,
    /// A line of stdin, or a host name, named nothing to check.
    bad_input: bool,
    /// Human reports written, to put a blank line between them.
    reports: usize,
}

impl Checker<'_> {
    fn target(&mut self, target: &Target) -> Result<(), Error> {
        match target {
            Target::Address(ip) => self.address(*ip, None),
            Target::Network(network) => self.network(network),
            Target::Host(host) => self.host(host),
        }
    }

    /// The lookup rmxsmtpd makes for a client at `ip`, with no early stop.
    fn address(&mut self, ip: IpAddr, host: Option<&Name>) -> Result<(), Error> {
        let names = reverse_names(ip, &self.check.prefixes);
        let findings = lookup(ip, names, self.config.clone(), self.check.timeout, |_| {
            false
        });
        let judgement = judge(&findings)
            .unwrap_or_else(|| Judgement::new(Outcome::TempError, None, "lookup did not finish"));
        let out = if self.check.parseable {
            parseable(&ip.to_string(), &judgement)
        } else {
            self.separated(report(&findings, host, &judgement, self.check.strict))
        };
        write_out(&out)?;
        for warning in warnings(&findings) {
            warn(&format!("rmxcheck: warning: {ip}: {warning}"));
        }
        self.outcomes.push(judgement.outcome);
        Ok(())
    }

    /// Every address of `host`, each as a client's.
    fn host(&mut self, host: &Name) -> Result<(), Error> {
        let name = trimmed(host);
        match hosts::addresses(host, self.config.clone(), self.check.timeout) {
            Ok(Addrs::Found(found)) if !found.is_empty() => {
                for ip in found {
                    self.address(ip, Some(host))?;
                }
            }
            Ok(Addrs::Missing(Answer::NxDomain)) => {
                warn(&format!("rmxcheck: {name}: no such host (NXDOMAIN)"));
                self.bad_input = true;
            }
            Ok(_) => {
                warn(&format!(
                    "rmxcheck: {name}: no address (no A or AAAA records)"
                ));
                self.bad_input = true;
            }
            Err(error) => {
                warn(&format!("rmxcheck: {name}: could not be resolved: {error}"));
                self.outcomes.push(Outcome::TempError);
            }
        }
        Ok(())
    }

    /// The list a network publishes, from the publisher's side: its
    /// exchanges, their addresses inside the network or not, their PTR
    /// names, and the addresses the list lets send.
    fn network(&mut self, network: &Network) -> Result<(), Error> {
        let names = vec![(network.len, network.name())];
        let timeout = self.check.timeout;
        let findings = lookup(network.address, names, self.config.clone(), timeout, |_| {
            false
        });
        let senders = senders(&findings);
        let pointers = hosts::pointers(&senders, self.config.clone(), timeout);
        let pointers: Vec<(IpAddr, Pointers)> = senders.iter().copied().zip(pointers).collect();
        let judgement = network_judgement(&findings, &senders);
        let subject = network.to_string();
        let out = if self.check.parseable {
            parseable(&subject, &judgement)
        } else {
            let report =
                network_report(network, &findings, &pointers, &judgement, self.check.strict);
            self.separated(report)
        };
        write_out(&out)?;
        for warning in warnings(&findings) {
            warn(&format!("rmxcheck: warning: {subject}: {warning}"));
        }
        if judgement.outcome == Outcome::Pass && !senders.iter().any(|&ip| network.contains(ip)) {
            let name = trimmed(&findings.names[0].name);
            warn(&format!(
                "rmxcheck: warning: {subject}: no exchange listed at {name} lies inside the network"
            ));
        }
        self.outcomes.push(judgement.outcome);
        Ok(())
    }

    /// Targets from stdin, one a line; blank lines and `#` comments are
    /// skipped. A line that names nothing to check is reported, and the
    /// others are still checked.
    fn stdin(&mut self) -> Result<(), Error> {
        let mut input = std::io::stdin().lock();
        let mut line = Vec::with_capacity(MAX_INPUT_LINE);
        for number in 1.. {
            let Some(whole) = read_line(&mut input, &mut line).map_err(|error| Error::Trouble {
                doing: "read stdin".into(),
                error,
            })?
            else {
                return Ok(());
            };
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if !whole {
                warn(&format!(
                    "rmxcheck: line {number}: longer than {MAX_INPUT_LINE} bytes"
                ));
                self.bad_input = true;
                continue;
            }
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            match target(text) {
                Ok(target) => self.target(&target)?,
                Err(error) => {
                    warn(&format!("rmxcheck: line {number}: {error}"));
                    self.bad_input = true;
                }
            }
        }
        Ok(())
    }

    /// A human report, after a blank line if another came before.
    fn separated(&mut self, report: String) -> String {
        self.reports += 1;
        if self.reports > 1 {
            format!("\n{report}")
        } else {
            report
        }
    }
}

/// Reads one line into `line`, keeping at most `MAX_INPUT_LINE` bytes:
/// `None` at the end of input, else whether the line was whole.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut read = 0;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok((read > 0).then_some(read <= MAX_INPUT_LINE));
        }
        let (take, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buf.len(), false),
        };
        let room = MAX_INPUT_LINE.saturating_sub(line.len());
        line.extend_from_slice(&buf[..take.min(room)]);
        read += take;
        input.consume(take);
        if end {
            return Ok(Some(read <= MAX_INPUT_LINE));
        }
    }
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

/// One line on stderr, printable and bounded. Nothing useful can be done
/// if stderr is gone.
fn warn(line: &str) {
    let _ = writeln!(std::io::stderr(), "{}", text::printable(line, MAX_LINE));
}

/// Reads the arguments after `argv[0]`, whatever they are; an argument
/// that is not UTF-8 has come as text with U+FFFD, which nothing to check
/// has. Every argument is read before any lookup starts, so a typo costs no
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
    let matches = spec.parse(args).map_err(options::getopts_error)?;
    if matches.opt_present("V") {
        return Ok(Request::Version);
    }
    let prefixes = options::prefixes(&matches)?;
    let timeout = options::dns_timeout(&matches)?;
    if matches.free.is_empty() {
        return Err("no address to check".into());
    }
    let words = matches
        .free
        .iter()
        .map(|word| match word.as_str() {
            "-" => Ok(Word::Stdin),
            word => target(word).map(Word::Target),
        })
        .collect::<Result<_, _>>()?;
    Ok(Request::Check(Check {
        prefixes,
        timeout,
        strict: matches.opt_present("s"),
        parseable: matches.opt_present("p"),
        words,
    }))
}

/// An address (a `%zone` and `::ffff:` as rmxsmtpd reads them), a network
/// `ADDRESS/LEN`, or a host name.
fn target(word: &str) -> Result<Target, String> {
    if word.contains('/') {
        return Network::parse(word).map(Target::Network);
    }
    if let Some(ip) = client::address(word) {
        return Ok(Target::Address(ip));
    }
    host_name(word)
        .map(Target::Host)
        .ok_or_else(|| format!("not an address, network or host name: {word:?}"))
}

/// A host name (RFC 1123 §2.1): letters, digits and inner hyphens in each
/// label, and a last label that is not all digits, so that a mistyped
/// address (`1.2.3`) is no name.
fn host_name(word: &str) -> Option<Name> {
    let labels = word.strip_suffix('.').unwrap_or(word);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let last = labels.rsplit('.').next()?;
    if labels.len() > 253
        || !labels.split('.').all(label_ok)
        || last.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Name::from_ascii(format!("{labels}.")).ok()
}

/// The exit status for all the results (rmxcheck(1), EXIT STATUS): input
/// that named nothing to check first, since checking again will not mend
/// it; then a temporary error, a failure, no list.
fn exit_status(outcomes: &[Outcome], strict: bool, bad_input: bool) -> u8 {
    let any = |wanted: &[Outcome]| outcomes.iter().any(|o| wanted.contains(o));
    if bad_input {
        exit::USAGE
    } else if any(&[Outcome::TempError]) {
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
/// fields as rmxsmtpd's log line, so one parser reads both. For a network,
/// `NETWORK/LEN` in place of the address, and for `pass` the addresses
/// that may send as WHY.
fn parseable(subject: &str, judgement: &Judgement) -> String {
    let name = judgement.name.as_ref().map_or_else(|| "-".into(), trimmed);
    let line = format!("{subject} {} {name} {}", judgement.outcome, judgement.why);
    let mut line = text::printable(&line, MAX_LINE);
    line.push('\n');
    line
}

/// The human report for one address (of `host`, if a host name was
/// given): every name and what it answered, every exchange and its
/// addresses, then the result and why.
fn report(findings: &Findings, host: Option<&Name>, judgement: &Judgement, strict: bool) -> String {
    let client = findings.client;
    let mut out = match host {
        Some(host) => format!("{client} (an address of {})\n", trimmed(host)),
        None => format!("{client}\n"),
    };
    out.push_str(&lists(findings, |exchange| {
        if exchange.matches(client) {
            "  <- matches".into()
        } else {
            String::new()
        }
    }));
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

/// Every name queried and what it answered, every exchange and its
/// addresses, each exchange's line followed by what `more` says of it.
fn lists(findings: &Findings, more: impl Fn(&Exchange) -> String) -> String {
    let family = family(findings.client);
    let mut out = String::new();
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
            let host = trimmed(&exchange.host);
            let more = more(exchange);
            let _ = writeln!(out, "    MX {} {host}: {addrs}{more}", exchange.preference);
        }
    }
    out
}

/// The addresses a list lets send, in its order: its exchanges' addresses
/// of the network's family.
fn senders(findings: &Findings) -> Vec<IpAddr> {
    let mut senders = Vec::new();
    for entry in &findings.names {
        let List::Exchanges { hosts, .. } = &entry.list else {
            continue;
        };
        for exchange in hosts {
            let found = match &exchange.addrs {
                Addrs::Found(found) => found.clone(),
                Addrs::Literal(v4) if findings.client.is_ipv4() => vec![IpAddr::V4(*v4)],
                _ => continue,
            };
            for ip in found {
                if !senders.contains(&ip) {
                    senders.push(ip);
                }
            }
        }
    }
    senders
}

/// What a network's list gives: `pass` with the addresses it lets send,
/// `fail` when it lets none send, `none` without a list, `temperror` when
/// the list, or one of its exchanges, could not be had.
fn network_judgement(findings: &Findings, senders: &[IpAddr]) -> Judgement {
    let entry = &findings.names[0];
    let name = Some(&entry.name);
    match &entry.list {
        List::Pending => Judgement::new(Outcome::TempError, name, "lookup did not finish"),
        List::Failed(error) => Judgement::new(Outcome::TempError, name, error.to_string()),
        List::Unpublished(_) => Judgement::new(Outcome::NoList, None, "no list"),
        List::Null => Judgement::new(Outcome::Fail, name, "null MX"),
        List::Exchanges { hosts, .. } => {
            if let Some((host, error)) = hosts.iter().find_map(|h| match &h.addrs {
                Addrs::Failed(error) => Some((&h.host, error)),
                _ => None,
            }) {
                let why = format!("exchange {}: {error}", trimmed(host));
                return Judgement::new(Outcome::TempError, name, why);
            }
            if senders.is_empty() {
                return Judgement::new(Outcome::Fail, name, "no exchange has an address");
            }
            let list: Vec<String> = senders.iter().map(IpAddr::to_string).collect();
            Judgement::new(Outcome::Pass, name, list.join(" "))
        }
    }
}

/// The human report for a network: the name queried and its list, each
/// exchange address inside the network or not and its PTR names, then the
/// verdict.
fn network_report(
    network: &Network,
    findings: &Findings,
    pointers: &[(IpAddr, Pointers)],
    judgement: &Judgement,
    strict: bool,
) -> String {
    let mut out = format!("{network}\n");
    out.push_str(&lists(findings, |exchange| {
        let mut more = String::new();
        for (ip, pointers) in pointers {
            if !exchange.matches(*ip) {
                continue;
            }
            let side = if network.contains(*ip) {
                "inside"
            } else {
                "outside"
            };
            let _ = write!(
                more,
                "\n      {ip}: {side} the network; {}",
                ptr_text(pointers)
            );
        }
        more
    }));
    let at = trimmed(&findings.names[0].name);
    let why = match judgement.outcome {
        Outcome::Pass => format!("this list lets these addresses send: {}", judgement.why),
        Outcome::Fail if judgement.why == "null MX" => {
            format!("{at} publishes a null MX: no address may send")
        }
        Outcome::Fail => format!("no exchange listed at {at} has an address: no address may send"),
        Outcome::NoList if strict => {
            format!("no list at {at} (-s: counted as a failure)")
        }
        Outcome::NoList => format!("no list at {at}"),
        Outcome::TempError | Outcome::Skip => format!("{at}: {}", judgement.why),
    };
    let _ = writeln!(out, "  result: {}: {why}", judgement.outcome);
    out
}

/// What the PTR query for one address said, and whether each name points back.
fn ptr_text(pointers: &Pointers) -> String {
    match pointers {
        Pointers::Absent(Answer::NxDomain) => "no PTR (NXDOMAIN)".into(),
        Pointers::Absent(_) => "no PTR (NODATA)".into(),
        Pointers::Failed(error) => format!("PTR error: {error}"),
        Pointers::Names(names) => {
            let names: Vec<String> = names
                .iter()
                .map(|(name, back)| {
                    let back = match back {
                        PointsBack::Yes => "which points back".to_string(),
                        PointsBack::No => "which does not point back".to_string(),
                        PointsBack::Unknown(error) => {
                            format!("not known to point back: {error}")
                        }
                    };
                    format!("PTR {}, {back}", trimmed(name))
                })
                .collect();
            names.join("; ")
        }
    }
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
        assert_eq!(
            check.words,
            [
                Word::Target(Target::Address(ip("1.2.3.4"))),
                Word::Target(Target::Address(ip("::1")))
            ]
        );
        // A zone is dropped, as rmxsmtpd drops it; `-` is stdin; a network
        // and a host name are targets too.
        let check = words(&["fe80::1%eth0", "-", "198.51.100.9/24", "mx.Example.net."]).unwrap();
        assert_eq!(
            check.words,
            [
                Word::Target(Target::Address(ip("fe80::1"))),
                Word::Stdin,
                Word::Target(Target::Network(Network::parse("198.51.100.0/24").unwrap())),
                Word::Target(Target::Host(name("mx.Example.net."))),
            ]
        );
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
            &["1.2.3"],
            &["198.51.100.0/20"],
            &["2001:db8::/62"],
            &["198.51.100.0/24/24"],
            &["-mx.example.net."],
            &["mx_1.example.net"],
            &["mx..example.net"],
            &["example.123"],
            &["fe80::1%"],
            &["-s"],
            &["--help"],
            &["--version", "1.2.3.4"],
            &["--foo", "1.2.3.4"],
            &["-b-", "1.2.3.4"],
            &["-\u{e9}", "1.2.3.4"],
            &["1.2.3.4\u{fffd}"],
            &["-T", "1\n", "1.2.3.4"],
        ] {
            let error = words(bad).expect_err(&format!("{bad:?}"));
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn input_lines_are_bounded() {
        let long = "1".repeat(MAX_INPUT_LINE * 5);
        let input = format!("198.51.100.5\r\n{long}\n\n::1");
        let mut input = std::io::BufReader::with_capacity(16, input.as_bytes());
        let mut line = Vec::new();
        let mut got = Vec::new();
        while let Some(whole) = read_line(&mut input, &mut line).unwrap() {
            assert!(line.len() <= MAX_INPUT_LINE);
            got.push((String::from_utf8_lossy(&line).trim().len(), whole));
        }
        assert_eq!(
            got,
            [(12, true), (MAX_INPUT_LINE, false), (0, true), (3, true)]
        );
        // A line of exactly the limit, its newline included, is whole.
        let exact = format!("{}\n", "a".repeat(MAX_INPUT_LINE - 1));
        let mut input = exact.as_bytes();
        assert_eq!(read_line(&mut input, &mut line).unwrap(), Some(true));
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
        assert_eq!(words(&["-x", "-V"]).unwrap_err(), "unknown option -x");
        let error = words(&["--", "-V"]).unwrap_err();
        assert_eq!(error, "not an address, network or host name: \"-V\"");
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
            assert_eq!(
                exit_status(outcomes, strict, false),
                want,
                "{outcomes:?} {strict}"
            );
            assert_eq!(
                exit_status(outcomes, strict, true),
                100,
                "{outcomes:?} {strict}"
            );
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
            report(&f, None, &judgement, false),
            "198.51.100.5\n\
             \x20 /24 100.51.198.in-addr.arpa: list of 2 exchanges\n\
             \x20   MX 10 mx1.example.net: 198.51.100.5  <- matches\n\
             \x20   MX 10 gone.example.net: NXDOMAIN: does not exist\n\
             \x20 /16 51.198.in-addr.arpa: NODATA (no MX records): no list\n\
             \x20 result: pass: 198.51.100.5 is an address of mx1.example.net, \
             listed at 100.51.198.in-addr.arpa\n"
        );
        assert_eq!(
            parseable(&f.client.to_string(), &judgement),
            "198.51.100.5 pass 100.51.198.in-addr.arpa mx1.example.net\n"
        );
    }

    #[test]
    fn results_say_why() {
        let last = |f: &Findings, strict: bool| {
            let text = report(f, None, &judge(f).unwrap(), strict);
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
        let text = report(&failed, None, &judge(&failed).unwrap(), false);
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
