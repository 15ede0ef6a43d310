//! Portcullis configuration: the TOML schema, its validation and its defaults.
//!
//! [`load`] or [`parse`] a file into a validated [`Config`], or get every problem
//! at once as [`ConfigErrors`], each rendered `PATH:LINE:COL: key.path: message`.
//!
//! # Layout
//! - `types`: the validated configuration the rest of Portcullis reads.
//! - `error`: [`ConfigError`] and [`ConfigErrors`].
//! - `parse`: the entry points, [`parse`] and [`load`].
//! - `raw`: the file as written, `File*` serde structs with their defaults.
//! - `de`: reads the TOML tree into `raw` section by section, entry by entry.
//! - `validate`: `raw` to `types`, collecting every problem by key path.
//! - `issue`: a problem before it has a position.
//! - `locate`: key paths and spans to line and column.

mod de;
mod error;
mod issue;
mod locate;
mod parse;
mod raw;
mod types;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use parse::{load, parse};
pub use types::{
    AccessLog, Admin, Backend, Balance, Cluster, Config, HashOn, HostMatch, Listener, Log,
    LogFormat, ProxyStatusMode, Route, Server, Weight,
};
