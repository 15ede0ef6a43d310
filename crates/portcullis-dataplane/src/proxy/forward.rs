//! Forwarding with retries. Each attempt goes to another backend where one is
//! available. What may be retried (SPEC, "Retry rules"): idempotent methods on every
//! `retry_on` cause; any method when the origin cannot have processed the request —
//! the connect failed, the request never left, or a reused pooled connection failed
//! before any response byte (the keep-alive race). Never beyond `attempts` or the
//! cluster's retry budget, and never once a response byte went to the client (a
//! response is returned to the client only when no retry follows).

use std::sync::Arc;

use http::header::{ACCEPT, HOST};
use http::{HeaderValue, Request, Response};
use http_body::Body as _;
use portcullis_breaker::RetryCause;
use portcullis_health::Outcome;
use tokio::time::Instant;

use super::attempt::Attempts;
use super::prepare::prepare_upstream;
use super::select::{pick, Unusable};
use super::{ConnInfo, Failure, ProxiedRequest};
use crate::access_log::RequestLog;
use crate::backend::Placed;
use crate::cluster::Cluster;
use crate::headers::Appended;
use crate::routing::normalize_host;
use crate::snapshot::{ListenerView, LocalSnapshot};
use crate::upstream::{self, PooledBody, UpstreamError};
use crate::{Cause, RequestBody};

/// Routes and forwards `request`; `routed` learns the cluster index once known.
pub(super) async fn forward(
    snapshot: &Arc<LocalSnapshot>,
    conn: &ConnInfo,
    mut request: ProxiedRequest,
    request_id: &HeaderValue,
    routed: &mut Option<usize>,
    mut log: Option<&mut RequestLog>,
    started: Instant,
) -> Result<Response<PooledBody>, Failure> {
    let accept = request.headers().get(ACCEPT).cloned();
    let fail = |cause| Failure::new(cause, accept.as_ref());
    let view = snapshot
        .listeners
        .get(&*conn.listener)
        .ok_or_else(|| fail(Cause::NoRoute))?;
    let index = route(view, &request).ok_or_else(|| fail(Cause::NoRoute))?;
    let cluster = snapshot
        .clusters
        .get(index)
        .ok_or_else(|| fail(Cause::NoRoute))?;
    *routed = Some(index);
    if let Some(log) = log.as_deref_mut() {
        log.cluster = Some(Arc::clone(cluster));
    }
    if exceeds_body_limit(&request, view.limits.max_body_bytes) {
        return Err(fail(Cause::BodyTooLarge));
    }
    cluster.shared.budget.record_request(started);
    let Some(slot) = cluster.shared.limit.try_acquire() else {
        return Err(short_circuit(
            cluster,
            Unusable {
                cause: Cause::Overloaded,
                retry_after: Some(1),
            },
            &accept,
        ));
    };
    let key = cluster.select_key(request.headers(), conn.peer.ip());
    let appended = prepare_upstream(snapshot, view, conn, &mut request, request_id);
    let mut attempts = if Attempts::needs_buffering(&request, &cluster.retry) {
        // Boxed: the rarer path, so its state stays out of every request's future.
        Box::pin(Attempts::buffered(request, &cluster.retry))
            .await
            .map_err(fail)?
    } else {
        Attempts::unbuffered(request, &cluster.retry)
    };
    let mut forwarder = Forwarder {
        snapshot,
        cluster_index: index,
        cluster,
        accept: &accept,
        appended: &appended,
        tried: arrayvec::ArrayVec::new(),
        log,
    };
    let mut response = forwarder.run(&mut attempts, key, started).await?;
    response.body_mut().hold_cluster_place(slot);
    Ok(response)
}

/// One request's walk through its attempts.
struct Forwarder<'a> {
    /// The snapshot the cluster is from, and the cluster's place in it.
    snapshot: &'a Arc<LocalSnapshot>,
    cluster_index: usize,
    cluster: &'a Cluster,
    accept: &'a Option<HeaderValue>,
    /// Headers this hop adds to every attempt.
    appended: &'a Appended,
    /// Members tried so far; `attempts` is at most 10, so this stays inline.
    tried: arrayvec::ArrayVec<usize, 16>,
    log: Option<&'a mut RequestLog>,
}

