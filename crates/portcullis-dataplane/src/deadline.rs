//! Timeouts on one long-lived timer per connection. A fresh tokio timer per wait
//! is registered in and removed from the timer wheel every time, twice per proxied
//! request; nearly all of those waits end long before their deadline. Here a
//! connection keeps one timer that only moves when it fires early (then it is set to
//! the deadline that counts now) or when a wait needs an earlier deadline than the one
//! it is set to. This is how nginx and HAProxy treat their timers too.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

/// The wait outlived its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// One connection's timer; see the module documentation.
#[derive(Debug)]
pub(crate) struct Deadline {
    timer: Pin<Box<Sleep>>,
}

impl Deadline {
    /// A timer first set to `due` (it starts counting only once waited on).
    pub(crate) fn new(due: Instant) -> Self {
        Self {
            timer: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    /// Runs `work` until it finishes or `due` passes, like `tokio::time::timeout_at`.
    pub(crate) async fn run<F: Future>(
        &mut self,
        due: Instant,
        work: F,
    ) -> Result<F::Output, Elapsed> {
        let mut work = pin!(work);
        poll_fn(|cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            self.poll_until(cx, due).map(|()| Err(Elapsed))
        })
        .await
    }

    /// Ready once `due` has passed; until then, `cx` is woken when it does.
    pub(crate) fn poll_until(&mut self, cx: &mut Context<'_>, due: Instant) -> Poll<()> {
        if self.timer.deadline() > due {
            self.timer.as_mut().reset(due);
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            if self.timer.deadline() >= due {
                return Poll::Ready(());
            }
            // Fired for an earlier wait's deadline: move on to this one's.
            self.timer.as_mut().reset(due);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn finished_work_wins_and_leaves_the_timer_alone() {
        let start = Instant::now();
        let mut deadline = Deadline::new(start + 10 * SECOND);
        assert_eq!(deadline.run(start + 10 * SECOND, async { 7 }).await, Ok(7));
        assert_eq!(deadline.timer.deadline(), start + 10 * SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_at_its_own_deadline_not_an_earlier_one() {
        let start = Instant::now();
        let mut deadline = Deadline::new(start + SECOND);
        let never = std::future::pending::<()>();
        assert_eq!(deadline.run(start + 5 * SECOND, never).await, Err(Elapsed));
        assert_eq!(
            Instant::now(),
            start + 5 * SECOND,
            "the early firing was skipped"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_moves_the_timer_forward() {
        let start = Instant::now();
        let mut deadline = Deadline::new(start + 60 * SECOND);
        let never = std::future::pending::<()>();
        assert_eq!(deadline.run(start + 2 * SECOND, never).await, Err(Elapsed));
        assert_eq!(Instant::now(), start + 2 * SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_finishes_before_the_deadline_is_not_cut_short() {
        let start = Instant::now();
        let mut deadline = Deadline::new(start + SECOND);
        let slow = tokio::time::sleep(3 * SECOND);
        assert_eq!(deadline.run(start + 4 * SECOND, slow).await, Ok(()));
        assert_eq!(Instant::now(), start + 3 * SECOND);
    }
}
