//! Breaker accounting on the request path: the selection-time availability check, one
//! admit + record per attempt, and the whole per-request accounting (cluster
//! concurrency limit, retry budget, breaker, passive outlier detection).
//!
//! No metrics recorder is installed here, so metric handles are no-ops: these figures
//! leave out the cost of the Prometheus counters the binary updates.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_main, Criterion};
use portcullis_breaker::{Breaker, ConcurrencyLimit, RetryBudget};
use portcullis_config::Cluster;
use portcullis_health::{ClusterHealth, Outcome};
use tokio::time::Instant;

/// A cluster with every breaker, limit and outlier setting at its default.
fn default_cluster() -> Cluster {
    let config = portcullis_config::parse(
        r#"
        [[listeners]]
        name = "web"
        address = "127.0.0.1:8080"
        [[routes]]
        cluster = "api"
        [clusters.api]
        backends = [{ address = "127.0.0.1:9001" }, { address = "127.0.0.1:9002" }]
        "#,
        "bench.toml",
    );
    match config {
        Ok(config) => config.clusters["api"].clone(),
        Err(errors) => panic!("the bench config is invalid: {errors}"),
    }
}

fn bench_breaker(c: &mut Criterion) {
    let cluster = default_cluster();
    let settings = &cluster.circuit_breaker;
    let mut group = c.benchmark_group("breaker");

    let breaker = Breaker::new(settings, "api", "127.0.0.1:9001");
    group.bench_function("is_available", |b| {
        b.iter(|| black_box(breaker.is_available(Instant::now())))
    });
    group.bench_function("admit_record_success", |b| {
        b.iter(|| {
            let now = Instant::now();
            if let Some(ticket) = breaker.admit(now) {
                breaker.record(ticket, true, now);
            }
        })
    });

    // One failure in twenty: below `failure_ratio`, so the breaker stays closed while
    // the window counts both kinds.
    let mixed = Breaker::new(settings, "api", "127.0.0.1:9002");
    let mut n = 0u32;
    group.bench_function("admit_record_5pct_failures", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let now = Instant::now();
            if let Some(ticket) = mixed.admit(now) {
                mixed.record(ticket, n % 20 != 0, now);
            }
        })
    });

    let limit = Arc::new(ConcurrencyLimit::new(settings.max_requests));
    let budget = RetryBudget::new(&cluster.retry, &cluster.name);
    let health = ClusterHealth::new(&cluster);
    let backend = Breaker::new(settings, "api", "127.0.0.1:9001");
    group.bench_function("request_accounting", |b| {
        b.iter(|| {
            let now = Instant::now();
            budget.record_request(now);
            let slot = limit.try_acquire();
            let available = health.backends()[0].is_available(now) && backend.is_available(now);
            if let (Some(_slot), true) = (slot, available) {
                if let Some(ticket) = backend.admit(now) {
                    backend.record(ticket, true, now);
                    health.record(0, Outcome::Success, now);
                }
            }
        })
    });
    group.finish();
}

/// Every benchmark of this file (what `criterion_group!` would generate, documented).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_breaker(&mut criterion);
}

criterion_main!(benches);
