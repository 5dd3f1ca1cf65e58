//! Handing the connection to the SMTP daemon (rmxsmtpd(8), DESCRIPTION):
//! execvp(3) of the rest of the command line, with the environment received
//! plus `RMXRESULT`. Nothing has read fd 0 or written fd 1 by then, every
//! descriptor rmxsmtpd opened is close-on-exec, and the signal dispositions are
//! those rmxsmtpd started with (the binary keeps Rust's runtime from ignoring
//! SIGPIPE, see `src/bin/rmxsmtpd.rs`).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::sys;
use crate::verdict::Outcome;

/// Replaces this process with `program`; returns only on failure.
pub fn exec(program: &[OsString], outcome: Outcome) -> io::Error {
    let Some(argv) = program
        .iter()
        .map(c_string)
        .collect::<Option<Vec<CString>>>()
    else {
        return io::Error::new(io::ErrorKind::InvalidInput, "argument holds a NUL byte");
    };
    let mut envp: Vec<CString> = std::env::vars_os()
        .filter(|(name, _)| name != "RMXRESULT")
        .filter_map(|(name, value)| {
            let mut pair = name.into_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            CString::new(pair).ok()
        })
        .collect();
    envp.push(CString::new(format!("RMXRESULT={outcome}")).expect("no NUL in a result word"));
    sys::execvpe(&argv, &envp)
}

fn c_string(arg: &OsString) -> Option<CString> {
    CString::new(OsStr::as_bytes(arg)).ok()
}
