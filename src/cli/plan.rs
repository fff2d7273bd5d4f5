//! `octavia-integrator [--config PATH] plan --request FILE [--app APP] [--json]`: shows what
//! `apply` would change, without changing anything.
//!
//! Without `--app`, the application is the one that has a request of that name in the store or
//! a load balancer of it in the cloud (`manual` when none has); when several do, `plan`
//! refuses and lists them.
//!
//! Exit codes: 0 plan shown (also when the request would be refused: the reason is shown);
//! 1 a cloud failure; 2 the request file is unreadable or invalid, or several applications
//! have a request of that name; 3 settings invalid.

use super::output::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::apply::read_request;
use crate::cli::context::with_reconciler;
use crate::cli::exit;
use crate::cli::request_app::{self, Owner};
use crate::reconcile::security::SgPlan;
use crate::reconcile::{Decision, Outcome, Step};
use crate::spec::LbIdentity;

/// Arguments of `plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request: the JSON text of a `request_<name>` relation value.
    #[arg(long, value_name = "FILE")]
    pub request: PathBuf,
    /// The consuming application the request belongs to (default: the one application that
    /// has a request of that name in the store or the cloud, else `manual`).
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `plan`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let request = match read_request(&args.request) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let json = args.json;
    with_reconciler(config, |rec, settings| async move {
        let owner = request_app::find(args.app.as_deref(), &request.name, &settings, &rec).await;
        let app = match owner.map(Owner::or_default) {
            Ok(Ok(app)) => app,
            Ok(Err(apps)) => {
                eprintln!("error: {}", request_app::several(&request.name, &apps));
                return ExitCode::from(exit::USAGE);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::FAILURE);
            }
        };
        let key = LbIdentity::new(app, request.name.clone());
        match rec.plan(&key, &request).await {
            Ok(plan) => {
                let mut steps: Vec<String> = plan.steps.iter().map(describe).collect();
                if let Some(sg) = plan.security_group.as_ref().filter(|sg| !sg.is_empty()) {
                    steps.push(describe_sg(sg));
                }
                let decision = decision(&plan.decision);
                if json {
                    let v = serde_json::json!({
                        "request": key.to_string(),
                        "load_balancer": plan.desired.name,
                        "decision": decision,
                        "steps": steps,
                    });
                    outln!("{v}");
                } else {
                    outln!("request {key}: load balancer {}", plan.desired.name);
                    outln!("decision: {decision}");
                    if steps.is_empty() {
                        outln!("no changes");
                    }
                    for s in &steps {
                        outln!("  - {s}");
                    }
                }
                ExitCode::from(exit::OK)
            }
            Err(Outcome::Failed { failure, .. }) => {
                outln!("request {key} would be answered with an error: {failure}");
                ExitCode::from(exit::OK)
            }
            Err(Outcome::Converging { why, .. }) => {
                eprintln!("error: cannot plan request {key} now: {why}; run plan again later");
                ExitCode::from(exit::FAILURE)
            }
            Err(Outcome::Ready(_)) => {
                eprintln!("error: cannot plan request {key}: the reconciler gave an answer instead of a plan");
                ExitCode::from(exit::FAILURE)
            }
        }
    })
}

fn decision(d: &Decision) -> String {
    match d {
        Decision::Create => "create".into(),
        Decision::Adopt => "update in place".into(),
        Decision::Wait => "wait (the load balancer is busy or being deleted)".into(),
        Decision::Repair => "repair (the load balancer is in ERROR)".into(),
        Decision::Delete => "delete".into(),
        Decision::Ambiguous(ids) => format!(
            "refuse: several load balancers carry this request's tags ({})",
            ids.join(", ")
        ),
    }
}

fn describe_sg(sg: &SgPlan) -> String {
    let mut parts = Vec::new();
    if sg.group.is_none() {
        parts.push("create our security group".to_string());
    }
    if !sg.add_rules.is_empty() {
        parts.push(format!("add {} rule(s)", sg.add_rules.len()));
    }
    if !sg.delete_rules.is_empty() {
        parts.push(format!("delete {} rule(s)", sg.delete_rules.len()));
    }
    if !sg.attach.is_empty() {
        parts.push(format!("put it on {} member port(s)", sg.attach.len()));
    }
    if !sg.detach.is_empty() {
        parts.push(format!("take it off {} port(s)", sg.detach.len()));
    }
    if !sg.delete_groups.is_empty() {
        parts.push(format!(
            "delete {} duplicate group(s)",
            sg.delete_groups.len()
        ));
    }
    format!("security group: {}", parts.join(", "))
}

/// One line per step.
pub fn describe(step: &Step) -> String {
    match step {
        Step::CreateLoadBalancer => {
            "create the load balancer with its listeners, pools, members and monitors".into()
        }
        Step::UpdateLoadBalancer {
            name,
            description,
            tags,
        } => {
            let mut what = Vec::new();
            if name.is_some() {
                what.push("name");
            }
            if description.is_some() {
                what.push("description");
            }
            if tags.is_some() {
                what.push("tags");
            }
            format!("update the load balancer's {}", what.join(", "))
        }
        Step::CreateListener(l) => format!(
            "create listener {} {} with its pool ({} members)",
            l.protocol,
            l.port,
            l.pool.members.len()
        ),
        Step::UpdateListener { id, .. } => format!("update listener {id}"),
        Step::DeleteListener { id, .. } => format!("delete listener {id} and its pool"),
        Step::CreatePool { listener_id, pool } => {
            format!("create pool {} on listener {listener_id}", pool.name)
        }
        Step::DeletePool { id } => format!("delete pool {id}"),
        Step::UpdatePool { id, pool } => format!(
            "update pool {id}: algorithm {}, persistence {:?}",
            pool.algorithm, pool.persistence
        ),
        Step::SetMembers { pool_id, members } => {
            let list: Vec<String> = members
                .iter()
                .map(|m| format!("{}:{}", m.address, m.port))
                .collect();
            format!("set the members of pool {pool_id} to {}", list.join(", "))
        }
        Step::CreateMonitor { pool_id, monitor } => {
            format!("create a {} health monitor on pool {pool_id}", monitor.kind)
        }
        Step::UpdateMonitor { id, monitor } => {
            format!("update health monitor {id} (every {}s)", monitor.delay)
        }
        Step::DeleteMonitor { id } => format!("delete health monitor {id}"),
        Step::CreateFloatingIp(f) => format!(
            "create a floating IP on network {} bound to the VIP",
            f.network_id
        ),
        Step::BindFloatingIp { id } => format!("bind floating IP {id} to the VIP"),
        Step::TagFloatingIp { id, .. } => format!("tag floating IP {id} as ours"),
        Step::DeleteFloatingIp { id } => format!("delete floating IP {id}"),
        Step::Rebuild { reason } => format!("delete and rebuild the load balancer: {reason}"),
    }
}