impl Forwarder<'_> {
    async fn run(
        &mut self,
        attempts: &mut Attempts,
        key: crate::balance::SelectKey,
        started: Instant,
    ) -> Result<Response<PooledBody>, Failure> {
        let max_tries = self.cluster.retry.attempts as usize + 1;
        let mut now = started;
        loop {
            let index = pick(self.cluster, key, &self.tried, now)
                .map_err(|u| short_circuit(self.cluster, u, self.accept))?;
            let _ = self.tried.try_push(index);
            let last = self.tried.len() >= max_tries;
            let Some(request) = attempts.take() else {
                return Err(Failure::new(Cause::UpstreamReset, self.accept.as_ref()));
            };
            match self.attempt(index, request, attempts, last, now).await {
                Step::Done(result) => return *result,
                Step::Retry => now = Instant::now(),
            }
        }
    }

    /// One attempt on member `index`.
    async fn attempt(
        &mut self,
        index: usize,
        request: ProxiedRequest,
        attempts: &mut Attempts,
        last: bool,
        now: Instant,
    ) -> Step {
        let backend = &self.cluster.members[index].backend;
        let Some(ticket) = backend.breaker.admit(now) else {
            // Lost a race for a half-open trial: pick again, within the attempts.
            return self.lost_race(request, attempts, last, Cause::CircuitOpen);
        };
        let cap = match backend.limit.as_ref().map(|limit| limit.try_acquire()) {
            Some(None) => return self.lost_race(request, attempts, last, Cause::Overloaded),
            Some(Some(guard)) => Some(guard),
            None => None,
        };
        if let Some(log) = self.log.as_deref_mut() {
            log.backend = Some(Arc::clone(backend));
            log.attempts = self.tried.len() as u32;
        }
        let started = now; // a pick takes no measurable time
        let ready = match upstream::checkout(backend, &self.cluster.limits, now).await {
            Ok(ready) => ready,
            Err(error) => {
                // Nothing was sent: safe to retry for any method, with the same request.
                attempts.give_back(request);
                self.record(index, ticket, Some(&error), None, Instant::now());
                return self.after_error(error, attempts, last, true);
            }
        };
        // Boxed: its state would otherwise be copied into every future that awaits
        // this one, a few kilobytes per request.
        let exchange = upstream::exchange(
            ready,
            backend,
            &self.cluster.limits,
            request,
            self.appended,
            self.placed(index).start_request(),
            now,
        );
        let result = Box::pin(exchange).await;
        let responded = Instant::now();
        match result {
            Ok((mut response, head)) => {
                attempts.sent(head);
                response.body_mut().hold_backend_place(cap);
                let status = response.status().as_u16();
                let took = responded.saturating_duration_since(started);
                backend.metrics.duration.record(took);
                backend.metrics.requests.increment(status);
                if let Some(log) = self.log.as_deref_mut() {
                    log.upstream_status = Some(status);
                    log.upstream_time = Some(took);
                }
                self.record(index, ticket, None, Some(status), responded);
                self.after_response(response, attempts, last)
            }
            Err(failed) => {
                let unsent = failed.unsent.is_some();
                if let Some(request) = failed.unsent {
                    attempts.give_back(request);
                }
                if let Some(head) = failed.sent {
                    attempts.sent(head);
                }
                self.record(index, ticket, Some(&failed.error), None, responded);
                self.after_error(failed.error, attempts, last, unsent)
            }
        }
    }

    fn placed(&self, member: usize) -> Placed {
        Placed {
            snapshot: Arc::clone(self.snapshot),
            cluster: self.cluster_index,
            member,
        }
    }

    /// Another request took the last place on the picked backend. The request goes back
    /// for another pick while attempts remain; after the last, the short-circuit answer.
    fn lost_race(
        &self,
        request: ProxiedRequest,
        attempts: &mut Attempts,
        last: bool,
        cause: Cause,
    ) -> Step {
        attempts.give_back(request);
        if !last {
            return Step::Retry;
        }
        let unusable = Unusable {
            cause,
            retry_after: Some(1),
        };
        Step::Done(Box::new(Err(short_circuit(
            self.cluster,
            unusable,
            self.accept,
        ))))
    }

    /// Feeds the breaker and outlier detection. Client-side failures and the keep-alive
    /// race say nothing about the backend and are not recorded (the breaker ticket is
    /// simply dropped): counting the race would let a healthy origin that closes idle
    /// connections trip its breaker under light traffic. A retry on a new connection
    /// is recorded as usual, so an origin that resets everything still counts.
    fn record(
        &self,
        index: usize,
        ticket: portcullis_breaker::Ticket,
        error: Option<&UpstreamError>,
        status: Option<u16>,
        now: Instant,
    ) {
        let backend = &self.cluster.members[index].backend;
        let gateway_failure = match (error, status) {
            (Some(e), _) if !e.cause.is_gateway_failure() || e.is_keep_alive_race() => return,
            (Some(_), _) => true,
            (None, Some(status)) => matches!(status, 502..=504),
            (None, None) => false,
        };
        let server_error = gateway_failure || status.is_some_and(|s| s >= 500);
        backend.breaker.record(ticket, !server_error, now);
        let outcome = if gateway_failure {
            Outcome::GatewayFailure
        } else {
            Outcome::Success
        };
        self.cluster.health.record(index, outcome, now);
    }

    fn after_response(
        &mut self,
        response: Response<PooledBody>,
        attempts: &Attempts,
        last: bool,
    ) -> Step {
        let gateway_error = matches!(response.status().as_u16(), 502..=504);
        let retry = gateway_error
            && attempts.idempotent
            && self.may_retry(attempts, last, RetryCause::GatewayError);
        if retry {
            return Step::Retry; // the origin's 5xx is dropped unsent; its connection closes
        }
        Step::Done(Box::new(Ok(response)))
    }

    fn after_error(
        &mut self,
        error: UpstreamError,
        attempts: &Attempts,
        last: bool,
        unsent: bool,
    ) -> Step {
        let cause = match error.cause {
            Cause::DnsError | Cause::ConnectRefused | Cause::ConnectTimeout => {
                Some(RetryCause::ConnectFailure)
            }
            Cause::UpstreamReset => {
                // The origin cannot have processed a request that never left, or one on a
                // reused connection that died before any response byte.
                let safe = unsent || error.reused || attempts.idempotent;
                safe.then_some(RetryCause::ResetBeforeResponse)
            }
            _ => None,
        };
        if let Some(cause) = cause {
            if self.may_retry(attempts, last, cause) {
                return Step::Retry;
            }
        }
        let mut failure = Failure::new(error.cause, self.accept.as_ref());
        if let Some(&index) = self.tried.last() {
            failure.next_hop = Some(self.cluster.members[index].backend.address.clone());
        }
        Step::Done(Box::new(Err(failure)))
    }

    /// `retry_on` lists the cause, attempts are left, there is a request to send, and
    /// the budget agrees (which counts it).
    fn may_retry(&self, attempts: &Attempts, last: bool, cause: RetryCause) -> bool {
        cause.is_enabled(&self.cluster.retry.retry_on)
            && !last
            && attempts.can_repeat()
            && self.cluster.shared.budget.try_retry(Instant::now(), cause)
    }
}

enum Step {
    Done(Box<Result<Response<PooledBody>, Failure>>),
    Retry,
}

/// A short-circuit or no-backend answer, with the cluster's configured status.
fn short_circuit(cluster: &Cluster, unusable: Unusable, accept: &Option<HeaderValue>) -> Failure {
    let mut failure = Failure::new(unusable.cause, accept.as_ref());
    if matches!(unusable.cause, Cause::CircuitOpen | Cause::Overloaded) {
        failure.status = cluster.short_circuit_status;
    }
    failure.retry_after = unusable.retry_after;
    failure
}

fn route(view: &ListenerView, request: &Request<RequestBody>) -> Option<usize> {
    if !view.routes.matches_hosts() {
        return view.routes.lookup("", request.uri().path());
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    view.routes
        .lookup(&normalize_host(host), request.uri().path())
}

fn exceeds_body_limit(request: &Request<RequestBody>, limit: Option<u64>) -> bool {
    let Some(limit) = limit else { return false };
    // The body knows its declared length: no header lookup.
    let declared = request.body().size_hint().exact();
    declared.is_some_and(|length| length > limit)
}
