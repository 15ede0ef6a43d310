//! Portcullis health: active checks (HTTP, TCP), passive outlier ejection and
//! per-backend health state.
//!
//! The data plane holds a [`ClusterHealth`] per cluster (from
//! [`HealthRegistry::update`]), asks each [`BackendHealth`] whether it
//! [`is_available`](BackendHealth::is_available) and how far its
//! [`slow_start_factor`](BackendHealth::slow_start_factor) has ramped, and
//! [`record`](ClusterHealth::record)s every request's [`Outcome`]. Reads are
//! lock-free; probers run as one tokio task per backend with a `health_check`.
//!
//! ```
//! use portcullis_health::{HealthRegistry, Outcome};
//! use tokio::time::Instant;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let config = portcullis_config::parse(
//!     r#"
//!     [[listeners]]
//!     name = "web"
//!     address = "127.0.0.1:8080"
//!     [[routes]]
//!     cluster = "api"
//!     [clusters.api]
//!     backends = [{ address = "127.0.0.1:9" }]
//!     "#,
//!     "portcullis.toml",
//! )
//! .unwrap();
//! let registry = HealthRegistry::new(); // one per process
//! let clusters = registry.update(&config); // again on every reload
//! let api = &clusters["api"];
//! let now = Instant::now();
//! if api.backends()[0].is_available(now) {
//!     // ... proxy the request, then:
//!     api.record(0, Outcome::GatewayFailure, now);
//! }
//! # }
//! ```
//!
//! # Layout
//!
//! - `registry`: [`HealthRegistry`], state keyed by (cluster, address) across
//!   reloads, and the prober tasks.
//! - `cluster`: [`ClusterHealth`], passive outlier detection and `soonest_return`.
//! - `backend/`: [`BackendHealth`], the atomics (`mod.rs`), what probes report
//!   (`active.rs`) and ejections (`passive.rs`).
//! - `prober`: the probe loop of one backend; `schedule`: interval jitter and
//!   first-probe spreading.
//! - `hysteresis`: healthy/unhealthy thresholds as a plain state machine.
//! - `ejection`: ejection time (base × n, capped) and the max-ejected cap.
//! - `probe/`: the [`Probe`] trait, [`HttpProbe`] and [`TcpProbe`].
//! - `status`: [`HealthStatus`], [`CheckResult`], [`Outcome`].
//! - `error`: [`ProbeError`].
//! - `names`: metric names; `metrics`: pre-made per-backend handles.
//! - `timestamp`: an optional `Instant` in an `AtomicU64`.

mod backend;
mod cluster;
mod ejection;
mod error;
mod hysteresis;
mod metrics;
pub mod names;
mod probe;
mod prober;
mod registry;
mod schedule;
mod status;
#[cfg(test)]
mod testing;
mod timestamp;

pub use backend::BackendHealth;
pub use cluster::ClusterHealth;
pub use error::ProbeError;
pub use probe::{HttpProbe, Probe, TcpProbe};
pub use registry::{HealthRegistry, MAX_PROBES_IN_FLIGHT};
pub use status::{CheckResult, HealthStatus, Outcome};
