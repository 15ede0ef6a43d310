//! `install_prometheus` sets the process-wide recorder once (its own test binary, so
//! the global recorder is this test's alone).

use portcullis_admin::{install_prometheus, MetricsError};

#[test]
fn installs_the_global_recorder_once() {
    let handle = install_prometheus().expect("first install");
    metrics::counter!("portcullis_config_reloads_total", "result" => "success").increment(2);
    let text = handle.render();
    assert!(
        text.contains("portcullis_config_reloads_total{result=\"success\"} 2"),
        "{text}"
    );
    assert!(matches!(install_prometheus(), Err(MetricsError::Build(_))));
}
