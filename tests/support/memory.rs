//! A child process's peak memory: VmHWM, the high-water mark of its
//! resident set, from /proc/PID/status, read once or watched while it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The peak resident set of process `pid` so far, in KiB; `None` once it
/// has exited (a zombie has no memory lines).
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A thread reading a child's VmHWM until told to stop or the process is
/// gone, keeping the largest.
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
                let Some(kib) = vm_hwm_kib(pid) else {
                    break;
                };
                peak = peak.max(kib);
                thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        Peak { stop, thread }
    }

    /// The largest VmHWM read, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the VmHWM reader")
    }
}
