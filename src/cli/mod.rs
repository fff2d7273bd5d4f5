//! The subcommands: one module each; `src/main.rs` only parses and dispatches.
