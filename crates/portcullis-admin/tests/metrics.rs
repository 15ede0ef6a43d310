//! `/metrics` over HTTP, parsed with a real Prometheus text-format parser: values and
//! labels must come through exactly. (The latency histograms are rendered by the data
//! plane and tested there.)

mod common;

use std::sync::Arc;

use common::client::get;
use common::{fixture, FakeSource, TestAdmin};
use http::StatusCode;
use metrics_exporter_prometheus::PrometheusBuilder;
use metrics_exporter_prometheus::PrometheusHandle;
use prometheus_parse::{Sample, Scrape, Value};

/// Records a few metrics through a local (not global) recorder and returns its
/// handle.
fn recorded() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new().build_recorder();
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
