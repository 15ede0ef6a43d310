//! Byte-level misbehaviour: `Reset`, `Close`, `Garbage`, `Hang`.

use std::io::ErrorKind;
use std::time::Duration;

use bytes::Bytes;
use portcullis_test_support::{raw_exchange, Action, FakeOrigin, RawClient, Script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(5);
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

#[tokio::test]
async fn reset_gives_the_client_econnreset() {
    let origin = FakeOrigin::start(Script::always(Action::Reset)).await;
    let err = raw_exchange(origin.addr(), GET, T).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn close_gives_a_clean_eof_without_a_response() {
    let origin = FakeOrigin::start(Script::always(Action::Close)).await;
    let mut stream = TcpStream::connect(origin.addr()).await.unwrap();
    stream.write_all(GET).await.unwrap();
    let mut got = Vec::new();
    let n = tokio::time::timeout(T, stream.read_to_end(&mut got)).await;
    assert_eq!(n.unwrap().unwrap(), 0, "FIN, not RST, and no bytes");
    let err = raw_exchange(origin.addr(), GET, T).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn garbage_is_written_raw_then_closed() {
    let junk = Bytes::from_static(b"NOT HTTP\r\n\r\n");
    let origin = FakeOrigin::start(Script::always(Action::Garbage(junk.clone()))).await;
    let mut stream = TcpStream::connect(origin.addr()).await.unwrap();
    stream.write_all(GET).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(T, stream.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, junk);
    let err = raw_exchange(origin.addr(), GET, T).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}

#[tokio::test]
async fn hang_never_answers_and_stays_in_flight_until_the_client_leaves() {
    let origin = FakeOrigin::start(Script::always(Action::Hang)).await;
    let mut client = RawClient::connect(origin.addr())
        .await
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let err = client.send(GET).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(origin.in_flight(), 1);
    drop(client);
    eventually(|| origin.in_flight() == 0).await;
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn stop_closes_hanging_connections_and_refuses_new_ones() {
    let origin = FakeOrigin::start(Script::always(Action::Hang)).await;
    let addr = origin.addr();
    let mut client = RawClient::connect(addr).await.unwrap();
    client.write_all(GET).await.unwrap();
    eventually(|| origin.in_flight() == 1).await;
    origin.stop();
    let refused = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(client.wait_closed(T).await);
    eventually(|| origin.in_flight() == 0).await;
}

/// Polls `cond` for up to five seconds.
async fn eventually(cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5s");
}
