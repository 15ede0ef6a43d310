//! Carrying out an [`Action`] on a connection: writing heads and bodies, or
//! misbehaving on purpose.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::time::sleep;

use crate::http_io::HttpIo;
use crate::{Action, ReceivedRequest, Response, STREAM_PATTERN};

/// What happens to the connection after an action.
pub(super) enum Reply {
    /// Wait for the next request.
    KeepOpen,
    /// Close with a FIN.
    Close,
    /// Close with an RST.
    Reset,
    /// The peer is gone or the socket failed: just drop it.
    Gone,
}

/// Connection-level facts that shape a response.
pub(super) struct Opts {
    /// Last response on this connection: add `Connection: close`, then close.
    pub close: bool,
    /// `Some(n)`: add `Keep-Alive: timeout=n` when not closing.
    pub keep_alive_secs: Option<u64>,
    /// The request was HEAD: no body bytes.
    pub head_request: bool,
}

/// Stream bodies are written in slices of this many bytes: a multiple of the
/// pattern length, so every slice starts at pattern offset 0.
const STREAM_SLICE: usize = 2048 * STREAM_PATTERN.len();

pub(super) async fn act(
    io: &mut HttpIo,
    action: Action,
    req: &ReceivedRequest,
    opts: Opts,
) -> Reply {
    match action {
        Action::Respond(response) => respond(io, response, &opts).await,
        Action::Echo => {
            let echo = Response::new(200)
                .header("Content-Type", "application/json")
                .body(req.to_echo_json());
            respond(io, echo, &opts).await
        }
        Action::Stream { len } => stream(io, len, &opts).await,
        Action::Reset => Reply::Reset,
        Action::Close => Reply::Close,
        Action::Garbage(bytes) => match io.write_all(&bytes).await {
            Ok(()) => Reply::Close,
            Err(_) => Reply::Gone,
        },
        Action::Hang => hang(io).await,
    }
}

/// Closes with a FIN (shutdown, then drop).
pub(super) async fn close(io: HttpIo) {
    let mut stream = io.into_stream();
    let _ = stream.shutdown().await;
}

/// Closes with an RST: `SO_LINGER` 0 makes `close()` abort the connection.
pub(super) fn reset(io: HttpIo) {
    let stream = io.into_stream();
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

async fn respond(io: &mut HttpIo, response: Response, opts: &Opts) -> Reply {
    if let Some(delay) = response.delay {
        sleep(delay).await;
    }
    let has_body = !opts.head_request && !no_body_status(response.status);
    let framed_by_user = response.headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
    });
    let mut head = status_line(response.status);
    for (name, value) in &response.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let chunked = response.chunked && !framed_by_user;
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if !framed_by_user && !no_body_status(response.status) {
        let _ = write!(head, "Content-Length: {}\r\n", response.body.len());
    }
    finish_head(&mut head, opts);
    if io.write_all(head.as_bytes()).await.is_err() {
        return Reply::Gone;
    }
    if let Some(delay) = response.body_delay {
        sleep(delay).await;
    }
    if has_body && write_body(io, &response.body, chunked).await.is_err() {
        return Reply::Gone;
    }
    after_response(opts, response.then_close)
}

async fn write_body(io: &mut HttpIo, body: &[u8], chunked: bool) -> std::io::Result<()> {
    if !chunked {
        return io.write_all(body).await;
    }
    if !body.is_empty() {
        io.write_all(format!("{:x}\r\n", body.len()).as_bytes())
            .await?;
        io.write_all(body).await?;
        io.write_all(b"\r\n").await?;
    }
    io.write_all(b"0\r\n\r\n").await
}

async fn stream(io: &mut HttpIo, len: u64, opts: &Opts) -> Reply {
    let mut head = status_line(200);
    let _ = write!(head, "Content-Length: {len}\r\n");
    finish_head(&mut head, opts);
    if io.write_all(head.as_bytes()).await.is_err() {
        return Reply::Gone;
    }
    if !opts.head_request {
        let slice = STREAM_PATTERN.repeat(STREAM_SLICE / STREAM_PATTERN.len());
        let mut remaining = len;
        // Bounded by `len`; each pass writes at least one byte or fails.
        while remaining > 0 {
            let n = usize::try_from(remaining).map_or(slice.len(), |r| r.min(slice.len()));
            if io.write_all(&slice[..n]).await.is_err() {
                return Reply::Gone;
            }
            remaining -= n as u64;
        }
    }
    after_response(opts, false)
}

/// Reads and discards until the peer closes; the origin stopping aborts it.
async fn hang(io: &mut HttpIo) -> Reply {
    // Ends at EOF or a read error (or when the task is aborted).
    while matches!(io.fill().await, Ok(n) if n > 0) {
        io.discard_buffer();
    }
    Reply::Gone
}

fn status_line(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    format!("HTTP/1.1 {status:03} {reason}\r\n")
}

fn finish_head(head: &mut String, opts: &Opts) {
    if opts.close {
        head.push_str("Connection: close\r\n");
    } else if let Some(secs) = opts.keep_alive_secs {
        let _ = write!(head, "Keep-Alive: timeout={secs}\r\n");
    }
    head.push_str("\r\n");
}

fn no_body_status(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

fn after_response(opts: &Opts, then_close: bool) -> Reply {
    if opts.close || then_close {
        Reply::Close
    } else {
        Reply::KeepOpen
    }
}
