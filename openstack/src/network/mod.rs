//! Neutron v2.0: one module per resource (read type, request types, private paths, calls).
//!
//! Neutron lists are filtered with `?field=value` (repeating a field ORs) and paginated with
//! `<collection>_links` when the cloud enables pagination; every list call here follows those
//! links. Creates answer 201, updates 200, deletes 204.

pub mod floating_ips;
pub mod networks;
pub mod ports;
pub mod security_groups;
pub mod subnets;
pub mod tags;

use crate::load_balancer::wire::wire_enum;

wire_enum! {
    /// `status` of networks, ports and floating IPs.
    Status {
        /// Working.
        Active = "ACTIVE",
        /// Not working (normal for an unbound port or an unassociated floating IP).
        Down = "DOWN",
        /// Being built.
        Build = "BUILD",
        /// Failed.
        Error = "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_unknown_values() {
        let s: Vec<Status> = serde_json::from_str(r#"["ACTIVE","DOWN","N/A"]"#).unwrap();
        assert_eq!(
            s,
            vec![Status::Active, Status::Down, Status::Unknown("N/A".into())]
        );
    }
}
