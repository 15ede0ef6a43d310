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
    let conn = ConnInfo {
        listener,
        peer,
        limits,
    };
    let mut buf = BytesMut::with_capacity(4096);
    if !sniff_h2(&mut stream, &mut buf, &conn).await {
        let (reader, writer) = stream.into_split();
        http1::serve(shared, conn, reader, writer, buf, stop).await;
        return;
    }
    let io = Rewind::new(Bytes::from(buf), stream);
    h2::serve(shared, conn, io, stop).await;
}

/// Reads until the first bytes show whether this is the HTTP/2 preface. `false` also
/// when the client went quiet: the HTTP/1.1 side then applies its own timeouts.
async fn sniff_h2(stream: &mut TcpStream, buf: &mut BytesMut, conn: &ConnInfo) -> bool {
    let deadline = tokio::time::Instant::now() + conn.limits.header_timeout;
    loop {
        match http1::is_h2_preface(buf) {
            Some(true) => return true,
            None => return false,
            Some(false) => {}
        }
        match tokio::time::timeout_at(deadline, stream.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return false,
        }
    }
}
