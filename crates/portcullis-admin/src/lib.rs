//! The Portcullis admin listener: Prometheus metrics, liveness and readiness probes,
//! the status API, reload on demand, and a status page for operators.
//!
//! It never sees the data plane: the binary implements [`AdminSource`] over its live
//! state and passes the Prometheus handle's `render`, then runs [`AdminServer`].
//!
//! | endpoint | gives |
//! |---|---|
//! | `GET /metrics` | Prometheus text exposition (`text/plain; version=0.0.4`) |
//! | `GET /healthz` | 200 while the process runs |
//! | `GET /readyz` | 200 when [`AdminSource::ready`], else 503 |
//! | `GET /api/v1/status` | [`StatusReport`] as JSON, plus `"ready"` |
//! | `POST /api/v1/reload` | 200 `{"generation":N}` or 400 `{"errors":[...]}`; 401 without the token when one is set |
//! | `GET /status` | the status page |
//!
//! # Layout
//! - `server`: [`AdminServer`] — bind, accept, serve HTTP/1.1, shut down.
//! - `router`: path and method to endpoint (404, 405).
//! - `handlers`: one function per endpoint.
//! - `auth`: the bearer-token check, in constant time.
//! - `response`: content types and headers of every answer.
//! - `report`, `source`: the status model and the [`AdminSource`] trait.
//! - `page` (`status.html`): the self-contained status page.
//! - `prometheus`: [`install_prometheus`].
//! - `error`: [`MetricsError`].
//!
//! `examples/fake_admin.rs` serves a synthetic report, for working on the page.

mod auth;
mod error;
mod handlers;
mod page;
mod prometheus;
mod report;
mod response;
mod router;
mod server;
mod source;

pub use error::MetricsError;
pub use prometheus::install_prometheus;
pub use report::{
    BackendReport, CheckReport, ClusterReport, ListenerReport, ReloadCounts, ReloadReport,
    StatusReport,
};
pub use server::AdminServer;
pub use source::AdminSource;
