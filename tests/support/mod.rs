//! Helpers shared by the integration tests. Each test binary uses only some
//! of them, hence the blanket allowance below.
#![allow(dead_code)]

pub mod again;
pub mod inside;
pub mod json;
pub mod memory;
pub mod responder;
pub mod skip;
pub mod temp;
pub mod wrapper;
