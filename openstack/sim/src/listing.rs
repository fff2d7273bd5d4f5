//! List calls: filters (incl. tags), sorting, pagination with `<collection>_links`, field selection.
//! Octavia and Neutron share the mechanics; they differ in error shape, in how a repeated filter
//! key is treated and in whether a page cap applies.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::http::{neutron_err, octavia_err, ApiError};
use super::state::Obj;

/// Which service's listing rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Octavia: unknown or repeated filter → 400; page cap when `limit` is omitted; links always present.
    Octavia,
    /// Neutron: repeated filter = OR; no cap; links only when paginating.
    Neutron,
}

/// One list request.
pub(crate) struct ListRequest<'a> {
    pub(crate) dialect: Dialect,
    /// Collection key, e.g. `loadbalancers`, `floatingips`.
    pub(crate) collection: &'a str,
    /// Fields that may be used as filters.
    pub(crate) fields: &'a [&'a str],
    /// Absolute URL of the collection (for links).
    pub(crate) url: String,
    /// Query pairs.
    pub(crate) query: &'a [(String, String)],
    /// Page cap when `limit` is omitted (Octavia).
    pub(crate) page_max: usize,
}

const RESERVED: &[&str] = &[
    "limit",
    "marker",
    "page_reverse",
    "sort",
    "sort_key",
    "sort_dir",
    "fields",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
];

