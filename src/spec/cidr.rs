//! Whether an address lies in a subnet's CIDR (IPv4 and IPv6; pure).

use std::net::IpAddr;

/// `Some(true)` when `ip` is inside `cidr` (same family, same network bits), `Some(false)`
/// when it is not (an IPv6 address is never inside an IPv4 CIDR), `None` when `cidr` is not
/// a CIDR.
pub fn contains(cidr: &str, ip: IpAddr) -> Option<bool> {
    let (net, len) = cidr.trim().split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) if len <= 32 => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            Some(u32::from(net) & mask == u32::from(ip) & mask)
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) if len <= 128 => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            Some(u128::from(net) & mask == u128::from(ip) & mask)
        }
        (IpAddr::V4(_), IpAddr::V6(_)) if len <= 32 => Some(false),
        (IpAddr::V6(_), IpAddr::V4(_)) if len <= 128 => Some(false),
        _ => None,
    }
}

/// `Some(true)` when `ip` is of the same IP family as `cidr`, `None` when `cidr` is not a CIDR.
pub fn same_family(cidr: &str, ip: IpAddr) -> Option<bool> {
    contains(cidr, ip)?;
    let (net, _) = cidr.trim().split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    Some(net.is_ipv4() == ip.is_ipv4())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn membership_by_family_and_prefix() {
        assert_eq!(contains("10.5.0.0/24", ip("10.5.0.10")), Some(true));
        assert_eq!(contains("10.5.0.0/24", ip("10.5.1.10")), Some(false));
        assert_eq!(contains("10.5.0.0/20", ip("10.5.15.255")), Some(true));
        assert_eq!(contains("0.0.0.0/0", ip("192.0.2.1")), Some(true));
        assert_eq!(contains("10.5.0.7/32", ip("10.5.0.7")), Some(true));
        assert_eq!(contains("fd00:1::/64", ip("fd00:1::5")), Some(true));
        assert_eq!(contains("fd00:1::/64", ip("fd00:2::5")), Some(false));
        assert_eq!(contains("10.5.0.0/24", ip("fd00::1")), Some(false));
        assert_eq!(contains("fd00::/64", ip("10.5.0.1")), Some(false));
        assert_eq!(contains("10.5.0.0/33", ip("10.5.0.1")), None);
        assert_eq!(contains("nonsense", ip("10.5.0.1")), None);
        assert_eq!(same_family("10.5.0.0/24", ip("10.9.0.1")), Some(true));
        assert_eq!(same_family("10.5.0.0/24", ip("fd00::1")), Some(false));
        assert_eq!(same_family("bad", ip("fd00::1")), None);
    }
}
