//! The one interface between the admin listener and the rest of the process.

use crate::StatusReport;

/// What the admin side reads from the running process.
///
/// The binary implements it over its live state; the admin listener never sees the
/// data plane itself, so the two stay independent crates.
pub trait AdminSource: Send + Sync + 'static {
    /// A snapshot for `GET /api/v1/status` and the status page. Called on the async
    /// runtime: it must be cheap and must not block.
    fn status(&self) -> StatusReport;

    /// Reload the config now (the same code as SIGHUP): `Ok(new generation)` or
    /// `Err(every error line, "file:line:col: key: message")`, the old config still
    /// serving. May block briefly: the admin listener calls it on a blocking thread.
    fn reload(&self) -> Result<u64, Vec<String>>;

    /// True when serving; false while draining or before the first config is live.
    fn ready(&self) -> bool;
}
