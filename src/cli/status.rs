//! `octavia-integrator [--config PATH] status [--json]`: every request and its load balancer.
//!
//! Asks the daemon when it runs; otherwise reads the store and the cloud in this process (the
//! store alone, with the reason, when the cloud cannot be reached).

use super::output::{out, outln};
use std::path::Path;
use std::process::ExitCode;

use super::context::{self, Failure, Runner};
use super::exit;
use super::table;
use crate::daemon::api::{self, StatusReport};
use crate::daemon::cloud;
use crate::daemon::engine::Engine;
use crate::daemon::metrics::Metrics;
use crate::daemon::ClientError;
use crate::store::Store;

/// How long `status` without a daemon waits for the cloud before showing the store alone.
const CLOUD_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Arguments of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `status`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    context::finish((|| {
        // The daemon needs only its socket from us; the cloud settings only without it.
        let daemon = context::load_daemon_settings(config)?;
        let rt = context::current_thread()?;
        let unavailable = |e| Failure::new(exit::UNAVAILABLE, e);
        let (report, unconnected) = match rt.block_on(Runner::find(&daemon.socket)) {
            Ok(Runner::Daemon(d)) => match rt.block_on(d.client.get::<StatusReport>(api::STATUS)) {
                Ok(report) => (report, None),
                // It went away since it answered: the store and the cloud are ours to read.
                Err(ClientError::NotRunning { .. }) => {
                    rt.block_on(in_process(&context::load_settings(config)?))?
                }
                Err(e) => return Err(unavailable(e)),
            },
            Ok(Runner::InProcess) => rt.block_on(in_process(&context::load_settings(config)?))?,
            Err(e) => return Err(unavailable(e)),
        };
        print(&report, args.json);
        // Shown above; the exit code says whether to fix settings (3) or the cloud (1).
        unconnected.map_or(Ok(()), Err)
    })())
}

/// The status report computed in this process, without a daemon: the store, and the cloud
/// when it can be reached (else the failure to report: the report holds the store alone).
///
/// # Errors
/// The store cannot be opened.
pub async fn in_process(
    settings: &crate::config::Settings,
) -> Result<(StatusReport, Option<Failure>), Failure> {
    let store =
        Store::open(&settings.daemon.state_file).map_err(|e| Failure::new(exit::FAILURE, e))?;
    let metrics = std::sync::Arc::new(Metrics::new());
    // What the store holds is shown even when the cloud cannot be reached; the
    // connection error says why the cloud columns are empty.
    let engine = Engine::new(store, None, metrics.clone());
    let mut unconnected = None;
    match tokio::time::timeout(CLOUD_WAIT, cloud::connect(settings, &metrics, None)).await {
        Ok(Ok(reconciler)) => engine.set_cloud(reconciler).await,
        Ok(Err(e)) => {
            engine.set_connect_error(e.to_string());
            unconnected = Some(Failure::new(exit::of_connect(&e), e));
        }
        Err(_) => {
            let why = format!(
                "the cloud did not answer within {}s; check auth_url and the network",
                CLOUD_WAIT.as_secs()
            );
            engine.set_connect_error(why.clone());
            unconnected = Some(Failure::new(exit::FAILURE, anyhow::anyhow!(why)));
        }
    }
    let leader = engine
        .stored_leader()
        .await
        .unwrap_or(settings.daemon.leader);
    Ok((engine.status(leader).await, unconnected))
}

/// Prints `report` as a table or JSON.
pub fn print(report: &StatusReport, json: bool) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(text) => outln!("{text}"),
            Err(e) => eprintln!("error: cannot encode the status: {e}"),
        }
    } else {
        out!("{}", render(report));
    }
}

/// The status table.
pub fn render(report: &StatusReport) -> String {
    let connect = report
        .connect_error
        .as_ref()
        .map(|e| format!("not connected to the cloud: {e}\n"))
        .unwrap_or_default();
    if report.requests.is_empty() {
        return format!("{connect}no requests\n");
    }
    let rows: Vec<Vec<String>> = report
        .requests
        .iter()
        .map(|r| {
            let members = match (r.members_up, r.members_total, r.members_unmonitored) {
                (Some(up), Some(total), Some(unchecked)) => {
                    format!("{up}/{total} ({unchecked} unmonitored)")
                }
                (Some(up), Some(total), None) => format!("{up}/{total}"),
                _ => "-".to_string(),
            };
            let status = match (&r.provisioning_status, &r.operating_status) {
                (Some(p), Some(o)) => format!("{p}/{o}"),
                (Some(p), None) => p.clone(),
                _ => "-".to_string(),
            };
            vec![
                r.request.clone(),
                table::cell(r.load_balancer.as_deref()),
                table::cell(r.vip.as_deref()),
                table::cell(r.floating_ip.as_deref()),
                status,
                members,
                table::cell(r.answer.as_deref()),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "REQUEST",
            "LOAD BALANCER",
            "VIP",
            "FLOATING IP",
            "PROVISIONING/OPERATING",
            "MEMBERS UP",
            "ANSWER",
        ],
        &rows,
    );
    for r in &report.requests {
        let healthy = r.provisioning_status.as_deref() == Some("ACTIVE")
            && r.answer.as_deref().is_some_and(|a| !a.starts_with("error"));
        if healthy {
            continue;
        }
        if let Some(note) = &r.note {
            out.push_str(&format!("  {}: {note}\n", table::bounded(&r.request)));
        }
    }
    out.push_str(&connect);
    if !report.leader {
        out.push_str("(not the leader: this unit does not act on the cloud)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::api::StatusRow;

    #[test]
    fn the_table_shows_every_column() {
        let report = StatusReport {
            leader: true,
            requests: vec![StatusRow {
                request: "kcp/api-server-external".into(),
                load_balancer: Some("oi-test-kcp-api".into()),
                vip: Some("10.5.0.20".into()),
                floating_ip: Some("203.0.113.5".into()),
                provisioning_status: Some("PENDING_UPDATE".into()),
                operating_status: Some("ONLINE".into()),
                members_up: Some(3),
                members_total: Some(3),
                answer: Some("203.0.113.5".into()),
                note: Some("waiting for members".into()),
                ..StatusRow::default()
            }],
            connect_error: None,
        };
        let text = render(&report);
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with("REQUEST"));
        let row = lines.next().unwrap();
        for cell in [
            "kcp/api-server-external",
            "oi-test-kcp-api",
            "10.5.0.20",
            "203.0.113.5",
            "PENDING_UPDATE/ONLINE",
            "3/3",
        ] {
            assert!(row.contains(cell), "{row}");
        }
        // Notes are shown for requests that are not healthy.
        assert!(text.contains("waiting for members"));
        assert_eq!(render(&StatusReport::default()), "no requests\n");
        let unconnected = StatusReport {
            connect_error: Some("the VIP subnet x does not exist".into()),
            ..StatusReport::default()
        };
        assert_eq!(
            render(&unconnected),
            "not connected to the cloud: the VIP subnet x does not exist\nno requests\n"
        );
    }
}
