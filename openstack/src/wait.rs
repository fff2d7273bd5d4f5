//! Polling a load balancer until it is ACTIVE, gone, or in ERROR.
