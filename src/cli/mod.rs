//! The subcommands: one module each; `src/main.rs` only parses and dispatches.

pub mod apply;
pub mod check_cloud;
pub mod context;
pub mod demo;
pub mod exit;
pub mod gc;
pub mod hooks;
pub mod lb_consumers;
pub mod leader;
pub mod logging;
pub mod output;
pub mod plan;
pub mod progress;
pub mod public_address;
pub mod remove;
pub mod request_app;
pub mod resync;
pub mod serve;
pub mod sim;
pub mod status;
pub mod table;
