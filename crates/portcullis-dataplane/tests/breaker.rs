//! Circuit breakers and concurrency limits through the real data plane: a failing
//! origin trips its breaker, the client then gets a fast `circuit_open` without the
//! origin being contacted, a half-open trial goes through after `open_duration`, and
//! recovery closes it; `max_requests` and `max_requests_per_backend` cap what reaches
//! origins and refuse the rest at once with `overloaded`. Outlier detection is off in
//! each test so the two mechanisms do not mask each other.

mod common;
mod policy;

use std::time::Duration;

use common::Conf;
use policy::{
    app_requests, assert_generated, breaker_of, eventually, get_once, health_of, switched_origin,
    Client, Reply, Switch, NO_OUTLIER, NO_RETRY,
};
use portcullis_test_support::{Action, FakeOrigin, Response, Script, TestProxy};
use tokio::time::{sleep, sleep_until, Instant};

/// A short-circuit must not wait on anything: well under this even in debug.
const FAST: Duration = Duration::from_millis(50);
const OPEN_DURATION: Duration = Duration::from_secs(1);

/// Trips after 5 requests at least half failed, stays open `OPEN_DURATION`, and
/// decides on one trial; plus `extra` lines.
fn breaker(extra: &[&'static str]) -> Vec<&'static str> {
    let mut lines = vec![
        "min_requests = 5",
        "failure_ratio = 0.5",
        "window = \"10s\"",
        "open_duration = \"1s\"",
        "half_open_requests = 1",
    ];
    lines.extend_from_slice(extra);
    lines
}

/// One backend answering `app`'s status, behind the breaker above.
async fn one_backend(app: &Switch, extra: &[&'static str]) -> (FakeOrigin, TestProxy) {
    let origin = switched_origin(&Switch::new(200), app).await;
    let proxy = Conf::defaults()
        .backend(origin.addr())
        .breaker(&breaker(extra))
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    (origin, proxy)
}

/// Sends the 5 failing requests that trip the breaker; returns when the last ended.
async fn trip(client: &mut Client, proxy: &TestProxy) -> Instant {
    for _ in 0..5 {
        let reply = client.get().await;
        assert_eq!(reply.status, 500, "the origin's 5xx is relayed: {reply:?}");
    }
    assert_eq!(breaker_of(proxy, 0), "open", "5 of 5 failed");
    Instant::now()
}

/// A `circuit_open` short-circuit with `status`, answered fast.
fn assert_short_circuit(reply: &Reply, status: u16) {
    assert_generated(reply, status, "circuit_open", "destination_unavailable");
    assert!(
        reply.elapsed < FAST,
        "short-circuit took {:?}",
        reply.elapsed
    );
}

#[tokio::test]
async fn failing_origin_trips_the_breaker_then_a_trial_closes_it_on_recovery() {
    let app = Switch::new(500);
    let (origin, proxy) = one_backend(&app, &[]).await;
    let mut client = Client::new(proxy.addr());
    let tripped = trip(&mut client, &proxy).await;
    assert_eq!(origin.requests(), 5);

    for _ in 0..10 {
        let reply = client.get().await;
        assert_short_circuit(&reply, 502);
        assert_eq!(
            reply.header("retry-after"),
            Some("1"),
            "open for ≤ 1 s more"
        );
    }
    assert_eq!(origin.requests(), 5, "not contacted while open");

    // After open_duration one trial goes through; the origin still fails: open again.
    sleep_until(tripped + OPEN_DURATION + Duration::from_millis(50)).await;
    let trial = client.get().await;
    assert_eq!(trial.status, 500, "the trial reached the origin: {trial:?}");
    assert_eq!(origin.requests(), 6);
    let reopened = Instant::now();
    assert_short_circuit(&client.get().await, 502);
    assert_eq!(origin.requests(), 6);

    // Recovered: the next trial succeeds and closes the breaker.
    app.set(200);
    sleep_until(reopened + OPEN_DURATION + Duration::from_millis(50)).await;
    for _ in 0..10 {
        let reply = client.get().await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    assert_eq!(origin.requests(), 16);
    assert_eq!(breaker_of(&proxy, 0), "closed");
}

#[tokio::test]
async fn short_circuit_status_503_when_configured() {
    let app = Switch::new(502);
    let (origin, proxy) = one_backend(&app, &["status = 503"]).await;
    let mut client = Client::new(proxy.addr());
    for _ in 0..5 {
        assert_eq!(client.get().await.status, 502, "the origin's own 502");
    }
    let reply = client.get().await;
    assert_short_circuit(&reply, 503);
    assert_eq!(origin.requests(), 5);
}

#[tokio::test]
async fn circuit_open_is_named_when_the_other_backends_are_out_for_health() {
    let app = Switch::new(500);
    let down = switched_origin(&Switch::new(503), &Switch::new(200)).await;
    let failing = switched_origin(&Switch::new(200), &app).await;
    let proxy = Conf::defaults()
        .backend(down.addr())
        .backend(failing.addr())
        .health(&[
            "path = \"/healthz\"",
            "interval = \"100ms\"",
            "timeout = \"100ms\"",
        ])
        .breaker(&breaker(&[]))
        .outlier(NO_OUTLIER)
        .retry(NO_RETRY)
        .start()
        .await;
    let out = eventually(Duration::from_secs(2), || {
        health_of(&proxy, 0) == "unhealthy"
    })
    .await;
    assert!(out, "the first backend fails its checks");
    let mut client = Client::new(proxy.addr());
    for _ in 0..5 {
        assert_eq!(client.get().await.status, 500);
    }
    assert_eq!(breaker_of(&proxy, 1), "open");
    // The only backend in service has its breaker open: that is the cause, not overload.
    assert_short_circuit(&client.get().await, 502);
    assert_eq!(app_requests(&failing), 5);
}

/// Sends `n` GETs at once, each on its own connection.
async fn concurrent_gets(proxy: &TestProxy, n: usize) -> Vec<Reply> {
    let addr = proxy.addr();
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(get_once(addr))).collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

/// An origin answering 200 after 500 ms.
async fn slow_origin() -> FakeOrigin {
    let slow = Response::ok().delay(Duration::from_millis(500));
    FakeOrigin::start(Script::always(Action::Respond(slow))).await
}

/// Splits replies into successes and fast `overloaded` refusals (anything else fails).
fn tally(replies: &[Reply]) -> (usize, usize) {
    let mut ok = 0;
    let mut refused = 0;
    for reply in replies {
        if reply.status == 200 {
            ok += 1;
            continue;
        }
        assert_generated(reply, 502, "overloaded", "connection_limit_reached");
        // Refused at once, not after the origin's 500 ms.
        assert!(
            reply.elapsed < Duration::from_millis(250),
            "overloaded answer took {:?}",
            reply.elapsed
        );
        refused += 1;
    }
    (ok, refused)
}

#[tokio::test]
async fn max_requests_caps_requests_in_flight_and_refuses_the_rest_at_once() {
    let origin = slow_origin().await;
    let proxy = Conf::defaults()
        .backend(origin.addr())
        .breaker(&["max_requests = 5"])
        .outlier(NO_OUTLIER)
        .start()
        .await;
    let replies = concurrent_gets(&proxy, 20).await;
    assert_eq!(tally(&replies), (5, 15));
    assert!(origin.max_concurrent() <= 5, "{}", origin.max_concurrent());
    assert_eq!(origin.requests(), 5);
}

#[tokio::test]
async fn max_requests_per_backend_caps_each_backend() {
    let origins = [slow_origin().await, slow_origin().await];
    let proxy = Conf::defaults()
        .backend(origins[0].addr())
        .backend(origins[1].addr())
        .breaker(&["max_requests_per_backend = 5"])
        .outlier(NO_OUTLIER)
        .start()
        .await;
    let replies = concurrent_gets(&proxy, 20).await;
    assert_eq!(tally(&replies), (10, 10));
    for origin in &origins {
        assert!(origin.max_concurrent() <= 5, "{}", origin.max_concurrent());
        assert_eq!(origin.requests(), 5);
    }
    // Places free again once those finished.
    sleep(Duration::from_millis(10)).await;
    assert_eq!(get_once(proxy.addr()).await.status, 200);
}

/// With `limit` at 5 places and one origin whose bodies arrive 500 ms after their
/// heads: a request is in flight (at the origin and on the proxy) until its body is
/// done, so 5 of 20 concurrent requests are served and 15 refused.
async fn assert_streaming_bodies_hold_their_places(limit: &str) {
    let slow_body = Response::ok().body_delay(Duration::from_millis(500));
    let origin = FakeOrigin::start(Script::always(Action::Respond(slow_body))).await;
    let proxy = Conf::defaults()
        .backend(origin.addr())
        .breaker(&[limit])
        .outlier(NO_OUTLIER)
        .start()
        .await;
    let replies = concurrent_gets(&proxy, 20).await;
    assert!(origin.max_concurrent() <= 5, "{}", origin.max_concurrent());
    assert_eq!(tally(&replies), (5, 15));
}

#[tokio::test]
async fn a_response_body_still_streaming_counts_against_max_requests() {
    assert_streaming_bodies_hold_their_places("max_requests = 5").await;
}

#[tokio::test]
async fn a_response_body_still_streaming_counts_against_max_requests_per_backend() {
    assert_streaming_bodies_hold_their_places("max_requests_per_backend = 5").await;
}
