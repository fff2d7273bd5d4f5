//! The Keystone service catalog: choosing an endpoint and joining URLs (openstack-api.md §1.4,
//! §1.5).

use serde::Deserialize;
use url::Url;

use super::call::ServiceType;
use super::config::Interface;
use crate::Error;

/// One service of the catalog.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CatalogService {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// One endpoint of a catalog service.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CatalogEndpoint {
    #[serde(default)]
    pub interface: String,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub url: String,
}

impl CatalogEndpoint {
    fn region_name(&self) -> Option<&str> {
        self.region_id.as_deref().or(self.region.as_deref())
    }
}

/// Picks the endpoint URL for `service` by type, interface and (when given) region, matching
/// `region_id` first, then the deprecated `region`.
pub(crate) fn select_endpoint(
    catalog: &[CatalogService],
    service: ServiceType,
    interface: Interface,
    region: Option<&str>,
) -> Result<String, Error> {
    let wanted = service.catalog_type();
    let endpoints: Vec<&CatalogEndpoint> = catalog
        .iter()
        .filter(|s| s.service_type == wanted)
        .flat_map(|s| s.endpoints.iter())
        .collect();
    let by_interface = endpoints
        .iter()
        .filter(|e| e.interface == interface.as_str());
    let chosen = match region {
        None => by_interface.clone().next(),
        Some(r) => by_interface
            .clone()
            .find(|e| e.region_id.as_deref() == Some(r))
            .or_else(|| {
                by_interface
                    .clone()
                    .find(|e| e.region.as_deref() == Some(r))
            }),
    };
    match chosen {
        Some(e) => Ok(e.url.clone()),
        None => {
            let available = if endpoints.is_empty() {
                if catalog.is_empty() {
                    "none (Keystone returned no catalog: the token is probably unscoped, configure a project scope)"
                    .to_string()
                } else {
                    "none (the catalog has no such service type)".to_string()
                }
            } else {
                endpoints
                    .iter()
                    .map(|e| {
                        format!(
                            "{} in region {}",
                            e.interface,
                            e.region_name().unwrap_or("(none)")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err(Error::NoEndpoint {
                service: wanted,
                interface: interface.as_str(),
                region: region.map(str::to_string),
                available,
            })
        }
    }
}

/// Parses an endpoint URL (from the catalog or an override) and checks it is http(s).
fn parse_endpoint(service: ServiceType, raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::Config(format!(
            "the `{}` endpoint `{raw}` is not a URL ({e}); fix the catalog entry or the endpoint override",
            service.catalog_type()
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "the `{}` endpoint `{raw}` is not http(s); fix the catalog entry or the endpoint override",
            service.catalog_type()
        )));
    }
    Ok(url)
}

/// The unversioned root of a service endpoint: Octavia's `/v2.0` or `/v2` suffix stripped,
/// one trailing slash. Octavia's version document lives here.
pub(crate) fn service_root(service: ServiceType, raw: &str) -> Result<Url, Error> {
    let mut url = parse_endpoint(service, raw)?;
    let mut path = url.path().trim_end_matches('/').to_string();
    if service == ServiceType::LoadBalancer {
        for suffix in ["/v2.0", "/v2"] {
            if let Some(stripped) = path.strip_suffix(suffix) {
                path = stripped.to_string();
                break;
            }
        }
    }
    path.push('/');
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// The versioned base every resource path is joined to: Octavia `<root>/v2/`, Neutron
/// `<root>/v2.0/` (not added twice).
pub(crate) fn service_base(service: ServiceType, raw: &str) -> Result<Url, Error> {
    match service {
        ServiceType::LoadBalancer => {
            let root = service_root(service, raw)?;
            Ok(root.join("v2/").expect("a relative segment always joins"))
        }
        ServiceType::Network => {
            let mut url = parse_endpoint(service, raw)?;
            let mut path = url.path().trim_end_matches('/').to_string();
            if !path.ends_with("/v2.0") {
                path.push_str("/v2.0");
            }
            path.push('/');
            url.set_path(&path);
            url.set_query(None);
            url.set_fragment(None);
            Ok(url)
        }
    }
}

/// Joins a resource path (`lbaas/loadbalancers/<id>`) to a versioned base. A leading `/` is
/// ignored so it cannot discard the base's path.
pub(crate) fn join(base: &Url, path: &str) -> Result<Url, Error> {
    base.join(path.trim_start_matches('/'))
        .map_err(|e| Error::Config(format!("cannot join path `{path}` to `{base}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(
        interface: &str,
        region_id: Option<&str>,
        region: Option<&str>,
        url: &str,
    ) -> CatalogEndpoint {
        CatalogEndpoint {
            interface: interface.into(),
            region_id: region_id.map(Into::into),
            region: region.map(Into::into),
            url: url.into(),
        }
    }

    #[test]
    fn octavia_joining() {
        for raw in [
            "http://h:9876",
            "http://h:9876/",
            "http://h:9876/v2",
            "http://h:9876/v2.0/",
        ] {
            let base = service_base(ServiceType::LoadBalancer, raw).unwrap();
            assert_eq!(base.as_str(), "http://h:9876/v2/", "{raw}");
        }
        let base = service_base(ServiceType::LoadBalancer, "https://h/load-balancer/v2.0").unwrap();
        assert_eq!(base.as_str(), "https://h/load-balancer/v2/");
        assert_eq!(
            join(&base, "/lbaas/loadbalancers").unwrap().as_str(),
            "https://h/load-balancer/v2/lbaas/loadbalancers"
        );
        assert_eq!(
            service_root(ServiceType::LoadBalancer, "https://h/load-balancer/v2")
                .unwrap()
                .as_str(),
            "https://h/load-balancer/"
        );
    }

    #[test]
    fn neutron_joining() {
        for raw in [
            "http://h:9696",
            "http://h:9696/",
            "http://h:9696/v2.0",
            "http://h:9696/v2.0/",
        ] {
            let base = service_base(ServiceType::Network, raw).unwrap();
            assert_eq!(base.as_str(), "http://h:9696/v2.0/", "{raw}");
        }
        let base = service_base(ServiceType::Network, "https://h/network").unwrap();
        assert_eq!(
            join(&base, "floatingips").unwrap().as_str(),
            "https://h/network/v2.0/floatingips"
        );
    }

    #[test]
    fn bad_endpoint_is_config_error() {
        assert!(matches!(
            service_base(ServiceType::Network, "not a url"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            service_base(ServiceType::Network, "ftp://h/"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn selection_by_interface_and_region() {
        let catalog = vec![
            CatalogService {
                service_type: "identity".into(),
                endpoints: vec![ep("public", Some("R1"), None, "http://k/")],
            },
            CatalogService {
                service_type: "load-balancer".into(),
                endpoints: vec![
                    ep("internal", Some("R1"), Some("R1"), "http://int-r1/"),
                    ep("public", Some("R1"), Some("R1"), "http://pub-r1/"),
                    ep("public", None, Some("R2"), "http://pub-r2/"),
                ],
            },
        ];
        let pick = |i, r| select_endpoint(&catalog, ServiceType::LoadBalancer, i, r);
        assert_eq!(pick(Interface::Public, None).unwrap(), "http://pub-r1/");
        assert_eq!(
            pick(Interface::Internal, Some("R1")).unwrap(),
            "http://int-r1/"
        );
        assert_eq!(
            pick(Interface::Public, Some("R2")).unwrap(),
            "http://pub-r2/"
        );
        let err = pick(Interface::Admin, Some("R1")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no admin endpoint for `load-balancer` in region `R1`"),
            "{text}"
        );
        assert!(text.contains("public in region R2"), "{text}");
        let err =
            select_endpoint(&catalog, ServiceType::Network, Interface::Public, None).unwrap_err();
        assert!(err.to_string().contains("no such service type"), "{err}");
    }
}
