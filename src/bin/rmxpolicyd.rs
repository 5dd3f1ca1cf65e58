//! rmxpolicyd: the Reverse MX check as a Postfix SMTP access policy
//! service (rmxpolicyd(8)). It reads requests on fd 0 and answers each on
//! fd 1, one after another, until the end of input. A request it cannot
//! read gets no answer: the log says why, and it exits 111, as the
//! protocol asks.
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use rmxsmtpd::cli::Error;
use rmxsmtpd::log;
use rmxsmtpd::policyd::{self, PROGRAM, Service, request};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    ExitCode::from(PROGRAM.finish(run(&args)))
}

/// Answers every request until the end of input.
fn run(args: &[OsString]) -> Result<u8, Error> {
    let mut service = Service::new(policyd::parse(args)?);
    let mut input = request::input(io::stdin().lock());
    let mut output = io::stdout().lock();
    while let Some(request) = request::read(&mut input).map_err(unreadable)? {
        let reply = service.reply(&request, Instant::now());
        if let Some((priority, line)) = reply.log {
            log::write(PROGRAM.name, priority, &line);
        }
        let answer = format!("action={}\n\n", reply.action);
        output
            .write_all(answer.as_bytes())
            .and_then(|()| output.flush())
            .map_err(|error| Error::trouble("answer", error))?;
    }
    Ok(0)
}

/// Input that is no request: no answer may follow, and the run ends as
/// trouble does.
fn unreadable(why: String) -> Error {
    Error::trouble(
        "read a request",
        io::Error::new(io::ErrorKind::InvalidData, why),
    )
}
