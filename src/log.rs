//! The one log line per connection (rmxsmtpd(8), The log), and where it
//! goes. On stderr, in a shape that multilog and svlogd keep whole:
//!
//! `rmxsmtpd: pid 4242: 198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 ...`
//!
//! Where stderr is the client's own socket (inetd, xinetd, Postfix's
//! spawn(8)), the same line goes to syslog(3) instead, so that it is neither
//! lost nor sent to the client. rmxreport(1) reads these lines back with
//! the same [`words`].

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use crate::names::shown;
use crate::sys::{self, Level};
use crate::text;
use crate::verdict::{Judgement, Outcome};

/// The longest log line, so that a hostile reply cannot flood the log.
const MAX_LOG_LINE: usize = 1000;

/// The words a verdict line is made of, which its writer here and its
/// reader in rmxreport share.
pub mod words {
    /// Between the program's name and its pid: `rmxsmtpd: pid 4242: `.
    pub const PID: &str = ": pid ";
    /// After the pid.
    pub const AFTER_PID: &str = ": ";
    /// The client was accepted.
    pub const ACCEPT: &str = "accept";
    /// Before the reply the client was refused with.
    pub const REFUSE: &str = "reject: ";
    /// Before the reply the client would have been refused with, under `-n`.
    pub const WOULD_REFUSE: &str = "dry-run accept, would reject: ";
    /// Before each note.
    pub const NOTE: &str = "; ";
}

/// How much a line matters to syslog(3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A verdict.
    Info,
    /// A temporary error, or a fatal line.
    Warning,
}

impl Priority {
    /// The priority of a verdict line: `warning` for a temporary error,
    /// which wants a look; else `info`.
    pub fn of(outcome: Outcome) -> Priority {
        if outcome == Outcome::TempError {
            Priority::Warning
        } else {
            Priority::Info
        }
    }
}

/// What was done with the client, as the log says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Accept,
    Refuse,
    /// Accepted under `-n`, and would have been refused without it.
    WouldRefuse,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Accept, Action::Refuse, Action::WouldRefuse];
}

/// What happened to one connection (or, for rmxpolicyd, one lookup).
pub struct Entry<'a> {
    /// The client address, or `-` when there is none.
    pub client: &'a str,
    pub judgement: &'a Judgement,
    /// The line the client was refused with, exactly as sent (under
    /// `dry_run`: as it would have been sent); `None` when accepted.
    pub refusal: Option<&'a str>,
    pub dry_run: bool,
    /// Things noticed on the way: exchanges past the cap, a dropped null MX.
    pub notes: &'a [String],
}

impl Entry<'_> {
    /// The line to log, and its priority: none under `-q` (`quiet`) unless
    /// it is a refusal, a dry-run refusal or an error.
    pub fn line(&self, quiet: bool) -> Option<(Priority, String)> {
        let outcome = self.judgement.outcome();
        let kept = self.refusal.is_some() || outcome == Outcome::TempError;
        (kept || !quiet).then(|| (Priority::of(outcome), self.format()))
    }

    /// The line, without the `PROGRAM: pid N: ` prefix or newline.
    pub fn format(&self) -> String {
        let outcome = self.judgement.outcome();
        let name = self
            .judgement
            .name
            .as_ref()
            .map_or_else(|| "-".to_string(), shown);
        let mut line = format!("{} {outcome} {name} ", self.client);
        match self.refusal {
            None => line.push_str(words::ACCEPT),
            Some(reply) if self.dry_run => {
                line.push_str(&format!("{}{reply}", words::WOULD_REFUSE))
            }
            Some(reply) => line.push_str(&format!("{}{reply}", words::REFUSE)),
        }
        if matches!(outcome, Outcome::TempError | Outcome::Skip) {
            line.push_str(&format!(" ({})", self.judgement.reason));
        }
        for note in self.notes {
            line.push_str(words::NOTE);
            line.push_str(note);
        }
        text::printable(&line, MAX_LOG_LINE)
    }
}

/// Writes one line, prefixed with the program and pid, in one write(2).
/// When stderr is the client's own socket, as inetd and xinetd hand it
/// over, the line would reach the client: it goes to syslog instead.
pub fn write(program: &str, priority: Priority, line: &str) {
    let prefix = format!(
        "{program}{}{}{}",
        words::PID,
        std::process::id(),
        words::AFTER_PID
    );
    emit(program, priority, &prefix, line);
}

/// A line about the command line rather than a connection (`usage error:
/// ...`): `PROGRAM: LINE` on stderr, as djb's tools write it, or to syslog
/// as a warning where stderr is the client's socket.
pub fn usage(program: &str, line: &str) {
    emit(program, Priority::Warning, &format!("{program}: "), line);
}

