//! rmxsmtpd: a Reverse MX check in front of an SMTP daemon.
//!
//! The data flows one way, and the modules follow it:
//! [`client`] (the client address) → [`names`] (the reverse names to query)
//! → [`lookup`] (the lists, through the [`dns`] stub resolver) → [`verdict`]
//! (pass, fail, none, temperror, skip; accept or reject) → an action:
//! [`exec`] the SMTP daemon, or hold a [`session`] that refuses mail.
//! [`findings`] reads what the lookup found beyond the verdict: the
//! mistakes in a list, the notes for the log. [`hosts`] has a host name's
//! addresses and an address's PTR names, for a publisher's check.
//! [`options`] reads the command line ([`policy`]: rmxpolicyd's, and its
//! Postfix policy protocol); [`exit`] says how a run ends; [`log`]
//! writes the one line per connection; [`text`] keeps what reaches the wire
//! printable, and [`error_str`] says a system error in words.

pub mod client;
pub mod date;
pub mod dns;
pub mod error_str;
pub mod exec;
pub mod exit;
pub mod findings;
pub mod hosts;
pub mod log;
pub mod lookup;
pub mod names;
pub mod options;
pub mod policy;
pub mod report;
pub mod session;
pub mod text;
pub mod verdict;
