//! System errors as words, in the manner of djb's error_str: `file does not
//! exist`, `permission denied`, `connection refused`, for the fatal line,
//! the log and rmxcheck's output, where Rust's own text (`No such file or
//! directory (os error 2)`) would stand out from every other line.

use std::io;

/// What `error` means, in lower case and without an errno number. An errno
/// this table does not know gives the C library's text, lower-cased; an
/// error that carries no errno gives its own text.
pub fn of(error: &io::Error) -> String {
    let Some(errno) = error.raw_os_error() else {
        return error.to_string();
    };
    match words(errno) {
        Some(words) => words.to_string(),
        None => {
            let text = io::Error::from_raw_os_error(errno).to_string();
            let text = text.split(" (os error ").next().unwrap_or_default();
            text.to_ascii_lowercase()
        }
    }
}

fn words(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EINTR => "interrupted system call",
        libc::ENOMEM => "out of memory",
        libc::ENOENT => "file does not exist",
        libc::ETXTBSY => "text busy",
        libc::EIO => "input/output error",
        libc::EEXIST => "file already exists",
        libc::ETIMEDOUT => "timed out",
        libc::EINPROGRESS => "operation in progress",
        libc::EAGAIN => "temporary failure",
        libc::EPIPE => "broken pipe",
        libc::EPERM => "permission denied",
        libc::EACCES => "access denied",
        libc::ENXIO => "device not configured",
        libc::EPROTO => "protocol error",
        libc::EISDIR => "is a directory",
        libc::ESPIPE => "unseekable descriptor",
        libc::ENOTDIR => "not a directory",
        libc::ENAMETOOLONG => "file name too long",
        libc::ELOOP => "symbolic link loop",
        libc::ENOEXEC => "exec format error",
        libc::E2BIG => "argument list too long",
        libc::EMFILE => "process cannot open more files",
        libc::ENFILE => "system cannot open more files",
        libc::EBADF => "file descriptor not open",
        libc::EINVAL => "invalid argument",
        libc::EFAULT => "bad address",
        libc::ENOSPC => "out of disk space",
        libc::EROFS => "read-only file system",
        libc::ENOTSOCK => "not a socket",
        libc::EMSGSIZE => "message too long",
        libc::EADDRINUSE => "address already used",
        libc::EADDRNOTAVAIL => "address not available",
        libc::ENETDOWN => "network down",
        libc::ENETUNREACH => "network unreachable",
        libc::ECONNABORTED => "connection aborted",
        libc::ECONNRESET => "connection reset",
        libc::ENOTCONN => "not connected",
        libc::ECONNREFUSED => "connection refused",
        libc::EHOSTDOWN => "host down",
        libc::EHOSTUNREACH => "host unreachable",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_words() {
        for (errno, want) in [
            (libc::ENOENT, "file does not exist"),
            (libc::EACCES, "access denied"),
            (libc::EPERM, "permission denied"),
            (libc::ENOEXEC, "exec format error"),
            (libc::ENOTDIR, "not a directory"),
            (libc::E2BIG, "argument list too long"),
            (libc::ECONNREFUSED, "connection refused"),
            (libc::ECONNRESET, "connection reset"),
            (libc::ETIMEDOUT, "timed out"),
            (libc::ENETUNREACH, "network unreachable"),
            (libc::EMFILE, "process cannot open more files"),
            // Not in the table: the C library's words, in lower case.
            (libc::EDOM, "numerical argument out of domain"),
        ] {
            assert_eq!(of(&io::Error::from_raw_os_error(errno)), want, "{errno}");
        }
    }

    #[test]
    fn never_an_errno_number_or_a_capital() {
        for errno in 1..134 {
            let text = of(&io::Error::from_raw_os_error(errno));
            assert!(!text.contains("os error"), "{errno}: {text}");
            assert!(!text.is_empty(), "{errno}");
            assert!(
                !text.starts_with(|c: char| c.is_ascii_uppercase()),
                "{errno}: {text}"
            );
        }
    }

    #[test]
    fn errors_without_an_errno_keep_their_text() {
        let error = io::Error::new(io::ErrorKind::InvalidInput, "argument holds a NUL byte");
        assert_eq!(of(&error), "argument holds a NUL byte");
        assert_eq!(
            of(&io::ErrorKind::UnexpectedEof.into()),
            "unexpected end of file"
        );
    }
}
