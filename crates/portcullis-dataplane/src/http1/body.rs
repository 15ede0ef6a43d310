//! Streams a request body from the client connection into the channel the upstream
//! request reads from, enforcing `max_body_bytes` as it goes.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use super::chunked::{ChunkedDecoder, Decoded};
use super::head::BodyFraming;
use crate::BodyError;

/// Read size for body bytes.
const READ_CHUNK: usize = 16 * 1024;

/// How pumping a body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PumpEnd {
    /// All of it was read and handed on; the connection can carry another request.
    Complete,
    /// The body cannot be finished: the client connection must close after the response.
    Failed(BodyError),
}

/// Reads the body framed as `framing` from `buf` and `reader` into `tx`.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    framing: BodyFraming,
    limit: Option<u64>,
    tx: mpsc::Sender<Result<bytes::Bytes, BodyError>>,
) -> PumpEnd {
    let result = match framing {
        BodyFraming::None => Ok(()),
        BodyFraming::Length(n) => pump_length(reader, buf, n, limit, &tx).await,
        BodyFraming::Chunked => pump_chunked(reader, buf, limit, &tx).await,
    };
    match result {
        Ok(()) => PumpEnd::Complete,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            PumpEnd::Failed(e)
        }
    }
}

async fn pump_length<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    length: u64,
    limit: Option<u64>,
    tx: &mpsc::Sender<Result<bytes::Bytes, BodyError>>,
) -> Result<(), BodyError> {
    if limit.is_some_and(|limit| length > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut remaining = length;
    while remaining > 0 {
        if buf.is_empty() {
            fill(reader, buf).await?;
        }
        let n = remaining.min(buf.len() as u64);
        remaining -= n;
        let data = buf.split_to(n as usize).freeze();
        // A dropped receiver means the upstream no longer wants the body.
        tx.send(Ok(data))
            .await
            .map_err(|_| BodyError::ClientClosed)?;
    }
    Ok(())
}

async fn pump_chunked<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    limit: Option<u64>,
    tx: &mpsc::Sender<Result<bytes::Bytes, BodyError>>,
) -> Result<(), BodyError> {
    let mut decoder = ChunkedDecoder::default();
    let mut received = 0u64;
    loop {
        match decoder.decode(buf).map_err(|_| BodyError::Malformed)? {
            Decoded::Done => return Ok(()),
            Decoded::NeedMore => fill(reader, buf).await?,
            Decoded::Data(data) => {
                received += data.len() as u64;
                if limit.is_some_and(|limit| received > limit) {
                    return Err(BodyError::TooLarge);
                }
                tx.send(Ok(data))
                    .await
                    .map_err(|_| BodyError::ClientClosed)?;
            }
        }
    }
}

async fn fill<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut BytesMut) -> Result<(), BodyError> {
    buf.reserve(READ_CHUNK);
    match reader.read_buf(buf).await {
        Ok(0) | Err(_) => Err(BodyError::ClientClosed),
        Ok(_) => Ok(()),
    }
}
