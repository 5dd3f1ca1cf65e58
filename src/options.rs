//! rmxsmtpd's command line, as rmxsmtpd(8) describes it: the arguments as
//! C's `main` received them, and what they ask for. Parsing stops at the
//! program name: everything from there on belongs to that program, options
//! or not, byte for byte. A later option overrides an earlier one, as in
//! rblsmtpd.

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

use getopts::Matches;

use crate::date::Date;
use crate::names::{self, Prefixes};
use crate::text;
use crate::verdict::{Policy, Unpublished};

pub const USAGE: &str = "rmxsmtpd [-bBcCnqs] [-d YYYY-MM-DD] [-t SECONDS] [-T SECONDS] [-m TEXT] \
                         [-h NAME] [-4 PREFIXES] [-6 PREFIXES] program [arg ...]";

const DEFAULT_SESSION: Duration = Duration::from_secs(60);
const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_NAME: &str = "rmxsmtpd.local";
const MAX_SESSION_SECS: u64 = 86_400;
const MAX_DNS_SECS: u64 = 3_600;
const MAX_NAME: usize = 255;
/// Longest error text: an argument may be as long as the kernel allows.
const MAX_ERROR: usize = 200;

/// Option letters without a value; `-V` asks for the version.
const FLAGS: &[u8] = b"bBcCnqsV";
/// Option letters that take a value.
const WITH_VALUE: &[u8] = b"dtTmh46";

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

/// The arguments after the program's own name, from C `main`'s `argc` and
/// `argv`. Read here rather than through `std::env::args_os`, which without
/// a Rust `main` relies on a start-up hook that glibc has and musl does not.
/// A NULL `argv`, or an `argc` below 2, gives none; reading stops early at
/// a NULL entry.
///
/// # Safety
///
/// `argv` is NULL or holds at least `argc` pointers, each NULL or pointing
/// to a NUL-terminated string, as the C runtime passes them to `main`.
pub unsafe fn from_main(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    let mut args = Vec::new();
    if argv.is_null() {
        return args;
    }
    for at in 1..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: `at` is below `argc`, and `argv` holds `argc` pointers.
        let arg = unsafe { *argv.add(at) };
        if arg.is_null() {
            break;
        }
        // SAFETY: a non-NULL entry of `argv` is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
        args.push(OsString::from_vec(bytes.to_vec()));
    }
    args
}

/// Parses the arguments after `argv[0]`, whatever they are. The error is
/// one line of printable ASCII, without the program's name; `-V` gives one
/// too, naming the version, since rmxsmtpd runs only to run a program.
pub fn parse(args: &[OsString]) -> Result<Options, String> {
    read(args).map_err(|error| text::printable(&error, MAX_ERROR))
}

fn read(args: &[OsString]) -> Result<Options, String> {
    let (words, program) = split(args)?;
    let mut spec = getopts::Options::new();
    for flag in FLAGS.iter().map(|&l| char::from(l).to_string()) {
        spec.optflagmulti(&flag, "", "");
    }
    for option in WITH_VALUE.iter().map(|&l| char::from(l).to_string()) {
        spec.optmulti(&option, "", "", "");
    }
    let matches = spec.parse(words).map_err(getopts_error)?;
    if matches.opt_present("V") {
        return Err(format!("this is rmxsmtpd {}", env!("CARGO_PKG_VERSION")));
    }
    let program = program.to_vec();
    if program.is_empty() {
        return Err("no program to run".into());
    }
    let policy = policy(&matches)?;
    let prefixes = prefixes(&matches)?;
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
        dns_timeout: dns_timeout(&matches)?,
        name,
        prefixes,
        program,
    })
}

