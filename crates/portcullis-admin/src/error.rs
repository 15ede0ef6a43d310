//! The crate's errors.

use metrics_exporter_prometheus::BuildError;

/// Installing the Prometheus exporter failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A global recorder is already installed.
    #[error("prometheus exporter: {0}")]
    Build(#[from] BuildError),
}
