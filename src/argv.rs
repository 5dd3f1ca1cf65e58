//! rmxsmtpd's command line, as rmxsmtpd(8) describes it: the options, then
//! the program to run. Parsing stops at the program name: everything from
//! there on belongs to that program, options or not, byte for byte. The
//! conventions it shares with the other programs are in [`crate::cli`].

use std::ffi::OsString;
use std::time::Duration;

use crate::cli::{Error, Kind, Program, Spec};
use crate::names::Prefixes;
use crate::text;
use crate::verdict::Policy;

pub const PROGRAM: Program = Program {
    name: "rmxsmtpd",
    usage: "rmxsmtpd [-bBcCnqs] [-d YYYY-MM-DD] [-t SECONDS] [-T SECONDS] [-m TEXT] \
            [-h NAME] [-4 PREFIXES] [-6 PREFIXES] program [arg ...]",
    kind: Kind::Daemon,
};

const SPEC: Spec = Spec {
    flags: b"bBcCnqsV",
    values: b"dtTmh46",
    floating: false,
};

const DEFAULT_SESSION: Duration = Duration::from_secs(60);
const DEFAULT_NAME: &str = "rmxsmtpd.local";
const MAX_SESSION_SECS: u64 = 86_400;
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

/// Parses the arguments after `argv[0]`, whatever they are. `-V` is an
/// error too ([`Error::Version`]): rmxsmtpd runs only to run a program, and
/// its stdout is the client's.
pub fn parse(args: &[OsString]) -> Result<Options, Error> {
    let args = SPEC.parse(args)?;
    if args.free.is_empty() {
        return Err(Error::usage("no program to run"));
    }
    let policy = args.policy()?;
    let prefixes = args.prefixes()?;
    let name = match args.text('h', "a name")? {
        Some(name) => text::printable(&name, MAX_NAME),
        None => DEFAULT_NAME.to_string(),
    };
    Ok(Options {
        policy,
        dry_run: args.flag('n'),
        quiet: args.flag('q'),
        session_limit: args
            .seconds('t', 0, MAX_SESSION_SECS)?
            .unwrap_or(DEFAULT_SESSION),
        dns_timeout: args.dns_timeout()?,
        name,
        prefixes,
        program: args.free,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::verdict::Unpublished;
    use std::os::unix::ffi::OsStringExt;

    /// What an error says after `usage error: `; `-V` for the version.
    fn said(error: Error) -> String {
        match error {
            Error::Usage(why) => why,
            Error::Version => "-V".into(),
            trouble => panic!("not a usage error: {trouble}"),
        }
    }

    fn parse_bytes(args: &[OsString]) -> Result<Options, String> {
        parse(args).map_err(said)
    }

    fn parse_words(words: &[&str]) -> Result<Options, String> {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        parse_bytes(&args)
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
            &["-m", "", "prog"],
            &["-m", "x", "-m", "", "prog"],
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
        let bytes = parse_bytes(&[os(b"-\xff\xfe"), os(b"prog")]).unwrap_err();
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
        let o = parse_words(&["-m", " ", "-h", "-x", "prog", "--"]).unwrap();
        assert_eq!(o.policy.message, " ");
        assert_eq!(o.name, "-x");
        assert_eq!(o.program, ["prog", "--"]);
        let o = parse_words(&["-m--", "-bq", "--", "--help"]).unwrap();
        assert_eq!(o.policy.message, "--");
        assert_eq!(o.program, ["--help"]);
    }

    #[test]
    fn version() {
        for words in [
            &["-V"][..],
            &["-V", "prog"],
            &["-qV", "-t", "never", "prog"],
            &["-b", "-V"],
        ] {
            assert_eq!(parse_words(words).unwrap_err(), "-V", "{words:?}");
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
        let error = parse_bytes(&args).unwrap_err();
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
        assert_eq!(error.len(), 200);
        let error = parse_words(&["-t", "1\n2", "prog"]).unwrap_err();
        assert!(error.bytes().all(|b| (b' '..=b'~').contains(&b)), "{error}");
    }
}
