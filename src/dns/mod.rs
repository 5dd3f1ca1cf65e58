//! A small, careful stub resolver (rmxsmtpd(8), "The DNS"), shared by every
//! program that looks a list up: rmxsmtpd, rmxpolicyd and rmxcheck.
//!
//! - `config`: which servers to ask, and how (DNSCACHEIP, resolv.conf, RES_OPTIONS);
//! - `wire`: the query we send and what a reply may count for;
//! - `machine`: the decisions (which server next, over UDP or TCP, retries,
//!   the deadline), driven by events, with no I/O;
//! - `transport`: the UDP and TCP sockets to one server;
//! - `resolver`: the sockets, the clock and the random ids, in one poll loop
//!   that drives the machine.

mod config;
pub mod machine;
mod resolver;
mod transport;
pub mod wire;

use std::fmt;
use std::time::Duration;

pub use config::{Config, DNS_PORT, Misread};
pub use machine::QueryId;
pub use resolver::Resolver;
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
    CnameChain,
    /// The system's random source failed, so no query id could be drawn:
    /// nothing was sent.
    NoRandom(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout(after) => {
                let secs = (after.as_millis() + 500) / 1000;
                write!(f, "timeout after {secs} s")
            }
            Error::ServersFailed(why) => write!(f, "no server answered: {why}"),
            Error::CnameChain => f.write_str("CNAME loop in answer"),
            Error::NoRandom(why) => write!(f, "no random source: {why}"),
        }
    }
}
