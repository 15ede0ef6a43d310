//! Installing the process-wide Prometheus recorder. Libraries only use the `metrics`
//! facade; the binary calls [`install_prometheus`] once and serves the handle's
//! `render` on `/metrics`.

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::MetricsError;

/// Bucket upper bounds, in seconds, of the latency histograms: from 0.5 ms (a pooled
/// request on loopback) to 30 s (the default `response_timeout`).
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The histograms that get [`DURATION_BUCKETS`] (SPEC, "Metrics").
pub const DURATION_HISTOGRAMS: &[&str] = &[
    "portcullis_request_duration_seconds",
    "portcullis_upstream_duration_seconds",
];

/// How often histogram samples are folded into their buckets between scrapes, so
/// memory stays bounded when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// A builder with Portcullis's histogram buckets, not yet installed; tests build a
/// local recorder from it with `build_recorder()`.
pub fn prometheus_builder() -> Result<PrometheusBuilder, MetricsError> {
    let mut builder = PrometheusBuilder::new();
    for name in DURATION_HISTOGRAMS {
        builder =
            builder.set_buckets_for_metric(Matcher::Full(name.to_string()), DURATION_BUCKETS)?;
    }
    Ok(builder)
}

/// Installs the global `metrics` recorder (Prometheus, with [`DURATION_BUCKETS`]) and
/// starts a thread that runs its upkeep every 5 s. Call once, early in `main`; a second
/// call fails with [`MetricsError::Build`].
pub fn install_prometheus() -> Result<PrometheusHandle, MetricsError> {
    let handle = prometheus_builder()?.install_recorder()?;
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        })
        .map_err(MetricsError::Upkeep)?;
    Ok(handle)
}