/// `-bBcCsd` and `-m`, what is refused and how, as rmxsmtpd and rmxpolicyd
/// read them: a later option overrides an earlier one.
pub fn policy(matches: &Matches) -> Result<Policy, String> {
    let mut policy = Policy {
        permanent: last_wins(matches, "b", "B"),
        reject_temperror: last_wins(matches, "c", "C"),
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
    Ok(policy)
}

/// `-4` and `-6`, the prefix lengths to query, as the programs read them:
/// the last of each counts.
pub fn prefixes(matches: &Matches) -> Result<Prefixes, String> {
    let mut prefixes = Prefixes::default();
    if let Some(text) = matches.opt_strs("4").pop() {
        prefixes.v4 = names::parse_v4(&text).map_err(|e| format!("-4: {e}"))?;
    }
    if let Some(text) = matches.opt_strs("6").pop() {
        prefixes.v6 = names::parse_v6(&text).map_err(|e| format!("-6: {e}"))?;
    }
    Ok(prefixes)
}

/// `-T`, the deadline of the whole DNS lookup, as both programs read it.
pub fn dns_timeout(matches: &Matches) -> Result<Duration, String> {
    Ok(seconds(matches, "T", 1, MAX_DNS_SECS)?.unwrap_or(DEFAULT_DNS_TIMEOUT))
}

/// Splits the options from the program, as getopt(3) does: the program
/// starts at the first argument that is not an option (a lone `-`
/// included), or after `--`. Returns the options as words for getopts, one
/// letter each, so that a later flag in a group (`-bB`) gets a later
/// position, and each value a word of its own (as text: getopts wants
/// text); then the program and its arguments, the untouched rest of `args`.
fn split(args: &[OsString]) -> Result<(Vec<String>, &[OsString]), String> {
    let mut words = Vec::new();
    let mut rest = args;
    while let [arg, after @ ..] = rest {
        let letters = match arg.as_bytes() {
            b"--" => return Ok((words, after)),
            [b'-', letters @ ..] if !letters.is_empty() => letters,
            _ => break,
        };
        rest = after;
        let mut letters = letters.iter();
        while let Some(&letter) = letters.next() {
            let option = format!("-{}", char::from(letter));
            if FLAGS.contains(&letter) {
                words.push(option);
            } else if WITH_VALUE.contains(&letter) {
                let value = match (letters.as_slice(), rest) {
                    ([], [next, after @ ..]) => {
                        rest = after;
                        next.as_bytes()
                    }
                    ([], []) => return Err(format!("{option} wants a value")),
                    (attached, _) => attached,
                };
                words.push(option);
                // As text, each byte outside printable ASCII one `?`:
                // the rule of everything rmxsmtpd shows (rmxsmtpd(8)).
                words.push(text::printable(value, value.len()));
                break;
            } else if letter == b'-' {
                // No long options: `--help` is as unknown as `-x`.
                return Err(format!(
                    "unknown option {}",
                    text::printable(arg.as_bytes(), MAX_ERROR)
                ));
            } else {
                return Err(format!("unknown option -{}", text::printable([letter], 1)));
            }
        }
    }
    Ok((words, rest))
}

/// A getopts error in the words of rmxsmtpd's own (`unknown option -x`),
/// for rmxcheck, whose whole command line getopts reads, and for rmxsmtpd,
/// whose options `split` has checked before getopts sees them.
pub fn getopts_error(fail: getopts::Fail) -> String {
    // getopts names a one-letter option by its letter, a long one by its name.
    let option = |name: String| match name.chars().count() {
        1 => format!("-{name}"),
        _ => format!("--{name}"),
    };
    match fail {
        getopts::Fail::UnrecognizedOption(name) => format!("unknown option {}", option(name)),
        getopts::Fail::ArgumentMissing(name) => format!("{} wants a value", option(name)),
        getopts::Fail::UnexpectedArgument(name) => format!("{} takes no value", option(name)),
        getopts::Fail::OptionMissing(name) => format!("{} is missing", option(name)),
        getopts::Fail::OptionDuplicated(name) => format!("{} given twice", option(name)),
    }
}

/// Whether `on` was given after the last `off`.
fn last_wins(matches: &Matches, on: &str, off: &str) -> bool {
    let on = matches.opt_positions(on).into_iter().max();
    let off = matches.opt_positions(off).into_iter().max();
    on > off
}

/// The value of a whole-seconds option from `min` to `max`; the last one
/// given wins. Shared with rmxcheck's `-T`.
fn seconds(
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

    /// getopts' own texts (`Unrecognized option: 'x'`) never reach the
    /// user: each is said as rmxsmtpd says its own errors.
    #[test]
    fn getopts_errors_in_our_words() {
        let mut spec = getopts::Options::new();
        spec.optflag("s", "", "");
        spec.optopt("T", "", "", "");
        for (args, want) in [
            (&["-x"][..], "unknown option -x"),
            (&["--help"], "unknown option --help"),
            (&["-s", "-T"], "-T wants a value"),
            (&["--s=1"], "-s takes no value"),
        ] {
            let fail = spec.parse(args).unwrap_err();
            assert_eq!(getopts_error(fail), want, "{args:?}");
        }
        let fail = getopts::Fail::OptionDuplicated("T".into());
        assert_eq!(getopts_error(fail), "-T given twice");
        let fail = getopts::Fail::OptionMissing("T".into());
        assert_eq!(getopts_error(fail), "-T is missing");
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
            &["--help"],
            &["--version", "prog"],
            &["--foo", "prog"],
            &["-q", "--help", "prog"],
            &["-b-", "prog"],
            &["-\u{e9}", "prog"],
            &["-b\u{1f600}", "prog"],
            &["-m"],
            &["-bm"],
            &["-q", "--"],
        ] {
            let got = parse_words(bad);
            let error = got.expect_err(&format!("{bad:?}"));
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    fn os(bytes: &[u8]) -> OsString {
        OsString::from_vec(bytes.to_vec())
    }

    #[test]
    fn unknown_options_are_named() {
        let error = |words: &[&str]| parse_words(words).unwrap_err();
        assert_eq!(error(&["--help"]), "unknown option --help");
        assert_eq!(error(&["--version", "prog"]), "unknown option --version");
        assert_eq!(error(&["-n", "--foo", "prog"]), "unknown option --foo");
        assert_eq!(error(&["-bx", "prog"]), "unknown option -x");
        assert_eq!(error(&["-b-", "prog"]), "unknown option -b-");
        // The first unknown byte is named, as printable ASCII.
        assert_eq!(error(&["-\u{e9}", "prog"]), "unknown option -?");
        assert_eq!(error(&["-q\u{1f600}b", "prog"]), "unknown option -?");
        assert_eq!(error(&["-t"]), "-t wants a value");
        assert_eq!(error(&["-qm"]), "-m wants a value");
        let bytes = parse(&[os(b"-\xff\xfe"), os(b"prog")]).unwrap_err();
        assert_eq!(bytes, "unknown option -?");
    }

    #[test]
    fn dashes() {
        // `--` ends the options; a lone `-` is a program's name, as for
        // getopt(3); a value may be `--` or start with `-`.
        let o = parse_words(&["--", "--", "x"]).unwrap();
        assert_eq!(o.program, ["--", "x"]);
        let o = parse_words(&["-q", "-", "-b"]).unwrap();
        assert!(o.quiet && !o.policy.permanent);
        assert_eq!(o.program, ["-", "-b"]);
        let o = parse_words(&["-m", "--", "prog"]).unwrap();
        assert_eq!(o.policy.message, "--");
        assert_eq!(o.program, ["prog"]);
        let o = parse_words(&["-m", "", "-h", "-x", "prog", "--"]).unwrap();
        assert_eq!(o.policy.message, "");
        assert_eq!(o.name, "-x");
        assert_eq!(o.program, ["prog", "--"]);
        let o = parse_words(&["-m--", "-bq", "--", "--help"]).unwrap();
        assert_eq!(o.policy.message, "--");
        assert_eq!(o.program, ["--help"]);
    }

    #[test]
    fn version() {
        let version = format!("this is rmxsmtpd {}", env!("CARGO_PKG_VERSION"));
        for words in [
            &["-V"][..],
            &["-V", "prog"],
            &["-qV", "-t", "never", "prog"],
            &["-b", "-V"],
        ] {
            assert_eq!(parse_words(words).unwrap_err(), version, "{words:?}");
        }
        // After the program, -V is the program's.
        let o = parse_words(&["prog", "-V"]).unwrap();
        assert_eq!(o.program, ["prog", "-V"]);
    }

    #[test]
    fn values_that_are_not_utf8() {
        let args = [
            os(b"-m\xe9t\xe9"),
            os(b"-h"),
            os(b"mx\xff"),
            os(b"-t"),
            os(b"3\xff"),
            os(b"prog"),
        ];
        let error = parse(&args).unwrap_err();
        assert_eq!(error, "-t wants whole seconds from 0 to 86400, not \"3?\"");
        let o = parse(&[&args[..3], &args[5..]].concat()).unwrap();
        assert_eq!(o.policy.message, "?t?");
        assert_eq!(o.name, "mx?");
        // Bytes after the program, and the program's own, pass untouched.
        let tail = [os(b"\xff-\xfe"), os(b"-\xe9"), os(b"")];
        let o = parse(&[&[os(b"-q")][..], &tail].concat()).unwrap();
        assert_eq!(o.program, tail);
    }

    #[test]
    fn errors_are_printable_and_bounded() {
        let long = format!("-d{}\n\u{e9}", "9".repeat(100_000));
        let error = parse_words(&[&long, "prog"]).unwrap_err();
        assert!(
            error.starts_with("-d wants a date YYYY-MM-DD, not \"999"),
            "{error}"
        );
        assert_eq!(error.len(), MAX_ERROR);
        let error = parse_words(&["-t", "1\n2", "prog"]).unwrap_err();
        assert!(error.bytes().all(|b| (b' '..=b'~').contains(&b)), "{error}");
    }

    /// A C argv: pointers to NUL-terminated copies of `words`, then NULL.
    fn c_argv(words: &[&[u8]]) -> (Vec<std::ffi::CString>, Vec<*const libc::c_char>) {
        let strings: Vec<_> = words
            .iter()
            .map(|w| std::ffi::CString::new(*w).unwrap())
            .collect();
        let mut pointers: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        (strings, pointers)
    }

    #[test]
    fn arguments_come_from_main() {
        // An argv of its own, unlike this test process's: what it gives
        // comes from the pointers, not from the C library's copy.
        let words: [&[u8]; 5] = [b"rmxsmtpd", b"-q", b"--", b"\xff\xfe", b""];
        let (_strings, argv) = c_argv(&words);
        // SAFETY: `argv` holds 5 pointers to live NUL-terminated strings, then NULL.
        let args = unsafe { from_main(5, argv.as_ptr()) };
        assert_eq!(args, words[1..].iter().map(|w| os(w)).collect::<Vec<_>>());
        // SAFETY: as above; fewer than all of them is fine too.
        let args = unsafe { from_main(2, argv.as_ptr()) };
        assert_eq!(args, [os(b"-q")]);
        for argc in [1, 0, -1, libc::c_int::MIN] {
            // SAFETY: as above; argc <= 1 reads nothing.
            assert!(unsafe { from_main(argc, argv.as_ptr()) }.is_empty());
        }
        // SAFETY: a NULL argv is never read.
        assert!(unsafe { from_main(3, std::ptr::null()) }.is_empty());
        // An argc past the terminating NULL stops at the NULL.
        let (_strings, argv) = c_argv(&[b"rmxsmtpd", b"prog"]);
        // SAFETY: argv holds 3 pointers: two strings and NULL; reading stops at the NULL.
        let args = unsafe { from_main(3, argv.as_ptr()) };
        assert_eq!(args, [os(b"prog")]);
    }
}
