//! Active checks against real loopback sockets (real time, short intervals).

mod common;

use std::time::Duration;

use common::{closed_port, cluster, config, http_check, silent_listener, wait_for, Origin};
use portcullis_health::{HealthRegistry, HealthStatus};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);
/// Room for a loaded 2-core CI machine on top of every bound the contract gives.
const SLACK: Duration = Duration::from_millis(300);

#[tokio::test]
async fn an_origin_whose_healthz_fails_goes_out_and_comes_back_within_the_thresholds() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(100, 200, 2, 3);
    let clusters = registry.update(&config(&[cluster("api", &[origin.addr()], Some(&check))]));
    let backend = clusters["api"].backends()[0].clone();
    let passed = || backend.last_check().is_some_and(|c| c.passed);
    let ok = wait_for(SLACK, passed).await.is_some();
    assert!(ok, "first probe passes: {:?}", backend.last_check());

    origin.set_status(503);
    // unhealthy_threshold × interval + timeout
    let out = wait_for(300 * MS + 200 * MS + SLACK, || {
        !backend.is_available(Instant::now())
    })
    .await;
    assert!(out.is_some(), "still available");
    assert_eq!(backend.status(Instant::now()), HealthStatus::Unhealthy);
    let error = backend.last_check().and_then(|c| c.error);
    assert_eq!(error.as_deref(), Some("status 503"));

    origin.set_status(200);
    // healthy_threshold × interval
    let back = wait_for(200 * MS + SLACK, || backend.is_available(Instant::now())).await;
    assert!(back.is_some(), "not back");
    assert_eq!(backend.status(Instant::now()), HealthStatus::Healthy);
}

#[tokio::test]
async fn http_probes_get_the_path_with_the_configured_host() {
    let named = Origin::start(200).await;
    let plain = Origin::start(204).await;
    let registry = HealthRegistry::new();
    let check = |host: &str| {
        format!("path = \"/ready?full=1\"\nhost = \"{host}\"\ninterval = \"10s\"\nexpect_status = \"200,204\"")
    };
    let clusters = [
        cluster("api", &[named.addr()], Some(&check("health.example"))),
        cluster("other", &[plain.addr()], Some(&check(""))),
    ];
    let health = registry.update(&config(&clusters));
    assert!(wait_for(SLACK, || named.hits() == 1 && plain.hits() == 1)
        .await
        .is_some());
    assert_eq!(named.requests()[0].path, "/ready?full=1");
    assert_eq!(named.requests()[0].host, "health.example");
    assert_eq!(plain.requests()[0].host, plain.addr().to_string());
    let passed = |c: &str| {
        health[c].backends()[0]
            .last_check()
            .is_some_and(|r| r.passed)
    };
    assert!(wait_for(SLACK, || passed("api") && passed("other"))
        .await
        .is_some());
}

#[tokio::test]
async fn a_first_failing_probe_takes_the_backend_out_at_once() {
    let origin = Origin::start(500).await;
    let registry = HealthRegistry::new();
    let check = http_check(10_000, 1_000, 2, 5);
    let clusters = registry.update(&config(&[cluster("api", &[origin.addr()], Some(&check))]));
    let backend = &clusters["api"].backends()[0];
    assert!(
        backend.is_available(Instant::now()),
        "serves until the first probe"
    );
    let out = wait_for(SLACK, || !backend.is_available(Instant::now())).await;
    assert!(out.is_some(), "one failure is enough for a first probe");
    assert_eq!(origin.hits(), 1);
}

#[tokio::test]
async fn a_tcp_check_on_a_closed_port_keeps_the_backend_out() {
    let addr = closed_port().await;
    let registry = HealthRegistry::new();
    let check = "kind = \"tcp\"\ninterval = \"50ms\"\ntimeout = \"200ms\"";
    let clusters = registry.update(&config(&[cluster("api", &[addr], Some(check))]));
    let backend = &clusters["api"].backends()[0];
    let out = wait_for(SLACK, || !backend.is_available(Instant::now())).await;
    assert!(out.is_some(), "closed port still available");
    for _ in 0..10 {
        tokio::time::sleep(50 * MS).await;
        assert!(!backend.is_available(Instant::now()));
    }
    let error = backend
        .last_check()
        .and_then(|c| c.error)
        .unwrap_or_default();
    assert!(error.starts_with("connect: "), "error: {error}");
    assert!(clusters["api"].soonest_return(Instant::now()).is_some());
}

#[tokio::test]
async fn a_tcp_check_passes_when_the_port_accepts() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = "kind = \"tcp\"\ninterval = \"10s\"";
    let clusters = registry.update(&config(&[cluster("api", &[origin.addr()], Some(check))]));
    let backend = &clusters["api"].backends()[0];
    assert!(wait_for(SLACK, || backend.last_check().is_some())
        .await
        .is_some());
    assert_eq!(backend.last_check().map(|c| c.passed), Some(true));
    assert_eq!(origin.connections(), 1);
    assert_eq!(origin.hits(), 0, "a TCP probe sends no request");
}

#[tokio::test]
async fn an_origin_that_never_answers_fails_by_timeout() {
    let (_listener, addr) = silent_listener().await;
    let registry = HealthRegistry::new();
    let check = http_check(10_000, 150, 1, 1);
    let clusters = registry.update(&config(&[cluster("api", &[addr], Some(&check))]));
    let backend = &clusters["api"].backends()[0];
    let out = wait_for(150 * MS + SLACK, || !backend.is_available(Instant::now())).await;
    assert!(out.is_some(), "no timeout");
    let error = backend.last_check().and_then(|c| c.error);
    assert_eq!(error.as_deref(), Some("timed out after 150ms"));
}

#[tokio::test]
async fn an_origin_that_closes_without_answering_fails() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let registry = HealthRegistry::new();
    let check = http_check(10_000, 500, 1, 1);
    let clusters = registry.update(&config(&[cluster("api", &[addr], Some(&check))]));
    let backend = &clusters["api"].backends()[0];
    let out = wait_for(SLACK, || !backend.is_available(Instant::now())).await;
    assert!(out.is_some(), "still available");
    let error = backend
        .last_check()
        .and_then(|c| c.error)
        .unwrap_or_default();
    assert!(error.starts_with("http: "), "error: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_still_probe_once_per_interval() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(200, 150, 2, 3);
    let _clusters = registry.update(&config(&[cluster("api", &[origin.addr()], Some(&check))]));
    tokio::time::sleep(1_100 * MS).await;
    // Probes at 0, 200, ..., 1000ms: six; a prober per worker would make twelve.
    let hits = origin.hits();
    assert!((4..=7).contains(&hits), "hits: {hits}");
    assert_eq!(registry.probers(), 1);
}
