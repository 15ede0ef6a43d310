//! `HealthRegistry::update` across reloads: identity kept, probers reconciled.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{cluster, config, http_check, wait_for, Origin};
use portcullis_health::{HealthRegistry, HealthStatus, Outcome};
use tokio::time::{sleep, Instant};

const MS: Duration = Duration::from_millis(1);
const SLACK: Duration = Duration::from_millis(300);

#[tokio::test]
async fn the_same_config_twice_keeps_every_state_and_one_prober() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(200, 150, 2, 3);
    let config = config(&[cluster("api", &[origin.addr()], Some(&check))]);
    let first = registry.update(&config);
    let second = registry.update(&config);
    assert!(Arc::ptr_eq(
        &first["api"].backends()[0],
        &second["api"].backends()[0]
    ));
    assert_eq!(registry.probers(), 1);
    sleep(1_100 * MS).await;
    let hits = origin.hits();
    assert!((4..=7).contains(&hits), "hits: {hits}");
}

#[tokio::test]
async fn removing_a_backend_stops_its_probes() {
    let stays = Origin::start(200).await;
    let goes = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(50, 100, 1, 1);
    registry.update(&config(&[cluster(
        "api",
        &[stays.addr(), goes.addr()],
        Some(&check),
    )]));
    assert!(wait_for(SLACK, || goes.hits() >= 2).await.is_some());
    let after = registry.update(&config(&[cluster("api", &[stays.addr()], Some(&check))]));
    assert_eq!(after["api"].backends().len(), 1);
    assert_eq!(registry.probers(), 1);
    sleep(50 * MS).await; // a probe in flight during the update may still land
    let hits = goes.hits();
    let staying = stays.hits();
    sleep(400 * MS).await;
    assert_eq!(goes.hits(), hits, "removed backend still probed");
    assert!(stays.hits() > staying, "staying backend no longer probed");
}

#[tokio::test]
async fn a_staying_backend_keeps_its_ejection_across_a_reload() {
    let registry = HealthRegistry::new();
    let outlier = "[clusters.api.outlier_detection]\nconsecutive_failures = 1\n";
    let a: std::net::SocketAddr = "127.0.0.1:1001".parse().expect("addr");
    let b: std::net::SocketAddr = "127.0.0.1:1002".parse().expect("addr");
    let before = registry.update(&config(&[cluster("api", &[a], None) + outlier]));
    before["api"].record(0, Outcome::GatewayFailure, Instant::now());
    let status = before["api"].backends()[0].status(Instant::now());
    assert!(matches!(status, HealthStatus::Ejected { .. }));

    let after = registry.update(&config(&[cluster("api", &[b, a], None) + outlier]));
    let backends = after["api"].backends();
    assert_eq!(backends[0].address(), b.to_string(), "config order");
    assert!(Arc::ptr_eq(&backends[1], &before["api"].backends()[0]));
    assert_eq!(backends[1].status(Instant::now()), status);
    assert_eq!(backends[0].status(Instant::now()), HealthStatus::Healthy);
}

#[tokio::test]
async fn a_changed_check_restarts_the_prober() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = |path: &str| format!("path = \"{path}\"\ninterval = \"10s\"");
    let old = registry.update(&config(&[cluster(
        "api",
        &[origin.addr()],
        Some(&check("/a")),
    )]));
    assert!(wait_for(SLACK, || origin.hits() == 1).await.is_some());
    let new = registry.update(&config(&[cluster(
        "api",
        &[origin.addr()],
        Some(&check("/b")),
    )]));
    assert!(Arc::ptr_eq(
        &old["api"].backends()[0],
        &new["api"].backends()[0]
    ));
    assert!(wait_for(SLACK, || origin.hits() == 2).await.is_some());
    let paths: Vec<String> = origin.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/a", "/b"]);
    assert_eq!(registry.probers(), 1);
}

#[tokio::test]
async fn removing_the_health_check_stops_probes_and_readmits() {
    let origin = Origin::start(503).await;
    let registry = HealthRegistry::new();
    let check = http_check(50, 100, 1, 1);
    let health = registry.update(&config(&[cluster("api", &[origin.addr()], Some(&check))]));
    let backend = Arc::clone(&health["api"].backends()[0]);
    assert!(wait_for(SLACK, || !backend.is_available(Instant::now()))
        .await
        .is_some());
    registry.update(&config(&[cluster("api", &[origin.addr()], None)]));
    assert!(backend.is_available(Instant::now()));
    assert_eq!(registry.probers(), 0);
    sleep(50 * MS).await;
    let hits = origin.hits();
    sleep(300 * MS).await;
    assert_eq!(origin.hits(), hits);
}

#[tokio::test]
async fn a_bulk_add_spreads_first_probes_across_the_interval() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(2_000, 500, 1, 1);
    // Twenty clusters of one backend each, all probing the same origin.
    let mut clusters: Vec<String> = (0..20)
        .map(|n| cluster(&format!("c{n}"), &[origin.addr()], Some(&check)))
        .collect();
    clusters[0] = cluster("api", &[origin.addr()], Some(&check));
    registry.update(&config(&clusters));
    sleep(150 * MS).await;
    assert!(origin.hits() < 20, "all twenty probed in one burst");
    assert!(wait_for(2_000 * MS + SLACK, || origin.hits() >= 20)
        .await
        .is_some());
}

#[tokio::test]
async fn a_small_add_probes_at_once() {
    let origins = [
        Origin::start(200).await,
        Origin::start(200).await,
        Origin::start(200).await,
    ];
    let registry = HealthRegistry::new();
    let check = http_check(10_000, 500, 1, 1);
    let addrs: Vec<_> = origins.iter().map(Origin::addr).collect();
    registry.update(&config(&[cluster("api", &addrs, Some(&check))]));
    let all = || origins.iter().all(|o| o.hits() == 1);
    assert!(wait_for(SLACK, all).await.is_some());
}

#[tokio::test]
async fn shutdown_stops_every_prober() {
    let origin = Origin::start(200).await;
    let registry = HealthRegistry::new();
    let check = http_check(50, 100, 1, 1);
    registry.update(&config(&[cluster("api", &[origin.addr()], Some(&check))]));
    assert!(wait_for(SLACK, || origin.hits() >= 1).await.is_some());
    registry.shutdown();
    assert_eq!(registry.probers(), 0);
    sleep(50 * MS).await;
    let hits = origin.hits();
    sleep(300 * MS).await;
    assert_eq!(origin.hits(), hits);
}

#[test]
fn an_update_outside_a_runtime_does_not_panic() {
    let registry = HealthRegistry::new();
    let addr = "127.0.0.1:1001".parse().expect("addr");
    let check = http_check(50, 100, 1, 1);
    let health = registry.update(&config(&[cluster("api", &[addr], Some(&check))]));
    assert_eq!(health["api"].backends().len(), 1);
    assert_eq!(registry.probers(), 0);
}
