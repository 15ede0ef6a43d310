//! Proof that a breaker admitted a request.

use std::fmt;
use std::sync::Arc;

use super::machine::Machine;

/// Proof of admission, handed out by [`Breaker::admit`](super::Breaker::admit) and
/// consumed by [`Breaker::record`](super::Breaker::record).
///
/// It remembers the breaker episode that admitted it, so a result arriving after the
/// breaker changed state is ignored instead of judging the new state.
///
/// **Dropped without `record`**: a half-open trial ticket gives its trial slot back,
/// so another request can be the trial; the drop is not counted as a failure, since
/// an unknown outcome (the client went away, the attempt was abandoned) says nothing
/// about the backend. Callers must therefore `record` timeouts and errors explicitly.
/// A closed-state ticket dropped unrecorded is simply not counted.
#[must_use = "record the result with Breaker::record; a dropped trial ticket frees its slot"]
pub struct Ticket {
    episode: u32,
    /// Only trial tickets need to reach the breaker on drop; closed-state admission
    /// stays free of reference counting.
    trial: Option<Arc<Machine>>,
}

impl Ticket {
    /// A ticket admitted while closed in `episode`.
    pub(super) fn closed(episode: u32) -> Self {
        Self {
            episode,
            trial: None,
        }
    }

    /// A trial ticket of the half-open `episode` of `machine`.
    pub(super) fn trial(episode: u32, machine: Arc<Machine>) -> Self {
        Self {
            episode,
            trial: Some(machine),
        }
    }

    /// Whether this ticket is a half-open trial: its result decides between closed
    /// and open.
    pub fn is_trial(&self) -> bool {
        self.trial.is_some()
    }

    /// The episode, and the machine if a trial; disarms the drop.
    pub(super) fn redeem(mut self) -> (u32, Option<Arc<Machine>>) {
        (self.episode, self.trial.take())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(machine) = self.trial.take() {
            machine.release_trial(self.episode);
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("episode", &self.episode)
            .field("trial", &self.is_trial())
            .finish()
    }
}
