//! Observe → diff → act → wait → answer, for one request; delete; garbage-collect.
