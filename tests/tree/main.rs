//! The tree held to what it says of itself: the administrators' kit and
//! the documents (`examples`), `make install` and `make uninstall`
//! (`install`), the shape of the code (`layout`), the command-line
//! conventions the four programs share (`conventions`), and the skips that
//! `make check` counts (`skips`).

#[path = "../support/mod.rs"]
mod support;

mod conventions;
mod examples;
mod install;
mod layout;
mod skips;
