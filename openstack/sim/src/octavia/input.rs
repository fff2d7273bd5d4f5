//! Reading Octavia request bodies the way wsme does: lenient coercion of `"80"` and `"true"`,
//! unknown attributes rejected, enums and ranges checked. Plus the provider limits.

use serde_json::Value;

use crate::config::Provider;
use crate::http::{octavia_err, ApiError};
use crate::state::Obj;

/// 400 for an invalid value.
pub(crate) fn invalid(field: &str, value: &Value, reason: &str) -> ApiError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    octavia_err(
        400,
        format!("Invalid input for field/attribute {field}. Value: '{shown}'. {reason}"),
    )
}

/// 400 "Validation failure: …".
pub(crate) fn validation(msg: impl AsRef<str>) -> ApiError {
    octavia_err(400, format!("Validation failure: {}", msg.as_ref()))
}

/// 501 for a provider limit.
pub(crate) fn unsupported(provider: Provider, msg: impl AsRef<str>) -> ApiError {
    octavia_err(
        501,
        format!(
            "Provider '{}' does not support a requested option: {}",
            provider.as_str(),
            msg.as_ref()
        ),
    )
}

/// Reject attributes the type does not declare.
pub(crate) fn only(input: &Obj, root: &str, allowed: &[&str]) -> Result<(), ApiError> {
    for (k, v) in input {
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(
                root,
                v,
                &format!("Unknown attribute for argument {root}: {k}"),
            ));
        }
    }
    Ok(())
}

/// An optional string (null allowed).
pub(crate) fn opt_str(input: &Obj, key: &str) -> Result<Option<String>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= 255 => Ok(Some(s.clone())),
        Some(v) => Err(invalid(
            key,
            v,
            "Value should be a string of at most 255 characters.",
        )),
    }
}

/// A required string.
pub(crate) fn req_str(input: &Obj, key: &str) -> Result<String, ApiError> {
    opt_str(input, key)?.ok_or_else(|| invalid(key, &Value::Null, "Mandatory field missing."))
}

/// An optional integer (numeric strings coerced) within a range.
pub(crate) fn opt_int(input: &Obj, key: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let v = match input.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(key, v, "Value should be an integer."))?;
    // WSME's own wording (Octavia 19): one bound per message, no full stop.
    if n < min {
        return Err(invalid(
            key,
            v,
            &format!("Value should be greater or equal to {min}"),
        ));
    }
    if n > max {
        return Err(invalid(
            key,
            v,
            &format!("Value should be lower or equal to {max}"),
        ));
    }
    Ok(Some(n))
}

/// A required integer within a range.
pub(crate) fn req_int(input: &Obj, key: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    opt_int(input, key, min, max)?
        .ok_or_else(|| invalid(key, &Value::Null, "Mandatory field missing."))
}

/// An optional boolean (`"true"`/`"false"` coerced).
pub(crate) fn opt_bool(input: &Obj, key: &str) -> Result<Option<bool>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(invalid(key, v, "Value should be a boolean.")),
    }
}

/// An optional list of strings.
pub(crate) fn opt_str_list(input: &Obj, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) if s.len() <= 255 => Ok(s.clone()),
                other => Err(invalid(key, other, "Value should be a list of strings.")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => Err(invalid(key, v, "Value should be a list of strings.")),
    }
}

/// A required value from an enumeration.
pub(crate) fn enum_of(
    input: &Obj,
    key: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match opt_str(input, key)? {
        None => Ok(None),
        Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
        Some(s) => Err(invalid(
            key,
            &Value::String(s),
            &format!("Value should be one of: {}", allowed.join(", ")),
        )),
    }
}

/// Listener protocols.
pub(crate) const LISTENER_PROTOCOLS: &[&str] = &[
    "HTTP",
    "HTTPS",
    "TCP",
    "TERMINATED_HTTPS",
    "UDP",
    "SCTP",
    "PROMETHEUS",
];
/// Pool protocols.
pub(crate) const POOL_PROTOCOLS: &[&str] =
    &["HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP", "UDP", "SCTP"];
/// Algorithms.
pub(crate) const ALGORITHMS: &[&str] = &[
    "ROUND_ROBIN",
    "LEAST_CONNECTIONS",
    "SOURCE_IP",
    "SOURCE_IP_PORT",
];
/// Health monitor types.
pub(crate) const MONITOR_TYPES: &[&str] = &[
    "HTTP",
    "HTTPS",
    "PING",
    "TCP",
    "TLS-HELLO",
    "UDP-CONNECT",
    "SCTP",
];
/// Session persistence types.
pub(crate) const PERSISTENCE: &[&str] = &["SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"];