impl ListRequest<'_> {
    fn bad(&self, msg: impl Into<String>) -> ApiError {
        match self.dialect {
            Dialect::Octavia => octavia_err(400, msg),
            Dialect::Neutron => neutron_err(400, "HTTPBadRequest", msg),
        }
    }

    /// Filter, sort, paginate and render `{collection: [...], collection_links: [...]}`.
    pub(crate) fn run(&self, items: Vec<Obj>) -> Result<Value, ApiError> {
        let filters = self.filters()?;
        let mut rows: Vec<Obj> = items.into_iter().filter(|o| filters.keep(o)).collect();
        self.sort(&mut rows)?;
        let (page, links) = self.paginate(rows)?;
        let page = self.select_fields(page);
        let mut out = serde_json::Map::new();
        out.insert(self.collection.to_string(), Value::Array(page));
        if let Some(links) = links {
            out.insert(format!("{}_links", self.collection), links);
        }
        Ok(Value::Object(out))
    }

    /// The query's filters; an unknown filter (or, on Octavia, a repeated one) is refused.
    fn filters(&self) -> Result<Filters, ApiError> {
        let mut filters: Vec<(String, Vec<String>)> = Vec::new();
        let mut fixed_ips: Vec<(String, String)> = Vec::new();
        let (mut all, mut any, mut not_all, mut not_any) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, v) in self.query {
            match k.as_str() {
                "tags" => all.extend(split(v)),
                "tags-any" => any.extend(split(v)),
                "not-tags" => not_all.extend(split(v)),
                "not-tags-any" => not_any.extend(split(v)),
                "fixed_ips" if self.dialect == Dialect::Neutron => {
                    let (fk, fv) = v.split_once('=').ok_or_else(|| {
                        self.bad(format!(
                            "Invalid fixed_ips filter '{v}': expected key=value."
                        ))
                    })?;
                    fixed_ips.push((fk.to_string(), fv.to_string()));
                }
                key if RESERVED.contains(&key) => {}
                key if self.fields.contains(&key) => {
                    if let Some((_, vals)) = filters.iter_mut().find(|(fk, _)| fk == key) {
                        if self.dialect == Dialect::Octavia {
                            return Err(
                                self.bad("One or more arguments are either duplicate or invalid")
                            );
                        }
                        vals.push(v.clone());
                    } else {
                        filters.push((key.to_string(), vec![v.clone()]));
                    }
                }
                _ => {
                    return Err(match self.dialect {
                        Dialect::Octavia => {
                            self.bad("One or more arguments are either duplicate or invalid")
                        }
                        Dialect::Neutron => {
                            self.bad(format!("[{k}] is invalid attribute for filtering"))
                        }
                    })
                }
            }
        }
        Ok(Filters {
            fields: filters,
            fixed_ips,
            all,
            any,
            not_all,
            not_any,
        })
    }

    /// Only the `fields` asked for, if any.
    fn select_fields(&self, page: Vec<Obj>) -> Vec<Value> {
        let selected: Vec<&str> = self
            .query
            .iter()
            .filter(|(k, _)| k == "fields")
            .flat_map(|(_, v)| v.split(','))
            .collect();
        page.into_iter()
            .map(|o| {
                if selected.is_empty() {
                    Value::Object(o)
                } else {
                    Value::Object(
                        o.into_iter()
                            .filter(|(k, _)| selected.contains(&k.as_str()))
                            .collect(),
                    )
                }
            })
            .collect()
    }

    fn sort(&self, rows: &mut [Obj]) -> Result<(), ApiError> {
        let mut keys: Vec<(String, bool)> = Vec::new();
        for (k, v) in self.query {
            match k.as_str() {
                "sort" => {
                    for part in v.split(',').filter(|p| !p.is_empty()) {
                        let (key, dir) = part.split_once(':').unwrap_or((part, "asc"));
                        keys.push((key.to_string(), dir.eq_ignore_ascii_case("desc")));
                    }
                }
                "sort_key" => keys.push((v.clone(), false)),
                "sort_dir" => {
                    if let Some(last) = keys.last_mut() {
                        last.1 = v.eq_ignore_ascii_case("desc");
                    }
                }
                _ => {}
            }
        }
        for (key, _) in &keys {
            if !self.fields.contains(&key.as_str()) {
                return Err(self.bad(format!("Invalid sort key: {key}")));
            }
        }
        if !keys.is_empty() {
            rows.sort_by(|a, b| {
                for (key, desc) in &keys {
                    let ord = sort_text(a.get(key)).cmp(&sort_text(b.get(key)));
                    let ord = if *desc { ord.reverse() } else { ord };
                    if ord.is_ne() {
                        return ord;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        Ok(())
    }

    /// The page the marker, direction and limit select, and its links (Neutron gives none
    /// unless the caller paginates).
    fn paginate(&self, rows: Vec<Obj>) -> Result<(Vec<Obj>, Option<Value>), ApiError> {
        let limit = self.limit()?;
        let reverse = self
            .param("page_reverse")
            .is_some_and(|v| super::http::truthy(v));
        let marker = self.param("marker");
        let start_end = match marker {
            Some(m) => {
                let pos = rows
                    .iter()
                    .position(|o| o.get("id").and_then(Value::as_str) == Some(m.as_str()))
                    .ok_or_else(|| self.bad(format!("Marker {m} could not be found.")))?;
                if reverse {
                    (0, pos)
                } else {
                    (pos + 1, rows.len())
                }
            }
            None => (0, rows.len()),
        };
        let window: Vec<Obj> = rows
            .into_iter()
            .skip(start_end.0)
            .take(start_end.1 - start_end.0)
            .collect();
        let page: Vec<Obj> = match limit {
            Some(l) if reverse => {
                let skip = window.len().saturating_sub(l);
                window.into_iter().skip(skip).collect()
            }
            Some(l) => window.into_iter().take(l).collect(),
            None => window,
        };
        let paginating = self.param("limit").is_some() || marker.is_some();
        if self.dialect == Dialect::Neutron && !paginating {
            return Ok((page, None));
        }
        let links = self.links(&page, limit, marker.is_some());
        Ok((page, Some(Value::Array(links))))
    }

    /// The first value of query parameter `key`.
    fn param(&self, key: &str) -> Option<&String> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The page size: `limit` (capped at the page maximum; `infinite` or < 1 = no limit), or
    /// Octavia's page maximum when none is given.
    fn limit(&self) -> Result<Option<usize>, ApiError> {
        Ok(match self.param("limit") {
            None => match self.dialect {
                Dialect::Octavia => Some(self.page_max),
                Dialect::Neutron => None,
            },
            Some(v) if v.eq_ignore_ascii_case("infinite") => None,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n < 1 => None,
                Ok(n) => Some((n as usize).min(self.page_max.max(1))),
                Err(_) => {
                    return Err(self.bad(format!(
                        "Invalid input for field/attribute limit. Value: '{v}'. Value should be an integer."
                    )))
                }
            },
        })
    }

    /// `next` when the page is full, `previous` when a marker was given; each link repeats the
    /// query with its own marker.
    fn links(&self, page: &[Obj], limit: Option<usize>, has_marker: bool) -> Vec<Value> {
        let mut links = Vec::new();
        let base: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "marker" && k != "limit" && k != "page_reverse")
            .cloned()
            .collect();
        let href = |marker_id: &str, l: usize, rev: bool| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &base {
                q.append_pair(k, v);
            }
            q.append_pair("limit", &l.to_string());
            q.append_pair("marker", marker_id);
            if rev {
                q.append_pair("page_reverse", "True");
            }
            format!("{}?{}", self.url, q.finish())
        };
        if let Some(l) = limit {
            if page.len() == l {
                if let Some(last) = page
                    .last()
                    .and_then(|o| o.get("id"))
                    .and_then(Value::as_str)
                {
                    links.push(json!({"rel": "next", "href": href(last, l, false)}));
                }
            }
            if has_marker {
                if let Some(first) = page
                    .first()
                    .and_then(|o| o.get("id"))
                    .and_then(Value::as_str)
                {
                    links.push(json!({"rel": "previous", "href": href(first, l, true)}));
                }
            }
        }
        links
    }
}

/// A list request's filters: field values (a repeated field is ORed), `fixed_ips` pairs, and
/// the four tag filters.
struct Filters {
    fields: Vec<(String, Vec<String>)>,
    fixed_ips: Vec<(String, String)>,
    all: Vec<String>,
    any: Vec<String>,
    not_all: Vec<String>,
    not_any: Vec<String>,
}

impl Filters {
    /// Whether `o` passes every filter.
    fn keep(&self, o: &Obj) -> bool {
        self.fields
            .iter()
            .all(|(k, vals)| vals.iter().any(|v| value_matches(o.get(k), v)))
            && tags_match(o, &self.all, &self.any, &self.not_all, &self.not_any)
            // Neutron reads `fixed_ips` into one list per key: a repeated key is ORed (the
            // values go into one `IN`), different keys are ANDed.
            && self.fixed_ips.iter().all(|(k, _)| {
                self.fixed_ips
                    .iter()
                    .filter(|(other, _)| other == k)
                    .any(|(k, v)| fixed_ip_matches(o, k, v))
            })
    }
}

fn split(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',').filter(|t| !t.is_empty()).map(str::to_string)
}

