//! The waiter on paused time: ACTIVE, ERROR, gone, budget, transient errors, cancellation.

mod session_support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openstack::wait::{wait_until, Goal, Outcome, WaitPolicy};
use openstack::{Call, Error, ServiceFailure, ServiceType, Session, Timeouts};
use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn exact() -> WaitPolicy {
    WaitPolicy {
        jitter: 0.0,
        ..WaitPolicy::default()
    }
}

fn status_error(status: u16) -> Error {
    Error::from_failure(ServiceFailure::from_response(
        "load-balancer",
        "GET",
        "/v2/lbaas/loadbalancers/lb1",
        status,
        None,
        br#"{"faultcode":"Client","faultstring":"x","debuginfo":null}"#,
    ))
}

/// A fetch closure that answers from a script (the last answer repeats) and counts polls.
fn scripted(
    answers: Vec<Result<&'static str, u16>>,
) -> (
    impl FnMut() -> futures::future::Ready<Result<String, Error>>,
    Arc<Mutex<usize>>,
) {
    let polls = Arc::new(Mutex::new(0));
    let counter = polls.clone();
    let mut queue: VecDeque<_> = answers.into();
    let fetch = move || {
        *counter.lock().unwrap() += 1;
        let answer = if queue.len() > 1 {
            queue.pop_front().unwrap()
        } else {
            queue[0]
        };
        futures::future::ready(match answer {
            Ok(s) => Ok(s.to_string()),
            Err(code) => Err(status_error(code)),
        })
    };
    (fetch, polls)
}

fn never() -> futures::future::Pending<()> {
    futures::future::pending()
}

#[tokio::test(start_paused = true)]
async fn pending_then_active_is_ready_after_backoff() {
    let (fetch, polls) = scripted(vec![
        Ok("PENDING_CREATE"),
        Ok("PENDING_CREATE"),
        Ok("PENDING_CREATE"),
        Ok("ACTIVE"),
    ]);
    let started = Instant::now();
    let out = wait_until("load balancer lb1", fetch, Goal::Active, &exact(), never()).await;
    assert_eq!(out.unwrap(), Outcome::Ready);
    assert_eq!(*polls.lock().unwrap(), 4);
    // 1 s, then ×1.5 each time: 1 + 1.5 + 2.25
    assert_eq!(started.elapsed(), Duration::from_millis(4750));
}

