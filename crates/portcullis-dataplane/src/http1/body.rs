//! Streams a request body from the client connection into the channel the upstream
//! request reads from, enforcing `max_body_bytes` as it goes.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
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

/// Where body bytes come from: bytes already read, then the connection, which must
/// deliver something every `idle` or the client is taken as gone.
pub(crate) struct Input<'a, R> {
    pub reader: &'a mut R,
    pub buf: &'a mut BytesMut,
    pub idle: Duration,
}

type Sender = mpsc::Sender<Result<Bytes, BodyError>>;

/// Reads the body framed as `framing` into `tx`.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    mut input: Input<'_, R>,
    framing: BodyFraming,
    limit: Option<u64>,
    tx: Sender,
) -> PumpEnd {
    let result = match framing {
        BodyFraming::None => Ok(()),
        BodyFraming::Length(n) => pump_length(&mut input, n, limit, &tx).await,
        BodyFraming::Chunked => pump_chunked(&mut input, limit, &tx).await,
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
    input: &mut Input<'_, R>,
    length: u64,
    limit: Option<u64>,
    tx: &Sender,
) -> Result<(), BodyError> {
    if limit.is_some_and(|limit| length > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut remaining = length;
    while remaining > 0 {
        if input.buf.is_empty() {
            input.fill().await?;
        }
        let n = remaining.min(input.buf.len() as u64);
        remaining -= n;
        let data = input.buf.split_to(n as usize).freeze();
        // A dropped receiver means the upstream no longer wants the body.
        tx.send(Ok(data))
            .await
            .map_err(|_| BodyError::ClientClosed)?;
    }
    Ok(())
}

async fn pump_chunked<R: AsyncRead + Unpin>(
    input: &mut Input<'_, R>,
    limit: Option<u64>,
    tx: &Sender,
) -> Result<(), BodyError> {
    let mut decoder = ChunkedDecoder::default();
    let mut received = 0u64;
    loop {
        match decoder
            .decode(input.buf)
            .map_err(|_| BodyError::Malformed)?
        {
            Decoded::Done => return Ok(()),
            Decoded::NeedMore => input.fill().await?,
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

impl<R: AsyncRead + Unpin> Input<'_, R> {
    async fn fill(&mut self) -> Result<(), BodyError> {
        self.buf.reserve(READ_CHUNK);
        match tokio::time::timeout(self.idle, self.reader.read_buf(self.buf)).await {
            Ok(Ok(n)) if n > 0 => Ok(()),
            _ => Err(BodyError::ClientClosed),
        }
    }
}
