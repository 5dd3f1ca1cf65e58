//! The stub resolver against the scriptable DNS responder (`resolver`),
//! the sockets it leaves behind, none (`sockets`), and that responder
//! itself, checked with plain sockets (`responder`): the DNS the other
//! test binaries rely on.

#[path = "../support/mod.rs"]
mod support;

mod resolver;
mod responder;
mod sockets;
