//! Secrets suite (issue 7): a full flow with every log at TRACE — the real `serve` binary and the
//! real CLI against the simulated cloud: hooks, token revocation (re-auth), injected cloud
//! errors, removal, wrong credentials, application credentials, `status`, `/metrics`, SIGTERM —
//! and then no password, application-credential secret or token anywhere: daemon and CLI logs,
//! CLI output and errors, the store file, the status report, `/metrics`.

mod crash_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crash_support::*;
use octavia_integrator::relation::databag::HookInput;
use openstack_sim::{Provider, RouteMatch};

/// Every text the flow produced, labelled.
#[derive(Default)]
struct Haystack {
    texts: Vec<(String, String)>,
}

impl Haystack {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.texts.push((label.into(), text.into()));
    }

    fn add_output(&mut self, label: &str, out: &Output) {
        self.add(
            format!("{label} stdout"),
            String::from_utf8_lossy(&out.stdout),
        );
        self.add(
            format!("{label} stderr"),
            String::from_utf8_lossy(&out.stderr),
        );
    }

    /// Panics naming the first text that holds `needle`, with the line.
    fn assert_absent(&self, what: &str, needle: &str) {
        assert!(!needle.is_empty());
        for (label, text) in &self.texts {
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                panic!("{what} leaked into {label}: {line}");
            }
        }
    }
}

/// Runs the CLI with `args`, `stdin`, logs at TRACE.
fn cli(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("-vvv")
        .args(args)
        .env("OCTAVIA_INTEGRATOR_LOG", "trace")
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .env_remove("OS_CLOUD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the CLI");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("CLI output")
}

