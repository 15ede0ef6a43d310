//! Responses Portcullis writes itself: status, `Proxy-Status`, `X-Request-Id`,
//! `Cache-Control: no-store`, `Retry-After`, and a body in the format the client accepts.

mod accept;
mod proxy_status;
mod render;

pub(crate) use accept::{preferred_format, BodyFormat};
pub use proxy_status::ProxyIdentity;
pub(crate) use render::{generated_response, Generated};
