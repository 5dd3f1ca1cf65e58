//! A small, careful stub resolver (rmxsmtpd(8), The DNS), shared by `rmxsmtpd`
//! and `rmxcheck`.
//!
//! - `config`: which servers to ask, and how (DNSCACHEIP, resolv.conf, RES_OPTIONS);
//! - `wire`: the query we send and what a reply may count for;
//! - `transport`: the UDP and TCP sockets to one server;
//! - `resolver`: the poll loop that keeps many questions in flight.

mod config;
mod resolver;
mod transport;
pub mod wire;

use std::fmt;
use std::time::Duration;

pub use config::{Config, DNS_PORT, Misread};
pub use resolver::{QueryId, Resolver};
pub use wire::{Answer, EDNS_PAYLOAD, Question};

/// Why a question got no answer. Every one of these is temporary: another
/// try later may succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// No server answered before the deadline (or the last `attempts:` round).
    Timeout(Duration),
    /// Every server refused, failed, or sent a malformed reply; the last reason.
    ServersFailed(String),
    /// The answer's CNAME chain loops, or is too long to follow.
    CnameLoop,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout(after) => {
                let secs = (after.as_millis() + 500) / 1000;
                write!(f, "timeout after {secs} s")
            }
            Error::ServersFailed(why) => write!(f, "no server answered: {why}"),
            Error::CnameLoop => f.write_str("CNAME loop in answer"),
        }
    }
}

/// A query id from the kernel's random source (RFC 5452 §9.2).
fn random_u16() -> u16 {
    let mut bytes = [0u8; 2];
    // SAFETY: `bytes` is a valid, writable buffer of the length given.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != 2 {
        // getrandom(2) cannot fail for two bytes once the pool is seeded;
        // if it ever does, the clock's low bits still vary per query.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return (nanos ^ (nanos >> 16)) as u16;
    }
    u16::from_ne_bytes(bytes)
}
