//! A new client connection: find out which protocol it speaks, then serve it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::{h2, rewind::Rewind, Shared};
use crate::http1;
use crate::proxy::ConnInfo;

/// Serves one accepted connection to its end.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: Arc<str>,
    mut stream: TcpStream,
    peer: SocketAddr,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let limits = {
        let snapshot = shared.snapshot.load();
        match snapshot.listeners.get(&*listener) {
            Some(view) => view.limits,
            None => return, // the listener was removed meanwhile
        }
    };
    let peer_value = crate::headers::peer_value(peer.ip());
    let conn = ConnInfo {
        listener,
        peer,
        peer_value,
        limits,
    };
    let mut buf = BytesMut::new();
    match sniff_h2(&mut stream, &mut buf, &conn).await {
        Some(false) => {
            let (reader, writer) = stream.into_split();
            http1::serve(shared, conn, reader, writer, buf, stop).await;
        }
        Some(true) => {
            let io = Rewind::new(Bytes::from(buf), stream);
            // Boxed: the HTTP/1.1 connections, the many, should not carry its size.
            Box::pin(h2::serve(shared, conn, io, stop)).await;
        }
        None => {} // silent until header_timeout: nothing to answer
    }
}

/// Reads until the first bytes show whether this is the HTTP/2 preface; `None` when
/// nothing arrives within `header_timeout`. A client that stops mid-way gets `false`:
/// the HTTP/1.1 side then applies its own timeouts and answers.
async fn sniff_h2(stream: &mut TcpStream, buf: &mut BytesMut, conn: &ConnInfo) -> Option<bool> {
    let deadline = tokio::time::Instant::now() + conn.limits.header_timeout;
    // A connection that has sent nothing yet holds no buffer.
    if !matches!(
        tokio::time::timeout_at(deadline, stream.readable()).await,
        Ok(Ok(()))
    ) {
        return None;
    }
    buf.reserve(4096);
    loop {
        match http1::is_h2_preface(buf) {
            Some(true) => return Some(true),
            None => return Some(false),
            Some(false) => {}
        }
        match tokio::time::timeout_at(deadline, stream.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) if buf.is_empty() => return None,
            _ => return Some(false),
        }
    }
}
