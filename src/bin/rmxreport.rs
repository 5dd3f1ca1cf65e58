//! rmxreport: the log of rmxsmtpd and rmxpolicyd turned into the figures a
//! cut-off date should come from (rmxreport(1)). The command line and the
//! inputs are here; the reading and counting are in the library's `report`.
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use rmxsmtpd::cli::{self, Error, Kind, Program, Spec};
use rmxsmtpd::date::Date;
use rmxsmtpd::report::Counter;
use rmxsmtpd::report::input;
use rmxsmtpd::report::line::Clock;
use rmxsmtpd::report::render::Report;
use rmxsmtpd::report::tally::{Scope, Tally};
use rmxsmtpd::{error_str, text};

const PROGRAM: Program = Program {
    name: "rmxreport",
    usage: "rmxreport [-js] [-d FROM[..TO]] [-c YYYY-MM-DD] [-N COUNT] [-4 LEN] [-6 LEN] \
            [-u FILE] [FILE|DIR|- ...]",
    kind: Kind::Tool,
};

const SPEC: Spec = Spec {
    flags: b"jsV",
    values: b"dcN46u",
    floating: true,
};

/// The top lists' length when `-N` gives none.
const DEFAULT_TOP: u64 = 10;

struct Options {
    scope: Scope,
    top: usize,
    json: bool,
    /// `-u FILE`: where the lines that are not counted go.
    unread: Option<OsString>,
    inputs: Vec<OsString>,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    ExitCode::from(PROGRAM.finish(run(&args)))
}

/// Reads every input, then writes the report: 111 if an input could not be
/// read, after reporting what could. The `-u` file is made first: if it
/// cannot be, nothing is read.
fn run(args: &[OsString]) -> Result<u8, Error> {
    let options = parse(args)?;
    let unread = match &options.unread {
        None => None,
        Some(path) => {
            let file = File::create(path)
                .map_err(|e| Error::trouble(format!("create {}", shown(path.as_ref())), e))?;
            Some(BufWriter::new(file))
        }
    };
    let mut counter = Counter::new(Tally::new(options.scope), Clock::now(), unread);
    let mut trouble = false;
    let stdin = [OsString::from("-")];
    let inputs = if options.inputs.is_empty() {
        &stdin[..]
    } else {
        &options.inputs[..]
    };
    input::read_all(inputs, &mut counter, &mut |unread| {
        PROGRAM.warn(&format!(
            "warning: unable to read {}: {}",
            shown(&unread.path),
            error_str::of(&unread.error)
        ));
        trouble |= unread.trouble;
    });
    counter.finish();
    if let (Some(e), Some(path)) = (&counter.unread_error, &options.unread) {
        let path = shown(path.as_ref());
        PROGRAM.warn(&format!(
            "warning: unable to write {path}: {}",
            error_str::of(e)
        ));
        trouble = true;
    }
    let report = Report::new(&counter.tally, counter.skipped, options.top);
    if let Some(warning) = report.cutoff_warning() {
        PROGRAM.warn(&warning);
    }
    let out = if options.json {
        report.json()
    } else {
        report.text()
    };
    let status = if trouble { cli::TROUBLE } else { 0 };
    let mut stdout = io::stdout();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `rmxreport ... | head`: a reader that has what it wants and
        // closed the pipe ends the run quietly, as well as it went.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Err(Error::trouble("write the report", e)),
        Ok(()) => Ok(status),
    }
}

/// A path as a message shows it: printable, bounded.
fn shown(path: &Path) -> String {
    text::printable(path.as_os_str().as_encoded_bytes(), 200)
}

fn parse(args: &[OsString]) -> Result<Options, Error> {
    let args = SPEC.parse(args)?;
    let mut scope = Scope::default();
    if let Some(days) = args.value('d') {
        let (from, to) = match days.split_once("..") {
            Some((from, to)) => (from, Some(to)),
            None => (days.as_str(), None),
        };
        let day = |text: &str| {
            Date::parse(text)
                .ok_or_else(|| Error::usage(format!("-d wants a day YYYY-MM-DD, not {text:?}")))
        };
        scope.from = Some(day(from)?);
        scope.to = to.map(day).transpose()?;
        if scope.to < scope.from && scope.to.is_some() {
            return Err(Error::usage(format!("-d: {days} ends before it begins")));
        }
    }
    if let Some(cutoff) = args.day('c')? {
        if args.flag('s') {
            return Err(Error::usage("-c and -s ask for two different what-ifs"));
        }
        scope.cutoff = Some(cutoff);
    }
    if let Some(len) = args.number('4', 0, 32, "a prefix length")? {
        scope.v4_len = len as u8;
    }
    if let Some(len) = args.number('6', 0, 128, "a prefix length")? {
        scope.v6_len = len as u8;
    }
    let top = args
        .number('N', 0, u64::from(u32::MAX), "a count")?
        .unwrap_or(DEFAULT_TOP);
    Ok(Options {
        scope,
        top: top as usize,
        json: args.flag('j'),
        unread: args.path('u').cloned(),
        inputs: args.free,
    })
}
