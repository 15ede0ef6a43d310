//! Which endpoint a request is for, and whether its method is allowed there.

use http::Method;

/// The admin listener's endpoints (SPEC, "Admin listener").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /metrics`: the Prometheus text exposition.
    Metrics,
    /// `GET /healthz`: 200 while the process runs.
    Healthz,
    /// `GET /readyz`: 200 when serving, else 503.
    Readyz,
    /// `GET /api/v1/status`: the status report as JSON.
    Status,
    /// `POST /api/v1/reload`: reload the config now.
    Reload,
    /// `GET /status`: the status page.
    Page,
}

/// What a request resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// A known path with an allowed method.
    Serve(Endpoint),
    /// A known path with another method; carries the `Allow` header's value.
    MethodNotAllowed(&'static str),
    /// No such path.
    NotFound,
}

const READ_ONLY: &str = "GET, HEAD";
const WRITE: &str = "POST";

impl Endpoint {
    fn from_path(path: &str) -> Option<Self> {
        Some(match path {
            "/metrics" => Self::Metrics,
            "/healthz" => Self::Healthz,
            "/readyz" => Self::Readyz,
            "/api/v1/status" => Self::Status,
            "/api/v1/reload" => Self::Reload,
            "/status" => Self::Page,
            _ => return None,
        })
    }

    fn allow(self) -> &'static str {
        match self {
            Self::Reload => WRITE,
            _ => READ_ONLY,
        }
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Self::Reload => method == Method::POST,
            _ => method == Method::GET || method == Method::HEAD,
        }
    }
}

/// Resolves `method` and `path` (without the query) to a route.
pub(crate) fn route(method: &Method, path: &str) -> Route {
    match Endpoint::from_path(path) {
        None => Route::NotFound,
        Some(endpoint) if endpoint.allows(method) => Route::Serve(endpoint),
        Some(endpoint) => Route::MethodNotAllowed(endpoint.allow()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_every_endpoint() {
        let get = |path| route(&Method::GET, path);
        assert_eq!(get("/metrics"), Route::Serve(Endpoint::Metrics));
        assert_eq!(get("/healthz"), Route::Serve(Endpoint::Healthz));
        assert_eq!(get("/readyz"), Route::Serve(Endpoint::Readyz));
        assert_eq!(get("/api/v1/status"), Route::Serve(Endpoint::Status));
        assert_eq!(get("/status"), Route::Serve(Endpoint::Page));
        assert_eq!(
            route(&Method::POST, "/api/v1/reload"),
            Route::Serve(Endpoint::Reload)
        );
        assert_eq!(
            route(&Method::HEAD, "/healthz"),
            Route::Serve(Endpoint::Healthz)
        );
    }

    #[test]
    fn wrong_method_names_the_allowed_ones() {
        assert_eq!(
            route(&Method::GET, "/api/v1/reload"),
            Route::MethodNotAllowed("POST")
        );
        assert_eq!(
            route(&Method::POST, "/metrics"),
            Route::MethodNotAllowed("GET, HEAD")
        );
        assert_eq!(
            route(&Method::DELETE, "/status"),
            Route::MethodNotAllowed("GET, HEAD")
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in ["/", "/metrics/", "/api/v1", "/api/v1/status/x", "/STATUS"] {
            assert_eq!(route(&Method::GET, path), Route::NotFound, "{path}");
        }
    }
}
