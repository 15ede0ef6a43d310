//! Health checking through the real data plane: active HTTP and TCP checks take a
//! backend out and readmit it in the time the thresholds promise, passive outlier
//! detection ejects for `base_ejection_time × n`, `max_ejection_percent` holds,
//! `all_unhealthy` fails closed or open, and slow start ramps a returning backend.
//! Everything is observed through traffic: which origin a request reached, and when.

mod common;
mod policy;

use std::time::Duration;

use common::Conf;
use policy::{
    app_requests, assert_generated, eventually, get_once, health_of, switched_origin, Client,
    Switch, NO_BREAKER, NO_OUTLIER, NO_RETRY,
};
use portcullis_test_support::{closed_port, FakeOrigin, Script};
use tokio::time::{sleep, Instant};

/// Active checks every 100 ms, without jitter so the bounds below are exact.
const INTERVAL: Duration = Duration::from_millis(100);
const PROBE_TIMEOUT: Duration = Duration::from_millis(100);
/// Slack for scheduling on a busy two-core machine running a debug build.
const MARGIN: Duration = Duration::from_millis(300);

/// The `health_check` section with `INTERVAL`, `PROBE_TIMEOUT` and the thresholds.
fn http_check(healthy: u32, unhealthy: u32) -> Vec<String> {
    vec![
        "kind = \"http\"".into(),
        "path = \"/healthz\"".into(),
        "interval = \"100ms\"".into(),
        "timeout = \"100ms\"".into(),
        "jitter = 0.0".into(),
        format!("healthy_threshold = {healthy}"),
        format!("unhealthy_threshold = {unhealthy}"),
    ]
}

/// Sends GETs (every 5 ms) for `span` from `since`; each must succeed. Returns when,
/// after `since`, the last request reached `origin` (`None`: no request did).
async fn last_hit(
    client: &mut Client,
    origin: &FakeOrigin,
    since: Instant,
    span: Duration,
) -> Option<Duration> {
    let mut last = None;
    while since.elapsed() < span {
        let before = app_requests(origin);
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
        if app_requests(origin) > before {
            last = Some(since.elapsed());
        }
        sleep(Duration::from_millis(5)).await;
    }
    last
}