/// Runs the `lb-consumers` hook until every request is answered: through the daemon's socket
/// (the library path the CLI takes), and once per round through the CLI binary itself, whose
/// output and logs join the haystack.
async fn hook_until_answered(
    paths: &Paths,
    client: octavia_integrator::daemon::DaemonClient,
    hay: &mut Haystack,
    local: &mut Local,
    make: impl Fn(&Local) -> HookInput,
    wanted: &std::collections::BTreeMap<u64, Vec<octavia_integrator::relation::Request>>,
) {
    let input = serde_json::to_string(&make(local)).expect("hook input");
    let out = cli(&paths.settings, &["lb-consumers"], &input);
    hay.add_output("lb-consumers", &out);
    for _ in 0..3000 {
        let result = hook_via(client.clone(), &make(local)).await;
        assert!(
            result.problems.is_empty(),
            "hook problems: {:?}",
            result.problems
        );
        hay.add("hook notes", result.notes.join("\n"));
        apply_writes(local, &result.output);
        hay.add(
            "hook output",
            serde_json::to_string(&result.output).expect("json"),
        );
        if all_answered(local, wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("requests never answered: {local:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_at_trace_shows_no_password_secret_or_token() {
    let sim = start_sim(Provider::Amphora, 0.0005, 41).await;
    let creds = sim.credentials();
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = write_settings(&sim, dir.path(), None);
    let log = dir.path().join("daemon.log");
    let mut daemon = DaemonProcess::start(&paths, &log, "trace").await;
    let mut hay = Haystack::default();

    let members: Vec<String> = (0..3).map(member).collect();
    let external = request("api-server-external", 443, &members, true);
    let internal = request("api-server-internal", 6443, &members, false);
    let wanted = std::collections::BTreeMap::from([
        (1, vec![external.clone()]),
        (2, vec![internal.clone()]),
    ]);
    let both = |local: &Local| HookInput {
        relations: vec![
            relation(
                1,
                "kubernetes-control-plane",
                std::slice::from_ref(&external),
                local,
            ),
            relation(
                2,
                "kubernetes-control-plane",
                std::slice::from_ref(&internal),
                local,
            ),
        ],
    };
    // A cloud error on the first create: logged and retried, never with credentials.
    sim.faults().error(
        RouteMatch::new("POST", "/load-balancer/v2/lbaas/loadbalancers"),
        503,
        1.0,
        Some(1),
    );
    let mut local = Local::new();
    hook_until_answered(&paths, daemon.client(), &mut hay, &mut local, both, &wanted).await;

    // Tokens revoked: every later call re-authenticates (password sent again, new token).
    let auths_before = sim.calls().auths();
    sim.faults().revoke_tokens();
    let members2: Vec<String> = (0..4).map(member).collect();
    let external2 = request("api-server-external", 443, &members2, true);
    let wanted2 = std::collections::BTreeMap::from([(1, vec![external2.clone()])]);
    let only_external = |local: &Local| HookInput {
        relations: vec![
            relation(
                1,
                "kubernetes-control-plane",
                std::slice::from_ref(&external2),
                local,
            ),
            relation(2, "kubernetes-control-plane", &[], local),
        ],
    };
    hook_until_answered(
        &paths,
        daemon.client(),
        &mut hay,
        &mut local,
        only_external,
        &wanted2,
    )
    .await;
    assert!(
        sim.calls().auths() > auths_before,
        "revoked tokens force a re-authentication (otherwise this test checks less than it says)"
    );

    let status = cli(&paths.settings, &["status", "--json"], "");
    hay.add_output("status", &status);
    assert!(status.status.success(), "status: {status:?}");
    hay.add(
        "status report",
        format!("{:?}", status_report(&daemon).await),
    );
    let metrics = get_metrics(&paths.metrics);
    assert!(metrics.contains("200 OK"), "metrics: {metrics}");
    hay.add("/metrics", metrics);

    // The daemon stops on SIGTERM, persisting its store.
    assert!(daemon.terminate(), "serve exits 0 on SIGTERM");
    let store = std::fs::read_to_string(&paths.state).expect("the store file exists");
    assert!(store.contains("api-server-external"), "store: {store}");
    hay.add("store", store);

    // Wrong password, in-process: the error says what failed, without the password.
    let wrong = "Wr0ng-S3CRET-pw-7f3a";
    let dir2 = tempfile::tempdir().expect("temp dir");
    let bad = write_settings(
        &sim,
        dir2.path(),
        Some(&format!(
            "username = \"{}\"\nuser_domain_name = \"{}\"\npassword = \"{wrong}\"\n\
             project_name = \"{}\"\nproject_domain_name = \"{}\"\n",
            creds.username, creds.domain_name, creds.project_name, creds.domain_name
        )),
    );
    let request_file = dir2.path().join("request.json");
    std::fs::write(&request_file, external2.canonical_json()).expect("request file");
    let out = cli(
        &bad.settings,
        &[
            "apply",
            "--request",
            request_file.to_str().expect("utf-8"),
            "--wait",
            "5",
        ],
        "",
    );
    hay.add_output("apply with a wrong password", &out);
    assert!(!out.status.success(), "a wrong password fails: {out:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("401") || err.contains("unauthori") || err.contains("credential"),
        "the error names the authentication failure: {err}"
    );

    // Application credential, in-process plan: secret used, never shown.
    let dir3 = tempfile::tempdir().expect("temp dir");
    let app = write_settings(
        &sim,
        dir3.path(),
        Some(&format!(
            "application_credential_id = \"{}\"\napplication_credential_secret = \"{}\"\n",
            creds.application_credential_id, creds.application_credential_secret
        )),
    );
    let out = cli(
        &app.settings,
        &["plan", "--request", request_file.to_str().expect("utf-8")],
        "",
    );
    hay.add_output("plan with an application credential", &out);
    assert!(
        out.status.success(),
        "plan with an application credential: {out:?}"
    );

    let daemon_log = std::fs::read_to_string(&log).expect("daemon log");
    assert!(
        daemon_log.contains("TRACE"),
        "the daemon logged at TRACE (otherwise this test checks less than it says)"
    );
    hay.add("daemon log", daemon_log);

    hay.assert_absent("the password", &creds.password);
    hay.assert_absent("the wrong password", wrong);
    hay.assert_absent(
        "the application credential secret",
        &creds.application_credential_secret,
    );
    // Every token the simulator issues starts with this.
    hay.assert_absent("a token", "gAAAAAsim");
    sim.shutdown().await;
}

async fn status_report(d: &DaemonProcess) -> octavia_integrator::daemon::api::StatusReport {
    status(&d.client()).await
}
