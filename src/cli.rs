//! The conventions every program's command line keeps, said once: the exit
//! statuses, how a run that cannot go on says why, and how options are read.
//!
//! - Options are single letters; a group (`-bq`) is several, and a value may
//!   be attached (`-T3`) or the next word. `--` ends the options; so does the
//!   first other word in rmxsmtpd and rmxpolicyd, while rmxcheck and
//!   rmxreport take options anywhere. There are no long options: `--help`
//!   is as unknown as `-x`.
//! - A repeated option is no error: the last one wins, as in djb's tools.
//! - Words that are not options (a program and its arguments, file names)
//!   pass on byte for byte; options' values are read as printable text, each
//!   byte outside printable ASCII one `?`.
//! - A bad command line is one line, `PROGRAM: usage error: WHY; usage:
//!   USAGE`, and exit 100. Trouble is `PROGRAM: fatal: unable to DO: WHY`,
//!   with error_str's words, and exit 111.
//! - `-V`: rmxcheck and rmxreport print `PROGRAM VERSION` on stdout and exit
//!   0. rmxsmtpd's and rmxpolicyd's stdout is the client, or Postfix: there
//!   `-V` is a usage error that names the version, and nothing reaches
//!   stdout.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

use crate::date::Date;
use crate::log::{self, Priority};
use crate::names::{self, Prefixes};
use crate::verdict::{Policy, Unpublished};
use crate::{error_str, text};

/// A command line (or input) that cannot be right: running again will not
/// help.
pub const USAGE: u8 = 100;
/// The system failed: another try later may do better.
pub const TROUBLE: u8 = 111;

/// The longest error text: an argument may be as long as the kernel allows.
const MAX_ERROR: usize = 200;
/// The longest line a tool writes on stderr.
const MAX_STDERR_LINE: usize = 1000;
/// The DNS deadline `-T` when none is given, and its bounds.
const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DNS_SECS: u64 = 3_600;

/// Why a run stopped before its work was done.
#[derive(Debug)]
pub enum Error {
    /// What is wrong with the command line, without the program's name.
    Usage(String),
    /// `-V` was given.
    Version,
    /// What could not be done (`run qmail-smtpd`, `write the report`), and why.
    Trouble { doing: String, error: io::Error },
}

impl Error {
    /// A usage error, its text made printable and bounded.
    pub fn usage(why: impl AsRef<[u8]>) -> Error {
        Error::Usage(text::printable(why, MAX_ERROR))
    }

    /// `error` met while trying to do `doing`.
    pub fn trouble(doing: impl Into<String>, error: io::Error) -> Error {
        Error::Trouble {
            doing: doing.into(),
            error,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(why) => write!(f, "usage error: {why}"),
            Error::Version => write!(f, "usage error: -V asks for the version"),
            Error::Trouble { doing, error } => {
                write!(f, "fatal: unable to {doing}: {}", error_str::of(error))
            }
        }
    }
}

/// Where a program's stdout and stderr lead, which decides how it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// rmxcheck, rmxreport: run by a person or a script; stdout is theirs.
    Tool,
    /// rmxsmtpd, rmxpolicyd: stdout is the client (or Postfix), stderr a
    /// log, or the client's socket, where the line goes to syslog instead.
    Daemon,
}

/// A program of the package: its name, its usage line and its kind.
pub struct Program {
    pub name: &'static str,
    pub usage: &'static str,
    pub kind: Kind,
}

impl Program {
    /// Says why a run ended, as the program's kind says it, and gives its
    /// exit status: `status` after a run that ended well.
    pub fn finish(&self, result: Result<u8, Error>) -> u8 {
        let error = match result {
            Ok(status) => return status,
            Err(error) => error,
        };
        let version = format!("{} {}", self.name, env!("CARGO_PKG_VERSION"));
        match (&error, self.kind) {
            (Error::Version, Kind::Tool) => {
                let mut stdout = io::stdout();
                let line = format!("{version}\n");
                return match stdout
                    .write_all(line.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    Ok(()) => 0,
                    // Said as any trouble is, `fatal: unable to ...`.
                    Err(e) => self.finish(Err(Error::trouble("write the version", e))),
                };
            }
            (Error::Usage(_), Kind::Tool) => {
                self.warn(&format!("{error}; usage: {}", self.usage));
            }
            // `rmxcheck ... | head`: a reader that closed the pipe ends the
            // run quietly.
            (Error::Trouble { error, .. }, Kind::Tool)
                if error.kind() == io::ErrorKind::BrokenPipe => {}
            (Error::Trouble { .. }, Kind::Tool) => self.warn(&error.to_string()),
            (Error::Usage(_), Kind::Daemon) => {
                log::usage(self.name, &format!("{error}; usage: {}", self.usage));
            }
            // Its stdout is the client's: the version is said where a usage
            // error would be, and the run ends as one does.
            (Error::Version, Kind::Daemon) => {
                let line = format!("usage error: this is {version}; usage: {}", self.usage);
                log::usage(self.name, &line);
            }
            (Error::Trouble { .. }, Kind::Daemon) => {
                log::write(self.name, Priority::Warning, &error.to_string());
            }
        }
        match error {
            Error::Usage(_) | Error::Version => USAGE,
            Error::Trouble { .. } => TROUBLE,
        }
    }

