//! The admin side of the real binary in front of real origins: `/metrics` parsed by a
//! Prometheus text parser and matching exactly the requests sent, the status API and
//! page (in headless Chromium) showing each backend's real state, reloads over the API
//! (token, success, failure) and an ejection that survives a reload.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{temp_dir, Portcullis};
use portcullis_test_support::{
    headless_chromium, raw_exchange, Action, FakeOrigin, RawResponse, Script,
};
use prometheus_parse::{Scrape, Value};

const T: Duration = Duration::from_secs(10);

/// `healthy` passes its checks; `sick` fails them; `failing` answers every request
/// (checks excluded) with 503 so outlier detection ejects it. `extra` goes into the
/// `flaky` cluster.
fn config(healthy: SocketAddr, sick: SocketAddr, failing: SocketAddr, extra: &str) -> String {
    format!(
        "[admin]\naddress = \"127.0.0.1:0\"\ntoken = \"s3cret\"\n[log]\naccess = \"off\"\n\
         [[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:0\"\n\
         [[routes]]\npath_prefix = \"/app\"\ncluster = \"app\"\n\
         [[routes]]\npath_prefix = \"/flaky\"\ncluster = \"flaky\"\n\
         [clusters.app]\nbackends = [{{ address = \"{healthy}\" }}, {{ address = \"{sick}\" }}]\n\
         [clusters.app.health_check]\ninterval = \"100ms\"\ntimeout = \"200ms\"\njitter = 0.0\n\
         unhealthy_threshold = 1\nhealthy_threshold = 1\n\
         [clusters.flaky]\nbackends = [{{ address = \"{failing}\" }}, {{ address = \"{healthy}\" }}]\n{extra}\n\
         [clusters.flaky.retry]\nattempts = 0\n\
         [clusters.flaky.outlier_detection]\nconsecutive_failures = 2\nbase_ejection_time = \"60s\"\n"
    )
}

/// The SPEC's latency buckets, in seconds.
const DURATION_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Requests counted by `cluster`'s latency histogram, whose buckets must be the
/// SPEC's (0 before the first request).
fn duration_count(scrape: &Scrape, cluster: &str) -> f64 {
    let histogram = scrape.samples.iter().find(|s| {
        s.metric == "portcullis_request_duration_seconds"
            && s.labels.get("cluster") == Some(cluster)
    });
    let Some(histogram) = histogram else {
        return 0.0;
    };
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value);
    };
    let bounds: Vec<f64> = buckets.iter().map(|b| b.less_than).collect();
    let mut expected = DURATION_BUCKETS.to_vec();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);
    buckets.last().map_or(0.0, |b| b.count)
}

async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    raw_exchange(addr, request.as_bytes(), T).await.unwrap()
}

async fn post(addr: SocketAddr, path: &str, token: Option<&str>) -> RawResponse {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!("POST {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n");
    raw_exchange(addr, request.as_bytes(), T).await.unwrap()
}

/// The value of `metric` with exactly these labels (among others), or `None`.
fn sample(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

async fn scrape(admin: SocketAddr) -> Scrape {
    let body = get(admin, "/metrics").await.text();
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("a valid Prometheus exposition")
}

async fn status(admin: SocketAddr) -> serde_json::Value {
    serde_json::from_slice(&get(admin, "/api/v1/status").await.body).unwrap()
}

fn backend_health<'a>(status: &'a serde_json::Value, cluster: &str, backend: &str) -> &'a str {
    let clusters = status["clusters"].as_array().unwrap();
    let cluster = clusters.iter().find(|c| c["name"] == cluster).unwrap();
    let backends = cluster["backends"].as_array().unwrap();
    let backend = backends.iter().find(|b| b["address"] == backend).unwrap();
    backend["health"].as_str().unwrap()
}

