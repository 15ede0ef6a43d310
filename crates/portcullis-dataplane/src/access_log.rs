//! The access log: one line per request, formatted and written on a dedicated thread
//! so that writing never blocks a request. When the writer falls behind, lines are
//! dropped and counted rather than queued without bound.

use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Version};
use http_body::{Body, Frame, SizeHint};
use portcullis_config::LogFormat;
use tokio::time::Instant;

use crate::backend::Backend;
use crate::cluster::Cluster;
use crate::proxy::ConnInfo;
use crate::{Cause, RequestBody, ResponseBody};

mod format;

/// Lines waiting for the writer thread at most.
const QUEUE: usize = 16_384;

/// Where access log records go; cheap to clone.
#[derive(Clone)]
pub struct AccessLog {
    sender: Option<SyncSender<Box<RequestLog>>>,
    /// `portcullis_access_log_dropped_total`: an operator must see a log with gaps.
    dropped: metrics::Counter,
}

impl AccessLog {
    /// No access log.
    pub fn off() -> Self {
        Self {
            sender: None,
            dropped: metrics::Counter::noop(),
        }
    }

    /// Writes records to `out` in `format` from a new thread, which ends when the last
    /// clone of the returned logger is dropped.
    pub fn spawn(out: Box<dyn Write + Send>, format: LogFormat) -> std::io::Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(receiver, out, format))?;
        let dropped = metrics::counter!(crate::names::ACCESS_LOG_DROPPED_TOTAL);
        Ok(Self {
            sender: Some(sender),
            dropped,
        })
    }

    /// Whether records are wanted at all.
    pub(crate) fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    fn submit(&self, record: Box<RequestLog>) {
        if let Some(sender) = &self.sender {
            if let Err(TrySendError::Full(_)) = sender.try_send(record) {
                self.dropped.increment(1);
            }
        }
    }
}

fn write_lines(receiver: Receiver<Box<RequestLog>>, out: Box<dyn Write + Send>, format: LogFormat) {
    let mut out = std::io::BufWriter::new(out);
    let mut line = String::with_capacity(512);
    while let Ok(record) = receiver.recv() {
        let mut next = Some(record);
        // Write everything queued, then flush once.
        while let Some(record) = next {
            line.clear();
            format::render(&record, format, &mut line);
            if out.write_all(line.as_bytes()).is_err() {
                return;
            }
            next = receiver.try_recv().ok();
        }
        if out.flush().is_err() {
            return;
        }
    }
}

/// What the access log says about one request. Filled in along the request path.
#[derive(Debug)]
pub(crate) struct RequestLog {
    pub ts: SystemTime,
    pub started: Instant,
    pub request_id: HeaderValue,
    pub client: SocketAddr,
    pub method: Option<Method>,
    pub host: Option<HeaderValue>,
    pub path: String,
    pub proto: Version,
    pub status: u16,
    pub cause: Option<Cause>,
    pub cluster: Option<Arc<Cluster>>,
    pub backend: Option<Arc<Backend>>,
    pub attempts: u32,
    pub upstream_status: Option<u16>,
    pub proxy_time: Duration,
    pub upstream_time: Option<Duration>,
    pub duration: Duration,
    pub bytes_sent: u64,
}

impl RequestLog {
    /// A record for a request rejected before its head could be read.
    pub(crate) fn rejected(conn: &ConnInfo, request_id: &HeaderValue, cause: Cause) -> Box<Self> {
        let mut record = Self::start(conn, &Request::new(RequestBody::empty()), request_id);
        record.method = None;
        record.path.clear();
        record.cause = Some(cause);
        record
    }

    pub(crate) fn start(
        conn: &ConnInfo,
        request: &Request<RequestBody>,
        request_id: &HeaderValue,
    ) -> Box<Self> {
        Box::new(Self {
            ts: SystemTime::now(),
            started: Instant::now(),
            request_id: request_id.clone(),
            client: conn.peer,
            method: Some(request.method().clone()),
            host: request.headers().get(http::header::HOST).cloned(),
            path: request.uri().path().to_owned(),
            proto: request.version(),
            status: 0,
            cause: None,
            cluster: None,
            backend: None,
            attempts: 0,
            upstream_status: None,
            proxy_time: Duration::ZERO,
            upstream_time: None,
            duration: Duration::ZERO,
            bytes_sent: 0,
        })
    }
}

/// A response body that counts what it delivers and hands the finished record to the
/// access log when it is dropped — completed, failed or abandoned.
pub(crate) struct LoggedBody {
    inner: ResponseBody,
    record: Option<(Box<RequestLog>, AccessLog)>,
    finished: bool,
}

impl LoggedBody {
    pub(crate) fn new(
        inner: ResponseBody,
        status: u16,
        log: Option<Box<RequestLog>>,
        to: &AccessLog,
    ) -> Self {
        let record = log.map(|mut record| {
            record.status = status;
            (record, to.clone())
        });
        let finished = inner.is_end_stream();
        Self {
            inner,
            record,
            finished,
        }
    }

    /// See [`ResponseBody::origin_fields`].
    pub(crate) fn origin_fields(&self) -> Option<&crate::upstream::OriginFields> {
        self.inner.origin_fields()
    }

    fn count(&mut self, bytes: usize) {
        if let Some((record, _)) = &mut self.record {
            record.bytes_sent += bytes as u64;
        }
    }

    fn mark(&mut self, cause: Cause) {
        if let Some((record, _)) = &mut self.record {
            record.cause.get_or_insert(cause);
        }
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = crate::RelayError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, crate::RelayError>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                self.count(len);
                self.finished = self.inner.is_end_stream();
            }
            Some(Err(_)) => self.mark(Cause::ResponseIncomplete),
            None => self.finished = true,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if !self.finished {
            self.mark(Cause::ClientClosed);
        }
        if let Some((mut record, log)) = self.record.take() {
            record.duration = record.started.elapsed();
            log.submit(record);
        }
    }
}