    /// A tool's line on stderr, `PROGRAM: LINE`, printable and bounded.
    /// Nothing useful can be done if stderr is gone.
    pub fn warn(&self, line: &str) {
        let line = text::printable(format!("{}: {line}", self.name), MAX_STDERR_LINE);
        let _ = writeln!(io::stderr(), "{line}");
    }
}

/// How a program's command line is read.
pub struct Spec {
    /// Option letters without a value.
    pub flags: &'static [u8],
    /// Option letters that take a value.
    pub values: &'static [u8],
    /// Whether options may follow other words (rmxcheck, rmxreport), or
    /// end at the first (rmxsmtpd, whose program's own options follow).
    pub floating: bool,
}

/// A command line read by [`Spec::parse`].
pub struct Args {
    matches: getopts::Matches,
    /// Every option letter of the program: asked of another, getopts
    /// would panic.
    letters: Vec<u8>,
    /// Each value as given, byte for byte, after its option's letter.
    raw: Vec<(u8, OsString)>,
    /// The words that are not options, byte for byte, in order.
    pub free: Vec<OsString>,
}

impl Spec {
    /// Reads `args` (after `argv[0]`), whatever they are. `-V`, where the
    /// program has it, wins over everything after the options are checked.
    pub fn parse(&self, args: &[OsString]) -> Result<Args, Error> {
        let (words, raw, free) = self.split(args).map_err(Error::usage)?;
        let mut spec = getopts::Options::new();
        for &letter in self.flags {
            spec.optflagmulti(&char::from(letter).to_string(), "", "");
        }
        for &letter in self.values {
            spec.optmulti(&char::from(letter).to_string(), "", "", "");
        }
        // `split` has checked every letter and found every value: getopts
        // only sorts them.
        let matches = spec
            .parse(words)
            .map_err(|fail| Error::usage(fail.to_string()))?;
        if self.flags.contains(&b'V') && matches.opt_present("V") {
            return Err(Error::Version);
        }
        let letters = [self.flags, self.values].concat();
        Ok(Args {
            matches,
            letters,
            raw,
            free,
        })
    }

    /// Splits the options from the other words, as getopt(3) does: options
    /// as words for getopts, one letter each, so that a later flag in a
    /// group (`-bB`) gets a later position, and each value a word of its
    /// own (printable text: getopts wants text); the values as given; the
    /// other words untouched. A lone `-` is a word, not an option.
    fn split(&self, args: &[OsString]) -> Result<Split, String> {
        let mut words = Vec::new();
        let mut raw = Vec::new();
        let mut free = Vec::new();
        let mut rest = args;
        while let [arg, after @ ..] = rest {
            rest = after;
            let letters = match arg.as_bytes() {
                b"--" => {
                    free.extend_from_slice(rest);
                    return Ok((words, raw, free));
                }
                [b'-', letters @ ..] if !letters.is_empty() => letters,
                _ if self.floating => {
                    free.push(arg.clone());
                    continue;
                }
                _ => {
                    free.push(arg.clone());
                    free.extend_from_slice(rest);
                    return Ok((words, raw, free));
                }
            };
            let mut letters = letters.iter();
            while let Some(&letter) = letters.next() {
                let option = format!("-{}", char::from(letter));
                if self.flags.contains(&letter) {
                    words.push(option);
                } else if self.values.contains(&letter) {
                    let value = match (letters.as_slice(), rest) {
                        ([], [next, after @ ..]) => {
                            rest = after;
                            next.as_bytes()
                        }
                        ([], []) => return Err(format!("{option} wants a value")),
                        (attached, _) => attached,
                    };
                    words.push(option);
                    words.push(text::printable(value, value.len()));
                    raw.push((letter, OsString::from_vec(value.to_vec())));
                    break;
                } else if letter == b'-' {
                    return Err(format!(
                        "unknown option {}",
                        text::printable(arg.as_bytes(), MAX_ERROR)
                    ));
                } else {
                    return Err(format!("unknown option -{}", text::printable([letter], 1)));
                }
            }
        }
        Ok((words, raw, free))
    }
}

