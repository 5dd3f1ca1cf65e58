//! A child process's own memory: RssAnon from /proc/PID/status, its
//! resident heap and stacks, read once or watched while it runs for the
//! largest value. Not VmHWM: that counts the pages of the binary's file as
//! well, and how many of those one fault maps depends on the page cache (a
//! freshly linked debug binary, cached in large folios, showed 11 MB where
//! it usually shows 3), while a program that buffers what it should not
//! grows its anonymous memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The resident anonymous memory of process `pid` now, in KiB; `None`
/// once it has exited (a zombie has no memory lines).
pub fn anon_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A thread reading a child's anonymous memory every 2 ms until told to
/// stop or the process is gone, keeping the largest.
pub struct Peak {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl Peak {
    pub fn watch(pid: u32) -> Peak {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                let Some(kib) = anon_kib(pid) else {
                    break;
                };
                peak = peak.max(kib);
                thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        Peak { stop, thread }
    }

    /// The largest value read, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the memory reader")
    }
}
