//! The one error type of the crate.
