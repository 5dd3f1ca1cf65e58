//! Lines read with a bound, for every program that reads lines from
//! outside: rmxcheck's targets on stdin, rmxpolicyd's requests, rmxreport's
//! logs. A line longer than the bound is handed on in pieces as it arrives,
//! never kept whole: memory stays bounded whatever the input holds.

use std::io::{self, Read};

use crate::sys;

/// The smallest buffer: enough for many short lines per read(2).
const MIN_BLOCK: usize = 8 * 1024;

/// What [`Lines::read`] hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line no longer than the bound, without its newline; `newline`
    /// says whether it had one (the last line of the input may not).
    Whole { text: &'a [u8], newline: bool },
    /// A piece of a line longer than the bound, as read: the last piece
    /// ends with the newline, if there was one.
    Piece { bytes: &'a [u8], last: bool },
}

/// A reader of lines of at most `max` bytes from `input`.
pub struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    /// `buf[start..end]` is read and not yet handed on.
    start: usize,
    end: usize,
    max: usize,
    /// Inside a line longer than `max`.
    long: bool,
    eof: bool,
    /// Bytes handed on so far, newlines included.
    consumed: u64,
}

impl<R: Read> Lines<R> {
    /// Lines of at most `max` bytes (their newline left out), read in
    /// blocks of `block` bytes, or of `max` and a newline if that is more.
    /// No piece is longer than a block.
    pub fn new(input: R, max: usize, block: usize) -> Lines<R> {
        let size = block.max(max + 1).max(MIN_BLOCK);
        Lines {
            input,
            buf: vec![0; size],
            start: 0,
            end: 0,
            max,
            long: false,
            eof: false,
            consumed: 0,
        }
    }

    /// How many bytes have been handed on so far, newlines included.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// How many bytes have been read and not yet handed on.
    pub fn pending(&self) -> usize {
        self.end - self.start
    }

    /// What the lines are read from.
    pub fn source(&mut self) -> &mut R {
        &mut self.input
    }

    /// The next line, or piece of a long one; `None` at the end of the
    /// input. A read error ends nothing: the next call reads again.
    pub fn read(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            let (start, end) = (self.start, self.end);
            if let Some(at) = sys::memchr(&self.buf[start..end], b'\n') {
                self.start = start + at + 1;
                self.consumed += at as u64 + 1;
                if self.long || at > self.max {
                    self.long = false;
                    let bytes = &self.buf[start..=start + at];
                    return Ok(Some(Line::Piece { bytes, last: true }));
                }
                let text = &self.buf[start..start + at];
                return Ok(Some(Line::Whole {
                    text,
                    newline: true,
                }));
            }
            if end > start && (self.long || end - start > self.max) {
                self.long = true;
                self.start = end;
                self.consumed += (end - start) as u64;
                let bytes = &self.buf[start..end];
                return Ok(Some(Line::Piece { bytes, last: false }));
            }
            if self.eof {
                self.start = end;
                self.consumed += (end - start) as u64;
                if self.long {
                    self.long = false;
                    let bytes = &self.buf[start..end];
                    return Ok(Some(Line::Piece { bytes, last: true }));
                }
                if start < end {
                    let text = &self.buf[start..end];
                    return Ok(Some(Line::Whole {
                        text,
                        newline: false,
                    }));
                }
                return Ok(None);
            }
            if start == end || end == self.buf.len() {
                self.buf.copy_within(start..end, 0);
                (self.start, self.end) = (0, end - start);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[derive(Default, Debug, PartialEq, Eq)]
    struct Seen {
        lines: Vec<(Vec<u8>, bool)>,
        long: Vec<u8>,
        longs: usize,
    }

    fn read_all(input: impl Read, max: usize, block: usize) -> Seen {
        let mut lines = Lines::new(input, max, block);
        let mut seen = Seen::default();
        while let Some(line) = lines.read().unwrap() {
            match line {
                Line::Whole { text, newline } => {
                    assert!(text.len() <= max);
                    seen.lines.push((text.to_vec(), newline));
                }
                Line::Piece { bytes, last } => {
                    seen.long.extend_from_slice(bytes);
                    seen.longs += usize::from(last);
                }
            }
        }
        seen
    }

    #[test]
    fn lines_long_lines_and_the_last_line() {
        let max = 1000;
        let big = vec![b'x'; max * 3 + 7];
        let mut input = b"one\n\ntwo\n".to_vec();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\nthree\nfour");
        for step in [1, 7, 999, 4096, usize::MAX] {
            for block in [0, 4096, 1 << 18] {
                let seen = read_all(Trickle(&input, step), max, block);
                let want: Vec<(Vec<u8>, bool)> = vec![
                    (b"one".to_vec(), true),
                    (b"".to_vec(), true),
                    (b"two".to_vec(), true),
                    (b"three".to_vec(), true),
                    (b"four".to_vec(), false),
                ];
                assert_eq!(seen.lines, want, "step {step} block {block}");
                assert_eq!(seen.longs, 1);
                let mut long = big.clone();
                long.push(b'\n');
                assert_eq!(seen.long, long);
            }
        }
    }

    #[test]
    fn a_line_of_exactly_the_bound_is_whole() {
        let max = 1000;
        let mut input = vec![b'y'; max];
        input.push(b'\n');
        input.extend(vec![b'z'; max + 1]);
        let seen = read_all(Trickle(&input, 100), max, 0);
        assert_eq!(seen.lines, [(vec![b'y'; max], true)]);
        assert_eq!((seen.long.len(), seen.longs), (max + 1, 1));
    }

    #[test]
    fn what_was_handed_on_is_counted() {
        let input = b"ab\ncdefgh\nij";
        let mut lines = Lines::new(&input[..], 3, 0);
        let mut after = Vec::new();
        while lines.read().unwrap().is_some() {
            after.push(lines.consumed());
        }
        // "ab\n", then "cdefgh\n" in pieces, then "ij".
        assert_eq!(after.first(), Some(&3));
        assert_eq!(after.last(), Some(&(input.len() as u64)));
        assert_eq!(after.iter().filter(|&&n| n == 10).count(), 1);
    }

    #[test]
    fn a_long_last_line_without_a_newline_ends_with_the_input() {
        let input = vec![b'q'; 5000];
        let seen = read_all(&input[..], 100, 0);
        assert_eq!((seen.long, seen.longs), (input, 1));
        assert!(seen.lines.is_empty());
        assert_eq!(read_all(&b""[..], 100, 0), Seen::default());
    }
}
