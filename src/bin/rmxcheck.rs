//! rmxcheck: rmxsmtpd's Reverse MX lookup for the addresses named on the
//! command line, for administrators (rmxcheck(1)). It asks every name and
//! resolves every exchange (no early stop), prints what each answered and
//! the result with its reason, and warns on stderr about the mistakes in a
//! published list that it can see. The lookup and its report are the
//! library's; here are the command line, the loop over the targets, and the
//! exit status.
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use hickory_proto::rr::Name;

use rmxsmtpd::check::{Dns, Until, check};
use rmxsmtpd::cli::{self, Error, Kind, Program, Spec};
use rmxsmtpd::dns::Answer;
use rmxsmtpd::findings::{Addrs, warnings};
use rmxsmtpd::lines::{Line, Lines};
use rmxsmtpd::names::{Network, Prefixes, host_name, shown};
use rmxsmtpd::verdict::Outcome;
use rmxsmtpd::{client, explain, hosts, publish};

const PROGRAM: Program = Program {
    name: "rmxcheck",
    usage: "rmxcheck [-ps] [-4 PREFIXES] [-6 PREFIXES] [-T SECONDS] ADDRESS|NETWORK/LEN|HOST|- ...",
    kind: Kind::Tool,
};

const SPEC: Spec = Spec {
    flags: b"psV",
    values: b"46T",
    floating: true,
};

const EXIT_FAIL: u8 = 1;
const EXIT_NONE: u8 = 2;

/// The longest line read from stdin, its newline included.
const MAX_INPUT_LINE: usize = 1000;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Options {
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
    /// A published list, from the publisher's side: `NETWORK/LEN`, or the
    /// network's reverse name.
    Network(Network),
    /// Each address of a host.
    Host(Name),
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    ExitCode::from(PROGRAM.finish(run(&args)))
}

/// Checks what the command line names, in order, and returns the exit
/// status that all the results give together.
fn run(args: &[OsString]) -> Result<u8, Error> {
    let options = parse(args)?;
    let dns = Dns::from_system(options.timeout);
    if let Some(misread) = &dns.misread {
        PROGRAM.warn(&format!("warning: {misread}"));
    }
    let mut checker = Checker {
        options: &options,
        dns,
        outcomes: Vec::new(),
        bad_input: false,
        reports: 0,
    };
    for word in &options.words {
        match word {
            Word::Target(target) => checker.target(target)?,
            Word::Stdin => checker.stdin()?,
        }
    }
    Ok(exit_status(
        &checker.outcomes,
        options.strict,
        checker.bad_input,
    ))
}

/// The run so far: what was checked, and what each gave.
struct Checker<'a> {
    options: &'a Options,
    dns: Dns,
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
            Target::Network(network) => self.network(*network),
            Target::Host(host) => self.host(host),
        }
    }

    /// The lookup rmxsmtpd makes for a client at `ip`, with no early stop.
    fn address(&mut self, ip: IpAddr, host: Option<&Name>) -> Result<(), Error> {
        let checked = check(ip, &self.options.prefixes, &self.dns, Until::Everything);
        let out = if self.options.parseable {
            explain::parseable(&ip.to_string(), &checked.judgement)
        } else {
            let report = explain::address(
                &checked.findings,
                host,
                &checked.judgement,
                self.options.strict,
            );
            self.separated(report)
        };
        write_out(&out)?;
        for warning in warnings(&checked.findings) {
            PROGRAM.warn(&format!("warning: {ip}: {warning}"));
        }
        self.outcomes.push(checked.judgement.outcome());
        Ok(())
    }

    /// Every address of `host`, each as a client's.
    fn host(&mut self, host: &Name) -> Result<(), Error> {
        let name = shown(host);
        match hosts::addresses(host, self.dns.config.clone(), self.dns.timeout) {
            Ok(Addrs::Found(found)) if !found.is_empty() => {
                for ip in found {
                    self.address(ip, Some(host))?;
                }
            }
            Ok(Addrs::Missing(Answer::NxDomain)) => {
                PROGRAM.warn(&format!("{name}: no such host (NXDOMAIN)"));
                self.bad_input = true;
            }
            Ok(_) => {
                PROGRAM.warn(&format!("{name}: no address (no A or AAAA records)"));
                self.bad_input = true;
            }
            Err(error) => {
                PROGRAM.warn(&format!("{name}: could not be resolved: {error}"));
                self.outcomes.push(Outcome::TempError);
            }
        }
        Ok(())
    }

    /// The list a network publishes, from the publisher's side.
    fn network(&mut self, network: Network) -> Result<(), Error> {
        let published = publish::check(network, &self.dns);
        let out = if self.options.parseable {
            explain::parseable(&network.to_string(), &published.judgement)
        } else {
            let report = explain::network(&published, self.options.strict);
            self.separated(report)
        };
        write_out(&out)?;
        for warning in explain::network_warnings(&published) {
            PROGRAM.warn(&format!("warning: {network}: {warning}"));
        }
        self.outcomes.push(published.judgement.outcome());
        Ok(())
    }

    /// Targets from stdin, one a line; blank lines and `#` comments are
    /// skipped. A line that names nothing to check is reported, and the
    /// others are still checked.
    fn stdin(&mut self) -> Result<(), Error> {
        let mut lines = Lines::new(io::stdin().lock(), MAX_INPUT_LINE - 1, 0);
        let mut number = 0;
        loop {
            let line = lines
                .read()
                .map_err(|error| Error::trouble("read stdin", error))?;
            let text = match line {
                None => return Ok(()),
                Some(Line::Piece { last: false, .. }) => continue,
                Some(Line::Piece { last: true, .. }) => {
                    number += 1;
                    PROGRAM.warn(&format!(
                        "line {number}: longer than {MAX_INPUT_LINE} bytes"
                    ));
                    self.bad_input = true;
                    continue;
                }
                Some(Line::Whole { text, .. }) => String::from_utf8_lossy(text).into_owned(),
            };
            number += 1;
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            match target(text) {
                Ok(target) => self.target(&target)?,
                Err(error) => {
                    PROGRAM.warn(&format!("line {number}: {error}"));
                    self.bad_input = true;
                }
            }
        }
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

/// Writes to stdout at once, so that the report and the warnings keep
/// their order when both go to one terminal.
fn write_out(text: &str) -> Result<(), Error> {
    let mut stdout = io::stdout();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| Error::trouble("write the report", error))
}

