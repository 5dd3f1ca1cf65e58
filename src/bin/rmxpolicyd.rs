//! rmxpolicyd: the Reverse MX check as a Postfix SMTP access policy
//! service (rmxpolicyd(8)). It reads requests on fd 0 and answers each on
//! fd 1, one after another, until the end of input or until none comes
//! within `-i`. A request it cannot read, or one that does not end in
//! time, gets no answer: the log says why, and it exits 111, as the
//! protocol asks. A verdict is logged once its answer is delivered.
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use rmxsmtpd::cli::Error;
use rmxsmtpd::log::{self, Priority};
use rmxsmtpd::policyd::request::{self, Next};
use rmxsmtpd::policyd::{self, PROGRAM, Service};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    ExitCode::from(PROGRAM.finish(run(&args)))
}

/// Answers every request until the end of input.
fn run(args: &[OsString]) -> Result<u8, Error> {
    let options = policyd::parse(args)?;
    policyd::check_output()?;
    let mut input = request::input(request::Stdin::new(options.idle));
    let mut service = Service::new(options);
    let mut output = io::stdout().lock();
    loop {
        let request = match request::read(&mut input).map_err(unreadable)? {
            Next::Request(request) => request,
            Next::End => return Ok(0),
            Next::Idle => {
                log::write(PROGRAM.name, Priority::Info, &service.idle());
                return Ok(0);
            }
        };
        let reply = service.reply(&request, Instant::now());
        output
            .write_all(reply.answer().as_bytes())
            .and_then(|()| output.flush())
            .map_err(|error| reply.undelivered(&error))?;
        if let Some((priority, line)) = reply.log {
            log::write(PROGRAM.name, priority, &line);
        }
    }
}

/// Input that is no request: no answer may follow, and the run ends as
/// trouble does.
fn unreadable(why: String) -> Error {
    Error::trouble(
        "read a request",
        io::Error::new(io::ErrorKind::InvalidData, why),
    )
}
