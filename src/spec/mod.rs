//! Pure: request + site settings + provider capabilities → the desired load-balancer graph.
