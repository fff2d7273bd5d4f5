//! Wire helpers shared by the Octavia and Neutron modules: string enums that keep unknown
//! values, lenient field decoders, and the `{"id": ...}` reference objects.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::session::{Call, Target};

/// Declares a string enum spelled exactly as OpenStack spells it, with an `Unknown(String)`
/// variant that keeps any value a newer server sends, so decoding never fails on it.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know (a newer server); kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value exactly as OpenStack spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// Every known variant (not `Unknown`).
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $text => $name::$variant, )+
                    other => $name::Unknown(other.to_string()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(s.parse().unwrap_or_else(|never: std::convert::Infallible| match never {}))
            }
        }
    };
}
pub(crate) use wire_enum;

/// Decodes a field that may be `null` or absent as its default (`""`, `[]`, `{}`, `false`).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Decodes `admin_state_up`: absent or `null` means enabled (the server default).
pub(crate) fn null_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// The server default for `admin_state_up` when the field is absent.
pub(crate) fn default_true() -> bool {
    true
}

/// A reference to another object, as Octavia lists children and parents: `{"id": "..."}`.
/// Create responses put full objects here; only `id` (and `name`, when present) are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    /// The referenced object's id.
    pub id: String,
    /// Its name, when the server included it (fully populated create responses do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A pagination link: `{"rel": "next", "href": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `next` or `previous`.
    #[serde(default)]
    pub rel: String,
    /// The absolute URL of that page.
    #[serde(default)]
    pub href: String,
}

/// Percent-encodes one id as a path segment (ids are UUIDs, but a stray `/` or `?` in caller
/// input must never change which URL is called). An empty id is refused: it would turn
/// `GET .../{id}` into a list call or `DELETE .../{id}` into a call on the collection.
pub(crate) fn segment(kind: &str, raw: &str) -> Result<String, Error> {
    if raw.trim().is_empty() {
        return Err(Error::Config(format!(
            "the {kind} id is empty; pass the id of an existing {kind}"
        )));
    }
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// Wraps a request in its envelope key (`{"listener": {...}}`) and attaches it to the call;
/// the one place request bodies are built.
pub(crate) fn with_body<T: Serialize>(call: Call, key: &str, value: &T) -> Result<Call, Error> {
    let mut map = serde_json::Map::new();
    map.insert(key.to_string(), encode(&call, key, value)?);
    Ok(call.json(Value::Object(map)))
}

/// Attaches `value` as the whole body (for bodies that are not one enveloped object).
pub(crate) fn with_raw_body<T: Serialize>(
    call: Call,
    what: &str,
    value: &T,
) -> Result<Call, Error> {
    let body = encode(&call, what, value)?;
    Ok(call.json(body))
}

fn encode<T: Serialize>(call: &Call, what: &str, value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Decode {
        service: call.service.catalog_type(),
        method: call.method.to_string(),
        path: match &call.target {
            Target::Path(p) => p.clone(),
            Target::Url(u) => u.clone(),
        },
        detail: format!("could not encode the `{what}` request body: {e}"),
    })
}

/// Parses an OpenStack timestamp leniently: Octavia's naive UTC (`2017-02-28T00:41:44`,
/// fractional seconds allowed), Neutron's `...Z`, or any RFC 3339 offset. `None` when it is
/// none of these (the read types keep the text, so a strange value never fails decoding).
pub fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// True for a `Vec` that is empty (serde `skip_serializing_if` helper).
pub(crate) fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    wire_enum! {
        /// Test enum.
        Colour { Red = "RED", DarkBlue = "DARK-BLUE" }
    }

    #[test]
    fn wire_enum_round_trips_known_and_unknown_values() {
        let v: Vec<Colour> = serde_json::from_str(r#"["RED","DARK-BLUE","GREEN"]"#).unwrap();
        assert_eq!(
            v,
            vec![
                Colour::Red,
                Colour::DarkBlue,
                Colour::Unknown("GREEN".into())
            ]
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["RED","DARK-BLUE","GREEN"]"#
        );
        assert_eq!(Colour::KNOWN.len(), 2);
        assert_eq!(Colour::DarkBlue.to_string(), "DARK-BLUE");
    }

    #[derive(Deserialize)]
    struct Lenient {
        #[serde(default, deserialize_with = "null_default")]
        tags: Vec<String>,
        #[serde(default = "default_true", deserialize_with = "null_true")]
        up: bool,
    }

    #[test]
    fn null_and_missing_fields_take_their_defaults() {
        let a: Lenient = serde_json::from_str(r#"{"tags": null, "up": null}"#).unwrap();
        assert!(a.tags.is_empty() && a.up);
        let b: Lenient = serde_json::from_str("{}").unwrap();
        assert!(b.tags.is_empty() && b.up);
        let c: Lenient = serde_json::from_str(r#"{"tags": ["x"], "up": false}"#).unwrap();
        assert_eq!(c.tags, vec!["x"]);
        assert!(!c.up);
    }

    #[test]
    fn timestamps_of_all_three_services_parse() {
        let naive = parse_time("2017-02-28T00:41:44").unwrap();
        assert_eq!(naive.to_rfc3339(), "2017-02-28T00:41:44+00:00");
        assert!(parse_time("2017-02-28T00:41:44.123456").is_some());
        assert_eq!(
            parse_time("2016-12-21T01:36:04Z").unwrap().timestamp(),
            1482284164
        );
        assert_eq!(parse_time("2017-02-28T02:41:44+02:00").unwrap(), naive);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("pool", "607226db-27ef").unwrap(), "607226db-27ef");
        assert_eq!(segment("pool", "a/b?c d").unwrap(), "a%2Fb%3Fc%20d");
        let err = segment("pool", " ").unwrap_err();
        assert!(err.to_string().contains("pool id is empty"), "{err}");
    }

    #[test]
    fn id_ref_keeps_only_id_and_name_of_a_full_object() {
        let r: IdRef =
            serde_json::from_str(r#"{"id": "a", "name": "n", "protocol": "TCP"}"#).unwrap();
        assert_eq!(r.id, "a");
        assert_eq!(r.name.as_deref(), Some("n"));
    }
}
