//! How both programs end: the exit statuses they share, and the error that
//! stops a run before its work is done, with what to say about it.

use std::fmt;
use std::io;

use crate::error_str;

/// A command line (or input line) that cannot be right.
pub const USAGE: u8 = 100;
/// The system failed: another try later may do better.
pub const TROUBLE: u8 = 111;

/// Why a run stopped.
#[derive(Debug)]
pub enum Error {
    /// What is wrong with the command line, without the program's name.
    Usage(String),
    /// What could not be done (`run qmail-smtpd`, `write the report`), and why.
    Trouble { doing: String, error: io::Error },
}

impl Error {
    pub fn status(&self) -> u8 {
        match self {
            Error::Usage(_) => USAGE,
            Error::Trouble { .. } => TROUBLE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(why) => write!(f, "usage error: {why}"),
            Error::Trouble { doing, error } => {
                write!(f, "unable to {doing}: {}", error_str::of(error))
            }
        }
    }
}