/// Reads the arguments after `argv[0]`, whatever they are. Every argument
/// is read before any lookup starts, so a typo costs no DNS traffic.
fn parse(args: &[OsString]) -> Result<Options, Error> {
    let args = SPEC.parse(args)?;
    let prefixes = args.prefixes()?;
    let timeout = args.dns_timeout()?;
    if args.free.is_empty() {
        return Err(Error::usage("no address to check"));
    }
    let words = args
        .free
        .iter()
        .map(|word| match word.to_str() {
            Some("-") => Ok(Word::Stdin),
            Some(word) => target(word).map(Word::Target),
            None => Err(format!(
                "not an address, network or host name: {:?}",
                word.to_string_lossy()
            )),
        })
        .collect::<Result<_, _>>()
        .map_err(Error::usage)?;
    Ok(Options {
        prefixes,
        timeout,
        strict: args.flag('s'),
        parseable: args.flag('p'),
        words,
    })
}

/// An address (a `%zone` and `::ffff:` as rmxsmtpd reads them), a network
/// `ADDRESS/LEN` or its reverse name, or a host name.
fn target(word: &str) -> Result<Target, String> {
    if word.contains('/') {
        return Network::parse(word).map(Target::Network);
    }
    if let Some(ip) = client::address(word) {
        return Ok(Target::Address(ip));
    }
    if let Some(network) = Network::from_reverse_name(word) {
        return network.map(Target::Network);
    }
    host_name(word)
        .map(Target::Host)
        .ok_or_else(|| format!("not an address, network or host name: {word:?}"))
}

/// The exit status for all the results (rmxcheck(1), EXIT STATUS): input
/// that named nothing to check first, since checking again will not mend
/// it; then a temporary error, a failure, no list.
fn exit_status(outcomes: &[Outcome], strict: bool, bad_input: bool) -> u8 {
    let any = |wanted: &[Outcome]| outcomes.iter().any(|o| wanted.contains(o));
    if bad_input {
        cli::USAGE
    } else if any(&[Outcome::TempError]) {
        cli::TROUBLE
    } else if any(&[Outcome::Fail]) || (strict && any(&[Outcome::NoList])) {
        EXIT_FAIL
    } else if any(&[Outcome::NoList]) {
        EXIT_NONE
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn words(args: &[&str]) -> Result<Options, String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&args) {
            Ok(options) => Ok(options),
            Err(Error::Usage(why)) => Err(why),
            Err(Error::Version) => Err("-V".into()),
            Err(trouble) => panic!("{trouble}"),
        }
    }

    #[test]
    fn arguments() {
        let options = words(&["198.51.100.5"]).unwrap();
        assert_eq!(options.prefixes, Prefixes::default());
        assert_eq!(options.timeout, Duration::from_secs(10));
        assert!(!options.strict && !options.parseable);
        let options = words(&[
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
        assert!(options.strict && options.parseable);
        assert_eq!(options.prefixes.v4, [24, 16]);
        assert_eq!(options.prefixes.v6, [56]);
        assert_eq!(options.timeout, Duration::from_secs(3));
        assert_eq!(
            options.words,
            [
                Word::Target(Target::Address(ip("1.2.3.4"))),
                Word::Target(Target::Address(ip("::1")))
            ]
        );
        // A zone is dropped, as rmxsmtpd drops it; `-` is stdin; a network,
        // its reverse name and a host name are targets too.
        let options = words(&[
            "fe80::1%eth0",
            "-",
            "198.51.100.9/24",
            "100.51.198.in-addr.arpa",
            "mx.Example.net.",
        ])
        .unwrap();
        let net = Network::parse("198.51.100.0/24").unwrap();
        assert_eq!(
            options.words,
            [
                Word::Target(Target::Address(ip("fe80::1"))),
                Word::Stdin,
                Word::Target(Target::Network(net)),
                Word::Target(Target::Network(net)),
                Word::Target(Target::Host(Name::from_ascii("mx.Example.net.").unwrap())),
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
            &["0-7.8.0.127.in-addr.arpa"],
            &["g.ip6.arpa"],
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
}