/// Sends GETs (every 5 ms) until one reaches `origin`; returns when, after `since`,
/// or `None` if none did within `within`.
async fn first_hit(
    client: &mut Client,
    origin: &FakeOrigin,
    since: Instant,
    within: Duration,
) -> Option<Duration> {
    while since.elapsed() < within {
        let before = app_requests(origin);
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
        if app_requests(origin) > before {
            return Some(since.elapsed());
        }
        sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test]
async fn failing_healthz_takes_a_backend_out_in_time_and_passing_brings_it_back() {
    let (health, app) = (Switch::new(200), Switch::new(200));
    let a = switched_origin(&health, &app).await;
    let b = switched_origin(&Switch::new(200), &app).await;
    let check = http_check(2, 2);
    let proxy = Conf::defaults()
        .backend(a.addr())
        .backend(b.addr())
        .health(&check)
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    let mut client = Client::new(proxy.addr());
    for _ in 0..10 {
        assert_eq!(client.get().await.status, 200);
    }
    assert!(app_requests(&a) > 0 && app_requests(&b) > 0, "both serve");

    health.set(503);
    let failed = Instant::now();
    // unhealthy_threshold × interval + timeout: the longest a failing backend serves.
    let out_within = 2 * INTERVAL + PROBE_TIMEOUT + MARGIN;
    let last = last_hit(
        &mut client,
        &a,
        failed,
        out_within + Duration::from_millis(700),
    )
    .await;
    assert!(
        last.is_none_or(|t| t <= out_within),
        "a request reached the failing backend {last:?} after /healthz failed (bound {out_within:?})"
    );
    assert_eq!(health_of(&proxy, 0), "unhealthy");

    let out_count = app_requests(&a);
    health.set(200);
    let recovered = Instant::now();
    let back_within = 2 * INTERVAL + MARGIN;
    let back = first_hit(
        &mut client,
        &a,
        recovered,
        back_within + Duration::from_secs(2),
    )
    .await;
    assert!(
        back.is_some_and(|t| t <= back_within),
        "back after {back:?}, bound {back_within:?}"
    );
    assert_eq!(app_requests(&a), out_count + 1);
}

#[tokio::test]
async fn tcp_check_on_a_closed_port_keeps_that_backend_out() {
    let b = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::defaults()
        .backend(closed_port())
        .backend(b.addr())
        .health(&[
            "kind = \"tcp\"",
            "interval = \"100ms\"",
            "timeout = \"100ms\"",
            "jitter = 0.0",
        ])
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    // A backend's first failing probe takes it out at once.
    let out = eventually(Duration::from_secs(2), || {
        health_of(&proxy, 0) == "unhealthy"
    })
    .await;
    assert!(out, "the closed port was never marked unhealthy");
    let mut client = Client::new(proxy.addr());
    for _ in 0..40 {
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    assert_eq!(b.requests(), 40, "all traffic goes to the healthy backend");
    assert_eq!(health_of(&proxy, 0), "unhealthy", "still out");
}

/// Sends GETs every 10 ms until `origin` has answered `failures` more 503s;
/// returns when the last of them arrived. Everything else must be a 200.
async fn until_failures(client: &mut Client, failures: usize) -> Instant {
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = client.get().await;
        match reply.status {
            503 => seen += 1,
            200 => {}
            other => panic!("unexpected status {other}: {reply:?}"),
        }
        if seen == failures {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "only {seen} failures in 5 s");
        sleep(Duration::from_millis(10)).await;
    }
}

/// Sends GETs every 10 ms until one reaches `origin` (a 503); every request before
/// must have gone elsewhere. Returns the time from `ejected` to that request.
async fn ejection_gap(client: &mut Client, origin: &FakeOrigin, ejected: Instant) -> Duration {
    let count = origin.requests();
    loop {
        let reply = client.get().await;
        if reply.status == 503 {
            return ejected.elapsed();
        }
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            origin.requests(),
            count,
            "no request reaches it while ejected"
        );
        assert!(ejected.elapsed() < Duration::from_secs(5), "never returned");
        sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn consecutive_503s_eject_and_the_second_ejection_lasts_twice_as_long() {
    let a = FakeOrigin::start(Script::status(503)).await;
    let b = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::defaults()
        .backend(a.addr())
        .backend(b.addr())
        .outlier(&[
            "consecutive_failures = 3",
            "base_ejection_time = \"300ms\"",
            "max_ejection_time = \"10s\"",
        ])
        .breaker(NO_BREAKER)
        .retry(NO_RETRY)
        .start()
        .await;
    let mut client = Client::new(proxy.addr());

    let first = until_failures(&mut client, 3).await;
    assert_eq!(a.requests(), 3);
    assert_eq!(health_of(&proxy, 0), "ejected");
    let gap1 = ejection_gap(&mut client, &a, first).await;
    // That request was the first failure of the next streak.
    let second = until_failures(&mut client, 2).await;
    assert_eq!(a.requests(), 6);
    assert_eq!(health_of(&proxy, 0), "ejected");
    let gap2 = ejection_gap(&mut client, &a, second).await;

    let base = Duration::from_millis(300);
    // The ejection starts just before the client sees the failure that caused it.
    let early = Duration::from_millis(50);
    assert!(
        gap1 >= base - early && gap1 <= base + MARGIN + Duration::from_millis(100),
        "first ejection lasted {gap1:?}, want {base:?}"
    );
    assert!(
        gap2 >= 2 * base - early && gap2 <= 2 * base + MARGIN + Duration::from_millis(100),
        "second ejection lasted {gap2:?}, want {:?}",
        2 * base
    );
    assert!(
        gap2 > gap1 + Duration::from_millis(150),
        "{gap1:?} then {gap2:?}"
    );
}

#[tokio::test]
async fn max_ejection_percent_leaves_a_failing_backend_in() {
    let failing = [
        FakeOrigin::start(Script::status(503)).await,
        FakeOrigin::start(Script::status(503)).await,
        FakeOrigin::start(Script::status(503)).await,
    ];
    let good = FakeOrigin::start(Script::ok()).await;
    let proxy = failing
        .iter()
        .fold(Conf::defaults(), |conf, o| conf.backend(o.addr()))
        .backend(good.addr())
        .outlier(&[
            "consecutive_failures = 2",
            "base_ejection_time = \"30s\"",
            "max_ejection_percent = 50",
        ])
        .breaker(NO_BREAKER)
        .retry(NO_RETRY)
        .start()
        .await;
    let mut client = Client::new(proxy.addr());
    for _ in 0..40 {
        let status = client.get().await.status;
        assert!(status == 200 || status == 503, "status {status}");
    }
    let before: Vec<usize> = failing.iter().map(FakeOrigin::requests).collect();
    let mut failures = 0;
    for _ in 0..40 {
        if client.get().await.status == 503 {
            failures += 1;
        }
    }
    let after: Vec<usize> = failing.iter().map(FakeOrigin::requests).collect();
    let served: Vec<usize> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let still_in = served.iter().filter(|&&n| n > 0).count();
    assert_eq!(
        still_in, 1,
        "50% of 4 backends: 2 ejected, the third failing one still served ({served:?})"
    );
    assert_eq!(
        served.iter().sum::<usize>(),
        failures,
        "its 503s reach the client"
    );
    let statuses: Vec<&str> = (0..4).map(|i| health_of(&proxy, i)).collect();
    let ejected = statuses.iter().filter(|s| **s == "ejected").count();
    assert_eq!(ejected, 2, "{statuses:?}");
}

/// Two origins whose `/healthz` fails (first probe: out at once) and whose app
/// answers 200, behind a proxy with `all_unhealthy = <mode>`; returns once both are out.
async fn all_unhealthy(mode: &str) -> (FakeOrigin, FakeOrigin, portcullis_test_support::TestProxy) {
    let (health, app) = (Switch::new(503), Switch::new(200));
    let a = switched_origin(&health, &app).await;
    let b = switched_origin(&health, &app).await;
    let check = http_check(2, 2);
    let proxy = Conf::defaults()
        .backend(a.addr())
        .backend(b.addr())
        .cluster(&format!("all_unhealthy = \"{mode}\""))
        .health(&check)
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    let out = eventually(Duration::from_secs(2), || {
        health_of(&proxy, 0) == "unhealthy" && health_of(&proxy, 1) == "unhealthy"
    })
    .await;
    assert!(out, "both backends fail their checks");
    (a, b, proxy)
}

#[tokio::test]
async fn fail_closed_answers_503_no_healthy_backend() {
    let (a, b, proxy) = all_unhealthy("fail_closed").await;
    let started = Instant::now();
    let reply = get_once(proxy.addr()).await;
    assert_generated(&reply, 503, "no_healthy_backend", "destination_unavailable");
    // The next probe could readmit a backend: within a second here.
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "answered at once"
    );
    assert_eq!(
        app_requests(&a) + app_requests(&b),
        0,
        "no request reached them"
    );
}

#[tokio::test]
async fn fail_open_routes_across_all_backends() {
    let (a, b, proxy) = all_unhealthy("fail_open").await;
    let mut client = Client::new(proxy.addr());
    for _ in 0..20 {
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    // Round robin over both, as if they were healthy.
    let (a, b) = (app_requests(&a), app_requests(&b));
    assert_eq!((a, b), (10, 10), "panic mode uses every backend");
}

/// The share of `n` GETs that reached `origin`.
async fn share(client: &mut Client, origin: &FakeOrigin, n: usize) -> f64 {
    let before = app_requests(origin);
    for _ in 0..n {
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    (app_requests(origin) - before) as f64 / n as f64
}

#[tokio::test]
async fn slow_start_ramps_a_returning_backend_to_its_full_share() {
    let (health, app) = (Switch::new(200), Switch::new(200));
    let a = switched_origin(&health, &app).await;
    let b = switched_origin(&Switch::new(200), &app).await;
    let check = http_check(1, 1);
    let proxy = Conf::defaults()
        .backend(a.addr())
        .backend(b.addr())
        .cluster("slow_start = \"2s\"")
        .health(&check)
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    let mut client = Client::new(proxy.addr());
    let before = share(&mut client, &a, 100).await;
    assert!(
        (0.4..=0.6).contains(&before),
        "a starts at its full share: {before}"
    );

    health.set(503);
    let out = eventually(Duration::from_secs(2), || {
        health_of(&proxy, 0) == "unhealthy"
    })
    .await;
    assert!(out, "taken out");
    health.set(200);
    let back = eventually(Duration::from_secs(2), || health_of(&proxy, 0) == "healthy").await;
    assert!(back, "readmitted");
    let returned = Instant::now();

    // The ramp starts at 10% of the weight: even if these take the whole 2 s, the
    // average factor stays near 55%, so the share is clearly below a half.
    let ramping = share(&mut client, &a, 300).await;
    let ramp_took = returned.elapsed();
    assert!(
        ramping > 0.0 && ramping < 0.35,
        "share right after return: {ramping} over {ramp_took:?} (full share 0.5)"
    );
    sleep(Duration::from_millis(2100).saturating_sub(returned.elapsed())).await;
    let full = share(&mut client, &a, 200).await;
    assert!(
        (0.4..=0.6).contains(&full),
        "share after slow start: {full}"
    );
}
