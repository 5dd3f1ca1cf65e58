//! A stand-in for qmail-smtpd that reports what it received from rmxsmtpd:
//! its arguments, its environment, its open descriptors, its ignored and
//! its blocked signals, and every byte on fd 0 until end of input. It writes the report
//! to the file named by `RMX_REPORT`, one `kind hex` line per item, and
//! answers `250 reporter` on fd 1 so a client sees that it ran.
//!
//! Like rmxsmtpd, it has no Rust `main`: the runtime would otherwise ignore
//! SIGPIPE before it could look at the disposition it inherited.
#![no_main]

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut report = String::new();
    // Descriptors first, before this program opens any of its own.
    let own = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd");
    let mut fds: Vec<u32> = own
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            let target = std::fs::read_link(entry.path()).unwrap_or_default();
            !(target.starts_with("/proc/") && target.ends_with("fd"))
        })
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    for fd in fds {
        report.push_str(&format!("fd {fd}\n"));
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    for line in status.lines() {
        if let Some(mask) = line.strip_prefix("SigIgn:") {
            report.push_str(&format!("sigign {}\n", mask.trim()));
        }
        if let Some(mask) = line.strip_prefix("SigBlk:") {
            report.push_str(&format!("sigblk {}\n", mask.trim()));
        }
    }
    for arg in std::env::args_os().skip(1) {
        report.push_str(&format!("arg {}\n", hex(arg.as_bytes())));
    }
    for (name, value) in std::env::vars_os() {
        let pair = [name.as_bytes(), b"=", value.as_bytes()].concat();
        report.push_str(&format!("env {}\n", hex(&pair)));
    }
    let _ = std::io::stdout().write_all(b"250 reporter\r\n");
    let _ = std::io::stdout().flush();
    let mut input = Vec::new();
    let _ = std::io::stdin().take(1 << 20).read_to_end(&mut input);
    report.push_str(&format!("stdin {}\n", hex(&input)));
    let path = std::env::var_os("RMX_REPORT").expect("RMX_REPORT names the report file");
    std::fs::write(path, report).expect("write the report");
    0
}
