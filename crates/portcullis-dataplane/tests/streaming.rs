//! Bodies stream through the proxy with bounded memory: a large download and large
//! uploads (Content-Length and chunked) pass whole while the resident memory of this
//! process — which runs the proxy, the origin and the client — grows by far less than
//! the body.
//!
//! Size: the full 1 GiB each way. In a debug build on the 2-core test machine each
//! transfer takes about one second (loopback, 64 KiB slices), so nothing smaller is
//! needed. The tests take a lock so that their memory measurements do not overlap.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{Conf, T};
use portcullis_test_support::{
    stream_pattern, Action, FakeOrigin, Script, TestProxy, STREAM_PATTERN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Body size of every transfer.
const BODY: u64 = 1 << 30;
/// Largest allowed growth of the resident set while a body passes.
const MAX_GROWTH_KIB: u64 = 64 * 1024;
/// Size of the client's writes and reads.
const SLICE: usize = 64 * 1024;
/// A whole transfer must finish within this.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// The tests measure the memory of the whole process, so they must not overlap.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// `VmRSS` of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Samples `VmRSS` every 10ms on its own thread and keeps the peak, so memory held
/// only in the middle of a transfer is seen too.
struct RssPeak {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssPeak {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Self {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    /// The highest `VmRSS` seen, in KiB.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak.load(Ordering::Relaxed).max(rss_kib())
    }
}

/// Runs `transfer` and checks that the resident set did not grow by
/// `MAX_GROWTH_KIB` or more at any point.
async fn assert_bounded_memory(what: &str, transfer: impl std::future::Future<Output = ()>) {
    let before = rss_kib();
    let peak = RssPeak::start();
    let started = std::time::Instant::now();
    tokio::time::timeout(TRANSFER_TIMEOUT, transfer)
        .await
        .expect("the transfer finishes in time");
    let elapsed = started.elapsed();
    let peak = peak.finish();
    let growth = peak.saturating_sub(before);
    eprintln!("{what}: {BODY} bytes in {elapsed:?}, VmRSS {before} KiB -> peak {peak} KiB");
    assert!(
        growth < MAX_GROWTH_KIB,
        "{what}: VmRSS grew by {growth} KiB (from {before} KiB) for a {BODY}-byte body"
    );
}

/// Reads a response head from `stream` (byte-wise reads would be slow; the head is
/// small and the body is read by the caller, so the leftover is returned).
async fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::with_capacity(SLICE);
    let mut chunk = vec![0u8; SLICE];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
        let n = tokio::time::timeout(T, stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "closed inside the response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Checks every body byte against the stream pattern without keeping the body: each
/// read is compared with a window of a pre-built pattern buffer.
struct PatternCheck {
    pattern: Vec<u8>,
    offset: u64,
}

impl PatternCheck {
    fn new() -> Self {
        Self {
            pattern: stream_pattern(0, SLICE + STREAM_PATTERN.len()),
            offset: 0,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        for piece in data.chunks(SLICE) {
            let start = (self.offset % STREAM_PATTERN.len() as u64) as usize;
            assert!(
                piece == &self.pattern[start..start + piece.len()],
                "body corrupted near byte {}",
                self.offset
            );
            self.offset += piece.len() as u64;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_download_streams_with_bounded_memory() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let origin = FakeOrigin::start(Script::always(Action::Stream { len: BODY })).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let download = async {
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        stream.write_all(common::GET_APP).await.unwrap();
        let (head, rest) = read_head(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(
            header(&head, "content-length"),
            Some(BODY.to_string().as_str()),
            "{head}"
        );
        let mut check = PatternCheck::new();
        check.feed(&rest);
        let mut buf = vec![0u8; SLICE];
        while check.offset < BODY {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "body cut short at {} of {BODY}", check.offset);
            check.feed(&buf[..n]);
        }
        assert_eq!(check.offset, BODY);
    };
    assert_bounded_memory("download", download).await;
}

/// Sends a POST of `BODY` pattern bytes, chunked or with a Content-Length, and waits
/// for the origin's answer.
async fn upload(proxy: &TestProxy, chunked: bool) {
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {BODY}")
    };
    let head = format!("POST /app HTTP/1.1\r\nHost: shop.test\r\n{framing}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let slice = stream_pattern(0, SLICE);
    let size_line = format!("{SLICE:x}\r\n");
    let mut sent = 0u64;
    // BODY is a multiple of SLICE, so every chunk has the same size.
    while sent < BODY {
        if chunked {
            stream.write_all(size_line.as_bytes()).await.unwrap();
        }
        stream.write_all(&slice).await.unwrap();
        if chunked {
            stream.write_all(b"\r\n").await.unwrap();
        }
        sent += SLICE as u64;
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await.unwrap();
    }
    let (head, _) = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

async fn assert_upload(chunked: bool) {
    let _serial = ONE_AT_A_TIME.lock().await;
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let what = if chunked {
        "chunked upload"
    } else {
        "content-length upload"
    };
    assert_bounded_memory(what, upload(&proxy, chunked)).await;
    let received = origin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body_len, BODY, "the origin got the whole body");
    assert!(received[0].body_complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_content_length_upload_streams_with_bounded_memory() {
    assert_upload(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_chunked_upload_streams_with_bounded_memory() {
    assert_upload(true).await;
}
