//! Installing the process-wide Prometheus recorder. Libraries only use the `metrics`
//! facade; the binary calls [`install_prometheus`] once and serves the handle's
//! `render` on `/metrics`, followed by the data plane's own per-worker series (its
//! request counters and latency histograms, which are not kept in this recorder).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::MetricsError;

/// Installs the global `metrics` recorder. Call once, early in `main`; a second call
/// fails with [`MetricsError::Build`]. Nothing recorded through the facade is a
/// histogram, so the exporter needs no upkeep between scrapes.
pub fn install_prometheus() -> Result<PrometheusHandle, MetricsError> {
    Ok(PrometheusBuilder::new().install_recorder()?)
}
