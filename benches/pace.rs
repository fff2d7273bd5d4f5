//! Pace benchmark (issue 15): how close to the cloud's own finish do we answer?
//!
//! **Real cloud** (when `OS_AUTH_URL` is set, e.g. `source /tmp/realos/openrc`; skipped
//! otherwise, and said so): `OI_BENCH_ROUNDS` rounds (default 7, after one warm-up round
//! that is not counted) of, side by side in one run, the same request shape (internal,
//! tcp 443→6443, HTTP `/livez` monitor, 3 members):
//! - **raw**: the fully populated POST that our reconciler would send, polled every 50 ms
//!   until ACTIVE (POST sent → ACTIVE seen);
//! - **ours**: the real `octavia-integrator serve` binary (a fresh store; it learns the
//!   cloud's pace as it goes), hook (library path, as `lb-consumers` runs it) → daemon →
//!   answer, the answer's time being when the daemon's `notify_command` ran (the moment the
//!   charm is told to re-run its hook);
//! - **member change**: one member added to our load balancer: hook → answer, and the answer's
//!   delay after the load balancer really went ACTIVE again (seen by a side poller every
//!   20 ms that makes no other call).
//!
//! Prints the medians and the ratio ours / raw (target ≤ 1.15).
//!
//! **Simulated cloud**: amphora-like delays (create 60 s, change 5 s, scaled by
//! `OI_BENCH_SCALE`, default 0.05), `OI_BENCH_ROUNDS` creates and member changes through one
//! reconciler on the production schedule: the overshoot past the simulated ACTIVE, in % of the
//! provisioning time (target ≤ 5 %).
//!
//! Settings for the real cloud come from the `OS_*` environment: `OS_VIP_SUBNET_ID` (VIP
//! subnet), a cluster id of `i15pace-<pid>`; everything created is removed at the end.
//!
//! Run: `source /tmp/realos/openrc; cargo bench --bench pace`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use octavia_integrator::reconcile::act::create_body;
use octavia_integrator::reconcile::{Outcome, Reconciler};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request};
use octavia_integrator::spec::LbIdentity;
use openstack::load_balancer::load_balancers::{self, ListLoadBalancers};
use openstack::session::{Credentials, DomainRef, Scope, SessionConfig, UserRef};
use openstack::Session;
use serde_json::json;
use support::*;
use tokio::time::Instant;

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The request of round `i`: internal, 3 members (4 after `grown`) in the VIP subnet.
fn real_request(i: usize, grown: bool) -> Request {
    let name = format!("api-{i}");
    let mut r = Request::new(
        format!("{name}-0123456789abcdef"),
        &name,
        Protocol::Tcp,
        BTreeMap::from([(443, 6443)]),
    );
    let n = if grown { 4 } else { 3 };
    r.backends = (0..n).map(|m| format!("198.51.100.{}", 230 + m)).collect();
    r.public = false;
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks = vec![hc];
    r.sealed()
}

fn real_session() -> Option<Session> {
    let auth = env("OS_AUTH_URL")?;
    let user_domain = env("OS_USER_DOMAIN_NAME").unwrap_or_else(|| "Default".into());
    let project_domain = env("OS_PROJECT_DOMAIN_NAME").unwrap_or_else(|| "Default".into());
    let mut config = SessionConfig::new(
        auth,
        Credentials::Password {
            user: UserRef::Name {
                name: env("OS_USERNAME")?,
                domain: DomainRef::Name(user_domain),
            },
            password: env("OS_PASSWORD")?.into(),
        },
    );
    config.scope = Some(Scope::ProjectName {
        name: env("OS_PROJECT_NAME")?,
        domain: DomainRef::Name(project_domain),
    });
    Session::new(config).ok()
}

