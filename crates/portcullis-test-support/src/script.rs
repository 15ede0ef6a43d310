//! [`Script`]: how a fake origin behaves, per request and per connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{Action, ReceivedRequest, Response};

type Handler = dyn Fn(&ReceivedRequest) -> Action + Send + Sync;

/// Decides what a [`FakeOrigin`](crate::FakeOrigin) does.
///
/// A handler picks an [`Action`] for every complete request; the options
/// shape connection-level behaviour (keep-alive lifetime, idle closes, the
/// keep-alive race). Cloning is cheap. A connection reads the origin's current
/// script at each step, so [`FakeOrigin::set_script`](crate::FakeOrigin::set_script)
/// takes effect on open connections too.
#[derive(Clone)]
pub struct Script {
    handler: Arc<Handler>,
    pub(crate) close_after: Option<usize>,
    pub(crate) keep_alive_header: Option<u64>,
    pub(crate) idle_close: Option<Duration>,
    pub(crate) drop_reused_after_idle: Option<Duration>,
}

impl Script {
    /// A script calling `handler` for every request; no connection options.
    pub fn new(handler: impl Fn(&ReceivedRequest) -> Action + Send + Sync + 'static) -> Self {
        Self {
            handler: Arc::new(handler),
            close_after: None,
            keep_alive_header: None,
            idle_close: None,
            drop_reused_after_idle: None,
        }
    }

    /// Answers every request `200` with body `ok`.
    pub fn ok() -> Self {
        Self::new(|_| Action::Respond(Response::ok()))
    }

    /// Answers every request with `status` and an empty body.
    pub fn status(status: u16) -> Self {
        Self::new(move |_| Action::Respond(Response::new(status)))
    }

    /// Takes the same `action` for every request.
    pub fn always(action: Action) -> Self {
        Self::new(move |_| action.clone())
    }

    /// Closes a connection after `n` responses on it; the last one carries
    /// `Connection: close`. `0` counts as `1`. Default: never.
    pub fn close_after(mut self, n: usize) -> Self {
        self.close_after = Some(n.max(1));
        self
    }

    /// Adds `Keep-Alive: timeout=<secs>` to every response that keeps the
    /// connection open (it does not change when the origin closes; combine
    /// with [`Script::idle_close`] for that). Default: no such header.
    pub fn keep_alive_header(mut self, secs: u64) -> Self {
        self.keep_alive_header = Some(secs);
        self
    }

    /// Silently closes (FIN, no response) a connection on which no request
    /// byte arrived for `idle`, counted from accept or from the end of the
    /// previous response. Default: connections never idle out.
    pub fn idle_close(mut self, idle: Duration) -> Self {
        self.idle_close = Some(idle);
        self
    }

    /// The keep-alive race made deterministic: a request arriving on a reused
    /// connection that sat idle longer than `idle` is read (and recorded)
    /// and then the connection is closed with a FIN, without any answer.
    /// Default: off.
    pub fn drop_reused_after_idle(mut self, idle: Duration) -> Self {
        self.drop_reused_after_idle = Some(idle);
        self
    }

    /// The action for `request`.
    pub(crate) fn decide(&self, request: &ReceivedRequest) -> Action {
        (self.handler)(request)
    }
}

impl Default for Script {
    /// [`Script::ok`].
    fn default() -> Self {
        Self::ok()
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("close_after", &self.close_after)
            .field("keep_alive_header", &self.keep_alive_header)
            .field("idle_close", &self.idle_close)
            .field("drop_reused_after_idle", &self.drop_reused_after_idle)
            .finish_non_exhaustive()
    }
}
