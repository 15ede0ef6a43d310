//! Request bodies are read fully, streamed and counted, never buffered.

use std::time::Duration;

use portcullis_test_support::{
    raw_exchange, Action, FakeOrigin, RawClient, ReceivedRequest, Script,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(30);

#[tokio::test]
async fn chunked_upload_is_decoded_and_counted() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let req = b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    assert_eq!(client.send(req).await.unwrap().status, 200);
    // The connection stays in sync after the trailer.
    let get = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_eq!(client.send(get).await.unwrap().status, 200);
    let got = origin.received();
    assert_eq!(got[0].body_len, 31);
    assert!(got[0].body_complete);
    assert_eq!(got[1].request_index_on_connection, 1);
}

#[tokio::test]
async fn large_upload_is_streamed_and_counted() {
    const LEN: u64 = 64 * 1024 * 1024;
    let origin = FakeOrigin::start(Script::always(Action::Echo)).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    let head = format!("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: {LEN}\r\n\r\n");
    client.write_all(head.as_bytes()).await.unwrap();
    let block = vec![7u8; 1024 * 1024];
    for _ in 0..LEN / block.len() as u64 {
        client.write_all(&block).await.unwrap();
    }
    let echo = client.read_response().await.unwrap();
    let echoed = ReceivedRequest::from_echo(&echo.body).unwrap();
    assert_eq!(echoed.body_len, LEN);
    let received = origin.received();
    let big = received.iter().find(|r| r.path == "/big");
    assert_eq!(big.map(|r| r.body_len), Some(LEN));
}

#[tokio::test]
async fn a_body_cut_short_is_recorded_as_incomplete() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let mut stream = TcpStream::connect(origin.addr()).await.unwrap();
    let req = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc";
    stream.write_all(req).await.unwrap();
    drop(stream);
    for _ in 0..500 {
        if let Some(r) = origin.received().first() {
            assert_eq!((r.body_len, r.body_complete), (3, false));
            assert_eq!(origin.requests(), 1);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("incomplete request never recorded");
}

#[tokio::test]
async fn content_length_body_is_counted_before_responding() {
    let origin =
        FakeOrigin::start(Script::new(|req| Action::status(200 + req.body_len as u16))).await;
    let req = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd";
    assert_eq!(
        raw_exchange(origin.addr(), req, T).await.unwrap().status,
        204
    );
}

#[tokio::test]
async fn expect_continue_gets_an_interim_100() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    let head = b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(client.send(head).await.unwrap().status, 100);
    assert_eq!(client.send(b"hi").await.unwrap().status, 200);
    assert_eq!(origin.received()[0].body_len, 2);
}
