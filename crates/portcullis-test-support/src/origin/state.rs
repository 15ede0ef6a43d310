//! State shared between a [`FakeOrigin`](crate::FakeOrigin) handle and its
//! tasks: the current script, counters and the request log.
//!
//! Locks here are plain `std` locks held for a copy or a push, never across
//! an `.await`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::{ReceivedRequest, Script};

#[derive(Debug, Default)]
pub(crate) struct Shared {
    script: RwLock<Script>,
    received: Mutex<Vec<ReceivedRequest>>,
    pub(crate) requests: AtomicUsize,
    pub(crate) connections: AtomicUsize,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_concurrent: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(script: Script) -> Self {
        Self {
            script: RwLock::new(script),
            ..Self::default()
        }
    }

    pub(crate) fn script(&self) -> Script {
        self.script
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_script(&self, script: Script) {
        *self.script.write().unwrap_or_else(PoisonError::into_inner) = script;
    }

    pub(crate) fn received(&self) -> Vec<ReceivedRequest> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn record(&self, request: ReceivedRequest) {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Counts an accepted connection; returns its index.
    pub(crate) fn accept_connection(&self) -> usize {
        self.connections.fetch_add(1, Ordering::SeqCst)
    }

    /// Counts a request head; returns its global index and a guard that
    /// keeps it in flight until dropped (also when the task is aborted).
    pub(crate) fn begin_request(self: &Arc<Self>) -> (usize, InFlight) {
        let index = self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_concurrent.fetch_max(now, Ordering::SeqCst);
        (index, InFlight(Arc::clone(self)))
    }
}

/// One request being handled; decrements `in_flight` on drop.
pub(crate) struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
