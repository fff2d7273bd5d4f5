//! A JSON value that keeps what Python's `json.loads` keeps (object members in document order,
//! duplicates included, ints apart from floats), and the writer for Python's
//! `json.dumps(obj, sort_keys=True)` text (`", "` / `": "` separators, ASCII escapes).
//!
//! `serde_json::Value` sorts object keys and drops duplicates, which loses the information the
//! library's lenient loading depends on (for `port_mapping`, `"443"` and `"0443"` are the same
//! key and the later one wins), so the relation parser reads requests into [`Json`] instead.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One JSON value as Python's `json.loads` sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number written without fraction or exponent that fits in an `i64`.
    Int(i64),
    /// Any other number (Python `float`, or an integer too large for `i64`).
    Float(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object: members in document order, duplicate keys kept.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses JSON text.
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// A short name of the JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::Float(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The value of `key` in an object the way a Python `dict` holds it (the last duplicate wins).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::Float(v as f64), Json::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            members.push((k, v));
        }
        Ok(Json::Object(members))
    }
}

/// Builds Python `json.dumps(..., sort_keys=True)` text (default separators, `ensure_ascii`).
///
/// Callers write object members already in sorted order; the writer only formats.
#[derive(Debug, Default)]
pub struct PyJsonWriter {
    out: String,
}

impl PyJsonWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }

    /// Writes a string literal with Python's `ensure_ascii` escapes.
    pub fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{08}' => self.out.push_str("\\b"),
                '\u{0c}' => self.out.push_str("\\f"),
                ' '..='~' => self.out.push(c),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        self.out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        self.out.push('"');
    }

    /// Writes an optional string (`null` when absent).
    pub fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    /// Writes an integer.
    pub fn int(&mut self, v: i64) {
        self.out.push_str(&v.to_string());
    }

    /// Writes `true` / `false`.
    pub fn bool(&mut self, v: bool) {
        self.out.push_str(if v { "true" } else { "false" });
    }

    /// Writes `null`.
    pub fn null(&mut self) {
        self.out.push_str("null");
    }

    /// Writes raw, already formatted text.
    pub fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Writes an array of strings.
    pub fn string_array(&mut self, items: &[String]) {
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.string(item);
        }
        self.out.push(']');
    }

    /// Starts an object.
    pub fn begin_object(&mut self) {
        self.out.push('{');
    }

    /// Writes an object key (the first `index` is 0) followed by `": "`.
    pub fn key(&mut self, index: usize, key: &str) {
        if index > 0 {
            self.out.push_str(", ");
        }
        self.string(key);
        self.out.push_str(": ");
    }

    /// Ends an object.
    pub fn end_object(&mut self) {
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut w = PyJsonWriter::new();
        w.string(s);
        w.finish()
    }

    #[test]
    fn escapes_like_python_ensure_ascii() {
        // Expected texts from Python: json.dumps(s) for each input.
        assert_eq!(esc("unicode-é"), r#""unicode-\u00e9""#);
        assert_eq!(esc("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(esc("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(esc("\u{1}\u{1f}\u{7f}"), r#""\u0001\u001f\u007f""#);
        assert_eq!(esc("😀"), r#""\ud83d\ude00""#);
        assert_eq!(esc("€"), r#""\u20ac""#);
        assert_eq!(esc("/ ~"), r#""/ ~""#);
    }

    #[test]
    fn keeps_document_order_and_duplicates() {
        let v =
            Json::parse(r#"{"b": 1, "a": 2.5, "b": "x", "n": null, "big": 18446744073709551615}"#)
                .unwrap();
        let Json::Object(members) = &v else {
            panic!("not an object")
        };
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b", "n", "big"]);
        assert_eq!(v.get("b"), Some(&Json::String("x".into())));
        assert_eq!(v.get("a"), Some(&Json::Float(2.5)));
        assert_eq!(v.get("n"), Some(&Json::Null));
        assert!(matches!(v.get("big"), Some(Json::Float(_))));
        assert_eq!(v.get("zz"), None);
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        for text in ["", "{", "{\"a\":}", "[1,]", "nul", "\"\\ud800\""] {
            assert!(Json::parse(text).is_err(), "{text}");
        }
        // Deep nesting hits serde_json's recursion limit instead of the stack.
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(Json::parse(&deep).is_err());
        let deep = format!("{{\"id\": {}}}", "{\"a\": ".repeat(10_000));
        assert!(Json::parse(&deep).is_err());
    }
}
