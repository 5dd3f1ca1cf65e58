//! The one log line per connection on stderr (rmxsmtpd(8), The log), in a shape
//! that multilog and svlogd keep whole:
//!
//! `rmxsmtpd: pid 4242: 198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 ...`
//!
//! Where stderr is the client's own socket (inetd, xinetd), the same line
//! goes to syslog(3) instead, so that it is neither lost nor sent to the
//! client.

use std::ffi::CString;
use std::io::Write;

use hickory_proto::rr::Name;

use crate::text;
use crate::verdict::Outcome;

/// Longest log line kept, so that a hostile reply cannot flood the log.
const MAX_LINE: usize = 1000;

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

/// What happened to one connection.
pub struct Entry<'a> {
    /// The client address, or `-` when there is none.
    pub client: &'a str,
    pub outcome: Outcome,
    /// The name whose list decided, if any.
    pub name: Option<&'a Name>,
    /// The line the client was refused with, exactly as sent (under
    /// `dry_run`: as it would have been sent); `None` when accepted.
    pub refused: Option<&'a str>,
    pub dry_run: bool,
    /// Why, where the result alone does not say (temperror, skip).
    pub why: &'a str,
    /// Things noticed on the way: exchanges past the cap, a dropped null MX.
    pub notes: &'a [String],
}

impl Entry<'_> {
    /// Whether `-q` keeps this line: rejections, dry-run rejections, errors.
    pub fn worth_logging_quietly(&self) -> bool {
        self.refused.is_some() || self.outcome == Outcome::TempError
    }

    /// The line, without the `rmxsmtpd: pid N: ` prefix or newline.
    pub fn format(&self) -> String {
        let name = self.name.map_or_else(|| "-".to_string(), trimmed);
        let mut line = format!("{} {} {} ", self.client, self.outcome, name);
        match (self.refused, self.dry_run) {
            (None, _) => line.push_str("accept"),
            (Some(reply), false) => line.push_str(&format!("reject: {reply}")),
            (Some(reply), true) => line.push_str(&format!("dry-run accept, would reject: {reply}")),
        }
        let says_why = matches!(self.outcome, Outcome::TempError | Outcome::Skip);
        if says_why && !self.why.is_empty() {
            line.push_str(&format!(" ({})", self.why));
        }
        for note in self.notes {
            line.push_str(&format!("; {note}"));
        }
        text::printable(&line, MAX_LINE)
    }
}

/// A name as administrators write it in logs: without the final dot.
pub fn trimmed(name: &Name) -> String {
    let text = name.to_ascii();
    text.strip_suffix('.').map(str::to_string).unwrap_or(text)
}

/// Writes one line, prefixed with the program and pid, in one write(2).
/// When stderr is the client's own socket, as inetd and xinetd hand it
/// over, the line would reach the client: it goes to syslog instead.
pub fn write(program: &str, priority: Priority, line: &str) {
    let prefix = format!("{program}: pid {}: ", std::process::id());
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
        syslog(program, priority, line);
        return;
    }
    let full = format!("{prefix}{line}\n");
    // Nothing useful can be done if stderr is gone.
    let _ = std::io::stderr().write_all(full.as_bytes());
}

/// One message to syslog(3): facility mail, the program as ident, with the
/// pid. Without a syslog socket (`/dev/log`) it is dropped, as syslog(3)
/// does. The socket is closed again at once: nothing opened here may reach
/// the program rmxsmtpd execs.
fn syslog(program: &str, priority: Priority, line: &str) {
    let (Ok(ident), Ok(message)) = (CString::new(program), CString::new(line.replace('\0', "?")))
    else {
        return;
    };
    let level = match priority {
        Priority::Info => libc::LOG_INFO,
        Priority::Warning => libc::LOG_WARNING,
    };
    // SAFETY: `ident` is NUL-terminated and outlives the closelog(3) below,
    // after which the C library no longer holds it.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_MAIL) };
    // SAFETY: a constant "%s" format with one NUL-terminated string for it.
    unsafe { libc::syslog(level, c"%s".as_ptr(), message.as_ptr()) };
    // SAFETY: closelog(3) only closes the socket that syslog(3) opened.
    unsafe { libc::closelog() };
}

/// Whether fds 0 and 2 are the same socket.
fn stderr_is_the_client() -> bool {
    let identity = |fd: i32| {
        // SAFETY: stat is plain data for which all-zero is valid.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat(2) writes only into `stat`; a bad fd gives an error.
        let rc = unsafe { libc::fstat(fd, &mut stat) };
        (rc == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFSOCK)
            .then_some((stat.st_dev, stat.st_ino))
    };
    identity(0).is_some_and(|client| identity(2) == Some(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(outcome: Outcome, name: Option<&'a Name>, refused: Option<&'a str>) -> Entry<'a> {
        Entry {
            client: "198.51.100.10",
            outcome,
            name,
            refused,
            dry_run: false,
            why: "",
            notes: &[],
        }
    }

    #[test]
    fn lines() {
        let zone = Name::from_ascii("100.51.198.in-addr.arpa.").unwrap();
        let reject = Some("451 4.7.1 no");
        assert_eq!(
            entry(Outcome::Pass, Some(&zone), None).format(),
            "198.51.100.10 pass 100.51.198.in-addr.arpa accept"
        );
        assert_eq!(
            entry(Outcome::NoList, None, None).format(),
            "198.51.100.10 none - accept"
        );
        assert_eq!(
            entry(Outcome::Fail, Some(&zone), reject).format(),
            "198.51.100.10 fail 100.51.198.in-addr.arpa reject: 451 4.7.1 no"
        );
        let e = Entry {
            dry_run: true,
            notes: &["12 exchanges past the cap of 20 ignored".into()],
            ..entry(Outcome::Fail, Some(&zone), reject)
        };
        assert_eq!(
            e.format(),
            "198.51.100.10 fail 100.51.198.in-addr.arpa dry-run accept, would reject: 451 4.7.1 no; \
             12 exchanges past the cap of 20 ignored"
        );
        let e = Entry {
            why: "timeout after 10 s",
            ..entry(Outcome::TempError, Some(&zone), None)
        };
        assert_eq!(
            e.format(),
            "198.51.100.10 temperror 100.51.198.in-addr.arpa accept (timeout after 10 s)"
        );
    }

    #[test]
    fn quiet_keeps_rejections_and_errors() {
        let reject = Some("554 5.7.1 no");
        assert!(entry(Outcome::Fail, None, reject).worth_logging_quietly());
        assert!(entry(Outcome::TempError, None, None).worth_logging_quietly());
        for outcome in [Outcome::Pass, Outcome::NoList, Outcome::Skip, Outcome::Fail] {
            assert!(!entry(outcome, None, None).worth_logging_quietly());
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
    }

    #[test]
    fn hostile_text_is_made_printable() {
        let zone = Name::from_ascii("100.51.198.in-addr.arpa.").unwrap();
        let e = Entry {
            why: "bad\nline\u{1b}[31m",
            ..entry(Outcome::TempError, Some(&zone), None)
        };
        let line = e.format();
        assert!(line.ends_with("(bad?line?[31m)"), "{line}");
    }
}
