//! The `loadbalancer` relation interface v1 and the legacy `public-address` interface.