fn emit(program: &str, priority: Priority, prefix: &str, line: &str) {
    if stderr_is_the_client() {
        let level = match priority {
            Priority::Info => Level::Info,
            Priority::Warning => Level::Warning,
        };
        sys::syslog(program, level, line);
        return;
    }
    let full = format!("{prefix}{line}\n");
    // Nothing useful can be done if stderr is gone.
    let _ = io::stderr().write_all(full.as_bytes());
}

/// Whether fds 0 and 2 are the same socket.
fn stderr_is_the_client() -> bool {
    // A duplicate of each, close-on-exec, closed again at once.
    let identity = |fd: BorrowedFd<'_>| {
        let stat = File::from(fd.try_clone_to_owned().ok()?).metadata().ok()?;
        let socket = stat.file_type().is_socket();
        socket.then_some((stat.dev(), stat.ino()))
    };
    let stdin = io::stdin();
    let stderr = io::stderr();
    identity(stdin.as_fd()).is_some_and(|client| identity(stderr.as_fd()) == Some(client))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns;
    use crate::findings::fixtures::name;
    use crate::verdict::Reason;
    use std::time::Duration;

    const ZONE: &str = "100.51.198.in-addr.arpa.";

    fn judged(reason: Reason) -> Judgement {
        Judgement::new(reason, Some(&name(ZONE)))
    }

    fn entry<'a>(judgement: &'a Judgement, refusal: Option<&'a str>) -> Entry<'a> {
        Entry {
            client: "198.51.100.10",
            judgement,
            refusal,
            dry_run: false,
            notes: &[],
        }
    }

    fn timeout() -> Reason {
        Reason::QueryFailed(dns::Error::Timeout(Duration::from_secs(10)))
    }

    #[test]
    fn lines() {
        let reject = Some("451 4.7.1 no");
        let pass = judged(Reason::Listed(name("mx.example.")));
        assert_eq!(
            entry(&pass, None).format(),
            "198.51.100.10 pass 100.51.198.in-addr.arpa accept"
        );
        let none = Judgement::new(Reason::NoList, None);
        assert_eq!(entry(&none, None).format(), "198.51.100.10 none - accept");
        let fail = judged(Reason::NotListed(2));
        assert_eq!(
            entry(&fail, reject).format(),
            "198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 no"
        );
        let notes = ["12 exchanges past the cap of 20 ignored".to_string()];
        let e = Entry {
            dry_run: true,
            notes: &notes,
            ..entry(&fail, reject)
        };
        assert_eq!(
            e.format(),
            "198.51.100.10 fail 100.51.198.in-addr.arpa dry-run accept, would reject: 451 4.7.1 no; \
             12 exchanges past the cap of 20 ignored"
        );
        let temperror = judged(timeout());
        assert_eq!(
            entry(&temperror, None).format(),
            "198.51.100.10 temperror 100.51.198.in-addr.arpa accept (timeout after 10 s)"
        );
        let skip = Judgement::new(Reason::Skipped("RELAYCLIENT is set"), None);
        assert_eq!(
            entry(&skip, None).format(),
            "198.51.100.10 skip - accept (RELAYCLIENT is set)"
        );
    }

    #[test]
    fn quiet_keeps_rejections_and_errors() {
        let reject = Some("554 5.7.1 no");
        let fail = judged(Reason::NotListed(1));
        assert!(entry(&fail, reject).line(true).is_some());
        let temperror = judged(timeout());
        assert!(entry(&temperror, None).line(true).is_some());
        for reason in [
            Reason::Listed(name("mx.example.")),
            Reason::NoList,
            Reason::Skipped("RMXSMTPD is empty"),
            Reason::NotListed(1),
        ] {
            let judgement = judged(reason);
            assert!(entry(&judgement, None).line(true).is_none());
            assert!(entry(&judgement, None).line(false).is_some());
        }
    }

    #[test]
    fn temporary_errors_are_warnings() {
        for outcome in Outcome::ALL {
            let want = if outcome == Outcome::TempError {
                Priority::Warning
            } else {
                Priority::Info
            };
            assert_eq!(Priority::of(outcome), want);
        }
        let temperror = judged(timeout());
        assert_eq!(
            entry(&temperror, None).line(false).unwrap().0,
            Priority::Warning
        );
    }

    #[test]
    fn hostile_text_is_made_printable() {
        let judgement = Judgement::new(Reason::NoClient("bad\nline\u{1b}[31m".into()), None);
        let line = entry(&judgement, None).format();
        assert!(line.ends_with("(bad?line?[31m)"), "{line}");
    }
}
