//! A new client connection: find out which protocol it speaks, then serve it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::{h2, rewind::Rewind, Shared};
use crate::http1;
use crate::proxy::ConnInfo;

/// Serves one accepted connection to its end. A function returning an `async move`
/// block, not an `async fn`: the block's captures are the arguments' only copy, in the
/// task of every idle connection.
#[allow(clippy::manual_async_fn)] // the `async fn` form would keep a second copy
pub(crate) fn serve(
    shared: Arc<Shared>,
    listener: Arc<str>,
    mut stream: TcpStream,
    peer: SocketAddr,
    stop: CancellationToken,
) -> impl Future<Output = ()> {
    async move {
        let _ = stream.set_nodelay(true);
        let limits = {
            let snapshot = shared.snapshot.load();
            match snapshot.listeners.get(&*listener) {
                Some(view) => view.limits,
                None => return, // the listener was removed meanwhile
            }
        };
        let mut buf = BytesMut::new();
        let h2 = sniff_h2(&mut stream, &mut buf, limits.header_timeout).await;
        let conn = |listener| ConnInfo {
            listener,
            peer,
            peer_value: crate::headers::peer_value(peer.ip()),
            limits,
        };
        match h2 {
            Some(false) => {
                let (reader, writer) = stream.into_split();
                http1::serve(shared, conn(listener), reader, writer, buf, stop).await;
            }
            Some(true) => {
                let io = Rewind::new(Bytes::from(buf), stream);
                // Boxed: the HTTP/1.1 connections, the many, should not carry its size.
                Box::pin(h2::serve(shared, conn(listener), io, stop)).await;
            }
            None => {} // silent until header_timeout: nothing to answer
        }
    }
}

/// Reads until the first bytes show whether this is the HTTP/2 preface; `None` when
/// nothing arrives within `header_timeout`. A client that stops mid-way gets `false`:
/// the HTTP/1.1 side then applies its own timeouts and answers.
async fn sniff_h2(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    header_timeout: std::time::Duration,
) -> Option<bool> {
    let deadline = tokio::time::Instant::now() + header_timeout;
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
