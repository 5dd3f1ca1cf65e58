//! The programs among the real peers they live with, from Debian packages:
//! rmxsmtpd with djbdns, nsd, unbound, tcpserver, inetd, swaks and exim
//! (`rmxsmtpd`); rmxpolicyd under a real Postfix (`postfix`) and a real
//! Exim (`exim`). Fixtures are in this directory: the zones, the servers'
//! configurations, and the scripts that run inside namespaces.

#[path = "../support/mod.rs"]
mod support;

mod exim;
mod postfix;
mod rmxsmtpd;
