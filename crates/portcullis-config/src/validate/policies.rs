//! `[clusters.NAME.health_check]`, `.outlier_detection`, `.circuit_breaker`, `.retry`.

use crate::issue::{index, join, Issues};
use crate::policy::{
    CheckKind, CircuitBreaker, HealthCheck, OutlierDetection, Retry, RetryOn, StatusRanges,
};
use crate::raw::{FileCircuitBreaker, FileHealthCheck, FileOutlierDetection, FileRetry};

use super::values;

const KINDS: [(&str, CheckKind); 2] = [("http", CheckKind::Http), ("tcp", CheckKind::Tcp)];

pub(super) fn health_check(
    raw: FileHealthCheck,
    path: &str,
    issues: &mut Issues,
) -> Option<HealthCheck> {
    let at = |key: &str| join(path, key);
    let kind = issues.check(&at("kind"), values::one_of(&raw.kind, &KINDS));
    let expect_status = issues.check(&at("expect_status"), status_ranges(&raw.expect_status));
    let interval = issues.check(&at("interval"), values::positive_duration(&raw.interval));
    let timeout = issues.check(&at("timeout"), values::positive_duration(&raw.timeout));
    let jitter = issues.check(&at("jitter"), values::fraction(raw.jitter, true));
    let healthy = issues.check(
        &at("healthy_threshold"),
        values::count(raw.healthy_threshold, 1, 1000),
    );
    let unhealthy = issues.check(
        &at("unhealthy_threshold"),
        values::count(raw.unhealthy_threshold, 1, 1000),
    );
    let path_ok = raw.path.starts_with('/');
    if !path_ok {
        issues.report(
            at("path"),
            format!("must start with '/', got {:?}", raw.path),
        );
    }
    Some(HealthCheck {
        kind: kind?,
        path: path_ok.then_some(raw.path)?,
        host: (!raw.host.is_empty()).then_some(raw.host),
        expect_status: expect_status?,
        interval: interval?,
        timeout: timeout?,
        jitter: jitter?,
        healthy_threshold: healthy?,
        unhealthy_threshold: unhealthy?,
    })
}

pub(super) fn outlier_detection(
    raw: FileOutlierDetection,
    path: &str,
    issues: &mut Issues,
) -> Option<OutlierDetection> {
    let at = |key: &str| join(path, key);
    let failures = issues.check(
        &at("consecutive_failures"),
        values::count(raw.consecutive_failures, 0, 1_000_000),
    );
    let base = issues.check(
        &at("base_ejection_time"),
        values::positive_duration(&raw.base_ejection_time),
    );
    let max = issues.check(
        &at("max_ejection_time"),
        values::positive_duration(&raw.max_ejection_time),
    );
    let percent = issues.check(
        &at("max_ejection_percent"),
        values::count(raw.max_ejection_percent, 0, 100),
    );
    if let (Some(base), Some(max)) = (base, max) {
        if max < base {
            issues.report(
                at("max_ejection_time"),
                "must be at least base_ejection_time",
            );
            return None;
        }
    }
    Some(OutlierDetection {
        consecutive_failures: failures?,
        base_ejection_time: base?,
        max_ejection_time: max?,
        max_ejection_percent: u8::try_from(percent?).ok()?,
    })
}

pub(super) fn circuit_breaker(
    raw: FileCircuitBreaker,
    path: &str,
    issues: &mut Issues,
) -> Option<CircuitBreaker> {
    let at = |key: &str| join(path, key);
    let max_requests = issues.check(&at("max_requests"), values::at_least(raw.max_requests, 1));
    let per_backend = issues.check(
        &at("max_requests_per_backend"),
        values::at_least(raw.max_requests_per_backend, 0),
    );
    let ratio = issues.check(
        &at("failure_ratio"),
        values::fraction(raw.failure_ratio, false),
    );
    let min_requests = issues.check(
        &at("min_requests"),
        values::count(raw.min_requests, 1, 1_000_000),
    );
    let window = issues.check(&at("window"), values::positive_duration(&raw.window));
    let open = issues.check(
        &at("open_duration"),
        values::positive_duration(&raw.open_duration),
    );
    let trials = issues.check(
        &at("half_open_requests"),
        values::count(raw.half_open_requests, 1, 1000),
    );
    let status = match raw.status {
        502 | 503 => Some(raw.status as u16),
        other => {
            issues.report(at("status"), format!("must be 502 or 503, got {other}"));
            None
        }
    };
    Some(CircuitBreaker {
        max_requests: max_requests?,
        max_requests_per_backend: per_backend.map(|n| (n > 0).then_some(n))?,
        failure_ratio: ratio?,
        min_requests: min_requests?,
        window: window?,
        open_duration: open?,
        half_open_requests: trials?,
        status: status?,
    })
}

/// Sets one flag of [`RetryOn`].
type Enable = fn(&mut RetryOn);

/// The `retry_on` entries, each with the flag it sets.
const RETRY_ON: [(&str, Enable); 3] = [
    ("connect_failure", |on| on.connect_failure = true),
    ("reset_before_response", |on| {
        on.reset_before_response = true
    }),
    ("gateway_error", |on| on.gateway_error = true),
];

pub(super) fn retry(raw: FileRetry, path: &str, issues: &mut Issues) -> Option<Retry> {
    let at = |key: &str| join(path, key);
    let attempts = issues.check(&at("attempts"), values::count(raw.attempts, 0, 10));
    let budget = issues.check(
        &at("budget_percent"),
        values::count(raw.budget_percent, 0, 100),
    );
    let floor = issues.check(
        &at("min_retries_per_second"),
        values::count(raw.min_retries_per_second, 0, 1_000_000),
    );
    let body = issues.check(
        &at("max_retry_body_bytes"),
        values::at_least(raw.max_retry_body_bytes, 0),
    );
    // `None` once any entry is not a cause; every bad entry is still reported.
    let mut retry_on = Some(RetryOn::default());
    for (i, cause) in raw.retry_on.iter().enumerate() {
        let path = index(&at("retry_on"), i);
        match issues.check(&path, values::one_of(cause, &RETRY_ON)) {
            Some(enable) => retry_on.iter_mut().for_each(enable),
            None => retry_on = None,
        }
    }
    Some(Retry {
        attempts: attempts?,
        retry_on: retry_on?,
        budget_percent: budget?,
        min_retries_per_second: floor?,
        max_retry_body_bytes: body? as u64,
    })
}

/// `"200-399"`, `"200,204"`, `"200-299,304"`: inclusive ranges of 100..=599.
fn status_ranges(text: &str) -> Result<StatusRanges, String> {
    let bad = || format!("invalid status list {text:?} (expected e.g. \"200-399\" or \"200,204\")");
    let mut ranges = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let low: u16 = low.trim().parse().map_err(|_| bad())?;
        let high: u16 = high.trim().parse().map_err(|_| bad())?;
        if !(100..=599).contains(&low) || !(100..=599).contains(&high) || low > high {
            return Err(bad());
        }
        ranges.push((low, high));
    }
    Ok(StatusRanges(ranges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_ranges_parse() {
        let r = status_ranges("200-299, 304").unwrap();
        assert!(r.contains(204) && r.contains(304) && !r.contains(301));
        assert!(status_ranges("200-").is_err());
        assert!(status_ranges("399-200").is_err());
        assert!(status_ranges("700").is_err());
    }
}
