//! The tree held to what it says of itself: the administrators' kit and
//! the documents (`examples`), the zones under every DNS server
//! (`publish`), the service directories under their real supervisors
//! (`services`), `make install` and `make uninstall` (`install`), the
//! shape of the code (`layout`), the command-line conventions the four
//! programs share (`conventions`), and the skips that `make check` counts
//! (`skips`).

#[path = "../support/mod.rs"]
mod support;

mod conventions;
mod examples;
mod install;
mod layout;
mod publish;
mod services;
mod skips;
