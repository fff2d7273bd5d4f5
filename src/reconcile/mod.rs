//! Observe → diff → act → wait → answer, for one request; delete; garbage-collect.

pub mod observed;
pub mod plan;
