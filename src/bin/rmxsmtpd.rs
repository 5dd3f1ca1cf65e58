//! rmxsmtpd: between the connection server and the SMTP daemon. It finds the
//! client address, looks up its network's Reverse MX list, and then either
//! execs the rest of its command line or holds a session that refuses mail.
//!
//! There is no Rust `main`: Rust's runtime would set SIGPIPE to ignored
//! before `main`, and an ignored signal survives exec. With `no_main` the
//! dispositions stay the ones rmxsmtpd was started with (rmxsmtpd(8),
//! DESCRIPTION).
#![no_main]

use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt;

use rmxsmtpd::client::{client_address, peer_of_stdin};
use rmxsmtpd::date::Date;
use rmxsmtpd::dns::{Config, Misread};
use rmxsmtpd::lookup::{Findings, List, MAX_EXCHANGES, lookup};
use rmxsmtpd::names::reverse_names;
use rmxsmtpd::options::{self, Options, USAGE};
use rmxsmtpd::verdict::{Action, Judgement, Outcome, Screen, decide, judge, screen};
use rmxsmtpd::{error_str, exec, log, session, text};

const EXIT_USAGE: libc::c_int = 100;
const EXIT_TROUBLE: libc::c_int = 111;
/// Longest program name shown in the fatal line.
const MAX_PROGRAM: usize = 200;

// SAFETY: this is the process's only C `main`; the C runtime calls it once.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: argc and argv are as the C runtime passes them to `main`.
    let args = unsafe { options::from_main(argc, argv) };
    let options = match options::parse(&args) {
        Ok(options) => options,
        Err(error) => {
            log::usage("rmxsmtpd", &format!("usage error: {error}; usage: {USAGE}"));
            return EXIT_USAGE;
        }
    };
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
                    let (findings, misread) = look_up(ip, &options);
                    notes = notes_on(&findings, misread);
                    judge(&findings).unwrap_or_else(|| {
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
            0
        }
        _ => {
            let error = exec::exec(&options.program, judgement.outcome);
            let program = text::printable(options.program[0].as_bytes(), MAX_PROGRAM);
            log::write(
                "rmxsmtpd",
                log::Priority::Warning,
                &format!("fatal: unable to run {program}: {}", error_str::of(&error)),
            );
            EXIT_TROUBLE
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

/// What the log should mention beyond the verdict: first the servers, if
/// `DNSCACHEIP` did not say them all, then what was ignored in a list.
fn notes_on(findings: &Findings, misread: Option<Misread>) -> Vec<String> {
    let mut notes: Vec<String> = misread.iter().map(Misread::to_string).collect();
    for entry in &findings.names {
        if let List::Exchanges {
            ignored,
            null_dropped,
            ..
        } = entry.list
        {
            if ignored > 0 {
                notes.push(format!(
                    "{}: {ignored} exchanges past the first {MAX_EXCHANGES} ignored",
                    log::trimmed(&entry.name)
                ));
            }
            if null_dropped {
                notes.push(format!(
                    "{}: null MX beside other MX records ignored",
                    log::trimmed(&entry.name)
                ));
            }
        }
    }
    notes
}
