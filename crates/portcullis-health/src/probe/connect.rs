//! Resolving and connecting, shared by both probes.

use tokio::net::{lookup_host, TcpStream};

use crate::error::ProbeError;

/// Resolves `host:port` and connects to the first address that accepts, as a
/// fresh connection (a pooled one could hide a firewall or L4 problem).
pub(super) async fn connect(host: &str, port: u16) -> Result<TcpStream, ProbeError> {
    let addrs = lookup_host((host, port))
        .await
        .map_err(ProbeError::Resolve)?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = Some(error),
        }
    }
    Err(match last {
        Some(error) => ProbeError::Connect(error),
        None => ProbeError::Resolve(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )),
    })
}