/// What [`Spec::split`] makes of a command line: the options as words for
/// getopts, each value as given, and the other words.
type Split = (Vec<String>, Vec<(u8, OsString)>, Vec<OsString>);

impl Args {
    /// The name getopts knows `letter` by, if the program has that option.
    fn known(&self, letter: char) -> Option<String> {
        let byte = u8::try_from(letter).ok()?;
        self.letters.contains(&byte).then(|| letter.to_string())
    }

    /// Whether flag `letter` was given.
    pub fn flag(&self, letter: char) -> bool {
        self.known(letter)
            .is_some_and(|name| self.matches.opt_present(&name))
    }

    /// Whether `on` was given after the last `off` (`-b` and `-B`).
    pub fn last_wins(&self, on: char, off: char) -> bool {
        self.last_position(on) > self.last_position(off)
    }

    fn last_position(&self, letter: char) -> Option<usize> {
        let name = self.known(letter)?;
        self.matches.opt_positions(&name).into_iter().max()
    }

    /// The last value of option `letter`, as printable text.
    pub fn value(&self, letter: char) -> Option<String> {
        self.matches.opt_strs(&self.known(letter)?).pop()
    }

    /// The last value of option `letter` byte for byte, as a file name is.
    pub fn path(&self, letter: char) -> Option<&OsString> {
        self.raw
            .iter()
            .rev()
            .find(|(l, _)| char::from(*l) == letter)
            .map(|(_, value)| value)
    }

    /// The last value of option `letter`, which may not be empty.
    pub fn text(&self, letter: char, what: &str) -> Result<Option<String>, Error> {
        match self.value(letter) {
            Some(value) if value.is_empty() => Err(Error::usage(format!("-{letter} wants {what}"))),
            value => Ok(value),
        }
    }

