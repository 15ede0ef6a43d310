//! The crate's errors.

use metrics_exporter_prometheus::BuildError;

/// Installing the Prometheus exporter failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The builder rejected its settings, or a global recorder is already installed.
    #[error("prometheus exporter: {0}")]
    Build(#[from] BuildError),
    /// The upkeep thread could not be started.
    #[error("prometheus exporter: cannot start the upkeep thread: {0}")]
    Upkeep(#[source] std::io::Error),
}
