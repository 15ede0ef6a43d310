//! `/metrics` over HTTP, parsed with a real Prometheus text-format parser: values,
//! labels and the latency histogram buckets must come through exactly.

mod common;

use std::sync::Arc;

use common::client::get;
use common::{fixture, FakeSource, TestAdmin};
use http::StatusCode;
use metrics_exporter_prometheus::PrometheusHandle;
use portcullis_admin::{prometheus_builder, DURATION_BUCKETS};
use prometheus_parse::{Sample, Scrape, Value};

/// Records a few metrics through a local (not global) recorder with Portcullis's
/// buckets and returns its handle.
fn recorded() -> PrometheusHandle {
    let recorder = prometheus_builder().unwrap().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let ok = [("listener", "web"), ("cluster", "api"), ("code", "200")];
        metrics::counter!("portcullis_requests_total", &ok).increment(41);
        metrics::counter!("portcullis_requests_total", &ok).increment(1);
        let bad = [("listener", "web"), ("cluster", "api"), ("code", "502")];
        metrics::counter!("portcullis_requests_total", &bad).increment(3);
        let generated = [
            ("cluster", "api"),
            ("code", "502"),
            ("cause", "connect_refused"),
        ];
        metrics::counter!("portcullis_generated_responses_total", &generated).increment(3);
        let backend = [("cluster", "api"), ("backend", "127.0.0.1:9001")];
        metrics::gauge!("portcullis_backend_healthy", &backend).set(1.0);
        metrics::gauge!("portcullis_circuit_state", &backend).set(2.0);
        metrics::gauge!("portcullis_in_flight_requests", &backend).increment(5.0);
        metrics::gauge!("portcullis_in_flight_requests", &backend).decrement(2.0);
        metrics::gauge!("portcullis_config_generation").set(7.0);
        let cluster = [("cluster", "api")];
        for seconds in [0.0004, 0.003, 0.003, 0.2, 12.0, 45.0] {
            metrics::histogram!("portcullis_request_duration_seconds", &cluster).record(seconds);
        }
    });
    handle
}

async fn scrape() -> Scrape {
    let handle = recorded();
    let render = Arc::new(move || handle.render());
    let admin = TestAdmin::start(FakeSource::new(fixture::report()), render, None).await;
    let reply = get(admin.addr, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .content_type()
        .starts_with("text/plain; version=0.0.4"));
    let text = reply.text();
    admin.stop().await;
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("valid exposition")
}

fn find<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> &'a Sample {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no sample {metric} {labels:?}"))
}

#[tokio::test]
async fn counters_and_gauges_come_through_exactly() {
    let scrape = scrape().await;
    let ok = find(&scrape, "portcullis_requests_total", &[("code", "200")]);
    assert_eq!(ok.value, Value::Counter(42.0));
    assert_eq!(ok.labels.get("listener"), Some("web"));
    assert_eq!(ok.labels.get("cluster"), Some("api"));
    let bad = find(&scrape, "portcullis_requests_total", &[("code", "502")]);
    assert_eq!(bad.value, Value::Counter(3.0));
    let generated = find(
        &scrape,
        "portcullis_generated_responses_total",
        &[("cause", "connect_refused")],
    );
    assert_eq!(generated.value, Value::Counter(3.0));

    let backend = [("cluster", "api"), ("backend", "127.0.0.1:9001")];
    let gauge = |name| find(&scrape, name, &backend).value.clone();
    assert_eq!(gauge("portcullis_backend_healthy"), Value::Gauge(1.0));
    assert_eq!(gauge("portcullis_circuit_state"), Value::Gauge(2.0));
    assert_eq!(gauge("portcullis_in_flight_requests"), Value::Gauge(3.0));
    let generation = find(&scrape, "portcullis_config_generation", &[]);
    assert_eq!(generation.value, Value::Gauge(7.0));
}

#[tokio::test]
async fn latency_histogram_uses_the_duration_buckets() {
    let scrape = scrape().await;
    let cluster = [("cluster", "api")];
    let histogram = find(&scrape, "portcullis_request_duration_seconds", &cluster);
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value);
    };
    let bounds: Vec<f64> = buckets.iter().map(|b| b.less_than).collect();
    let mut expected = DURATION_BUCKETS.to_vec();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);

    // Cumulative counts of [0.0004, 0.003, 0.003, 0.2, 12, 45].
    let count_at = |le: f64| buckets.iter().find(|b| b.less_than == le).unwrap().count;
    assert_eq!(count_at(0.0005), 1.0);
    assert_eq!(count_at(0.0025), 1.0);
    assert_eq!(count_at(0.005), 3.0);
    assert_eq!(count_at(0.25), 4.0);
    assert_eq!(count_at(10.0), 4.0);
    assert_eq!(count_at(30.0), 5.0);
    assert_eq!(count_at(f64::INFINITY), 6.0);

    let count = find(
        &scrape,
        "portcullis_request_duration_seconds_count",
        &cluster,
    );
    assert_eq!(count.value, Value::Untyped(6.0));
    let sum = find(&scrape, "portcullis_request_duration_seconds_sum", &cluster);
    let Value::Untyped(sum) = sum.value else {
        panic!("sum: {:?}", sum.value);
    };
    assert!((sum - 57.2064).abs() < 1e-9, "sum {sum}");
}
