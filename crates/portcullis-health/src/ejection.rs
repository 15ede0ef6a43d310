//! Outlier-ejection arithmetic: how long, and how many at once.

use std::time::Duration;

use portcullis_config::OutlierDetection;

/// How long the `nth` ejection in a row lasts: `base × nth`, capped at `max`.
pub(crate) fn ejection_time(policy: &OutlierDetection, nth: u32) -> Duration {
    policy
        .base_ejection_time
        .saturating_mul(nth.max(1))
        .min(policy.max_ejection_time)
}

/// How many of `backends` may be ejected at once: `percent` of them, rounded
/// down, but at least one (so a one-backend cluster can still be ejected).
pub(crate) fn max_ejected(backends: usize, percent: u8) -> usize {
    (backends.saturating_mul(usize::from(percent.min(100))) / 100).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: u64, max: u64) -> OutlierDetection {
        OutlierDetection {
            consecutive_failures: 5,
            base_ejection_time: Duration::from_secs(base),
            max_ejection_time: Duration::from_secs(max),
            max_ejection_percent: 50,
        }
    }

    #[test]
    fn ejection_time_grows_with_the_count_and_is_capped() {
        let policy = policy(30, 300);
        let times: Vec<u64> = [1, 2, 3, 9, 10, 11, u32::MAX]
            .iter()
            .map(|&n| ejection_time(&policy, n).as_secs())
            .collect();
        assert_eq!(times, [30, 60, 90, 270, 300, 300, 300]);
        assert_eq!(ejection_time(&policy, 0).as_secs(), 30);
    }

    #[test]
    fn max_ejected_rounds_down_but_allows_one() {
        assert_eq!(max_ejected(4, 50), 2);
        assert_eq!(max_ejected(5, 50), 2);
        assert_eq!(max_ejected(1, 50), 1);
        assert_eq!(max_ejected(3, 10), 1);
        assert_eq!(max_ejected(3, 0), 1);
        assert_eq!(max_ejected(10, 100), 10);
        assert_eq!(max_ejected(10, 200), 10);
    }
}
