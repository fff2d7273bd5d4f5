//! Listing every page of an Octavia or Neutron collection.
//!
//! Both services answer `{"<collection>": [...], "<collection>_links": [{"rel": "next", ...}]}`.
//! [`collect`] follows `rel=next` (an absolute URL, sent as [`Target::Url`]) until there is no
//! `next` link, the page is empty (Octavia emits `next` whenever a page is full, so the last
//! page may be followed by an empty one), or a link repeats (a broken server must not loop us
//! forever). Each resource declares its page shape with [`page!`], builds its list filter's
//! query with [`Query`], and lists with [`list`].

use std::collections::HashSet;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::load_balancer::Link;
use crate::session::{Call, ServiceType, Session, Target};

/// One decoded page: its items and its links.
pub(crate) trait Page: DeserializeOwned {
    /// The item type.
    type Item;
    /// Splits the page into items and links.
    fn into_parts(self) -> (Vec<Self::Item>, Vec<Link>);
}

/// Declares a private page type: `page!(Name, Item, "items_key", "items_key_links");`.
macro_rules! page {
    ($page:ident, $item:ty, $key:literal, $links:literal) => {
        #[derive(serde::Deserialize)]
        struct $page {
            #[serde(rename = $key, default, deserialize_with = "crate::load_balancer::wire::null_default")]
            items: Vec<$item>,
            #[serde(rename = $links, default, deserialize_with = "crate::load_balancer::wire::null_default")]
            links: Vec<crate::load_balancer::Link>,
        }

        impl crate::pagination::Page for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Vec<crate::load_balancer::Link>) {
                (self.items, self.links)
            }
        }
    };
}
pub(crate) use page;

/// The `next` link of a page, if any.
pub(crate) fn next_link(links: &[Link]) -> Option<&str> {
    links
        .iter()
        .find(|l| l.rel == "next" && !l.href.is_empty())
        .map(|l| l.href.as_str())
}

/// The query parameters a list filter sends, in the order they are added; what is unset or
/// empty is not sent. Each resource's filter type builds its `query()` with it.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(&'static str, String)>);

impl Query {
    /// `key=value` when `value` is set.
    pub(crate) fn opt(mut self, key: &'static str, value: &Option<String>) -> Self {
        if let Some(v) = value {
            self.0.push((key, v.clone()));
        }
        self
    }

    /// `key=a,b` (one parameter, comma-joined) when `values` is not empty.
    pub(crate) fn joined(mut self, key: &'static str, values: &[String]) -> Self {
        if !values.is_empty() {
            self.0.push((key, values.join(",")));
        }
        self
    }

    /// `key=value` once for each value (the service ORs a repeated filter).
    pub(crate) fn each(
        mut self,
        key: &'static str,
        values: impl IntoIterator<Item = String>,
    ) -> Self {
        self.0.extend(values.into_iter().map(|v| (key, v)));
        self
    }

    /// The parameters.
    pub(crate) fn pairs(self) -> Vec<(&'static str, String)> {
        self.0
    }
}

/// `GET {path}?{query}` → 200, then every following page: every item.
///
/// # Errors
/// As [`collect`].
pub(crate) async fn list<P: Page>(
    session: &Session,
    service: ServiceType,
    path: impl Into<String>,
    query: Vec<(&'static str, String)>,
) -> Result<Vec<P::Item>, Error> {
    let mut call = Call::new(service, Method::GET, path, &[200]);
    for (key, value) in query {
        call = call.query(key, value);
    }
    collect::<P>(session, call).await
}

/// Sends `first`, then follows `next` links, and returns every item of every page.
///
/// # Errors
/// The first error of any page (nothing partial is returned); [`Error::Decode`] when a
/// next-page link repeats.
async fn collect<P: Page>(session: &Session, first: Call) -> Result<Vec<P::Item>, Error> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut call = first;
    loop {
        let reply = session.send(call.clone()).await?;
        let page: P = reply.json()?;
        let (page_items, links) = page.into_parts();
        let empty = page_items.is_empty();
        items.extend(page_items);
        match next_link(&links) {
            Some(href) if !empty => {
                if !seen.insert(href.to_string()) {
                    return Err(Error::Decode {
                        service: call.service.catalog_type(),
                        method: call.method.to_string(),
                        path: href.to_string(),
                        detail: "the service handed out the same next-page link twice; the list \
                                 would never end (check the service's pagination settings)"
                            .into(),
                    });
                }
                // The link carries the filters and the marker itself.
                call.target = Target::Url(href.to_string());
                call.query.clear();
            }
            _ => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_sends_what_is_set_in_order() {
        let q = Query::default()
            .opt("name", &Some("n".into()))
            .opt("unset", &None)
            .joined("tags", &["a".into(), "b".into()])
            .joined("tags-any", &[])
            .each(
                "fixed_ips",
                ["ip_address=1".to_string(), "ip_address=2".to_string()],
            )
            .pairs();
        assert_eq!(
            q,
            [
                ("name", "n".to_string()),
                ("tags", "a,b".to_string()),
                ("fixed_ips", "ip_address=1".to_string()),
                ("fixed_ips", "ip_address=2".to_string()),
            ]
        );
        assert!(Query::default().pairs().is_empty());
    }

    #[test]
    fn next_link_ignores_previous_and_empty_links() {
        let links = vec![
            Link {
                rel: "previous".into(),
                href: "http://x/p".into(),
            },
            Link {
                rel: "next".into(),
                href: String::new(),
            },
        ];
        assert_eq!(next_link(&links), None);
        let links = vec![
            Link {
                rel: "previous".into(),
                href: "http://x/p".into(),
            },
            Link {
                rel: "next".into(),
                href: "http://x/n".into(),
            },
        ];
        assert_eq!(next_link(&links), Some("http://x/n"));
    }
}
