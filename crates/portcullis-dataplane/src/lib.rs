//! The Portcullis data plane: listeners, routing, balancing across weighted backends,
//! an upstream connection pool, proxying, and the responses Portcullis generates when
//! it cannot relay an origin's answer.
//!
//! # Layout
//! - `server`: listeners, protocol detection, lifecycle (bind, serve, drain).
//! - `http1`: the HTTP/1.1 server side (head checks, body streaming, response writing);
//!   HTTP/2 is served by hyper in `server::h2`.
//! - `proxy`: the request path — route, select, forward, relay or generate.
//! - `routing`, `balance`, `cluster`, `backend`: where a request goes.
//! - `registry`: what outlives a snapshot (backend state, limits, health).
//! - `metrics`: metric names and pre-made handles.
//! - `upstream`: connecting, pooling and exchanging with origins.
//! - `headers`, `fields`, `response`, `cause`: what goes on the wire and why.
//! - `access_log`: one line per request, written off the request path.
//! - `snapshot`: the configuration as the request path reads it.

mod access_log;
mod backend;
mod balance;
pub mod bench;
mod body;
mod cause;
mod cluster;
mod deadline;
mod fields;
mod headers;
mod http1;
mod metrics;
mod per_worker;
mod proxy;
mod registry;
mod response;
mod routing;
mod server;
mod snapshot;
mod upstream;

pub use access_log::AccessLog;
pub use backend::Backend;
pub use body::{BodyError, RelayError, RequestBody, ResponseBody};
pub use cause::{Cause, Tally};
pub use cluster::Cluster;
pub use metrics::{duration_buckets, names, render as render_metrics};
pub use response::ProxyIdentity;
pub use server::{Server, Shared};
pub use snapshot::Snapshot;
pub use upstream::PooledBody;
