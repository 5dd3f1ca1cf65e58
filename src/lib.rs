//! rmxsmtpd: a Reverse MX check in front of an SMTP daemon, and its three
//! companions, rmxpolicyd, rmxcheck and rmxreport.
//!
//! The data flows one way, and the modules follow it:
//! [`client`] (the client address) → [`names`] (the reverse names to query)
//! → [`lookup`] (the lists, through the [`dns`] stub resolver, into
//! [`findings`]) → [`verdict`] (pass, fail, none, temperror, skip, and why;
//! accept or refuse) → an action: [`exec`] the SMTP daemon, or hold a
//! [`session`] that refuses mail. [`check`] says that sentence once for
//! every program; [`log`] writes the one line per connection.
//!
//! Around it: [`argv`] is rmxsmtpd's command line, [`cli`] the conventions
//! every program's keeps; [`policyd`] is rmxpolicyd's Postfix policy
//! protocol; [`explain`], [`publish`] and [`hosts`] are rmxcheck's report,
//! publisher's check and host lookups; [`report`] is rmxreport's reading of
//! the log. [`lines`] reads bounded lines, [`text`] keeps what reaches the
//! wire printable, [`error_str`] says a system error in words, [`date`]
//! counts days, and [`sys`] holds every call into the C library, the only
//! `unsafe` code.
#![deny(unsafe_code)]

pub mod argv;
pub mod check;
pub mod cli;
pub mod client;
pub mod date;
pub mod dns;
pub mod error_str;
pub mod exec;
pub mod explain;
pub mod findings;
pub mod hosts;
pub mod lines;
pub mod log;
pub mod lookup;
pub mod names;
pub mod policyd;
pub mod publish;
pub mod report;
pub mod session;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;
pub mod verdict;