/// Which pool protocols a listener protocol accepts as its default pool.
pub(crate) fn listener_accepts_pool(listener: &str, pool: &str) -> bool {
    let ok: &[&str] = match listener {
        "TCP" => &["HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"],
        "HTTP" | "TERMINATED_HTTPS" => &["HTTP", "PROXY", "PROXYV2"],
        "HTTPS" => &["HTTPS", "PROXY", "PROXYV2", "TCP"],
        "UDP" => &["UDP"],
        "SCTP" => &["SCTP"],
        _ => &[],
    };
    ok.contains(&pool)
}

/// Whether a monitor type fits a pool protocol (400 otherwise).
pub(crate) fn monitor_fits_pool(kind: &str, pool_protocol: &str) -> Result<(), ApiError> {
    let udp_like = matches!(pool_protocol, "UDP" | "SCTP");
    if udp_like && !matches!(kind, "UDP-CONNECT" | "SCTP" | "TCP" | "HTTP") {
        return Err(validation(format!(
            "The associated pool protocol is {pool_protocol}, so only a UDP-CONNECT, SCTP, TCP or HTTP health monitor is supported."
        )));
    }
    if !udp_like && matches!(kind, "UDP-CONNECT" | "SCTP") {
        return Err(validation(format!(
            "The {kind} type is only supported for pools of type UDP/SCTP."
        )));
    }
    Ok(())
}

/// Provider limits on a listener/pool protocol.
pub(crate) fn provider_protocol(p: Provider, protocol: &str) -> Result<(), ApiError> {
    if p == Provider::Ovn && !matches!(protocol, "TCP" | "UDP" | "SCTP") {
        return Err(unsupported(
            p,
            format!("OVN provider does not support {protocol} protocol"),
        ));
    }
    Ok(())
}

/// Provider limits on an algorithm.
pub(crate) fn provider_algorithm(p: Provider, algorithm: &str) -> Result<(), ApiError> {
    match p {
        Provider::Amphora if algorithm == "SOURCE_IP_PORT" => Err(unsupported(
            p,
            "Amphora provider does not support SOURCE_IP_PORT algorithm.",
        )),
        Provider::Ovn if algorithm != "SOURCE_IP_PORT" => Err(unsupported(
            p,
            format!("OVN provider does not support {algorithm} algorithm"),
        )),
        _ => Ok(()),
    }
}

/// Provider limits on a monitor type.
pub(crate) fn provider_monitor(p: Provider, kind: &str) -> Result<(), ApiError> {
    if p == Provider::Ovn && !matches!(kind, "TCP" | "UDP-CONNECT") {
        return Err(unsupported(
            p,
            format!("OVN provider does not support {kind} health monitor type. Supported types: TCP, UDP-CONNECT"),
        ));
    }
    Ok(())
}

/// Provider limits on session persistence.
pub(crate) fn provider_persistence(p: Provider, kind: &str) -> Result<(), ApiError> {
    if p == Provider::Ovn && kind != "SOURCE_IP" {
        return Err(unsupported(
            p,
            format!("OVN provider does not support {kind} session persistence"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn o(v: Value) -> Obj {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn wsme_leniency_coerces_numeric_and_boolean_strings() {
        let i = o(json!({"port": "443", "up": "true", "bad": "x"}));
        assert_eq!(opt_int(&i, "port", 1, 65535).expect("int"), Some(443));
        assert_eq!(opt_bool(&i, "up").expect("bool"), Some(true));
        assert_eq!(opt_int(&i, "bad", 0, 1).expect_err("400").status, 400);
        assert_eq!(
            opt_int(&o(json!({"p": 70000})), "p", 1, 65535)
                .expect_err("range")
                .status,
            400
        );
    }

    #[test]
    fn provider_limits_are_501() {
        assert_eq!(
            provider_algorithm(Provider::Amphora, "SOURCE_IP_PORT")
                .expect_err("501")
                .status,
            501
        );
        assert!(provider_algorithm(Provider::Amphora, "ROUND_ROBIN").is_ok());
        assert_eq!(
            provider_algorithm(Provider::Ovn, "ROUND_ROBIN")
                .expect_err("501")
                .status,
            501
        );
        assert_eq!(
            provider_protocol(Provider::Ovn, "HTTP")
                .expect_err("501")
                .status,
            501
        );
        assert!(provider_protocol(Provider::Ovn, "SCTP").is_ok());
        assert_eq!(
            provider_monitor(Provider::Ovn, "HTTP")
                .expect_err("501")
                .status,
            501
        );
        assert!(provider_monitor(Provider::Ovn, "UDP-CONNECT").is_ok());
    }

    #[test]
    fn unknown_attribute_is_rejected() {
        assert_eq!(
            only(
                &o(json!({"name": "a", "nope": 1})),
                "loadbalancer",
                &["name"]
            )
            .expect_err("400")
            .status,
            400
        );
    }
}
