//! The tree held to what it says of itself: the administrators' kit and
//! the documents (`examples`), `make install` and `make uninstall`
//! (`install`), the shape of the code (`layout`), and the skips that `make
//! check` counts (`skips`).

#[path = "../support/mod.rs"]
mod support;

mod examples;
mod install;
mod layout;
mod skips;
