//! Test fixtures for Portcullis integration tests (a dev-dependency only).
//!
//! Fake origins are written on raw tokio TCP, not hyper, so they can
//! misbehave at the byte level: reset, close without answering, send
//! garbage, hang, or lose the keep-alive race on purpose. Everything binds
//! `127.0.0.1:0` and stops when its handle is dropped.
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
//! - `http_io/`: HTTP/1.1 reading and framing both sides share (private).

mod action;
mod blackhole;
mod client;
mod http_io;
mod origin;
mod request;
mod script;

pub use action::{stream_pattern, Action, Response, STREAM_PATTERN};
pub use blackhole::{closed_port, try_unaccepting_listener, unaccepting_listener, BlackHole};
pub use client::{raw_exchange, RawClient, RawResponse, DEFAULT_TIMEOUT};
pub use origin::FakeOrigin;
pub use request::ReceivedRequest;
pub use script::Script;
