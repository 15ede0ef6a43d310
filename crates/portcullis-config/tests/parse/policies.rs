//! Health check, outlier detection, circuit breaker and retry tables.

use std::time::Duration;

use portcullis_config::{AllUnhealthy, CheckKind};

use super::{error, errors, CLUSTER};

fn cluster(extra: &str) -> String {
    format!("{CLUSTER}{extra}")
}

#[test]
fn defaults_match_the_spec() {
    let config =
        portcullis_config::parse(&cluster("[clusters.api.health_check]\n"), "t.toml").unwrap();
    let api = config.cluster("api").unwrap();
    let check = api.health_check.as_ref().unwrap();
    assert_eq!(check.kind, CheckKind::Http);
    assert_eq!(check.path, "/healthz");
    assert_eq!(check.interval, Duration::from_secs(2));
    assert!(check.expect_status.contains(399) && !check.expect_status.contains(400));
    assert_eq!((check.healthy_threshold, check.unhealthy_threshold), (2, 3));
    assert_eq!(api.all_unhealthy, AllUnhealthy::FailClosed);
    assert_eq!(api.outlier_detection.consecutive_failures, 5);
    assert_eq!(api.outlier_detection.max_ejection_percent, 50);
    assert_eq!(api.circuit_breaker.max_requests, 1024);
    assert_eq!(api.circuit_breaker.max_requests_per_backend, None);
    assert_eq!(api.circuit_breaker.status, 502);
    assert_eq!(api.retry.attempts, 2);
    assert!(api.retry.retry_on.connect_failure && api.retry.retry_on.gateway_error);
    let plain = portcullis_config::parse(CLUSTER, "t.toml").unwrap();
    assert!(plain.cluster("api").unwrap().health_check.is_none());
}

#[test]
fn bad_policy_values_are_all_reported_with_positions() {
    let source = cluster(
        "all_unhealthy = \"maybe\"\n\
         [clusters.api.health_check]\n\
         kind = \"udp\"\n\
         expect_status = \"200-\"\n\
         jitter = 1.5\n\
         [clusters.api.circuit_breaker]\n\
         status = 500\n\
         failure_ratio = 0.0\n\
         [clusters.api.retry]\n\
         retry_on = [\"connect_failure\", \"always\"]\n",
    );
    assert_eq!(
        errors(&source),
        [
            "t.toml:3:17: clusters.api.all_unhealthy: must be one of \"fail_closed\", \"fail_open\", got \"maybe\"",
            "t.toml:5:8: clusters.api.health_check.kind: must be one of \"http\", \"tcp\", got \"udp\"",
            "t.toml:6:17: clusters.api.health_check.expect_status: invalid status list \"200-\" (expected e.g. \"200-399\" or \"200,204\")",
            "t.toml:7:10: clusters.api.health_check.jitter: must be between 0.0 and 1.0, got 1.5",
            "t.toml:9:10: clusters.api.circuit_breaker.status: must be 502 or 503, got 500",
            "t.toml:10:17: clusters.api.circuit_breaker.failure_ratio: must be between above 0.0 and 1.0, got 0",
            "t.toml:12:32: clusters.api.retry.retry_on[1]: must be one of \"connect_failure\", \"reset_before_response\", \"gateway_error\", got \"always\"",
        ]
    );
}

#[test]
fn unknown_policy_keys_are_errors() {
    let message = error(&cluster("[clusters.api.retry]\ntries = 3\n"));
    assert!(
        message.starts_with("t.toml:4:1: clusters.api.retry.tries: unknown key `tries`"),
        "{message}"
    );
}

#[test]
fn ejection_cap_must_not_be_below_base() {
    let message = error(&cluster(
        "[clusters.api.outlier_detection]\nbase_ejection_time = \"60s\"\nmax_ejection_time = \"10s\"\n",
    ));
    assert_eq!(
        message,
        "t.toml:5:21: clusters.api.outlier_detection.max_ejection_time: must be at least base_ejection_time"
    );
}
