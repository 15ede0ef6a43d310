//! Addresses that hang or refuse connects.

use std::io::ErrorKind;
use std::time::Duration;

use portcullis_test_support::{closed_port, unaccepting_listener};
use tokio::net::TcpStream;
use tokio::time::timeout;

#[tokio::test]
async fn connect_to_a_black_hole_hangs() {
    let hole = unaccepting_listener();
    let attempt = timeout(Duration::from_millis(300), TcpStream::connect(hole.addr())).await;
    assert!(attempt.is_err(), "connect completed: {attempt:?}");
}

#[tokio::test]
async fn several_connects_to_one_black_hole_all_hang() {
    let hole = unaccepting_listener();
    for _ in 0..3 {
        let attempt = timeout(Duration::from_millis(100), TcpStream::connect(hole.addr())).await;
        assert!(attempt.is_err());
    }
}

#[tokio::test]
async fn a_dropped_black_hole_refuses() {
    let hole = unaccepting_listener();
    let addr = hole.addr();
    drop(hole);
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn closed_port_refuses() {
    let err = TcpStream::connect(closed_port()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}
