//! The long-running service: local API on a unix socket, work queue, resync, metrics.
