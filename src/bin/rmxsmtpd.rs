//! rmxsmtpd: between the connection server and the SMTP daemon. It finds the
//! client address, looks up its network's Reverse MX list, and then either
//! execs the rest of its command line or holds a session that refuses mail.
//!
//! There is no Rust `main`: Rust's runtime would set SIGPIPE to ignored
//! before `main`, and an ignored signal survives exec. With `no_main` the
//! dispositions stay the ones rmxsmtpd was started with (rmxsmtpd(8),
//! DESCRIPTION).
#![no_main]

use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt;

use rmxsmtpd::client::{client_address, peer_of_stdin};
use rmxsmtpd::date::Date;
use rmxsmtpd::dns::{Config, Misread};
use rmxsmtpd::exit::Error;
use rmxsmtpd::lookup::{Findings, lookup};
use rmxsmtpd::names::reverse_names;
use rmxsmtpd::options::{self, Options, USAGE};
use rmxsmtpd::verdict::{Action, Judgement, Outcome, Screen, decide, judge, screen};
use rmxsmtpd::{exec, findings, log, session, text};

/// Longest program name shown in the fatal line.
const MAX_PROGRAM: usize = 200;

// SAFETY: this is the process's only C `main`; the C runtime calls it once.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: argc and argv are as the C runtime passes them to `main`.
    let args = unsafe { options::from_main(argc, argv) };
    match run(&args) {
        Ok(()) => 0,
        Err(error) => {
            match &error {
                Error::Usage(_) => log::usage("rmxsmtpd", &format!("{error}; usage: {USAGE}")),
                Error::Trouble { .. } => {
                    log::write(
                        "rmxsmtpd",
                        log::Priority::Warning,
                        &format!("fatal: {error}"),
                    );
                }
            }
            libc::c_int::from(error.status())
        }
    }
}

/// Screens the client, looks up its lists, logs the verdict, then holds a
/// session that refuses mail, or execs the program: returns only after a
/// held session, or with the reason the program could not run.
fn run(args: &[OsString]) -> Result<(), Error> {
    let options = options::parse(args).map_err(Error::Usage)?;
    let client = client_address(|name| std::env::var_os(name), peer_of_stdin);
    let shown = client
        .as_ref()
        .map_or_else(|_| "-".to_string(), IpAddr::to_string);
    // Bytes, not UTF-8: a tcprules block written in Latin-1 is still text.
    let rmxsmtpd = std::env::var_os("RMXSMTPD");
    let relayclient = std::env::var_os("RELAYCLIENT").is_some();
    let mut notes = Vec::new();
    // -n is a dry run of the Reverse MX check alone: a refusal that the
    // administrator wrote in RMXSMTPD still refuses.
    let (judgement, action, dry_run) = match screen(
        rmxsmtpd.as_deref().map(OsStrExt::as_bytes),
        relayclient,
        &shown,
    ) {
        Screen::Skip(why) => (
            Judgement::new(Outcome::Skip, None, why),
            Action::Accept,
            false,
        ),
        Screen::Reject(rejection) => (
            Judgement::new(Outcome::Skip, None, "RMXSMTPD is set"),
            Action::Reject(rejection),
            false,
        ),
        Screen::Lookup => {
            let judgement = match client {
                Ok(ip) => {
                    let (found, misread) = look_up(ip, &options);
                    notes = findings::notes(&found, misread);
                    judge(&found).unwrap_or_else(|| {
                        Judgement::new(Outcome::TempError, None, "lookup did not finish")
                    })
                }
                Err(why) => Judgement::new(Outcome::TempError, None, why),
            };
            let action = decide(&judgement, &options.policy, Date::today(), &shown);
            (judgement, action, options.dry_run)
        }
    };
    // The one line the client is refused with: the log shows it as sent.
    let refusal = match &action {
        Action::Accept => None,
        Action::Reject(rejection) => Some(session::refusal(rejection, options.session_limit)),
    };
    let entry = log::Entry {
        client: &shown,
        outcome: judgement.outcome,
        name: judgement.name.as_ref(),
        refused: refusal.as_deref(),
        dry_run,
        why: &judgement.why,
        notes: &notes,
    };
    if !options.quiet || entry.worth_logging_quietly() {
        log::write(
            "rmxsmtpd",
            log::Priority::of(entry.outcome),
            &entry.format(),
        );
    }
    match refusal {
        Some(refusal) if !dry_run => {
            // The client may hang up at any time; that ends the session well.
            let _ = session::hold(&options.name, &refusal, options.session_limit);
            Ok(())
        }
        _ => {
            let error = exec::exec(&options.program, judgement.outcome);
            let program = text::printable(options.program[0].as_bytes(), MAX_PROGRAM);
            Err(Error::Trouble {
                doing: format!("run {program}"),
                error,
            })
        }
    }
}

/// The client's network lists, stopping as soon as the verdict is known,
/// and what of `DNSCACHEIP` was not understood.
fn look_up(ip: IpAddr, options: &Options) -> (Findings, Option<Misread>) {
    let names = reverse_names(ip, &options.prefixes);
    let (config, misread) = Config::from_system();
    let findings = lookup(ip, names, config, options.dns_timeout, |f| {
        judge(f).is_some()
    });
    (findings, misread)
}
