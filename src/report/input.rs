//! Where rmxreport(1)'s lines come from: files, stdin, and the log
//! directories of multilog and svlogd (the rotated `@*.s` and `@*.u` files
//! in time order, then `current`), read in large blocks and cut into lines
//! with a bound: a longer line is passed on in pieces, never kept whole.
//!
//! A directory's files are all opened when it is listed, so that a
//! rotation while it is read loses nothing: the old `current`, renamed, is
//! still the file read. A file that vanished or cannot be opened costs that
//! file alone; each file's last line ends with the file.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Counter;
use crate::lines::Lines;

/// The longest line kept whole, in bytes. rmxsmtpd's lines are at most
/// 1000 characters after their prefix; a syslog daemon's stamp and tag
/// come before.
pub const MAX_READ_LINE: usize = 16 * 1024;

/// How much is read at once: big reads keep a gigabyte of log fast.
const BLOCK: usize = 256 * 1024;

/// How many times a directory is listed again for files that a rotation
/// renamed while it was listed, before its files are read.
const LISTINGS: usize = 8;

/// What could not be read, for a warning.
pub struct Unread {
    pub path: PathBuf,
    pub error: io::Error,
    /// Whether the run ends with 111 for it: a file named on the command
    /// line, or a directory itself; not a file of a directory.
    pub trouble: bool,
}

/// Reads every input named (`-` for stdin) into `counter`, each line of
/// each file in order, and tells `unread` of each that could not be read.
/// Lines are counted in a second thread when there is a second core.
pub fn read_all<W: Write>(
    names: &[OsString],
    counter: &mut Counter<W>,
    unread: &mut dyn FnMut(Unread),
) {
    let piped = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let read_one = |input: &mut dyn Read, counter: &mut Counter<W>| {
        if piped {
            counter.read_piped(input)
        } else {
            read(input, counter)
        }
    };
    for name in names {
        let path = Path::new(name);
        let opened = if name == "-" {
            read_one(&mut io::stdin().lock(), counter).map(|()| (false, Vec::new()))
        } else {
            open(path, unread)
        };
        let (directory, files) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                let path = path.to_path_buf();
                unread(Unread {
                    path,
                    error,
                    trouble: true,
                });
                continue;
            }
        };
        for (path, mut file) in files {
            if let Err(error) = read_one(&mut file, counter) {
                unread(Unread {
                    path,
                    error,
                    trouble: !directory,
                });
            }
        }
    }
}

/// The files a path names, open, in the order to read them, and whether
/// it is a directory: the path itself, or for a log directory its rotated
/// files by name (TAI64N names sort by time) and then `current`. A
/// directory's file that cannot be opened goes to `unread`; the error is
/// for the path itself.
type Opened = (bool, Vec<(PathBuf, File)>);

fn open(path: &Path, unread: &mut dyn FnMut(Unread)) -> io::Result<Opened> {
    let file = File::open(path)?;
    if !file.metadata()?.is_dir() {
        return Ok((false, vec![(path.to_path_buf(), file)]));
    }
    // Each file once, under the name it was first seen by, whatever a
    // rotation renames it to: `current` renamed to `@....s` is the same
    // file.
    let mut opened: BTreeMap<(bool, OsString), File> = BTreeMap::new();
    let mut held = HashSet::new();
    let mut tried = HashSet::new();
    let mut listed = false;
    for _ in 0..LISTINGS {
        let mut new = false;
        for name in log_files(path)? {
            listed = true;
            if !tried.insert(name.clone()) {
                continue;
            }
            new = true;
            let full = path.join(&name);
            match File::open(&full).and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((file, meta)) => {
                    if held.insert((meta.dev(), meta.ino())) {
                        opened.insert((name == "current", name), file);
                    }
                }
                // `current` renamed by a rotation since the listing: the
                // next listing finds it under its new name, and the new
                // `current`. Nothing is lost, and nothing is said.
                Err(error) if name == "current" && error.kind() == io::ErrorKind::NotFound => {
                    tried.remove(&name);
                }
                Err(error) => unread(Unread {
                    path: full,
                    error,
                    trouble: false,
                }),
            }
        }
        if !new {
            break;
        }
    }
    if !listed {
        // A directory with neither is not a log directory: opening its
        // `current` says so.
        let current = path.join("current");
        match File::open(&current) {
            Ok(file) => _ = opened.insert((true, "current".into()), file),
            Err(error) => unread(Unread {
                path: current,
                error,
                trouble: true,
            }),
        }
    }
    let files = opened.into_iter();
    Ok((
        true,
        files.map(|((_, name), f)| (path.join(name), f)).collect(),
    ))
}

/// The names of a log directory's files: `current` and the rotated
/// `@*.s` and `@*.u`.
fn log_files(dir: &Path) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let bytes = name.as_bytes();
        let rotated = bytes.starts_with(b"@") && (bytes.ends_with(b".s") || bytes.ends_with(b".u"));
        if rotated || bytes == b"current" {
            names.push(name);
        }
    }
    Ok(names)
}

/// Reads `input` to its end, handing each line to `counter`; its last
/// line ends with it.
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
