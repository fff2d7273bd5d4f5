//! `octavia-integrator [--config PATH] check-cloud [--json]`: a preflight of the cloud the
//! settings point at — credentials, catalog, Octavia version and providers, and the subnets
//! and networks the load balancers need. Every failure says what to fix.

use super::output::{out, outln};
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::context::{self, Failure};
use super::exit;
use crate::config::LoadBalancerSettings;
use crate::config::Settings;
use crate::reconcile::connect::{external_network, flavor_id, subnet, ConnectError, TAGS_SINCE};
use openstack::session::ServiceType;
use openstack::Session;

/// Arguments of `check-cloud`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One preflight check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub check: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found (or what failed).
    pub detail: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Not run: what it needs failed (the detail says what). Not counted as a failure.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl Check {
    fn pass(check: &str, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
            skipped: false,
        }
    }

    fn skipped(check: &str, needs: &str) -> Check {
        Check {
            check: check.into(),
            ok: false,
            detail: format!("not checked: {needs}"),
            fix: None,
            skipped: true,
        }
    }

    fn fail(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
            skipped: false,
        }
    }
}

/// Runs `check-cloud`: exit 0 when every check passes, 1 when one fails.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let settings = match context::load_settings(config) {
        Ok(s) => s,
        Err(failure) => return failure.report(),
    };
    let rt = match context::current_thread() {
        Ok(rt) => rt,
        Err(failure) => return failure.report(),
    };
    let checks = rt.block_on(checks(&settings));
    if args.json {
        match serde_json::to_string_pretty(&checks) {
            Ok(text) => outln!("{text}"),
            Err(e) => return Failure::new(exit::FAILURE, e).report(),
        }
    } else {
        out!("{}", render(&checks));
    }
    if checks.iter().all(|c| c.ok || c.skipped) {
        ExitCode::from(exit::OK)
    } else {
        ExitCode::from(exit::FAILURE)
    }
}

/// Every check, in order. Each runs even when another failed; a check that cannot run (no
/// token, no endpoint for its service) is listed as skipped with what it waits for.
pub async fn checks(settings: &Settings) -> Vec<Check> {
    let mut out = vec![Check::pass(
        "settings",
        match &settings.path {
            Some(p) => format!("{} loaded", p.display()),
            None => "loaded".to_string(),
        },
    )];
    let Some(session) = credentials(settings, &mut out).await else {
        out.extend(
            AFTER_CREDENTIALS
                .iter()
                .map(|name| Check::skipped(name, "needs a Keystone token")),
        );
        return out;
    };

    let octavia = catalog_entry(&session, ServiceType::LoadBalancer, &mut out).await;
    let neutron = catalog_entry(&session, ServiceType::Network, &mut out).await;
    if octavia {
        octavia_checks(&session, &settings.load_balancer, &mut out).await;
    } else {
        for name in ["Octavia API version", "Octavia providers"] {
            out.push(Check::skipped(name, "needs a load-balancer endpoint"));
        }
    }
    if neutron {
        out.extend(networks(&session, &settings.load_balancer).await);
    } else {
        for name in ["VIP subnet", "member subnet", "floating network"] {
            out.push(Check::skipped(name, "needs a network endpoint"));
        }
    }
    out
}

/// A session whose credentials Keystone accepts (a token for the project); records the
/// check either way.
async fn credentials(settings: &Settings, out: &mut Vec<Check>) -> Option<Session> {
    let session = match settings
        .session_config()
        .map_err(|e| e.to_string())
        .and_then(|c| Session::new(c).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            out.push(Check::fail(
                "credentials",
                e,
                "fix the [cloud] settings named above",
            ));
            return None;
        }
    };
    match session.project_id().await {
        Ok(project) => {
            out.push(Check::pass(
                "credentials",
                format!("Keystone issued a token for project {project}"),
            ));
            Some(session)
        }
        Err(e) => {
            out.push(Check::fail(
                "credentials",
                e.to_string(),
                credentials_fix(&e),
            ));
            None
        }
    }
}

/// Octavia's API version, its providers, and the flavor when one is set.
async fn octavia_checks(session: &Session, lb: &LoadBalancerSettings, out: &mut Vec<Check>) {
    out.push(octavia_version(session).await);
    out.push(providers(session, &lb.provider).await);
    if lb.flavor.is_some() {
        out.push(match flavor_id(lb) {
            Ok(Some(id)) => Check::pass("flavor", id),
            Ok(None) => Check::pass("flavor", "ignored: the ovn provider has no flavors"),
            Err(e) => Check::fail(
                "flavor",
                e.to_string(),
                "set `[load_balancer] flavor` to a flavor id",
            ),
        });
    }
}

/// The checks that need a token, in the order they run.
const AFTER_CREDENTIALS: [&str; 7] = [
    "catalog: load-balancer (Octavia)",
    "catalog: network (Neutron)",
    "Octavia API version",
    "Octavia providers",
    "VIP subnet",
    "member subnet",
    "floating network",
];

