//! rmxsmtpd's command line (DESIGN.md §1, §4, §5). Parsing stops at the
//! program name: everything from there on belongs to that program, options
//! or not. A later option overrides an earlier one, as in rblsmtpd.

use std::ffi::OsString;
use std::time::Duration;

use getopts::{Matches, ParsingStyle};

use crate::date::Date;
use crate::names::{self, Prefixes};
use crate::text;
use crate::verdict::{Policy, Unpublished};

pub const USAGE: &str = "rmxsmtpd [-bBcCnqs] [-d YYYY-MM-DD] [-t SECONDS] [-T SECONDS] [-m TEXT] \
                         [-h NAME] [-4 PREFIXES] [-6 PREFIXES] program [arg ...]";

const DEFAULT_SESSION: Duration = Duration::from_secs(60);
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_NAME: &str = "rmxsmtpd.local";
const MAX_SESSION_SECS: u64 = 86_400;
pub const MAX_DNS_SECS: u64 = 3_600;
const MAX_NAME: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub policy: Policy,
    /// `-n`: log what would be done, always exec.
    pub dry_run: bool,
    /// `-q`: log only rejections and errors.
    pub quiet: bool,
    /// `-t`: the held session ends by then; zero means no dialogue.
    pub session_limit: Duration,
    /// `-T`: the whole DNS lookup ends by then.
    pub dns_timeout: Duration,
    /// `-h`: the name in the held session's replies.
    pub name: String,
    pub prefixes: Prefixes,
    /// The program to exec and its arguments, exactly as given.
    pub program: Vec<OsString>,
}

/// Parses the arguments after `argv[0]`. The error is one line, without
/// the program's name.
pub fn parse(args: &[OsString]) -> Result<Options, String> {
    let mut spec = getopts::Options::new();
    spec.parsing_style(ParsingStyle::StopAtFirstFree);
    for flag in ["b", "B", "c", "C", "n", "q", "s"] {
        spec.optflagmulti(flag, "", "");
    }
    for option in ["d", "t", "T", "m", "h", "4", "6"] {
        spec.optmulti(option, "", "", "");
    }
    // getopts wants text; the program's own arguments are taken from `args`
    // untouched, by position, since they all come after the options.
    let lossy: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let matches = spec
        .parse(one_per_word(&lossy))
        .map_err(|e| e.to_string())?;
    let program = args[args.len() - matches.free.len()..].to_vec();
    if program.is_empty() {
        return Err("no program to run".into());
    }
    let mut policy = Policy {
        permanent: last_wins(&matches, "b", "B"),
        reject_temperror: last_wins(&matches, "c", "C"),
        ..Policy::default()
    };
    if let Some(message) = matches.opt_strs("m").pop() {
        policy.message = message;
    }
    let last_d = matches.opt_positions("d").into_iter().max();
    let last_s = matches.opt_positions("s").into_iter().max();
    if let Some(text) = matches.opt_strs("d").pop() {
        let day = Date::parse(&text)
            .ok_or_else(|| format!("-d wants a date YYYY-MM-DD, not {text:?}"))?;
        policy.unpublished = Unpublished::RejectFrom(day);
    }
    if last_s > last_d {
        policy.unpublished = Unpublished::Reject;
    }
    let mut prefixes = Prefixes::default();
    if let Some(text) = matches.opt_strs("4").pop() {
        prefixes.v4 = names::parse_v4(&text).map_err(|e| format!("-4: {e}"))?;
    }
    if let Some(text) = matches.opt_strs("6").pop() {
        prefixes.v6 = names::parse_v6(&text).map_err(|e| format!("-6: {e}"))?;
    }
    let name = match matches.opt_strs("h").pop() {
        Some(name) if name.is_empty() => return Err("-h wants a name".into()),
        Some(name) => text::printable(&name, MAX_NAME),
        None => DEFAULT_NAME.to_string(),
    };
    Ok(Options {
        policy,
        dry_run: matches.opt_present("n"),
        quiet: matches.opt_present("q"),
        session_limit: seconds(&matches, "t", 0, MAX_SESSION_SECS)?.unwrap_or(DEFAULT_SESSION),
        dns_timeout: seconds(&matches, "T", 1, MAX_DNS_SECS)?.unwrap_or(DEFAULT_DNS_TIMEOUT),
        name,
        prefixes,
        program,
    })
}

/// Options that take a value.
const WITH_VALUE: &str = "dtTmh46";

/// Splits grouped flags (`-bBc`) into one word each, so that getopts gives
/// each its own position and a later flag can override an earlier one in
/// the same group. Stops at the first word that is not an option.
fn one_per_word(args: &[String]) -> Vec<String> {
    let mut words = Vec::with_capacity(args.len());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty() && *l != "-") else {
            words.push(arg.clone());
            words.extend(rest.cloned());
            break;
        };
        for (at, letter) in letters.char_indices() {
            words.push(format!("-{letter}"));
            if WITH_VALUE.contains(letter) {
                let value = &letters[at + letter.len_utf8()..];
                if !value.is_empty() {
                    words.push(value.to_string());
                } else if let Some(next) = rest.next() {
                    words.push(next.clone());
                }
                break;
            }
        }
    }
    words
}