fn sort_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Exact match of a query value against a field (booleans leniently, arrays by membership).
fn value_matches(field: Option<&Value>, q: &str) -> bool {
    match field {
        Some(Value::String(s)) => s == q,
        Some(Value::Bool(b)) => match q.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => *b,
            "false" | "0" | "no" => !*b,
            _ => false,
        },
        Some(Value::Number(n)) => n.to_string() == q,
        Some(Value::Array(items)) => items.iter().any(|i| value_matches(Some(i), q)),
        Some(Value::Null) => q.is_empty() || q == "None" || q == "null",
        Some(Value::Object(_)) | None => false,
    }
}

/// The query's tag filters as a test on stored objects, so a list can skip rendering what they
/// rule out (tags are stored, never rendered: filtering first gives the same answer, and keeps
/// a tag-filtered list cheap however many objects the cloud holds). [`ListRequest::run`]
/// applies the same filters again.
pub(crate) fn tag_prefilter(query: &[(String, String)]) -> impl Fn(&Obj) -> bool {
    let (mut all, mut any, mut not_all, mut not_any) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, v) in query {
        match k.as_str() {
            "tags" => all.extend(split(v)),
            "tags-any" => any.extend(split(v)),
            "not-tags" => not_all.extend(split(v)),
            "not-tags-any" => not_any.extend(split(v)),
            _ => {}
        }
    }
    move |o: &Obj| tags_match(o, &all, &any, &not_all, &not_any)
}

fn tags_match(
    o: &Obj,
    all: &[String],
    any: &[String],
    not_all: &[String],
    not_any: &[String],
) -> bool {
    let tags: BTreeSet<&str> = o
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has = |t: &String| tags.contains(t.as_str());
    (all.is_empty() || all.iter().all(has))
        && (any.is_empty() || any.iter().any(has))
        && (not_all.is_empty() || !not_all.iter().all(has))
        && (not_any.is_empty() || !not_any.iter().any(has))
}