fn credentials_fix(e: &openstack::Error) -> &'static str {
    if e.is_unauthorized() {
        "Keystone refused the credentials: check the user (or application credential), its \
         domain and the password/secret in [cloud]; `openstack token issue` with the same \
         values must work"
    } else if e.status() == Some(403) {
        "the user has no role on the project: check project_name/project_id and the \
         project's domain, or ask an admin for the `member` and `load-balancer_member` roles"
    } else {
        "Keystone could not be reached: check auth_url, the network path, HTTPS_PROXY / \
         NO_PROXY and the CA bundle (or `insecure` for a test cloud)"
    }
}

/// The catalog has `service` for the region and interface; records the check.
async fn catalog_entry(session: &Session, service: ServiceType, out: &mut Vec<Check>) -> bool {
    let name = match service {
        ServiceType::LoadBalancer => "catalog: load-balancer (Octavia)",
        _ => "catalog: network (Neutron)",
    };
    match session.endpoint(service).await {
        Ok(url) => {
            out.push(Check::pass(name, url.to_string()));
            true
        }
        Err(e) => {
            out.push(Check::fail(
                name,
                e.to_string(),
                format!(
                    "the service catalog has no `{}` endpoint for this region and interface: \
                     check `region` and `interface` in [cloud] (`openstack catalog list` shows \
                     what exists), or set the endpoint override",
                    service.catalog_type()
                ),
            ));
            false
        }
    }
}

async fn octavia_version(session: &Session) -> Check {
    match session.octavia_version().await {
        Ok(v) if v.at_least(TAGS_SINCE.0, TAGS_SINCE.1) => {
            Check::pass("Octavia API version", v.to_string())
        }
        Ok(v) => Check::fail(
            "Octavia API version",
            format!("{v} is older than v{}.{}", TAGS_SINCE.0, TAGS_SINCE.1),
            "load balancers must carry tags so they can be found again after a crash: upgrade \
             Octavia to Stein (API v2.5) or later",
        ),
        Err(e) => Check::fail(
            "Octavia API version",
            e.to_string(),
            "the load-balancer endpoint does not answer version discovery (GET /): check the \
             endpoint URL in the catalog and that Octavia's API is up",
        ),
    }
}

async fn providers(session: &Session, wanted: &str) -> Check {
    match openstack::load_balancer::providers::list(session).await {
        Ok(providers) => {
            let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
            if wanted.is_empty() || names.contains(&wanted) {
                Check::pass(
                    "Octavia providers",
                    format!("{} (using {})", names.join(", "), display(wanted)),
                )
            } else {
                Check::fail(
                    "Octavia providers",
                    format!(
                        "`{wanted}` is not enabled; the cloud offers {}",
                        names.join(", ")
                    ),
                    "set `[load_balancer] provider` to one of the providers the cloud offers",
                )
            }
        }
        Err(e) => Check::fail(
            "Octavia providers",
            e.to_string(),
            if e.status() == Some(403) {
                "the user may not list providers: give it the `load-balancer_member` role"
            } else {
                "Octavia did not list its providers; check that its API is healthy"
            },
        ),
    }
}

/// The VIP subnet, the member subnet and the floating network, each checked on its own.
async fn networks(session: &Session, lb: &LoadBalancerSettings) -> Vec<Check> {
    const FIX: &str = "name an existing subnet/network (name or id) in [load_balancer]; \
                       `openstack subnet list` and `openstack network list --external` show them";
    let failed = |name: &str, e: ConnectError| Check::fail(name, e.to_string(), FIX);
    let mut out = Vec::new();
    out.push(match subnet(session, "vip_subnet", &lb.vip_subnet).await {
        Ok(vip) => Check::pass("VIP subnet", format!("{} ({})", vip.id, vip.cidr)),
        Err(e) => failed("VIP subnet", e),
    });
    if lb.member_subnet != lb.vip_subnet {
        out.push(
            match subnet(session, "member_subnet", &lb.member_subnet).await {
                Ok(m) => Check::pass("member subnet", format!("{} ({})", m.id, m.cidr)),
                Err(e) => failed("member subnet", e),
            },
        );
    }
    out.push(match &lb.floating_network {
        Some(n) => match external_network(session, n).await {
            Ok(id) => Check::pass(
                "floating network",
                format!("{id} (public requests get a floating IP)"),
            ),
            Err(e) => failed("floating network", e),
        },
        None => Check::pass(
            "floating network",
            "not set: public requests are answered with the VIP",
        ),
    });
    out
}

fn display(provider: &str) -> &str {
    if provider.is_empty() {
        "the cloud's default"
    } else {
        provider
    }
}

/// The checks as text: one line each, failures followed by their fix.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = match (c.ok, c.skipped) {
            (true, _) => "ok  ",
            (false, true) => "skip",
            (false, false) => "FAIL",
        };
        out.push_str(&format!("{mark}  {:<32} {}\n", c.check, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok && !c.skipped).count();
    if failed == 0 {
        out.push_str("all checks passed\n");
    } else {
        out.push_str(&format!("{failed} check(s) failed\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_show_their_fix() {
        let text = render(&[
            Check::pass("credentials", "token"),
            Check::fail("VIP subnet", "no subnet `x`", "name an existing subnet"),
        ]);
        assert!(text.contains("ok    credentials"));
        assert!(text.contains("FAIL  VIP subnet"));
        assert!(text.contains("fix: name an existing subnet"));
        assert!(text.ends_with("1 check(s) failed\n"));
    }
}
