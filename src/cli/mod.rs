//! The subcommands: one module each; `src/main.rs` only parses and dispatches.

pub mod apply;
pub mod exit;
pub mod gc;
pub mod lb_consumers;
pub mod logging;
pub mod plan;
pub mod public_address;
pub mod remove;
pub mod sim;
