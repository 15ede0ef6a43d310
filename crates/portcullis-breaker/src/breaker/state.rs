//! The breaker's whole state in one `u64`, so every transition is one
//! `compare_exchange`.
//!
//! # Layout
//! ```text
//! bits 62..64  phase: 0 closed, 1 half-open, 2 open
//! bits 40..62  episode (22 bits, wrapping)
//! closed:      bits 0..40 zero
//! half-open:   bits 20..40 trial slots taken, bits 0..20 trial successes
//! open:        bits 0..40 reopen deadline, whole milliseconds since the base
//! ```
//! The episode tells stale tickets apart: it advances on every open -> half-open, and
//! a ticket is only counted while the state still carries the episode that admitted
//! it. So a trial ticket from an earlier half-open, or a closed-state ticket from
//! before the breaker opened, can neither close nor open the breaker later.
//!
//! The deadline is kept in milliseconds (40 bits: 34 years) rounded *up*, so the
//! breaker never half-opens early; that is why it is a deadline and not the time the
//! breaker opened.

/// Episodes wrap at 2^22; a ticket outliving four million breaker cycles is not a
/// concern.
const EPISODE_MASK: u64 = (1 << 22) - 1;
/// Trial counters are 20 bits; `half_open_requests` is at most 1000 by validation.
const TRIAL_MASK: u64 = (1 << 20) - 1;
/// Deadlines are 40 bits of milliseconds.
const DEADLINE_MASK: u64 = (1 << 40) - 1;

/// The most trial requests a half-open breaker admits.
pub(crate) const MAX_TRIALS: u32 = TRIAL_MASK as u32;

/// One decoded state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Requests flow; results feed the rolling window.
    Closed {
        /// The episode closed-state tickets carry.
        episode: u32,
    },
    /// A few trial requests decide between closed and open.
    HalfOpen {
        /// This half-open's identity; trial tickets carry it.
        episode: u32,
        /// Trial slots handed out and not released.
        taken: u32,
        /// Trials that succeeded.
        succeeded: u32,
    },
    /// Requests are refused until the deadline.
    Open {
        /// The episode that opened; the next half-open gets the one after.
        episode: u32,
        /// Milliseconds since the base at which a trial may go.
        until_ms: u64,
    },
}

impl State {
    /// The state a new breaker starts in.
    pub(crate) const INITIAL: Self = Self::Closed { episode: 0 };

    /// Packs this state into its word.
    pub(crate) fn encode(self) -> u64 {
        match self {
            Self::Closed { episode } => episode_bits(episode),
            Self::HalfOpen {
                episode,
                taken,
                succeeded,
            } => {
                (1 << 62)
                    | episode_bits(episode)
                    | ((u64::from(taken) & TRIAL_MASK) << 20)
                    | (u64::from(succeeded) & TRIAL_MASK)
            }
            Self::Open { episode, until_ms } => {
                (2 << 62) | episode_bits(episode) | until_ms.min(DEADLINE_MASK)
            }
        }
    }

    /// Unpacks a word made by [`State::encode`].
    pub(crate) fn decode(word: u64) -> Self {
        // Masked to 22 bits, so the cast cannot truncate.
        let episode = ((word >> 40) & EPISODE_MASK) as u32;
        match word >> 62 {
            0 => Self::Closed { episode },
            1 => Self::HalfOpen {
                episode,
                taken: ((word >> 20) & TRIAL_MASK) as u32,
                succeeded: (word & TRIAL_MASK) as u32,
            },
            _ => Self::Open {
                episode,
                until_ms: word & DEADLINE_MASK,
            },
        }
    }

    /// The episode after `episode`, wrapping within its 22 bits.
    pub(crate) fn next_episode(episode: u32) -> u32 {
        ((u64::from(episode) + 1) & EPISODE_MASK) as u32
    }
}

fn episode_bits(episode: u32) -> u64 {
    (u64::from(episode) & EPISODE_MASK) << 40
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips() {
        let states = [
            State::INITIAL,
            State::Closed {
                episode: EPISODE_MASK as u32,
            },
            State::HalfOpen {
                episode: 7,
                taken: MAX_TRIALS,
                succeeded: 3,
            },
            State::Open {
                episode: 9,
                until_ms: DEADLINE_MASK,
            },
        ];
        for state in states {
            assert_eq!(State::decode(state.encode()), state);
        }
    }

    #[test]
    fn episodes_wrap_and_deadlines_saturate() {
        assert_eq!(State::next_episode(EPISODE_MASK as u32), 0);
        let far = State::Open {
            episode: 1,
            until_ms: u64::MAX,
        };
        assert_eq!(
            State::decode(far.encode()),
            State::Open {
                episode: 1,
                until_ms: DEADLINE_MASK
            }
        );
    }
}