#[tokio::test(start_paused = true)]
async fn error_status_ends_the_wait_with_a_typed_error() {
    let (fetch, polls) = scripted(vec![Ok("PENDING_UPDATE"), Ok("ERROR")]);
    let err = wait_until("load balancer lb1", fetch, Goal::Active, &exact(), never())
        .await
        .unwrap_err();
    match &err {
        Error::ProvisioningFailed { what, status } => {
            assert_eq!(what, "load balancer lb1");
            assert_eq!(status, "ERROR");
        }
        other => panic!("expected ProvisioningFailed, got {other}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("delete and recreate"), "{err}");
    assert_eq!(*polls.lock().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn not_found_means_gone_when_deleting() {
    let (fetch, polls) = scripted(vec![Ok("PENDING_DELETE"), Ok("PENDING_DELETE"), Err(404)]);
    let out = wait_until("load balancer lb1", fetch, Goal::Gone, &exact(), never()).await;
    assert_eq!(out.unwrap(), Outcome::Gone);
    assert_eq!(*polls.lock().unwrap(), 3);
    let (fetch, _) = scripted(vec![Ok("DELETED")]);
    assert_eq!(
        wait_until("lb", fetch, Goal::Gone, &exact(), never())
            .await
            .unwrap(),
        Outcome::Gone
    );
}

#[tokio::test(start_paused = true)]
async fn not_found_is_an_error_when_waiting_for_active() {
    let (fetch, _) = scripted(vec![Ok("PENDING_CREATE"), Err(404)]);
    let err = wait_until("lb", fetch, Goal::Active, &exact(), never())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn error_while_deleting_is_a_failure() {
    let (fetch, _) = scripted(vec![Ok("PENDING_DELETE"), Ok("ERROR")]);
    let err = wait_until("lb", fetch, Goal::Gone, &exact(), never())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ProvisioningFailed { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn budget_exceeded_reports_the_last_status() {
    let (fetch, polls) = scripted(vec![Ok("PENDING_CREATE")]);
    let policy = WaitPolicy {
        budget: Duration::from_secs(600),
        ..exact()
    };
    let started = Instant::now();
    let err = wait_until("load balancer lb1", fetch, Goal::Active, &policy, never())
        .await
        .unwrap_err();
    match &err {
        Error::WaitTimedOut {
            waited, last, goal, ..
        } => {
            assert_eq!(*waited, Duration::from_secs(600));
            assert_eq!(last, "PENDING_CREATE");
            assert_eq!(*goal, "ACTIVE");
        }
        other => panic!("expected WaitTimedOut, got {other}"),
    }
    assert!(err.is_retryable());
    assert_eq!(started.elapsed(), Duration::from_secs(600));
    // Polls at 0, then after 1, 1.5, 2.25, 3.375, 5.0625, 7.59375 s (t = 20.78125 s, 7 polls),
    // then every 10 s up to t = 590.78125 s (57 more), then a last one at the deadline.
    let n = *polls.lock().unwrap();
    assert_eq!(n, 65, "polls: {n}");
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_polled_through() {
    let (fetch, polls) = scripted(vec![
        Err(503),
        Ok("PENDING_CREATE"),
        Err(502),
        Err(429),
        Ok("ACTIVE"),
    ]);
    let out = wait_until("lb", fetch, Goal::Active, &exact(), never()).await;
    assert_eq!(out.unwrap(), Outcome::Ready);
    assert_eq!(*polls.lock().unwrap(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_final_error_stops_the_wait() {
    let (fetch, polls) = scripted(vec![Ok("PENDING_CREATE"), Err(403), Ok("ACTIVE")]);
    let err = wait_until("lb", fetch, Goal::Active, &exact(), never())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(*polls.lock().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_the_wait() {
    let (fetch, polls) = scripted(vec![Ok("PENDING_CREATE")]);
    let started = Instant::now();
    let cancel = tokio::time::sleep(Duration::from_secs(30));
    let err = wait_until("load balancer lb1", fetch, Goal::Active, &exact(), cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert!(*polls.lock().unwrap() < 10);
}

#[tokio::test(start_paused = true)]
async fn jittered_delays_never_exceed_the_plain_ones() {
    let (fetch, _) = scripted(vec![
        Ok("PENDING_CREATE"),
        Ok("PENDING_CREATE"),
        Ok("ACTIVE"),
    ]);
    let started = Instant::now();
    let policy = WaitPolicy {
        jitter: 0.5,
        ..WaitPolicy::default()
    };
    wait_until("lb", fetch, Goal::Active, &policy, never())
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(waited <= Duration::from_millis(2500), "{waited:?}");
    assert!(waited >= Duration::from_millis(1250), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn waits_on_a_real_session() {
    let server = MockServer::start().await;
    session_support::mount_keystone(&server, "tok").await;
    let lb = "/load-balancer/v2/lbaas/loadbalancers/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e";
    let body = |s: &str| json!({"loadbalancer": {"id": "8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e", "provisioning_status": s}});
    Mock::given(method("GET"))
        .and(path(lb))
        .respond_with(ResponseTemplate::new(200).set_body_json(body("PENDING_CREATE")))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(lb))
        .respond_with(ResponseTemplate::new(200).set_body_json(body("ACTIVE")))
        .with_priority(2)
        .mount(&server)
        .await;
    let mut cfg = session_support::config(&server, session_support::password());
    cfg.timeouts = Timeouts::disabled();
    let session = Session::new(cfg).unwrap();
    let fetch = || {
        let session = session.clone();
        async move {
            let reply = session
                .send(Call::new(
                    ServiceType::LoadBalancer,
                    Method::GET,
                    "lbaas/loadbalancers/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e",
                    &[200],
                ))
                .await?;
            let v: serde_json::Value = reply.json()?;
            Ok::<_, Error>(
                v["loadbalancer"]["provisioning_status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        }
    };
    let started = Instant::now();
    let out = wait_until("load balancer", fetch, Goal::Active, &exact(), never()).await;
    assert_eq!(out.unwrap(), Outcome::Ready);
    assert_eq!(started.elapsed(), Duration::from_millis(2500));
}
