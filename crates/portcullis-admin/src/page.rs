//! The status page: one self-contained HTML document (inline CSS and JS, no external
//! assets) that polls `GET /api/v1/status` every 2 s and renders it.

/// The page served on `GET /status`.
pub(crate) const STATUS_PAGE: &str = include_str!("status.html");
