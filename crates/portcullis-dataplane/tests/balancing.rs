//! Balancing across weighted backends, through the real data plane: the share of each
//! backend follows its weight, and consistent hashing pins a key to one backend.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::{Client, Conf, T};
use portcullis_test_support::{FakeOrigin, Script, TestProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// Requests per distribution test.
const REQUESTS: usize = 1000;
/// Largest allowed gap between a backend's share of requests and its share of weight.
const TOLERANCE: f64 = 0.05;

/// Starts one origin per weight and a proxy balancing over them with `balance`.
async fn weighted_cluster(balance: &str, weights: &[u32]) -> (Vec<FakeOrigin>, TestProxy) {
    let mut origins = Vec::new();
    let mut conf = Conf::new().cluster(&format!("balance = \"{balance}\""));
    for &weight in weights {
        let origin = FakeOrigin::start(Script::ok()).await;
        conf = conf.weighted(origin.addr(), weight);
        origins.push(origin);
    }
    (origins, conf.start().await)
}

/// Sends `REQUESTS` sequential requests and checks every backend's share.
async fn assert_follows_weights(balance: &str, weights: &[u32]) {
    let (origins, proxy) = weighted_cluster(balance, weights).await;
    let mut client = Client::connect(proxy.addr()).await;
    for _ in 0..REQUESTS {
        assert_eq!(client.get("/app", &[]).await.status(), 200);
    }
    let total: u32 = weights.iter().sum();
    let counts: Vec<usize> = origins.iter().map(FakeOrigin::requests).collect();
    assert_eq!(
        counts.iter().sum::<usize>(),
        REQUESTS,
        "{balance}: every request reached an origin"
    );
    for (count, &weight) in counts.iter().zip(weights) {
        let share = *count as f64 / REQUESTS as f64;
        let want = f64::from(weight) / f64::from(total);
        assert!(
            (share - want).abs() < TOLERANCE,
            "{balance}: weights {weights:?} got counts {counts:?} (share {share:.3}, want {want:.3})"
        );
    }
}

#[tokio::test]
async fn round_robin_follows_weights() {
    assert_follows_weights("round_robin", &[1, 2, 5]).await;
}

#[tokio::test]
async fn random_follows_weights() {
    assert_follows_weights("random", &[1, 3]).await;
}

#[tokio::test]
async fn least_request_with_equal_load_follows_weights() {
    // Sequential requests: every backend has nothing in flight when the next is picked.
    assert_follows_weights("least_request", &[1, 3]).await;
}

/// Which origin received each request, by the value of header `name`.
fn owners_by_header(origins: &[FakeOrigin], name: &str) -> HashMap<String, HashSet<usize>> {
    let mut owners: HashMap<String, HashSet<usize>> = HashMap::new();
    for (index, origin) in origins.iter().enumerate() {
        for request in origin.received() {
            let key = request.header(name).unwrap_or("").to_owned();
            owners.entry(key).or_default().insert(index);
        }
    }
    owners
}

#[tokio::test]
async fn consistent_hash_on_a_header_pins_each_key_to_one_backend() {
    let mut origins = Vec::new();
    let mut conf = Conf::new()
        .cluster("balance = \"consistent_hash\"")
        .cluster("hash_on = \"header:x-user\"");
    for _ in 0..3 {
        let origin = FakeOrigin::start(Script::ok()).await;
        conf = conf.backend(origin.addr());
        origins.push(origin);
    }
    let proxy = conf.start().await;
    let mut client = Client::connect(proxy.addr()).await;
    // Interleave the keys so a round-robin-like spread would break the pinning.
    for _round in 0..5 {
        for user in 0..40 {
            let user = format!("user-{user}");
            assert_eq!(client.get("/app", &[("x-user", &user)]).await.status(), 200);
        }
    }
    let owners = owners_by_header(&origins, "x-user");
    assert_eq!(owners.len(), 40, "every key arrived");
    for (key, backends) in &owners {
        assert_eq!(backends.len(), 1, "{key} went to backends {backends:?}");
    }
    let used: HashSet<usize> = owners.values().flatten().copied().collect();
    assert!(
        used.len() > 1,
        "40 keys should not all hash to one backend: {used:?}"
    );
}

/// Sends one request from source address `ip` (any of 127.0.0.0/8 works on loopback),
/// claiming to forward for `forwarded_for`, and returns the status code.
async fn get_from(ip: Ipv4Addr, forwarded_for: &str, proxy: SocketAddr) -> u16 {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(ip), 0)).unwrap();
    let mut stream = socket.connect(proxy).await.unwrap();
    let request = format!(
        "GET /app HTTP/1.1\r\nHost: shop.test\r\nX-Forwarded-For: {forwarded_for}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(T, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let status = response
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok());
    status.and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn consistent_hash_on_client_ip_pins_each_client_to_one_backend() {
    let mut origins = Vec::new();
    let mut conf = Conf::new()
        .cluster("balance = \"consistent_hash\"")
        .cluster("hash_on = \"client_ip\"");
    for _ in 0..3 {
        let origin = FakeOrigin::start(Script::ok()).await;
        conf = conf.backend(origin.addr());
        origins.push(origin);
    }
    let proxy = conf.start().await;
    for round in 0..3 {
        for host in 1..=30u8 {
            // The key is the peer address: a forged X-Forwarded-For must not move it.
            let client = Ipv4Addr::new(127, 0, 0, host);
            assert_eq!(
                get_from(client, &format!("10.9.9.{round}"), proxy.addr()).await,
                200
            );
        }
    }
    let owners = owners_by_header(&origins, "x-forwarded-for");
    assert_eq!(
        owners.len(),
        30,
        "every client address arrived: {:?}",
        owners.keys()
    );
    for (client, backends) in &owners {
        assert_eq!(
            backends.len(),
            1,
            "client {client} went to backends {backends:?}"
        );
    }
    let used: HashSet<usize> = owners.values().flatten().copied().collect();
    assert!(
        used.len() > 1,
        "30 clients should not all hash to one backend: {used:?}"
    );
}