/// Whether `on` was given after the last `off`.
fn last_wins(matches: &Matches, on: &str, off: &str) -> bool {
    let on = matches.opt_positions(on).into_iter().max();
    let off = matches.opt_positions(off).into_iter().max();
    on > off
}

/// The value of a whole-seconds option from `min` to `max`; the last one
/// given wins. Shared with rmxcheck's `-T`.
pub fn seconds(
    matches: &Matches,
    option: &str,
    min: u64,
    max: u64,
) -> Result<Option<Duration>, String> {
    let Some(text) = matches.opt_strs(option).pop() else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(Duration::from_secs(n))),
        _ => Err(format!(
            "-{option} wants whole seconds from {min} to {max}, not {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Options, String> {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        parse(&args)
    }

    #[test]
    fn defaults() {
        let o = parse_words(&["qmail-smtpd"]).unwrap();
        assert_eq!(o.policy, Policy::default());
        assert!(!o.dry_run && !o.quiet);
        assert_eq!(o.session_limit, Duration::from_secs(60));
        assert_eq!(o.dns_timeout, Duration::from_secs(10));
        assert_eq!(o.name, "rmxsmtpd.local");
        assert_eq!(o.prefixes, Prefixes::default());
        assert_eq!(o.program, ["qmail-smtpd"]);
    }

    #[test]
    fn later_options_override_earlier_ones() {
        let o = parse_words(&["-b", "-B", "-c", "-C", "-c", "prog"]).unwrap();
        assert!(!o.policy.permanent);
        assert!(o.policy.reject_temperror);
        let o = parse_words(&["-bBb", "prog"]).unwrap();
        assert!(o.policy.permanent);
        let o = parse_words(&["-bcB", "prog"]).unwrap();
        assert!(!o.policy.permanent && o.policy.reject_temperror);
        let o = parse_words(&["-sd2004-06-01", "prog"]).unwrap();
        assert!(matches!(o.policy.unpublished, Unpublished::RejectFrom(_)));
        let o = parse_words(&["-qm", "-b", "prog"]).unwrap();
        assert!(o.quiet && !o.policy.permanent);
        assert_eq!(o.policy.message, "-b");
        let o = parse_words(&["-s", "-d", "2004-06-01", "prog"]).unwrap();
        assert_eq!(
            o.policy.unpublished,
            Unpublished::RejectFrom(Date::parse("2004-06-01").unwrap())
        );
        let o = parse_words(&["-d", "2004-06-01", "-s", "prog"]).unwrap();
        assert_eq!(o.policy.unpublished, Unpublished::Reject);
        let o = parse_words(&["-t", "5", "-t", "7", "-T3", "-m", "a", "-m", "b", "prog"]).unwrap();
        assert_eq!(o.session_limit, Duration::from_secs(7));
        assert_eq!(o.dns_timeout, Duration::from_secs(3));
        assert_eq!(o.policy.message, "b");
    }

    #[test]
    fn everything_after_the_program_is_its_own() {
        let o = parse_words(&["-n", "/bin/prog", "-x", "--y", "-b", "--", "z"]).unwrap();
        assert!(o.dry_run);
        assert!(!o.policy.permanent);
        assert_eq!(o.program, ["/bin/prog", "-x", "--y", "-b", "--", "z"]);
        let o = parse_words(&["-q", "--", "-prog", "-b"]).unwrap();
        assert!(o.quiet);
        assert_eq!(o.program, ["-prog", "-b"]);
    }

    #[test]
    fn non_unicode_program_arguments_pass_unchanged() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'a', 0xff, b'b']);
        let args = vec![OsString::from("-q"), OsString::from("prog"), odd.clone()];
        let o = parse(&args).unwrap();
        assert_eq!(o.program, [OsString::from("prog"), odd]);
    }

    #[test]
    fn values() {
        let o = parse_words(&[
            "-4",
            "16,24",
            "-6",
            "56",
            "-h",
            "mx\r\n.example",
            "-t0",
            "p",
        ])
        .unwrap();
        assert_eq!(o.prefixes.v4, [24, 16]);
        assert_eq!(o.prefixes.v6, [56]);
        assert_eq!(o.name, "mx??.example");
        assert_eq!(o.session_limit, Duration::ZERO);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &[][..],
            &["-b"],
            &["-x", "prog"],
            &["-t"],
            &["-t", "x", "prog"],
            &["-t", "-1", "prog"],
            &["-t", "86401", "prog"],
            &["-T", "0", "prog"],
            &["-T", "3601", "prog"],
            &["-d", "2004-02-30", "prog"],
            &["-d", "tomorrow", "prog"],
            &["-4", "20", "prog"],
            &["-4", "40", "prog"],
            &["-6", "66", "prog"],
            &["-h", "", "prog"],
            &["--"],
        ] {
            let got = parse_words(bad);
            let error = got.expect_err(&format!("{bad:?}"));
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }
}
