//! The demo's built-in origins, on loopback ports of their own.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the three origins listen.
pub(crate) struct Origins {
    pub healthy: SocketAddr,
    pub flaky: SocketAddr,
    pub slow: SocketAddr,
}

/// How long the flaky origin stays up, then away.
const FLAKY_UP: Duration = Duration::from_secs(25);
const FLAKY_AWAY: Duration = Duration::from_secs(5);

pub(crate) async fn start() -> std::io::Result<Origins> {
    let healthy = TcpListener::bind("127.0.0.1:0").await?;
    let flaky = TcpListener::bind("127.0.0.1:0").await?;
    let slow = TcpListener::bind("127.0.0.1:0").await?;
    let origins = Origins {
        healthy: healthy.local_addr()?,
        flaky: flaky.local_addr()?,
        slow: slow.local_addr()?,
    };
    tokio::spawn(serve(healthy, Behaviour::Healthy, CancellationToken::new()));
    tokio::spawn(serve(slow, Behaviour::Slow, CancellationToken::new()));
    tokio::spawn(flaky_cycle(flaky));
    Ok(origins)
}

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Healthy,
    Flaky,
    Slow,
}

/// Up for a while, then away (port closed, connections dropped), then back.
async fn flaky_cycle(mut listener: TcpListener) {
    let Ok(address) = listener.local_addr() else {
        return;
    };
    loop {
        let away = CancellationToken::new();
        let serving = tokio::spawn(serve(listener, Behaviour::Flaky, away.clone()));
        tokio::time::sleep(FLAKY_UP).await;
        away.cancel();
        let _ = serving.await;
        tokio::time::sleep(FLAKY_AWAY).await;
        listener = match TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(_) => return, // the port was taken meanwhile: the flaky origin stays away
        };
    }
}

async fn serve(listener: TcpListener, behaviour: Behaviour, away: CancellationToken) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            () = away.cancelled() => return,
        };
        let away = away.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(behaviour, request));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = away.cancelled() => {}
            }
        });
    }
}

/// The demo error that makes hyper drop the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    behaviour: Behaviour,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let path = request.uri().path().to_owned();
    let roll = fastrand::u32(..100);
    match behaviour {
        Behaviour::Healthy => {
            tokio::time::sleep(Duration::from_millis(u64::from(roll % 20))).await;
            Ok(text(
                StatusCode::OK,
                format!("hello from the healthy origin ({path})\n"),
            ))
        }
        Behaviour::Flaky if roll < 20 => Ok(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "flaky origin: 500\n".into(),
        )),
        Behaviour::Flaky if roll < 35 => Err(Dropped),
        Behaviour::Flaky => Ok(text(
            StatusCode::OK,
            format!("hello from the flaky origin ({path})\n"),
        )),
        Behaviour::Slow => {
            let delay = if roll < 40 { 3000 } else { 300 };
            tokio::time::sleep(Duration::from_millis(delay)).await;
            Ok(text(
                StatusCode::OK,
                format!("hello from the slow origin after {delay}ms ({path})\n"),
            ))
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
