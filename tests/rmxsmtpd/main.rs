//! rmxsmtpd, the real binary, end to end: what it decides and execs
//! (`end_to_end`), any argument vector (`argv`), the log line wherever it
//! goes (`log`), and hostile clients and DNS servers (`adversaries`). One
//! test binary for the four, which share the DNS responder and the
//! reporter that rmxsmtpd execs (tests/support).

#[path = "../support/mod.rs"]
mod support;

mod adversaries;
mod argv;
mod end_to_end;
mod log;
