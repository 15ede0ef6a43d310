//! `install_prometheus` sets the process-wide recorder once (its own test binary, so
//! the global recorder is this test's alone).

use portcullis_admin::{install_prometheus, MetricsError, DURATION_BUCKETS};

#[test]
fn installs_the_global_recorder_once_with_duration_buckets() {
    let handle = install_prometheus().expect("first install");
    metrics::counter!("portcullis_config_reloads_total", "result" => "success").increment(2);
    metrics::histogram!("portcullis_upstream_duration_seconds", "cluster" => "api", "backend" => "127.0.0.1:9001")
        .record(0.004);
    let text = handle.render();
    assert!(
        text.contains("portcullis_config_reloads_total{result=\"success\"} 2"),
        "{text}"
    );
    for le in DURATION_BUCKETS {
        let bucket = format!("portcullis_upstream_duration_seconds_bucket{{cluster=\"api\",backend=\"127.0.0.1:9001\",le=\"{le}\"}}");
        assert!(text.contains(&bucket), "no bucket le={le}:\n{text}");
    }
    assert!(matches!(install_prometheus(), Err(MetricsError::Build(_))));
}