    /// The whole number given with `letter`, from `min` to `max`.
    pub fn number(
        &self,
        letter: char,
        min: u64,
        max: u64,
        what: &str,
    ) -> Result<Option<u64>, Error> {
        let Some(text) = self.value(letter) else {
            return Ok(None);
        };
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) && text.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(n))
            }
            _ => Err(Error::usage(format!(
                "-{letter} wants {what} from {min} to {max}, not {text:?}"
            ))),
        }
    }

    /// Whole seconds given with `letter`, from `min` to `max`.
    pub fn seconds(&self, letter: char, min: u64, max: u64) -> Result<Option<Duration>, Error> {
        let secs = self.number(letter, min, max, "whole seconds")?;
        Ok(secs.map(Duration::from_secs))
    }

    /// A day given with `letter`, `YYYY-MM-DD`.
    pub fn day(&self, letter: char) -> Result<Option<Date>, Error> {
        self.value(letter)
            .map(|text| {
                Date::parse(&text).ok_or_else(|| {
                    Error::usage(format!("-{letter} wants a date YYYY-MM-DD, not {text:?}"))
                })
            })
            .transpose()
    }

    /// `-bBcCsd` and `-m`: what is refused and how, as rmxsmtpd and
    /// rmxpolicyd read them. `-s` and `-d` override each other, the later
    /// one winning; `-m` may not be empty.
    pub fn policy(&self) -> Result<Policy, Error> {
        let mut policy = Policy {
            permanent: self.last_wins('b', 'B'),
            reject_temperror: self.last_wins('c', 'C'),
            ..Policy::default()
        };
        if let Some(message) = self.text('m', "a text")? {
            policy.message = message;
        }
        if let Some(day) = self.day('d')? {
            policy.unpublished = Unpublished::RejectFrom(day);
        }
        if self.last_position('s') > self.last_position('d') {
            policy.unpublished = Unpublished::Reject;
        }
        Ok(policy)
    }

    /// `-4` and `-6`: the prefix lengths to query.
    pub fn prefixes(&self) -> Result<Prefixes, Error> {
        let mut prefixes = Prefixes::default();
        if let Some(text) = self.value('4') {
            prefixes.v4 = names::parse_v4(&text).map_err(|e| Error::usage(format!("-4: {e}")))?;
        }
        if let Some(text) = self.value('6') {
            prefixes.v6 = names::parse_v6(&text).map_err(|e| Error::usage(format!("-6: {e}")))?;
        }
        Ok(prefixes)
    }

    /// `-T`: the deadline of each whole DNS lookup.
    pub fn dns_timeout(&self) -> Result<Duration, Error> {
        Ok(self
            .seconds('T', 1, MAX_DNS_SECS)?
            .unwrap_or(DEFAULT_DNS_TIMEOUT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        flags: b"bBsV",
        values: b"dmT46",
        floating: true,
    };

    fn words(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn usage(args: &[&str]) -> String {
        match SPEC.parse(&words(args)) {
            Err(Error::Usage(why)) => why,
            Err(other) => panic!("{args:?}: {other}"),
            Ok(_) => panic!("{args:?} parsed"),
        }
    }

    #[test]
    fn errors_in_the_house_words() {
        assert_eq!(usage(&["-x"]), "unknown option -x");
        assert_eq!(usage(&["--help"]), "unknown option --help");
        assert_eq!(usage(&["-bx"]), "unknown option -x");
        assert_eq!(usage(&["-b-"]), "unknown option -b-");
        assert_eq!(usage(&["-\u{e9}"]), "unknown option -?");
        assert_eq!(usage(&["-s", "-T"]), "-T wants a value");
    }

    #[test]
    fn the_last_one_wins() {
        let args = SPEC
            .parse(&words(&["-T", "3", "-b", "-T5", "-bB", "-m", "a", "-mb"]))
            .unwrap();
        assert_eq!(args.dns_timeout().unwrap(), Duration::from_secs(5));
        assert!(!args.last_wins('b', 'B'));
        assert_eq!(args.value('m').as_deref(), Some("b"));
        let policy = SPEC.parse(&words(&["-s", "-d", "2004-06-01"])).unwrap();
        assert!(matches!(
            policy.policy().unwrap().unpublished,
            Unpublished::RejectFrom(_)
        ));
        let policy = SPEC.parse(&words(&["-d", "2004-06-01", "-s"])).unwrap();
        assert_eq!(policy.policy().unwrap().unpublished, Unpublished::Reject);
    }

    #[test]
    fn other_words_pass_byte_for_byte() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'a', 0xff]);
        let args = vec![
            odd.clone(),
            OsString::from("-s"),
            OsString::from("-"),
            odd.clone(),
        ];
        let parsed = SPEC.parse(&args).unwrap();
        assert!(parsed.flag('s'));
        assert_eq!(parsed.free, [odd.clone(), OsString::from("-"), odd]);
        let fixed = Spec {
            floating: false,
            ..SPEC
        };
        let parsed = fixed.parse(&words(&["-b", "prog", "-s"])).unwrap();
        assert!(!parsed.flag('s'));
        assert_eq!(parsed.free, words(&["prog", "-s"]));
        let parsed = SPEC.parse(&words(&["--", "-s"])).unwrap();
        assert_eq!(parsed.free, words(&["-s"]));
    }

    #[test]
    fn version_wins_once_the_options_are_known() {
        for args in [&["-V"][..], &["x", "-V"], &["-sV", "-T", "0"]] {
            assert!(
                matches!(SPEC.parse(&words(args)), Err(Error::Version)),
                "{args:?}"
            );
        }
        assert_eq!(usage(&["-x", "-V"]), "unknown option -x");
        assert!(SPEC.parse(&words(&["--", "-V"])).is_ok());
    }

    #[test]
    fn values_are_checked() {
        let args = SPEC
            .parse(&words(&[
                "-T",
                "0",
                "-d",
                "2004-02-30",
                "-4",
                "20",
                "-m",
                "",
            ]))
            .unwrap();
        let error = |r: Result<(), Error>| r.unwrap_err().to_string();
        assert_eq!(
            error(args.dns_timeout().map(drop)),
            "usage error: -T wants whole seconds from 1 to 3600, not \"0\""
        );
        assert_eq!(
            error(args.day('d').map(drop)),
            "usage error: -d wants a date YYYY-MM-DD, not \"2004-02-30\""
        );
        assert!(error(args.prefixes().map(drop)).starts_with("usage error: -4: "));
        assert_eq!(
            error(args.policy().map(drop)),
            "usage error: -m wants a text"
        );
        let long = format!("-d{}\n\u{e9}", "9".repeat(100_000));
        let args = SPEC.parse(&words(&[&long])).unwrap();
        let Err(Error::Usage(why)) = args.day('d') else {
            panic!("a bad day")
        };
        assert!(
            why.starts_with("-d wants a date YYYY-MM-DD, not \"999"),
            "{why}"
        );
        assert_eq!(why.len(), MAX_ERROR);
    }
}
