//! rmxpolicyd: the Reverse MX check as a Postfix SMTP access policy
//! service (rmxpolicyd(8)). It reads requests on fd 0 and answers each on
//! fd 1, one after another, until the end of input. A request it cannot
//! read gets no answer: the log says why, and it exits 111, as the
//! protocol asks.

use std::io::{BufReader, Write};
use std::process::ExitCode;
use std::time::Instant;

use rmxsmtpd::log::{self, Priority};
use rmxsmtpd::policy::{self, Service, USAGE};

const EXIT_USAGE: u8 = 100;
const EXIT_TROUBLE: u8 = 111;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let options = match policy::parse(&args) {
        Ok(options) => options,
        Err(error) => {
            log::usage(
                "rmxpolicyd",
                &format!("usage error: {error}; usage: {USAGE}"),
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut service = Service::new(options);
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = std::io::stdout().lock();
    loop {
        let request = match policy::read_request(&mut input) {
            Ok(Some(request)) => request,
            Ok(None) => return ExitCode::SUCCESS,
            Err(why) => return fatal(&why),
        };
        let answer = service.answer(&request, Instant::now());
        if let Some((priority, line)) = answer.log {
            log::write("rmxpolicyd", priority, &line);
        }
        let reply = format!("action={}\n\n", answer.action);
        if let Err(error) = output
            .write_all(reply.as_bytes())
            .and_then(|()| output.flush())
        {
            return fatal(&format!(
                "cannot answer: {}",
                rmxsmtpd::error_str::of(&error)
            ));
        }
    }
}

fn fatal(why: &str) -> ExitCode {
    log::write("rmxpolicyd", Priority::Warning, &format!("fatal: {why}"));
    ExitCode::from(EXIT_TROUBLE)
}
