//! The upstream side: connecting to origins, a keep-alive pool per backend, sending one
//! request, and returning the connection to the pool when its response body is done.

mod body;
mod conn;
mod connect;
mod error;
mod exchange;
mod keep_alive;
mod origin_fields;
mod pool;
mod request;
mod response;

pub use body::PooledBody;
pub(crate) use connect::Target;
pub(crate) use error::UpstreamError;
pub(crate) use exchange::{checkout, exchange, Limits};
pub(crate) use keep_alive::announced_timeout;
pub(crate) use origin_fields::OriginFields;
pub(crate) use pool::Pools;
