//! One accepted connection: read a request, record it, let the script
//! decide, act, and repeat while the connection stays open.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use super::respond::{self, Reply};
use super::state::Shared;
use crate::http_io::{self, Framing, HttpIo, RequestHead};
use crate::{ReceivedRequest, Script};

/// Serves `stream` until the peer closes, an I/O error, a closing action or
/// option, or the origin stopping (which aborts this task).
pub(super) async fn serve(stream: TcpStream, connection_index: usize, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut io = HttpIo::new(stream);
    let mut idle_since = Instant::now();
    // Each pass handles one request; see the doc comment for how it ends.
    for request_index in 0.. {
        if !wait_for_request(&mut io, shared.script().idle_close).await {
            respond::close(io).await;
            return;
        }
        let idle = idle_since.elapsed();
        // Read again: set_script may have run while this connection idled.
        let script = shared.script();
        let ctx = Ctx {
            shared: &shared,
            script: &script,
            connection_index,
            request_index,
            idle,
        };
        match handle_request(&mut io, ctx).await {
            Reply::KeepOpen => idle_since = Instant::now(),
            Reply::Close => return respond::close(io).await,
            Reply::Reset => return respond::reset(io),
            Reply::Gone => return,
        }
    }
}

/// Everything one request's handling needs to know about its connection.
struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    script: &'a Script,
    connection_index: usize,
    request_index: usize,
    idle: Duration,
}

/// Waits for the first byte of the next request; false on EOF, error, or
/// when `idle_close` elapses first.
async fn wait_for_request(io: &mut HttpIo, idle_close: Option<Duration>) -> bool {
    if io.buffered() > 0 {
        return true;
    }
    let fill = io.fill();
    let filled = match idle_close {
        Some(idle) => timeout(idle, fill).await.unwrap_or(Ok(0)),
        None => fill.await,
    };
    matches!(filled, Ok(n) if n > 0)
}

async fn handle_request(io: &mut HttpIo, ctx: Ctx<'_>) -> Reply {
    let Ok(Some(raw)) = io.read_head().await else {
        return Reply::Gone;
    };
    let Ok(head) = http_io::parse_request_head(&raw) else {
        return Reply::Close;
    };
    let (index, _in_flight) = ctx.shared.begin_request();
    let keep_alive = wants_keep_alive(&head);
    let request = match receive(io, head, &ctx, index).await {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    let raced = ctx.request_index > 0
        && ctx
            .script
            .drop_reused_after_idle
            .is_some_and(|limit| ctx.idle > limit);
    if raced {
        return Reply::Close;
    }
    let last = ctx
        .script
        .close_after
        .is_some_and(|n| ctx.request_index + 1 >= n);
    let opts = respond::Opts {
        close: last || !keep_alive,
        keep_alive_secs: ctx.script.keep_alive_header,
        head_request: request.method.eq_ignore_ascii_case("HEAD"),
    };
    respond::act(io, ctx.script.decide(&request), &request, opts).await
}

/// Reads the body (counting it) and records the request, complete or not.
/// `Err` says how to end the connection when no answer is possible.
async fn receive(
    io: &mut HttpIo,
    head: RequestHead,
    ctx: &Ctx<'_>,
    index: usize,
) -> Result<ReceivedRequest, Reply> {
    let framing = http_io::request_framing(&head.headers).map_err(|_| Reply::Close)?;
    if framing != Framing::Empty && expects_continue(&head) {
        // Like real servers: invite the body a client is holding back.
        let _ = io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    }
    let mut body_len = 0u64;
    let body = io
        .read_body(framing, &mut |chunk| body_len += chunk.len() as u64)
        .await;
    let request = ReceivedRequest {
        method: head.method,
        path: head.path,
        headers: head.headers,
        body_len,
        body_complete: body.is_ok(),
        connection_index: ctx.connection_index,
        request_index_on_connection: ctx.request_index,
        index,
    };
    ctx.shared.record(request.clone());
    body.map(|_| request).map_err(|_| Reply::Gone)
}

/// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 only
/// with `Connection: keep-alive`.
fn wants_keep_alive(head: &RequestHead) -> bool {
    if head.minor_version == 0 {
        http_io::connection_has(&head.headers, "keep-alive")
    } else {
        !http_io::connection_has(&head.headers, "close")
    }
}

fn expects_continue(head: &RequestHead) -> bool {
    head.headers
        .iter()
        .any(|(name, value)| name == "expect" && value.trim().eq_ignore_ascii_case("100-continue"))
}
