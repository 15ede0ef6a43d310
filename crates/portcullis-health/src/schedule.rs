//! When probes run: jittered intervals, and spreading the first probes of a bulk
//! add across one interval.

use std::time::Duration;

/// More new probers than this in one `update` spread their first probes across
/// one interval; fewer probe at once.
pub(crate) const SPREAD_ABOVE: usize = 10;

/// Shortest wait between probes, whatever the config says: a guard against a
/// busy loop.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// `interval` varied by up to ±`jitter` × `interval`; `unit` is a uniform draw in
/// `0.0..1.0` (a parameter so tests need no randomness).
pub(crate) fn jittered(interval: Duration, jitter: f64, unit: f64) -> Duration {
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let factor = 1.0 + jitter * (unit.clamp(0.0, 1.0) * 2.0 - 1.0);
    Duration::try_from_secs_f64(interval.as_secs_f64() * factor)
        .unwrap_or(interval)
        .max(MIN_INTERVAL)
}

/// The wait before the next probe, with a fresh random draw.
pub(crate) fn next_wait(interval: Duration, jitter: f64) -> Duration {
    jittered(interval, jitter, fastrand::f64())
}

/// Delay of a new backend's first probe: none, unless `bulk` (more than
/// [`SPREAD_ABOVE`] probers start together), then a uniform offset within the
/// first interval so a thousand backends do not probe in one burst.
pub(crate) fn first_delay(interval: Duration, bulk: usize) -> Duration {
    if bulk <= SPREAD_ABOVE {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(interval.as_secs_f64() * fastrand::f64()).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn jitter_varies_the_interval_both_ways_within_bounds() {
        assert_eq!(jittered(SEC, 0.1, 0.0), Duration::from_millis(900));
        assert_eq!(jittered(SEC, 0.1, 0.5), SEC);
        assert_eq!(jittered(SEC, 0.1, 1.0), Duration::from_millis(1100));
        assert_eq!(jittered(SEC, 0.0, 0.9), SEC);
        for _ in 0..1000 {
            let wait = next_wait(SEC, 0.25);
            assert!((Duration::from_millis(750)..=Duration::from_millis(1250)).contains(&wait));
        }
    }

    #[test]
    fn jitter_never_reaches_zero_or_panics() {
        assert_eq!(jittered(SEC, 1.0, 0.0), MIN_INTERVAL);
        assert_eq!(jittered(Duration::ZERO, 0.1, 0.3), MIN_INTERVAL);
        assert_eq!(jittered(SEC, f64::NAN, 0.3), SEC);
        assert_eq!(jittered(SEC, 7.0, 1.0), 2 * SEC);
    }

    #[test]
    fn first_probes_spread_only_in_bulk() {
        assert_eq!(first_delay(SEC, 1), Duration::ZERO);
        assert_eq!(first_delay(SEC, SPREAD_ABOVE), Duration::ZERO);
        let delays: Vec<Duration> = (0..200).map(|_| first_delay(SEC, 1000)).collect();
        assert!(delays.iter().all(|d| *d < SEC));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(500)));
        assert!(delays.iter().any(|d| *d < Duration::from_millis(500)));
    }
}
