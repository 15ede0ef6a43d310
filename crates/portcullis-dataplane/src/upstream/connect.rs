//! Opening a connection to an origin, with the failure named as the SPEC names it.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::UpstreamError;
use crate::Cause;

/// Where a backend lives: an IP literal resolved once, or a name resolved per connect
/// so that DNS changes are followed.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Ip(SocketAddr),
    Name { host: String, port: u16 },
}

impl Target {
    pub(crate) fn new(host: &str, port: u16) -> Self {
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Target::Ip(SocketAddr::new(ip, port)),
            Err(_) => Target::Name {
                host: host.to_owned(),
                port,
            },
        }
    }
}

/// A TCP connection with `TCP_NODELAY`, within `timeout` including name resolution.
pub(crate) async fn connect(
    target: &Target,
    timeout: Duration,
) -> Result<TcpStream, UpstreamError> {
    match tokio::time::timeout(timeout, connect_any(target)).await {
        Ok(result) => result,
        Err(_) => Err(UpstreamError::new(
            Cause::ConnectTimeout,
            "connect timed out",
        )),
    }
}

async fn connect_any(target: &Target) -> Result<TcpStream, UpstreamError> {
    let addresses: Vec<SocketAddr> = match target {
        Target::Ip(address) => vec![*address],
        Target::Name { host, port } => tokio::net::lookup_host((host.as_str(), *port))
            .await
            .map_err(|e| UpstreamError::new(Cause::DnsError, e.to_string()))?
            .collect(),
    };
    let mut last = UpstreamError::new(Cause::DnsError, "name resolved to no address");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = connect_error(&e),
        }
    }
    Err(last)
}

fn connect_error(e: &std::io::Error) -> UpstreamError {
    let cause = match e.kind() {
        ErrorKind::TimedOut => Cause::ConnectTimeout,
        _ => Cause::ConnectRefused,
    };
    UpstreamError::new(cause, e.to_string())
}
