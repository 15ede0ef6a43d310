//! Retries through the real data plane, per the SPEC's retry rules: connect failures
//! are retried on another backend for any method; a GET that got a gateway error or a
//! reset is retried on other backends, a POST that reached an origin is not; the retry
//! budget bounds the extra load when every backend fails; and the keep-alive race (a
//! pooled connection the origin closes as idle just as a request arrives) is retried
//! for POST too, so the client never sees it. Outlier detection and breakers are off
//! so every failure stays visible to the retry logic.

mod common;
mod policy;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Conf;
use policy::{Client, NO_BREAKER, NO_OUTLIER};
use portcullis_breaker::BUDGET_WINDOW;
use portcullis_test_support::{closed_port, Action, FakeOrigin, Script, TestProxy};
use tokio::time::sleep;

const BODY: &[u8] = b"order=42&qty=1";

#[tokio::test]
async fn connect_failures_are_retried_on_another_backend() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::defaults()
        .backend(closed_port())
        .backend(origin.addr())
        .outlier(NO_OUTLIER)
        .breaker(NO_BREAKER)
        .retry(&["attempts = 2"])
        .start()
        .await;
    let mut client = Client::new(proxy.addr());
    for i in 0..100 {
        // Nothing was sent on a failed connect: a POST may be retried as well.
        let reply = if i % 4 == 0 {
            client.post(BODY).await
        } else {
            client.get().await
        };
        assert_eq!(reply.status, 200, "request {i}: {reply:?}");
    }
    assert_eq!(
        origin.requests(),
        100,
        "each answered once, by the live backend"
    );
    let posts = origin
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 25);
}

/// Three origins answering `action`, behind a proxy with two retries.
async fn three_failing(action: Action) -> ([FakeOrigin; 3], TestProxy) {
    let origins = [
        FakeOrigin::start(Script::always(action.clone())).await,
        FakeOrigin::start(Script::always(action.clone())).await,
        FakeOrigin::start(Script::always(action)).await,
    ];
    let proxy = origins
        .iter()
        .fold(Conf::defaults(), |conf, o| conf.backend(o.addr()))
        .outlier(NO_OUTLIER)
        .breaker(NO_BREAKER)
        .retry(&["attempts = 2"])
        .start()
        .await;
    (origins, proxy)
}

/// Requests each origin received since `before` was taken.
fn since(origins: &[FakeOrigin], before: &[usize]) -> Vec<usize> {
    origins
        .iter()
        .zip(before)
        .map(|(o, b)| o.requests() - b)
        .collect()
}

#[tokio::test]
async fn a_post_that_got_503_is_not_retried_a_get_is_on_each_other_backend() {
    let (origins, proxy) = three_failing(Action::status(503)).await;
    let mut client = Client::new(proxy.addr());
    let reply = client.post(BODY).await;
    assert_eq!(reply.status, 503, "the origin's answer: {reply:?}");
    let posted = since(&origins, &[0, 0, 0]);
    assert_eq!(
        posted.iter().sum::<usize>(),
        1,
        "one try per POST: {posted:?}"
    );

    let reply = client.get().await;
    assert_eq!(reply.status, 503, "the last try's answer: {reply:?}");
    let tries = since(&origins, &posted);
    assert_eq!(
        tries,
        [1, 1, 1],
        "attempts + 1 tries, each on another backend"
    );
}

#[tokio::test]
async fn a_post_reset_on_a_new_connection_is_not_retried_a_get_is() {
    let (origins, proxy) = three_failing(Action::Reset).await;
    let mut client = Client::new(proxy.addr());
    let reply = client.post(BODY).await;
    assert_eq!(reply.status, 502, "{reply:?}");
    assert_eq!(reply.json()["cause"], "upstream_reset");
    // The origin may have processed it: a new connection is not the keep-alive race.
    let posted = since(&origins, &[0, 0, 0]);
    assert_eq!(
        posted.iter().sum::<usize>(),
        1,
        "one try per POST: {posted:?}"
    );

    let reply = client.get().await;
    assert_eq!(reply.status, 502, "{reply:?}");
    assert_eq!(since(&origins, &posted), [1, 1, 1]);
}

