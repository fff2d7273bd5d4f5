//! Octavia enumerations, spelled exactly as Octavia spells them (octavia-lib constants).
//! Each keeps unknown values in `Unknown(String)`, so a newer server never breaks decoding.

use super::wire::wire_enum;

wire_enum! {
    /// Listener and pool protocol. `PROXY`/`PROXYV2` are pool-only;
    /// `TERMINATED_HTTPS`/`PROMETHEUS` are listener-only.
    Protocol {
        /// Plain TCP.
        Tcp = "TCP",
        /// UDP.
        Udp = "UDP",
        /// SCTP (Octavia API ≥ 2.23).
        Sctp = "SCTP",
        /// HTTP.
        Http = "HTTP",
        /// HTTPS passed through (not terminated).
        Https = "HTTPS",
        /// HTTPS terminated at the load balancer (listener only).
        TerminatedHttps = "TERMINATED_HTTPS",
        /// PROXY protocol v1 (pool only).
        Proxy = "PROXY",
        /// PROXY protocol v2 (pool only, API ≥ 2.22).
        ProxyV2 = "PROXYV2",
        /// Prometheus metrics endpoint (listener only, API ≥ 2.25).
        Prometheus = "PROMETHEUS",
    }
}

wire_enum! {
    /// Pool load-balancing algorithm. Provider support differs: amphora rejects
    /// `SOURCE_IP_PORT`, OVN only offers `SOURCE_IP_PORT`.
    LbAlgorithm {
        /// Round robin.
        RoundRobin = "ROUND_ROBIN",
        /// Fewest active connections.
        LeastConnections = "LEAST_CONNECTIONS",
        /// Hash of the source IP.
        SourceIp = "SOURCE_IP",
        /// Hash of source IP and port (API ≥ 2.13).
        SourceIpPort = "SOURCE_IP_PORT",
    }
}

wire_enum! {
    /// Health monitor type (note the hyphens).
    MonitorType {
        /// HTTP request.
        Http = "HTTP",
        /// HTTPS request.
        Https = "HTTPS",
        /// ICMP echo.
        Ping = "PING",
        /// TCP connect.
        Tcp = "TCP",
        /// TLS handshake.
        TlsHello = "TLS-HELLO",
        /// UDP connect (UDP pools).
        UdpConnect = "UDP-CONNECT",
        /// SCTP (SCTP pools).
        Sctp = "SCTP",
    }
}

wire_enum! {
    /// Pool session persistence type.
    SessionPersistenceType {
        /// Stick by source IP.
        SourceIp = "SOURCE_IP",
        /// Cookie inserted by the load balancer.
        HttpCookie = "HTTP_COOKIE",
        /// Application cookie named by `cookie_name`.
        AppCookie = "APP_COOKIE",
    }
}

wire_enum! {
    /// HTTP method an HTTP(S) health monitor uses.
    HttpMethod {
        /// GET.
        Get = "GET",
        /// HEAD.
        Head = "HEAD",
        /// POST.
        Post = "POST",
        /// PUT.
        Put = "PUT",
        /// DELETE.
        Delete = "DELETE",
        /// TRACE.
        Trace = "TRACE",
        /// OPTIONS.
        Options = "OPTIONS",
        /// CONNECT.
        Connect = "CONNECT",
        /// PATCH.
        Patch = "PATCH",
    }
}

wire_enum! {
    /// `provisioning_status` of every Octavia object: where its last change stands.
    ProvisioningStatus {
        /// Ready; may be changed.
        Active = "ACTIVE",
        /// Being created.
        PendingCreate = "PENDING_CREATE",
        /// Being changed.
        PendingUpdate = "PENDING_UPDATE",
        /// Being deleted.
        PendingDelete = "PENDING_DELETE",
        /// Deleted (rarely observable; a 404 is the usual signal).
        Deleted = "DELETED",
        /// The provider failed; the object can only be deleted.
        Error = "ERROR",
    }
}

impl ProvisioningStatus {
    /// True for the `PENDING_*` states, during which Octavia answers writes with 409.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            ProvisioningStatus::PendingCreate
                | ProvisioningStatus::PendingUpdate
                | ProvisioningStatus::PendingDelete
        )
    }
}

wire_enum! {
    /// `operating_status` of every Octavia object: whether it carries traffic.
    OperatingStatus {
        /// Working.
        Online = "ONLINE",
        /// Administratively disabled, or just created.
        Offline = "OFFLINE",
        /// Some children in ERROR.
        Degraded = "DEGRADED",
        /// Failed, or all members down.
        Error = "ERROR",
        /// Member not accepting new connections.
        Draining = "DRAINING",
        /// Member of a pool without a health monitor.
        NoMonitor = "NO_MONITOR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_spelled_as_openstack_spells_them() {
        let cases = [
            (
                serde_json::to_value(Protocol::TerminatedHttps).unwrap(),
                "TERMINATED_HTTPS",
            ),
            (serde_json::to_value(Protocol::ProxyV2).unwrap(), "PROXYV2"),
            (
                serde_json::to_value(LbAlgorithm::SourceIpPort).unwrap(),
                "SOURCE_IP_PORT",
            ),
            (
                serde_json::to_value(MonitorType::TlsHello).unwrap(),
                "TLS-HELLO",
            ),
            (
                serde_json::to_value(MonitorType::UdpConnect).unwrap(),
                "UDP-CONNECT",
            ),
            (
                serde_json::to_value(SessionPersistenceType::AppCookie).unwrap(),
                "APP_COOKIE",
            ),
            (
                serde_json::to_value(HttpMethod::Options).unwrap(),
                "OPTIONS",
            ),
            (
                serde_json::to_value(ProvisioningStatus::PendingUpdate).unwrap(),
                "PENDING_UPDATE",
            ),
            (
                serde_json::to_value(OperatingStatus::NoMonitor).unwrap(),
                "NO_MONITOR",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(value, serde_json::Value::String(text.into()));
        }
    }

    #[test]
    fn unknown_statuses_are_kept() {
        let s: ProvisioningStatus = serde_json::from_str("\"FAILOVER_STOPPED\"").unwrap();
        assert_eq!(s, ProvisioningStatus::Unknown("FAILOVER_STOPPED".into()));
        assert!(!s.is_pending());
        assert!(ProvisioningStatus::PendingDelete.is_pending());
    }
}
