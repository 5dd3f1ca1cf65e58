//! rmxreport: the log of rmxsmtpd and rmxpolicyd turned into the figures a
//! cut-off date should come from (rmxreport(1)). The command line and the
//! inputs are here; the reading and counting are in the library's `report`.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use getopts::Options;

use rmxsmtpd::report::Counter;
use rmxsmtpd::report::input::{self, files};
use rmxsmtpd::report::line::{Clock, parse_day};
use rmxsmtpd::report::render::Report;
use rmxsmtpd::report::tally::{Scope, Tally};

const USAGE: &str = "rmxreport [-js] [-d FROM[..TO]] [-c YYYY-MM-DD] [-N COUNT] [-4 LEN] [-6 LEN] [-u FILE] [FILE|DIR|- ...]";

const EXIT_USAGE: u8 = 100;
const EXIT_TROUBLE: u8 = 111;

struct Request {
    scope: Scope,
    top: usize,
    json: bool,
    unread: Option<String>,
    inputs: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let request = match parse(&args) {
        Ok(request) => request,
        Err(error) => {
            let error: String = error
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() || c == ' ' {
                        c
                    } else {
                        '?'
                    }
                })
                .take(200)
                .collect();
            let _ = writeln!(
                io::stderr(),
                "rmxreport: usage error: {error}; usage: {USAGE}"
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let unread = match &request.unread {
        None => None,
        Some(path) => match File::create(path) {
            Ok(file) => Some(BufWriter::new(file)),
            Err(e) => {
                let _ = writeln!(
                    io::stderr(),
                    "rmxreport: fatal: unable to create {path}: {e}"
                );
                return ExitCode::from(EXIT_TROUBLE);
            }
        },
    };
    let mut counter = Counter::new(Tally::new(request.scope), Clock::now(), unread);
    let mut trouble = false;
    let inputs = if request.inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        request.inputs.clone()
    };
    for name in &inputs {
        if let Err(e) = read_input(name, &mut counter) {
            let _ = writeln!(
                io::stderr(),
                "rmxreport: warning: unable to read {name}: {e}"
            );
            trouble = true;
        }
    }
    counter.finish();
    if let (Some(e), Some(path)) = (&counter.unread_error, &request.unread) {
        let _ = writeln!(
            io::stderr(),
            "rmxreport: warning: unable to write {path}: {e}"
        );
        trouble = true;
    }
    let report = Report::new(&counter.tally, counter.skipped, request.top);
    let out = if request.json {
        report.json()
    } else {
        report.text()
    };
    if io::stdout()
        .write_all(out.as_bytes())
        .and_then(|()| io::stdout().flush())
        .is_err()
    {
        return ExitCode::from(EXIT_TROUBLE);
    }
    if trouble {
        ExitCode::from(EXIT_TROUBLE)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_input<W: Write>(name: &str, counter: &mut Counter<W>) -> io::Result<()> {
    // Lines counted in a second thread, when there is a second core.
    let piped = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let mut read = |input: &mut dyn Read| {
        if piped {
            counter.read_piped(input)
        } else {
            input::read(input, counter)
        }
    };
    if name == "-" {
        return read(&mut io::stdin().lock());
    }
    for path in files(Path::new(name))? {
        let mut file = File::open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        read(&mut file)?;
    }
    Ok(())
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut opts = Options::new();
    opts.optflag("j", "", "JSON");
    opts.optflag("s", "", "what-if: every none refused");
    opts.optopt("d", "", "days", "FROM[..TO]");
    opts.optopt("c", "", "cut-off", "YYYY-MM-DD");
    opts.optopt("N", "", "top lists", "COUNT");
    opts.optopt("4", "", "IPv4 network length", "LEN");
    opts.optopt("6", "", "IPv6 network length", "LEN");
    opts.optopt("u", "", "skipped lines", "FILE");
    let m = opts.parse(args).map_err(|e| e.to_string())?;
    let mut scope = Scope {
        v4_len: 24,
        v6_len: 48,
        ..Scope::default()
    };
    if let Some(days) = m.opt_str("d") {
        let (from, to) = match days.split_once("..") {
            Some((from, to)) => (from, Some(to)),
            None => (days.as_str(), None),
        };
        let day =
            |text: &str| parse_day(text).ok_or_else(|| format!("-d: not a day YYYY-MM-DD: {text}"));
        scope.from = Some(day(from)?);
        scope.to = to.map(day).transpose()?;
        if scope.to < scope.from && scope.to.is_some() {
            return Err(format!("-d: {days} ends before it begins"));
        }
    }
    if let Some(cutoff) = m.opt_str("c") {
        if m.opt_present("s") {
            return Err("-c and -s ask for two different what-ifs".into());
        }
        scope.cutoff =
            Some(parse_day(&cutoff).ok_or_else(|| format!("-c: not a day YYYY-MM-DD: {cutoff}"))?);
    }
    let number = |opt: &str, max: u32| -> Result<Option<u32>, String> {
        m.opt_str(opt)
            .map(|text| match text.parse::<u32>() {
                Ok(n) if n <= max && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
                _ => Err(format!("-{opt}: not a number from 0 to {max}: {text}")),
            })
            .transpose()
    };
    scope.v4_len = number("4", 32)?.unwrap_or(24);
    scope.v6_len = number("6", 128)?.unwrap_or(48);
    let top = number("N", u32::MAX)?.unwrap_or(10) as usize;
    Ok(Request {
        scope,
        top,
        json: m.opt_present("j"),
        unread: m.opt_str("u"),
        inputs: m.free,
    })
}
