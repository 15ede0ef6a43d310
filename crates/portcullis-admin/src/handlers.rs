//! One function per endpoint, each turning the shared state into a response.

use std::sync::Arc;

use http::{HeaderMap, Request, Response, StatusCode};
use serde::Serialize;

use crate::auth::Token;
use crate::page::STATUS_PAGE;
use crate::response::{self, Body};
use crate::router::{self, Endpoint, Route};
use crate::{AdminSource, StatusReport};

/// Renders the Prometheus text exposition on demand.
pub(crate) type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// What every connection of one admin server shares.
pub(crate) struct State {
    pub(crate) source: Arc<dyn AdminSource>,
    pub(crate) render_metrics: RenderMetrics,
    pub(crate) token: Option<Token>,
}

/// Answers one request. The request body is never read: no endpoint takes one.
pub(crate) async fn handle<B>(state: Arc<State>, request: Request<B>) -> Response<Body> {
    match router::route(request.method(), request.uri().path()) {
        Route::NotFound => response::not_found(),
        Route::MethodNotAllowed(allow) => response::method_not_allowed(allow),
        Route::Serve(endpoint) => serve(state, endpoint, request.headers()).await,
    }
}

async fn serve(state: Arc<State>, endpoint: Endpoint, headers: &HeaderMap) -> Response<Body> {
    match endpoint {
        Endpoint::Metrics => response::prometheus((state.render_metrics)()),
        Endpoint::Healthz => response::text(StatusCode::OK, "ok\n"),
        Endpoint::Readyz if state.source.ready() => response::text(StatusCode::OK, "ready\n"),
        Endpoint::Readyz => response::text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        Endpoint::Status => status(&*state.source),
        Endpoint::Reload => reload(state, headers).await,
        Endpoint::Page => response::html(STATUS_PAGE),
    }
}

/// The JSON of `GET /api/v1/status`: the report plus `ready`, read at the same moment,
/// so the page needs one request per refresh.
#[derive(Serialize)]
struct StatusBody {
    #[serde(flatten)]
    report: StatusReport,
    ready: bool,
}

fn status(source: &dyn AdminSource) -> Response<Body> {
    let body = StatusBody {
        report: source.status(),
        ready: source.ready(),
    };
    response::json(StatusCode::OK, &body)
}

#[derive(Serialize)]
struct Reloaded {
    generation: u64,
}

#[derive(Serialize)]
struct Rejected {
    errors: Vec<String>,
}

async fn reload(state: Arc<State>, headers: &HeaderMap) -> Response<Body> {
    if let Some(token) = &state.token {
        if !token.admits(headers) {
            return response::unauthorized();
        }
    }
    let source = Arc::clone(&state.source);
    match tokio::task::spawn_blocking(move || source.reload()).await {
        Ok(Ok(generation)) => response::json(StatusCode::OK, &Reloaded { generation }),
        Ok(Err(errors)) => response::json(StatusCode::BAD_REQUEST, &Rejected { errors }),
        Err(error) => {
            tracing::error!(%error, "admin: reload task failed");
            let errors = vec![format!("reload failed: {error}")];
            response::json(StatusCode::INTERNAL_SERVER_ERROR, &Rejected { errors })
        }
    }
}
