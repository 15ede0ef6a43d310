//! Portcullis configuration: the TOML schema, its validation and its defaults.
//!
//! [`load`] or [`parse`] a file into a validated [`Config`], or get every problem
//! at once as [`ConfigErrors`], each rendered `PATH:LINE:COL: key.path: message`.
//!
//! # Layout
//! - `types`: the validated configuration the rest of Portcullis reads.
//! - `policy`: validated per-cluster policies (health, outliers, breaker, retry).
//! - `error`: [`ConfigError`] and [`ConfigErrors`].
//! - `parse`: the entry points, [`parse`] and [`load`].
//! - `raw`, `raw_policy`: the file as written, `File*` serde structs with defaults.
//! - `de`: reads the TOML tree into `raw` section by section, entry by entry.
//! - `validate`: `raw` to `types`, collecting every problem by key path.
//! - `issue`: a problem before it has a position.
//! - `locate`: key paths and spans to line and column.

mod de;
mod error;
mod issue;
mod locate;
mod parse;
mod policy;
mod raw;
mod raw_policy;
mod types;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use parse::{load, parse};
pub use policy::{
    AllUnhealthy, CheckKind, CircuitBreaker, HealthCheck, OutlierDetection, Retry, RetryOn,
    StatusRanges,
};
pub use types::{
    AccessLog, Admin, Backend, Balance, Cluster, Config, HashOn, HostMatch, Listener, Log,
    LogFormat, ProxyStatusMode, Route, Server, Weight,
};
