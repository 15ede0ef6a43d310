//! Rise/fall hysteresis of active checks: a plain synchronous state machine.
//!
//! States: `Unknown` (no probe yet; the backend serves), `Healthy`, `Unhealthy`.
//!
//! - `Unknown` + pass -> `Healthy`; `Unknown` + fail -> `Unhealthy` at once: a
//!   backend that fails its very first probe is not given `unhealthy_threshold`
//!   chances to take traffic it cannot serve.
//! - `Healthy` flips to `Unhealthy` after `unhealthy_threshold` failures in a row.
//! - `Unhealthy` flips to `Healthy` after `healthy_threshold` passes in a row.
//! - An observation agreeing with the current state resets the streak.
//!
//! Only flips in and out of "serving" are reported: `Unknown` -> `Healthy`
//! changes nothing for traffic, so it is not a flip.

/// Consecutive-probe counter with separate thresholds to admit and to take out.
#[derive(Debug, Clone)]
pub(crate) struct Hysteresis {
    state: State,
    healthy_threshold: u32,
    unhealthy_threshold: u32,
    /// Observations in a row that disagree with `state`.
    streak: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unknown,
    Healthy,
    Unhealthy,
}

impl Hysteresis {
    /// A backend never probed. Thresholds below 1 are treated as 1.
    pub(crate) fn new(healthy_threshold: u32, unhealthy_threshold: u32) -> Self {
        Self {
            state: State::Unknown,
            healthy_threshold: healthy_threshold.max(1),
            unhealthy_threshold: unhealthy_threshold.max(1),
            streak: 0,
        }
    }

    /// Resumes from a known state (a prober restarted because its settings
    /// changed): an unhealthy backend still needs `healthy_threshold` passes.
    pub(crate) fn resume(healthy_threshold: u32, unhealthy_threshold: u32, healthy: bool) -> Self {
        let mut hysteresis = Self::new(healthy_threshold, unhealthy_threshold);
        if !healthy {
            hysteresis.state = State::Unhealthy;
        }
        hysteresis
    }

    /// Records one probe; true when the backend flipped between serving and not.
    pub(crate) fn observe(&mut self, ok: bool) -> bool {
        match (self.state, ok) {
            (State::Unknown, true) => {
                self.state = State::Healthy;
                false
            }
            (State::Unknown, false) => {
                self.state = State::Unhealthy;
                true
            }
            (State::Healthy, true) | (State::Unhealthy, false) => {
                self.streak = 0;
                false
            }
            (State::Healthy, false) => self.step(self.unhealthy_threshold, State::Unhealthy),
            (State::Unhealthy, true) => self.step(self.healthy_threshold, State::Healthy),
        }
    }

    /// Whether any probe has been observed (or the state was resumed).
    pub(crate) fn has_observed(&self) -> bool {
        self.state != State::Unknown
    }

    /// Whether the backend may serve as far as active checks know.
    pub(crate) fn is_healthy(&self) -> bool {
        self.state != State::Unhealthy
    }

    /// Passes still needed to readmit; 0 while serving.
    pub(crate) fn passes_needed(&self) -> u32 {
        match self.state {
            State::Unhealthy => self.healthy_threshold - self.streak,
            State::Unknown | State::Healthy => 0,
        }
    }

    fn step(&mut self, threshold: u32, to: State) -> bool {
        self.streak += 1;
        if self.streak < threshold {
            return false;
        }
        self.state = to;
        self.streak = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(h: &mut Hysteresis, probes: &[bool]) -> Vec<bool> {
        probes.iter().map(|&ok| h.observe(ok)).collect()
    }

    #[test]
    fn first_failure_flips_at_once() {
        let mut h = Hysteresis::new(2, 3);
        assert!(h.observe(false));
        assert!(!h.is_healthy());
        assert_eq!(h.passes_needed(), 2);
    }

    #[test]
    fn first_pass_is_not_a_flip() {
        let mut h = Hysteresis::new(2, 3);
        assert!(!h.observe(true));
        assert!(h.is_healthy());
    }

    #[test]
    fn takes_unhealthy_threshold_failures_in_a_row_to_flip_out() {
        let mut h = Hysteresis::new(2, 3);
        h.observe(true);
        assert_eq!(run(&mut h, &[false, false, false]), [false, false, true]);
        assert!(!h.is_healthy());
    }

    #[test]
    fn takes_healthy_threshold_passes_in_a_row_to_flip_back() {
        let mut h = Hysteresis::resume(2, 3, false);
        assert_eq!(h.passes_needed(), 2);
        assert!(!h.observe(true));
        assert_eq!(h.passes_needed(), 1);
        assert!(h.observe(true));
        assert!(h.is_healthy());
        assert_eq!(h.passes_needed(), 0);
    }

    #[test]
    fn an_agreeing_observation_resets_the_streak() {
        let mut h = Hysteresis::new(2, 3);
        h.observe(true);
        assert_eq!(
            run(&mut h, &[false, false, true, false, false, true]),
            [false; 6]
        );
        assert!(h.is_healthy());
        let mut h = Hysteresis::resume(2, 3, false);
        assert_eq!(run(&mut h, &[true, false, true, false]), [false; 4]);
        assert!(!h.is_healthy());
    }

    #[test]
    fn thresholds_of_one_flip_on_every_change() {
        let mut h = Hysteresis::new(1, 1);
        h.observe(true);
        assert_eq!(
            run(&mut h, &[false, true, false, false, true]),
            [true, true, true, false, true]
        );
    }

    #[test]
    fn zero_thresholds_behave_as_one() {
        let mut h = Hysteresis::new(0, 0);
        h.observe(true);
        assert!(h.observe(false));
        assert!(h.observe(true));
    }
}
