//! Where rmxreport(1)'s lines come from: files, stdin, and the log
//! directories of multilog and svlogd (the rotated `@*.s` and `@*.u` files
//! in time order, then `current`), read in large blocks and cut into lines
//! with a bound: a longer line is passed on in pieces, never kept whole.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::Counter;
use crate::lines::Lines;

/// The longest line kept whole, in bytes. rmxsmtpd's lines are at most
/// 1000 characters after their prefix; a syslog daemon's stamp and tag
/// come before.
pub const MAX_READ_LINE: usize = 16 * 1024;

/// How much is read at once: big reads keep a gigabyte of log fast.
const BLOCK: usize = 256 * 1024;

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

/// Reads `input` to its end, handing each line to `counter`.
pub fn read<W: Write>(input: impl Read, counter: &mut Counter<W>) -> io::Result<()> {
    let mut lines = Lines::new(input, MAX_READ_LINE, BLOCK);
    let read = loop {
        match lines.read() {
            Ok(Some(line)) => counter.take(line),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    counter.end();
    read
}
