//! rmxreport(1) end to end: the figures of a log in every form, its
//! options, hostile input and a large log (`figures`), and real log
//! directories that multilog and svlogd write while rmxsmtpd runs under
//! tcpserver (`logs`).

#[path = "../support/mod.rs"]
mod support;

mod field;
mod figures;
mod logs;
mod syslog;