async fn wait_for_health(admin: SocketAddr, cluster: &str, backend: &str, health: &str) {
    let started = Instant::now();
    while backend_health(&status(admin).await, cluster, backend) != health {
        assert!(started.elapsed() < T, "{backend} never became {health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_status_and_reload_show_the_real_process() {
    let healthy = FakeOrigin::start(Script::ok()).await;
    let sick = FakeOrigin::start(Script::new(|r| match r.path.as_str() {
        "/healthz" => Action::status(503),
        _ => Action::ok(),
    }))
    .await;
    let failing = FakeOrigin::start(Script::status(503)).await;
    let (h, s, f) = (
        healthy.addr().to_string(),
        sick.addr().to_string(),
        failing.addr().to_string(),
    );
    let path = temp_dir("admin").join("portcullis.toml");
    std::fs::write(
        &path,
        config(healthy.addr(), sick.addr(), failing.addr(), ""),
    )
    .unwrap();
    let portcullis = Portcullis::start(&path);
    let (web, admin) = (portcullis.listener("web"), portcullis.admin());
    wait_for_health(admin, "app", &s, "unhealthy").await;

    // Exactly N requests, all served by the healthy backend.
    let before = scrape(admin).await;
    let labels = [("listener", "web"), ("cluster", "app"), ("code", "200")];
    let base = sample(&before, "portcullis_requests_total", &labels).unwrap_or(0.0);
    let latencies_before = duration_count(&before, "app");
    for _ in 0..50 {
        assert_eq!(get(web, "/app").await.status, 200);
    }
    let after = scrape(admin).await;
    assert_eq!(
        sample(&after, "portcullis_requests_total", &labels),
        Some(base + 50.0)
    );
    assert_eq!(duration_count(&after, "app"), latencies_before + 50.0);
    let upstream = [("cluster", "app"), ("backend", h.as_str()), ("code", "200")];
    let upstream_base = sample(&before, "portcullis_upstream_requests_total", &upstream);
    assert_eq!(
        sample(&after, "portcullis_upstream_requests_total", &upstream),
        Some(upstream_base.unwrap_or(0.0) + 50.0)
    );
    assert_eq!(
        sample(
            &after,
            "portcullis_backend_healthy",
            &[("backend", s.as_str())]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &after,
            "portcullis_backend_healthy",
            &[("backend", h.as_str())]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&after, "portcullis_config_generation", &[]),
        Some(1.0)
    );

    // Passive ejection in "flaky", then a reload that keeps it.
    for _ in 0..6 {
        get(web, "/flaky").await;
    }
    wait_for_health(admin, "flaky", &f, "ejected").await;
    let relayed_503 = [
        ("cluster", "flaky"),
        ("backend", f.as_str()),
        ("code", "503"),
    ];
    // Round robin over two, no retries: every other request met `failing`, and the
    // second failure in a row ejected it.
    assert_eq!(
        sample(
            &scrape(admin).await,
            "portcullis_upstream_requests_total",
            &relayed_503
        ),
        Some(2.0)
    );

    assert_eq!(post(admin, "/api/v1/reload", None).await.status, 401);
    std::fs::write(
        &path,
        config(
            healthy.addr(),
            sick.addr(),
            failing.addr(),
            // Rebuilds flaky's backends (a new pool): their health must carry over.
            "pool_max_idle = 7",
        ),
    )
    .unwrap();
    let reloaded = post(admin, "/api/v1/reload", Some("s3cret")).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.text());
    let status_now = status(admin).await;
    assert!(status_now["generation"].as_u64().unwrap() >= 2);
    assert_eq!(
        backend_health(&status_now, "flaky", &f),
        "ejected",
        "the ejection survives the reload"
    );

    // A broken file: 400 with file:line:col, counted, shown, routing unchanged.
    std::fs::write(&path, "[[listeners]]\nname = 1\n").unwrap();
    let rejected = post(admin, "/api/v1/reload", Some("s3cret")).await;
    assert_eq!(rejected.status, 400);
    assert!(
        rejected.text().contains(&format!("{}:2:8", path.display())),
        "{}",
        rejected.text()
    );
    let shown = status(admin).await;
    assert_eq!(shown["last_reload"]["ok"], false);
    assert!(
        sample(
            &scrape(admin).await,
            "portcullis_config_reloads_total",
            &[("result", "failure")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(get(web, "/app").await.status, 200);

    status_page_in_a_browser(
        admin,
        &[(&h, "healthy"), (&s, "unhealthy"), (&f, "ejected")],
    );
}

/// The live status page in headless Chromium: every backend with its real state.
fn status_page_in_a_browser(admin: SocketAddr, expected: &[(&str, &str)]) {
    let url = format!("http://{admin}/status");
    let dom = headless_chromium(&url, &["--dump-dom"]);
    for (backend, health) in expected {
        let at = dom
            .find(&format!("data-backend=\"{backend}\""))
            .unwrap_or_else(|| panic!("no row for {backend}"));
        let row = &dom[dom[..at].rfind('<').unwrap()..at + dom[at..].find('>').unwrap()];
        assert!(
            row.contains(&format!("data-health=\"{health}\"")),
            "{backend}: {row}"
        );
    }
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/status-page-live.png");
    let _ = std::fs::remove_file(&shot); // a screenshot from an earlier run proves nothing
    headless_chromium(
        &url,
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(std::fs::metadata(&shot)
        .map(|m| m.len() > 10_000)
        .unwrap_or(false));
}
