//! rmxsmtpd: between the connection server and the SMTP daemon. It finds the
//! client address, looks up its network's Reverse MX list, and then either
//! execs the rest of its command line or holds a session that refuses mail.
//!
//! There is no Rust `main`: Rust's runtime would set SIGPIPE to ignored
//! before `main`, and an ignored signal survives exec. With `no_main` the
//! dispositions stay the ones rmxsmtpd was started with (rmxsmtpd(8),
//! DESCRIPTION). The C `main` below is the one place the binary needs
//! `unsafe`: to be that symbol, and to read C's argv.
#![no_main]
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use rmxsmtpd::argv::{self, PROGRAM};
use rmxsmtpd::check::{Dns, Until, check};
use rmxsmtpd::cli::Error;
use rmxsmtpd::client::{self, client_address, peer_of_stdin};
use rmxsmtpd::date::Date;
use rmxsmtpd::log::Entry;
use rmxsmtpd::verdict::{Decision, Judgement, Reason, SCREENED, Screen, decide, screen};
use rmxsmtpd::{exec, log, session, sys, text};

/// Longest program name shown in the fatal line.
const MAX_PROGRAM: usize = 200;

#[allow(unsafe_code)]
// SAFETY: this is the process's only C `main`; the C runtime calls it once.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: argc and argv are as the C runtime passes them to `main`.
    let args = unsafe { sys::args_from_main(argc, argv) };
    libc::c_int::from(PROGRAM.finish(run(&args)))
}

/// Screens the client, looks up its lists, logs the verdict, then holds a
/// session that refuses mail, or execs the program: returns only after a
/// held session, or with the reason the program could not run.
fn run(args: &[OsString]) -> Result<u8, Error> {
    let options = argv::parse(args)?;
    let client = client_address(|name| std::env::var_os(name), peer_of_stdin);
    let shown = client::shown(&client);
    // Bytes, not UTF-8: a tcprules block written in Latin-1 is still text.
    let rmxsmtpd = std::env::var_os("RMXSMTPD");
    let relayclient = std::env::var_os("RELAYCLIENT").is_some();
    let mut notes = Vec::new();
    // -n is a dry run of the Reverse MX check alone: a refusal that the
    // administrator wrote in RMXSMTPD still refuses.
    let (judgement, decision, dry_run) = match screen(
        rmxsmtpd.as_deref().map(OsStrExt::as_bytes),
        relayclient,
        &shown,
    ) {
        Screen::Skip(why) => (
            Judgement::new(Reason::Skipped(why), None),
            Decision::Accept,
            false,
        ),
        Screen::Reject(rejection) => (
            Judgement::new(Reason::Skipped(SCREENED), None),
            Decision::Refuse(rejection),
            false,
        ),
        Screen::Lookup => {
            let judgement = match client {
                Ok(ip) => {
                    let dns = Dns::from_system(options.dns_timeout);
                    let checked = check(ip, &options.prefixes, &dns, Until::Decided);
                    notes = checked.notes;
                    checked.judgement
                }
                Err(why) => Judgement::new(Reason::NoClient(why), None),
            };
            let decision = decide(&judgement, &options.policy, Date::today(), &shown);
            (judgement, decision, options.dry_run)
        }
    };
    // The one line the client is refused with: the log shows it as sent.
    let refusal = match &decision {
        Decision::Accept => None,
        Decision::Refuse(rejection) => Some(session::refusal(rejection, options.session_limit)),
    };
    let entry = Entry {
        client: &shown,
        judgement: &judgement,
        refusal: refusal.as_deref(),
        dry_run,
        notes: &notes,
    };
    if let Some((priority, line)) = entry.line(options.quiet) {
        log::write(PROGRAM.name, priority, &line);
    }
    match refusal {
        Some(refusal) if !dry_run => {
            // The client may hang up at any time; that ends the session well.
            let _ = session::hold(&options.name, &refusal, options.session_limit);
            Ok(0)
        }
        _ => {
            let error = exec::exec(&options.program, judgement.outcome());
            let program = text::printable(options.program[0].as_bytes(), MAX_PROGRAM);
            Err(Error::trouble(format!("run {program}"), error))
        }
    }
}