/// Writes the 0600 settings file for the real cloud.
fn write_settings(dir: &Path, cluster: &str, notify: &Path) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let q = |s: String| format!("{s:?}");
    let text = format!(
        "cluster_id = {cluster:?}\n\n[cloud]\nauth_url = {auth}\nusername = {user}\n\
         user_domain_name = {udom}\npassword = {password}\nproject_name = {project}\n\
         project_domain_name = {pdom}\n\n[load_balancer]\nvip_subnet = {vip}\n\
         manage_security_groups = false\n\n[daemon]\nsocket = {socket:?}\n\
         state_file = {state:?}\nmetrics_address = \"off\"\n\
         notify_command = [\"/bin/sh\", \"-c\", \"echo $(date +%s%N) $OCTAVIA_INTEGRATOR_REQUEST >> {notify}\"]\n",
        auth = q(env("OS_AUTH_URL").unwrap_or_default()),
        user = q(env("OS_USERNAME").unwrap_or_default()),
        udom = q(env("OS_USER_DOMAIN_NAME").unwrap_or_else(|| "Default".into())),
        password = q(env("OS_PASSWORD").unwrap_or_default()),
        project = q(env("OS_PROJECT_NAME").unwrap_or_default()),
        pdom = q(env("OS_PROJECT_DOMAIN_NAME").unwrap_or_else(|| "Default".into())),
        vip = q(env("OS_VIP_SUBNET_ID").unwrap_or_default()),
        socket = dir.join("d.sock").display().to_string(),
        state = dir.join("state.json").display().to_string(),
        notify = notify.display(),
    );
    let path = dir.join("settings.toml");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .expect("settings file");
    std::io::Write::write_all(&mut f, text.as_bytes()).expect("write settings");
    path
}