fn fixed_ip_matches(o: &Obj, key: &str, value: &str) -> bool {
    o.get("fixed_ips")
        .and_then(Value::as_array)
        .is_some_and(|ips| {
            ips.iter().any(|ip| match key {
                "ip_address_substr" => ip
                    .get("ip_address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.contains(value)),
                _ => ip.get(key).and_then(Value::as_str) == Some(value),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Obj {
        match v {
            Value::Object(o) => o,
            _ => unreachable!("test objects are objects"),
        }
    }

    fn req<'a>(d: Dialect, q: &'a [(String, String)]) -> ListRequest<'a> {
        ListRequest {
            dialect: d,
            collection: "things",
            fields: &["id", "name", "admin_state_up", "fixed_ips"],
            url: "http://127.0.0.1:1/things".into(),
            query: q,
            page_max: 1000,
        }
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn items() -> Vec<Obj> {
        (1..=5)
            .map(|i| {
                obj(
                    json!({"id": format!("id{i}"), "name": if i % 2 == 0 {"even"} else {"odd"},
                    "admin_state_up": i != 3, "tags": if i <= 2 {vec!["a", "b"]} else {vec!["b"]},
                    "fixed_ips": [{"ip_address": format!("10.0.0.{i}"), "subnet_id": "s"}]}),
                )
            })
            .collect()
    }

    fn ids(v: &Value) -> Vec<String> {
        v["things"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn filters_tags_and_bools() {
        let qs = q(&[("name", "odd"), ("tags", "b"), ("admin_state_up", "True")]);
        let out = req(Dialect::Octavia, &qs).run(items()).expect("list");
        assert_eq!(ids(&out), ["id1", "id5"]);
        let qs = q(&[("tags", "a,b")]);
        assert_eq!(
            ids(&req(Dialect::Octavia, &qs).run(items()).expect("list")),
            ["id1", "id2"]
        );
        let qs = q(&[("not-tags-any", "a")]);
        assert_eq!(
            ids(&req(Dialect::Octavia, &qs).run(items()).expect("list")).len(),
            3
        );
    }

    #[test]
    fn unknown_or_duplicate_filter_is_400_in_octavia_or_in_neutron_for_unknown() {
        let qs = q(&[("bogus", "1")]);
        assert_eq!(
            req(Dialect::Octavia, &qs)
                .run(items())
                .expect_err("400")
                .status,
            400
        );
        assert_eq!(
            req(Dialect::Neutron, &qs)
                .run(items())
                .expect_err("400")
                .status,
            400
        );
        let qs = q(&[("name", "odd"), ("name", "even")]);
        assert_eq!(
            req(Dialect::Octavia, &qs)
                .run(items())
                .expect_err("400")
                .status,
            400
        );
        assert_eq!(
            ids(&req(Dialect::Neutron, &qs).run(items()).expect("or")).len(),
            5
        );
    }

    #[test]
    fn pagination_follows_next_links_to_the_end() {
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..10 {
            let mut pairs = vec![("limit".to_string(), "2".to_string())];
            if let Some(m) = &marker {
                pairs.push(("marker".to_string(), m.clone()));
            }
            let out = req(Dialect::Octavia, &pairs).run(items()).expect("page");
            let page = ids(&out);
            seen.extend(page.clone());
            let next = out["things_links"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["rel"] == "next");
            match next {
                Some(_) => marker = page.last().cloned(),
                None => break,
            }
        }
        assert_eq!(seen, ["id1", "id2", "id3", "id4", "id5"]);
    }

    #[test]
    fn neutron_fixed_ips_filter() {
        let qs = q(&[("fixed_ips", "ip_address=10.0.0.4")]);
        let out = req(Dialect::Neutron, &qs).run(items()).expect("list");
        assert_eq!(ids(&out), ["id4"]);
        assert!(out.get("things_links").is_none());
    }

    #[test]
    fn neutron_fixed_ips_repeated_key_is_ored_and_keys_are_anded() {
        // Real Neutron 29: `fixed_ips=ip_address=A&fixed_ips=ip_address=B` lists the ports of
        // both addresses; adding `fixed_ips=subnet_id=S` narrows them.
        let qs = q(&[
            ("fixed_ips", "ip_address=10.0.0.4"),
            ("fixed_ips", "ip_address=10.0.0.2"),
        ]);
        let out = req(Dialect::Neutron, &qs).run(items()).expect("list");
        assert_eq!(ids(&out), ["id2", "id4"]);
        let qs = q(&[
            ("fixed_ips", "ip_address=10.0.0.4"),
            ("fixed_ips", "ip_address=10.0.0.2"),
            ("fixed_ips", "subnet_id=other"),
        ]);
        let out = req(Dialect::Neutron, &qs).run(items()).expect("list");
        assert!(ids(&out).is_empty());
    }
}
