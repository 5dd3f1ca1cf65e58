//! Where rmxreport(1)'s lines come from: files, stdin, and the log
//! directories of multilog and svlogd (the rotated `@*.s` and `@*.u` files
//! in time order, then `current`), read in blocks and cut into lines with a
//! bound: a longer line is passed on in pieces, never kept whole.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The longest line kept whole, in bytes. rmxsmtpd's lines are at most
/// 1000 characters after their prefix.
pub const MAX_LINE: usize = 16 * 1024;

const BLOCK: usize = 256 * 1024;

/// What the reader hands its lines to.
pub trait Lines {
    /// A line no longer than MAX_LINE, without its newline; `newline`
    /// says whether it had one (the last line of a file may not).
    fn line(&mut self, line: &[u8], newline: bool);
    /// A piece of a line longer than MAX_LINE, as read (the last piece
    /// ends with the newline, if there was one); `last` on its last piece.
    fn long(&mut self, piece: &[u8], last: bool);
    /// The end of the input, or of what could be read of it.
    fn end(&mut self) {}
}

/// The files a path names, in the order to read them: the path itself, or
/// for a directory its rotated logs by name (TAI64N names sort by time) and
/// then `current`.
pub fn files(path: &Path) -> io::Result<Vec<PathBuf>> {
    if !fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut rotated = Vec::new();
    for entry in fs::read_dir(path)? {
        let name = entry?.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('@') && (text.ends_with(".s") || text.ends_with(".u")) {
            rotated.push(name);
        }
    }
    rotated.sort();
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|name| path.join(name)).collect();
    let current = path.join("current");
    if current.exists() || files.is_empty() {
        // A directory with neither is not a log directory: opening its
        // `current` says so.
        files.push(current);
    }
    Ok(files)
}

/// Reads `input` to its end, handing each line to `to`.
pub fn read(input: impl Read, to: &mut impl Lines) -> io::Result<()> {
    let read = lines(input, to);
    to.end();
    read
}

fn lines(mut input: impl Read, to: &mut impl Lines) -> io::Result<()> {
    let mut buf = vec![0u8; BLOCK];
    // buf[start..end] is read and not yet handed on.
    let (mut start, mut end) = (0, 0);
    // Inside a line longer than MAX_LINE.
    let mut long = false;
    loop {
        let n = match input.read(&mut buf[end..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        end += n;
        while start < end {
            let Some(at) = newline(&buf[start..end]) else {
                break;
            };
            if long || at > MAX_LINE {
                to.long(&buf[start..=start + at], true);
                long = false;
            } else {
                to.line(&buf[start..start + at], true);
            }
            start += at + 1;
        }
        if long || end - start > MAX_LINE {
            to.long(&buf[start..end], false);
            long = true;
            (start, end) = (0, 0);
        } else if end == buf.len() || start == end {
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
    }
    if long {
        to.long(&buf[start..end], true);
    } else if start < end {
        to.line(&buf[start..end], false);
    }
    Ok(())
}

fn newline(bytes: &[u8]) -> Option<usize> {
    // SAFETY: memchr(3) reads `bytes.len()` bytes from a valid slice.
    let found = unsafe { libc::memchr(bytes.as_ptr().cast(), b'\n' as libc::c_int, bytes.len()) };
    (!found.is_null()).then(|| found as usize - bytes.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen {
        lines: Vec<(Vec<u8>, bool)>,
        long: Vec<u8>,
        longs: usize,
    }

    impl Lines for Seen {
        fn line(&mut self, line: &[u8], newline: bool) {
            self.lines.push((line.to_vec(), newline));
        }
        fn long(&mut self, piece: &[u8], last: bool) {
            self.long.extend_from_slice(piece);
            self.longs += last as usize;
        }
    }

    /// A reader that gives at most `step` bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_long_lines_and_the_last_line() {
        let big = vec![b'x'; MAX_LINE * 3 + 7];
        let mut input = b"one\n\ntwo\n".to_vec();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\nthree\nfour");
        for step in [1, 7, 4096, BLOCK, usize::MAX] {
            let mut seen = Seen::default();
            read(Trickle(&input, step), &mut seen).unwrap();
            let want: Vec<(Vec<u8>, bool)> = vec![
                (b"one".to_vec(), true),
                (b"".to_vec(), true),
                (b"two".to_vec(), true),
                (b"three".to_vec(), true),
                (b"four".to_vec(), false),
            ];
            assert_eq!(seen.lines, want, "step {step}");
            assert_eq!(seen.longs, 1);
            let mut long = big.clone();
            long.push(b'\n');
            assert_eq!(seen.long, long);
        }
    }

    #[test]
    fn a_line_of_exactly_the_bound_is_whole() {
        let mut input = vec![b'y'; MAX_LINE];
        input.push(b'\n');
        let mut seen = Seen::default();
        read(Trickle(&input, 1000), &mut seen).unwrap();
        assert_eq!((seen.lines.len(), seen.longs), (1, 0));
    }
}