/// Sends `n` GETs to two origins that always answer 503; returns the requests the
/// origins received in all.
async fn all_failing(n: usize, retry: &[&str]) -> usize {
    let origins = [
        FakeOrigin::start(Script::status(503)).await,
        FakeOrigin::start(Script::status(503)).await,
    ];
    let proxy = Conf::defaults()
        .backend(origins[0].addr())
        .backend(origins[1].addr())
        .outlier(NO_OUTLIER)
        .breaker(NO_BREAKER)
        .retry(retry)
        .start()
        .await;
    let mut client = Client::new(proxy.addr());
    for _ in 0..n {
        assert_eq!(client.get().await.status, 503);
    }
    origins.iter().map(FakeOrigin::requests).sum()
}

/// What the budget allows over one window (portcullis-breaker's `RetryBudget`):
/// `budget_percent` of the requests, or `min_retries_per_second` × the window,
/// whichever is more.
fn budget(requests: usize, percent: usize, per_second: usize) -> usize {
    let window = BUDGET_WINDOW.as_secs() as usize;
    (requests * percent / 100).max(per_second * window)
}

#[tokio::test]
async fn retries_stay_within_the_floor_of_the_budget_when_every_backend_fails() {
    let n = 200;
    let received = all_failing(n, &["attempts = 2"]).await;
    // Defaults: 20 % of 200 = 40 is less than the floor of 10/s × 10 s.
    let bound = n + budget(n, 20, 10);
    assert!(
        received <= bound,
        "{received} origin requests for {n} GETs, budget bound {bound} (unbudgeted: {})",
        n * 3
    );
    // Every GET wants two retries, so the budget is spent to its last retry.
    assert!(received >= bound - 1, "the budget is used up: {received}");
}

#[tokio::test]
async fn retries_stay_within_the_percentage_of_the_budget_when_every_backend_fails() {
    let n = 200;
    let retry = [
        "attempts = 2",
        "budget_percent = 20",
        "min_retries_per_second = 1",
    ];
    let received = all_failing(n, &retry).await;
    let bound = n + budget(n, 20, 1);
    assert!(
        received <= bound,
        "{received} origin requests for {n} GETs, budget bound {bound} (unbudgeted: {})",
        n * 3
    );
    // Every GET wants two retries, so 20 % is spent to its last retry (well past the
    // floor of 10).
    assert!(received >= bound - 1, "the budget is used up: {received}");
}

#[tokio::test]
async fn causes_left_out_of_retry_on_are_not_retried() {
    let n = 20;
    let only_connect = ["attempts = 2", "retry_on = [\"connect_failure\"]"];
    assert_eq!(
        all_failing(n, &only_connect).await,
        n,
        "one attempt per GET"
    );
    assert_eq!(
        all_failing(n, &["attempts = 2"]).await,
        3 * n,
        "gateway errors are retried by default"
    );
}

/// Sends a GET or a POST, then pauses past the origin's idle limit, `n` times.
async fn stale_pool_requests(client: &mut Client, n: usize, pause: Duration) {
    for i in 0..n {
        let reply = if i % 2 == 0 {
            client.get().await
        } else {
            client.post(BODY).await
        };
        assert_eq!(reply.status, 200, "request {i}: {reply:?}");
        sleep(pause).await;
    }
}

#[tokio::test]
async fn the_keep_alive_race_is_retried_for_get_and_post_without_client_errors() {
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&answered);
    let script = Script::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Action::ok()
    })
    .drop_reused_after_idle(Duration::from_millis(100));
    let origin = FakeOrigin::start(script).await;
    // Every other key at its default: breaker, outlier detection and retries as shipped.
    let proxy = Conf::defaults().backend(origin.addr()).start().await;
    let mut client = Client::new(proxy.addr());
    let n = 16;
    stale_pool_requests(&mut client, n, Duration::from_millis(200)).await;

    assert_eq!(
        answered.load(Ordering::SeqCst),
        n,
        "each request answered once"
    );
    // Every request after the first found the pooled connection stale.
    let dropped = origin.requests() - n;
    assert_eq!(dropped, n - 1, "the race happened on every reuse");
    let posts: Vec<u64> = origin
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body_len)
        .collect();
    assert!(
        posts.iter().all(|&len| len == BODY.len() as u64),
        "{posts:?}"
    );
}
