//! Test fixtures for Portcullis integration tests (a dev-dependency only).
//!
//! Fake origins are written on raw tokio TCP, not hyper, so they can
//! misbehave at the byte level: reset, close without answering, send
//! garbage, hang, or lose the keep-alive race on purpose. Everything binds
//! `127.0.0.1:0` and stops when its handle is dropped.
//!
//! ```
//! use std::time::Duration;
//! use portcullis_test_support::{raw_exchange, Action, FakeOrigin, Script};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Healthy on /healthz, but every other request is reset.
//! let origin = FakeOrigin::start(Script::new(|req| match req.path.as_str() {
//!     "/healthz" => Action::ok(),
//!     _ => Action::Reset,
//! }))
//! .await;
//! let get = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
//! let res = raw_exchange(origin.addr(), get, Duration::from_secs(5)).await.unwrap();
//! assert_eq!((res.status, res.text().as_str()), (200, "ok"));
//! assert_eq!(origin.received()[0].path, "/healthz");
//! # }
//! ```
//!
//! # Layout
//!
//! - `origin/`: [`FakeOrigin`], the scripted origin (accept loop, one task
//!   per connection, counters and the request log).
//! - `script.rs`: [`Script`], the per-request handler and connection options.
//! - `action.rs`: [`Action`] and the [`Response`] builder.
//! - `request.rs`: [`ReceivedRequest`], what an origin recorded.
//! - `client.rs`: [`raw_exchange`] and [`RawClient`] returning [`RawResponse`].
//! - `blackhole.rs`: [`unaccepting_listener`] (connects hang) and
//!   [`closed_port`] (connects are refused).
//! - `browser.rs`: [`headless_chromium`], the rendered DOM or a screenshot of a page.
//! - `proxy.rs`: [`TestProxy`], the real data plane on ephemeral ports.
//! - `http_io/`: HTTP/1.1 reading and framing both sides share (private).

mod action;
mod blackhole;
mod browser;
mod client;
mod http_io;
mod origin;
mod proxy;
mod request;
mod script;

pub use action::{stream_pattern, Action, Response, STREAM_PATTERN};
pub use blackhole::{closed_port, try_unaccepting_listener, unaccepting_listener, BlackHole};
pub use browser::headless_chromium;
pub use client::{raw_exchange, RawClient, RawResponse, DEFAULT_TIMEOUT};
pub use origin::FakeOrigin;
pub use proxy::TestProxy;
pub use request::ReceivedRequest;
pub use script::Script;
