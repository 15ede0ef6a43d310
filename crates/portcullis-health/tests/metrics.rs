//! Metric names, labels and values, through a small in-test recorder.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::{cluster, config, http_check, wait_for, Origin};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use portcullis_health::{names, ClusterHealth, HealthRegistry, Outcome};
use tokio::time::Instant;

/// Keeps every handle's value under `name{label=value,...}` (labels sorted).
#[derive(Default)]
struct TestRecorder {
    values: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    fn slot(&self, key: &Key) -> Arc<AtomicU64> {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(values.entry(name).or_default())
    }

    fn counter(&self, name: &str, backend: &str, label: &str) -> u64 {
        self.read(&format!("{name}{{backend={backend},cluster=api,{label}}}"))
    }

    fn gauge(&self, backend: &str) -> f64 {
        let key = format!(
            "{}{{backend={backend},cluster=api}}",
            names::BACKEND_HEALTHY
        );
        f64::from_bits(self.read(&key))
    }

    fn read(&self, key: &str) -> u64 {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        match values.get(key) {
            Some(value) => value.load(Ordering::SeqCst),
            None => panic!(
                "no metric {key}; have {:?}",
                values.keys().collect::<Vec<_>>()
            ),
        }
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.slot(key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.slot(key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[tokio::test(start_paused = true)]
async fn passive_ejection_counts_and_flips_the_gauge() {
    let recorder = TestRecorder::default();
    let source = cluster("api", &["10.0.0.1:80".parse().expect("addr")], None)
        + "[clusters.api.outlier_detection]\nconsecutive_failures = 2\nbase_ejection_time = \"5s\"\n";
    let config = config(&[source]);
    let health =
        metrics::with_local_recorder(&recorder, || ClusterHealth::new(&config.clusters["api"]));
    let backend = "10.0.0.1:80";
    assert_eq!(recorder.gauge(backend), 1.0);
    health.record(0, Outcome::GatewayFailure, Instant::now());
    health.record(0, Outcome::GatewayFailure, Instant::now());
    assert_eq!(recorder.gauge(backend), 0.0);
    let ejections = |reason| recorder.counter(names::BACKEND_EJECTIONS_TOTAL, backend, reason);
    assert_eq!(ejections("reason=passive"), 1);
    assert_eq!(ejections("reason=active"), 0);
    tokio::time::sleep(Duration::from_secs(5)).await;
    tokio::task::yield_now().await;
    assert_eq!(recorder.gauge(backend), 1.0, "back after the ejection time");
}

#[tokio::test]
async fn active_checks_count_probes_and_ejections() {
    let recorder = TestRecorder::default();
    let origin = Origin::start(503).await;
    let registry = HealthRegistry::new();
    let config = config(&[cluster(
        "api",
        &[origin.addr()],
        Some(&http_check(50, 200, 1, 1)),
    )]);
    let health = metrics::with_local_recorder(&recorder, || registry.update(&config));
    let backend = &health["api"].backends()[0];
    let limit = Duration::from_millis(500);
    assert!(wait_for(limit, || !backend.is_available(Instant::now()))
        .await
        .is_some());
    let addr = origin.addr().to_string();
    let checks = |result| recorder.counter(names::HEALTH_CHECKS_TOTAL, &addr, result);
    assert!(checks("result=fail") >= 1);
    assert_eq!(recorder.gauge(&addr), 0.0);
    let ejections = |reason| recorder.counter(names::BACKEND_EJECTIONS_TOTAL, &addr, reason);
    assert_eq!(ejections("reason=active"), 1);

    origin.set_status(200);
    assert!(wait_for(limit, || backend.is_available(Instant::now()))
        .await
        .is_some());
    assert!(checks("result=pass") >= 1);
    assert_eq!(recorder.gauge(&addr), 1.0);
    assert_eq!(ejections("reason=active"), 1);
}
