//! The origin's `Keep-Alive: timeout=N`, so a pooled connection is retired before the
//! origin closes it: reusing a connection the origin is closing is the keep-alive race
//! behind most spurious 502s.

use std::time::Duration;

/// How long a connection may idle in the pool, given the timeout the origin announced
/// in `Keep-Alive`: a second less (half of it for very short timeouts), never longer
/// than `pool_idle_timeout`.
pub(crate) fn idle_limit(announced: Option<u64>, pool_idle_timeout: Duration) -> Duration {
    match announced {
        Some(seconds) => {
            let announced = Duration::from_secs(seconds);
            let margin = Duration::from_secs(1).min(announced / 2);
            pool_idle_timeout.min(announced - margin)
        }
        None => pool_idle_timeout,
    }
}

/// The `timeout` parameter of a `Keep-Alive` value, in seconds.
pub(crate) fn announced_timeout(value: &[u8]) -> Option<u64> {
    let value = std::str::from_utf8(value).ok()?;
    value.split(',').find_map(|param| {
        let (name, seconds) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("timeout") {
            seconds.trim().trim_matches('"').parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &'static str) -> Option<u64> {
        announced_timeout(value.as_bytes())
    }

    #[test]
    fn shorter_origin_timeout_wins_with_a_margin() {
        let pool = Duration::from_secs(50);
        assert_eq!(
            idle_limit(headers("timeout=5, max=100"), pool),
            Duration::from_secs(4)
        );
        assert_eq!(
            idle_limit(headers("timeout=1"), pool),
            Duration::from_millis(500)
        );
        assert_eq!(idle_limit(headers("timeout=0"), pool), Duration::ZERO);
        assert_eq!(idle_limit(headers("timeout=600"), pool), pool);
        assert_eq!(idle_limit(None, pool), pool);
    }
}