/// The first notify line for `request` after `after_ns` (polled every 2 ms, up to 120 s).
async fn notified(file: &Path, request: &str, after_ns: u128) -> Option<u128> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(t), Some(r)) = (parts.next(), parts.next()) else {
                continue;
            };
            if let Ok(t) = t.parse::<u128>() {
                if t > after_ns && r.ends_with(request) {
                    return Some(t);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

/// Raw: POST `body`, poll every 50 ms until ACTIVE; seconds from the POST to ACTIVE seen.
async fn raw_round(session: &Session, rec: &Reconciler, i: usize) -> f64 {
    let key = LbIdentity::new("raw", format!("api-{i}"));
    let plan = rec
        .plan(&key, &real_request(i, false))
        .await
        .unwrap_or_else(|o| panic!("the raw request plans: {o:?}"));
    let body = create_body(&plan.desired, true);
    let t0 = Instant::now();
    let lb = load_balancers::create(session, &body)
        .await
        .expect("raw fully populated POST");
    loop {
        let got = load_balancers::get(session, &lb.id)
            .await
            .expect("raw poll");
        match got.provisioning_status.as_str() {
            "ACTIVE" => break,
            "ERROR" => panic!("raw load balancer {} went ERROR", lb.id),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let took = t0.elapsed().as_secs_f64();
    delete_and_wait(session, &lb.id).await;
    took
}

async fn delete_and_wait(session: &Session, id: &str) {
    for _ in 0..200 {
        match load_balancers::delete(session, id, true).await {
            Ok(()) => break,
            Err(e) if e.is_not_found() => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    for _ in 0..600 {
        match load_balancers::get(session, id).await {
            Err(e) if e.is_not_found() => return,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Our load balancer of round `i` (by name).
async fn our_lb(session: &Session, cluster: &str, i: usize) -> Option<String> {
    let name = format!("oi-{cluster}-app-api-{i}");
    load_balancers::list(
        session,
        &ListLoadBalancers {
            name: Some(name),
            ..Default::default()
        },
    )
    .await
    .ok()?
    .into_iter()
    .next()
    .map(|lb| lb.id)
}

/// Polls `id` every 20 ms from now until it has been seen PENDING and then ACTIVE; returns
/// the wall-clock ns of the first ACTIVE seen.
async fn side_poll_active(session: Session, id: String) -> Option<u128> {
    let mut pending = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let status = load_balancers::get(&session, &id)
            .await
            .ok()
            .map(|lb| lb.provisioning_status.as_str().to_string());
        match status.as_deref() {
            Some("ACTIVE") if pending => return Some(now_ns()),
            Some(s) if s.starts_with("PENDING") => pending = true,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn real_cloud(rounds: usize) -> Option<serde_json::Value> {
    let Some(session) = real_session() else {
        println!("real cloud: skipped (no OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME; `source /tmp/realos/openrc`)");
        return None;
    };
    if env("OS_VIP_SUBNET_ID").is_none() {
        println!("real cloud: skipped (no OS_VIP_SUBNET_ID)");
        return None;
    }
    let cluster = format!("i15pace-{}", std::process::id());
    let dir = tempfile::tempdir().expect("temp dir");
    let notify = dir.path().join("notify.log");
    let settings = write_settings(dir.path(), &cluster, &notify);
    let raw_settings = {
        let mut s = octavia_integrator::config::Settings::load(&settings).expect("settings load");
        s.cluster_id = format!("{cluster}-raw");
        s
    };
    let rec = Reconciler::connect(session.clone(), &raw_settings)
        .await
        .expect("connect to the real cloud");
    let daemon = DaemonProcess::start_with(&settings, dir.path().join("d.sock")).await;
    let client = daemon.client();
    let side = real_session().expect("side session");

    let (mut raw, mut ours, mut change, mut change_lag) = (vec![], vec![], vec![], vec![]);
    for i in 0..=rounds {
        let warm = i == 0;
        let r = raw_round(&session, &rec, i).await;
        // Ours: hook → daemon → notify.
        let req = real_request(i, false);
        let t0 = now_ns();
        let input = hook_input("app", std::slice::from_ref(&req), None);
        hook_answered(client.clone(), &input).await;
        let key = format!("app/api-{i}");
        let Some(t1) = notified(&notify, &key, t0).await else {
            println!("round {i}: no answer within 120 s; see {}", daemon.log());
            break;
        };
        let o = (t1 - t0) as f64 / 1e9;
        // Member change: one member more.
        let lb_id = our_lb(&side, &cluster, i).await.expect("our load balancer");
        let poller = tokio::spawn(side_poll_active(side.clone(), lb_id));
        let grown = real_request(i, true);
        let t2 = now_ns();
        let input = hook_input("app", std::slice::from_ref(&grown), None);
        hook_answered(client.clone(), &input).await;
        let t3 = notified(&notify, &key, t2)
            .await
            .expect("member change answered");
        let active = poller.await.ok().flatten();
        let c = (t3 - t2) as f64 / 1e9;
        let lag = active.map(|a| (t3 as f64 - a as f64) / 1e9);
        println!(
            "round {i}{}: raw {r:.3} s, ours {o:.3} s, member change {c:.3} s (answer − ACTIVE {})",
            if warm { " (warm-up, not counted)" } else { "" },
            lag.map(|l| format!("{l:.3} s"))
                .unwrap_or_else(|| "-".into())
        );
        if !warm {
            raw.push(r);
            ours.push(o);
            change.push(c);
            if let Some(l) = lag {
                change_lag.push(l);
            }
        }
        // Removed: the relation no longer carries the request.
        let empty = hook_input("app", &[], None);
        hook_answered(client.clone(), &empty).await;
        daemon.idle().await;
    }
    daemon.stop();
    // Anything of ours left (a round cut short): cascade delete.
    if let Ok(left) = load_balancers::list(&session, &ListLoadBalancers::default()).await {
        for lb in left.into_iter().filter(|lb| lb.name.contains(&cluster)) {
            delete_and_wait(&session, &lb.id).await;
        }
    }
    let (mr, mo) = (median(&raw), median(&ours));
    let ratio = mo / (mr + 0.05);
    print_table(
        "Real cloud: create → answer, side by side (seconds, medians)",
        &[
            "rounds",
            "raw POST → ACTIVE (50 ms polls)",
            "ours hook → answer",
            "ours / (raw + 50 ms)",
            "ours / raw",
            "member change hook → answer",
            "member change answer − ACTIVE",
        ],
        &[vec![
            raw.len().to_string(),
            format!("{mr:.3}"),
            format!("{mo:.3}"),
            format!("{ratio:.3}"),
            format!("{:.3}", mo / mr),
            format!("{:.3}", median(&change)),
            format!("{:.3}", median(&change_lag)),
        ]],
    );
    Some(json!({
        "rounds": raw.len(),
        "raw_s": raw, "ours_s": ours, "member_change_s": change,
        "member_change_after_active_s": change_lag,
        "median_raw_s": mr, "median_ours_s": mo,
        "ratio_to_raw_plus_poll": ratio, "ratio_to_raw": mo / mr,
        "median_member_change_after_active_s": median(&change_lag),
    }))
}

/// Simulated amphora: overshoot of creates and member changes past the simulated ACTIVE.
async fn simulated(rounds: usize) -> serde_json::Value {
    let scale = scale();
    let sim = Arc::new(start_sim(scale, 15).await);
    let rec = Arc::new(reconciler(&sim, scale, 4));
    let watcher = Watcher::start(sim.clone());
    let (mut create_pct, mut change_pct) = (vec![], vec![]);
    for i in 0..rounds {
        let key = LbIdentity::new("bench", format!("pace-{i}"));
        let req = request(&format!("pace-{i}"), 3, false);
        let t0 = Instant::now();
        let out = rec.apply(&key, &req).await;
        let t1 = Instant::now();
        let Outcome::Ready(ready) = out else {
            panic!("{out:?}")
        };
        let lb = ready.load_balancer_id;
        let mut bigger = req.clone();
        bigger.backends.push(member(3));
        let bigger = bigger.sealed();
        let t2 = Instant::now();
        let out = rec.apply(&key, &bigger).await;
        let t3 = Instant::now();
        assert!(matches!(out, Outcome::Ready(_)), "{out:?}");
        // The moments this load balancer went ACTIVE (the watcher samples every millisecond).
        let pct = |from: Instant, to: Instant| {
            let active = watcher.last_active_of(&lb, to).filter(|a| *a > from)?;
            Some((
                (to - active).as_secs_f64() / (active - from).as_secs_f64() * 100.0,
                sim_secs(active - from, scale),
            ))
        };
        let (c, u) = (pct(t0, t1), pct(t2, t3));
        let show = |v: Option<(f64, f64)>| {
            v.map(|(p, s)| format!("{p:.1} % of {s:.1} s"))
                .unwrap_or_else(|| "ACTIVE not seen by the watcher".into())
        };
        println!(
            "simulated round {i}: create overshoot {}, member change overshoot {} (simulated)",
            show(c),
            show(u)
        );
        if i > 0 {
            create_pct.extend(c.map(|v| v.0));
            change_pct.extend(u.map(|v| v.0));
        }
    }
    watcher.stop();
    print_table(
        "Simulated amphora (create 60 s, change 5 s): overshoot past ACTIVE, % (medians, first round not counted)",
        &["rounds (create / change)", "create", "member change"],
        &[vec![
            format!("{} / {}", create_pct.len(), change_pct.len()),
            format!("{:.1}", median(&create_pct)),
            format!("{:.1}", median(&change_pct)),
        ]],
    );
    json!({
        "scale": scale,
        "create_overshoot_pct": create_pct, "change_overshoot_pct": change_pct,
        "median_create_overshoot_pct": median(&create_pct),
        "median_change_overshoot_pct": median(&change_pct),
    })
}

#[tokio::main]
async fn main() {
    let rounds = env_f64("OI_BENCH_ROUNDS", 7.0) as usize;
    let real = real_cloud(rounds).await;
    let sim = simulated(rounds.max(2)).await;
    print_json(&json!({
        "bench": "pace",
        "machine": machine(),
        "real": real,
        "simulated": sim,
    }));
}
