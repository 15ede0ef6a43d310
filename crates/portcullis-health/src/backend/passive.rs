//! Passive side of a backend's health: counting gateway failures, ejecting,
//! and ending an ejection by time.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::BackendHealth;

impl BackendHealth {
    /// A request succeeded: the failure streak and the ejection count start over.
    /// Loads before storing so the common case writes nothing shared.
    pub(crate) fn record_success(&self) {
        if self.consecutive_failures.load(Ordering::Relaxed) != 0 {
            self.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if self.ejections.load(Ordering::Relaxed) != 0 {
            self.ejections.store(0, Ordering::Relaxed);
        }
    }

    /// A gateway failure: returns the failures in a row, this one included.
    pub(crate) fn record_failure(&self) -> u32 {
        self.consecutive_failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1)
    }

    /// The failures in a row so far.
    pub(crate) fn failures_in_a_row(&self) -> u32 {
        self.consecutive_failures.load(Ordering::Acquire)
    }

    /// Ejects the backend at `now` for `time(n)`, `n` being this ejection's
    /// number in a row; `failures` is the streak that caused it (for the log).
    /// The caller holds its cluster's ejection lock and has checked the cap.
    pub(crate) fn eject(
        self: &Arc<Self>,
        now: Instant,
        failures: u32,
        time: impl FnOnce(u32) -> Duration,
    ) -> Instant {
        let nth = self
            .ejections
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        let duration = time(nth);
        let until = now + duration;
        self.ejected_until.store(self.epoch, Some(until));
        self.consecutive_failures.store(0, Ordering::Release);
        self.metrics.ejected(false);
        self.refresh_gauge(now);
        tracing::info!(
            cluster = %self.cluster,
            backend = %self.address,
            reason = %format_args!("{failures} consecutive gateway failures"),
            ejection = nth,
            duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            "backend ejected"
        );
        if !self.is_active() {
            self.end_ejection_at(until);
        }
        until
    }

    /// Without active checks an ejection ends by time: a timer task clears it at
    /// `until` so the return is logged and the gauge updated even when no request
    /// asks. Without a runtime (unit tests calling in from plain threads) nothing is
    /// scheduled; `is_available` is right either way.
    pub(crate) fn end_ejection_at(self: &Arc<Self>, until: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let this = Arc::clone(self);
        runtime.spawn(async move {
            tokio::time::sleep_until(until).await;
            if !this.is_active() {
                this.clear_ejection(until, until, "ejection time elapsed");
            }
        });
    }

    /// Ends the ejection that lasts `until`, if it is still the current one,
    /// stamping `returned_at = at` for slow start when the backend is back. True if
    /// it ended here.
    pub(crate) fn clear_ejection(&self, until: Instant, at: Instant, reason: &str) -> bool {
        if !self.ejected_until.clear_if(self.epoch, until) {
            return false;
        }
        let (cluster, backend) = (&self.cluster, &self.address);
        if self.active_failed.load(Ordering::Acquire) {
            tracing::info!(%cluster, %backend, reason, "ejection over, backend still unhealthy");
            return true;
        }
        self.returned_at.store(self.epoch, Some(at));
        self.refresh_gauge(at);
        tracing::info!(%cluster, %backend, reason, "backend returned");
        true
    }
}
