//! The status page in a real headless browser (Debian's `chromium`): the rendered DOM
//! has every backend with its health and breaker state and the failed reload's
//! errors; a failing API shows the stale warning; desktop and phone screenshots land
//! in `target/` for a person to look at. Fails, never skips, without chromium.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::client::get;
use common::{fixture, TestAdmin};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use portcullis_test_support::headless_chromium;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_renders_every_backend_and_the_reload_errors() {
    let (admin, _source) = TestAdmin::fixture().await;
    let url = format!("http://{}/status", admin.addr);

    let dom = browse(&url, &["--dump-dom"]).await;
    for (cluster, address, health, breaker) in fixture::BACKENDS {
        let row = backend_row(&dom, address).unwrap_or_else(|| panic!("no row for {address}"));
        assert_eq!(attr(row, "data-health"), Some(*health), "{address}: {row}");
        assert_eq!(
            attr(row, "data-breaker"),
            Some(*breaker),
            "{address}: {row}"
        );
        assert!(dom.contains(&format!("data-cluster=\"{cluster}\"")));
    }
    assert_eq!(
        dom.matches("data-backend=").count(),
        fixture::BACKENDS.len()
    );
    for error in fixture::RELOAD_ERRORS {
        let escaped = error
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(dom.contains(&escaped), "reload error missing: {error}");
    }
    // Data is text, never markup: the hostile route host stays inert.
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!dom.contains("<img"));
    assert!(dom.contains("id=\"last-reload\" class=\"reload failed\" data-ok=\"false\""));
    assert!(dom.contains("id=\"generation\">7<"));
    for cause in [
        "connect_refused",
        "response_timeout",
        "circuit_open",
        "no_route",
    ] {
        assert!(dom.contains(&format!("data-cause=\"{cause}\"")), "{cause}");
    }
    assert!(dom.contains(">READY<"));
    let body = tag(&dom, "<body").unwrap();
    assert!(
        !body.contains("is-stale"),
        "fresh data flagged stale: {body}"
    );

    let target = target_dir();
    for (file, size) in [
        ("status-page.png", "1280,900"),
        ("status-page-phone.png", "390,844"),
    ] {
        let path = target.join(file);
        let _ = std::fs::remove_file(&path);
        let screenshot = format!("--screenshot={}", path.display());
        let window = format!("--window-size={size}");
        browse(&url, &[&screenshot, &window, "--hide-scrollbars"]).await;
        let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{file} is not a PNG");
        assert!(png.len() > 10_000, "{file} is suspiciously small");
    }
    admin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_warns_when_the_api_fails() {
    // The real page, served by a stand-in whose API always fails.
    let (admin, _source) = TestAdmin::fixture().await;
    let page = get(admin.addr, "/status").await.body;
    admin.stop().await;
    let addr = serve_page_with_broken_api(page).await;

    let dom = browse(&format!("http://{addr}/status"), &["--dump-dom"]).await;
    let body = tag(&dom, "<body").unwrap();
    assert_eq!(attr(body, "class"), Some("is-stale"), "no stale flag");
    assert!(dom.contains("Stale — "), "no stale warning");
    assert!(dom.contains("HTTP 503"), "the warning says why");
}

/// Serves `page` on `/status` and 503 on everything else.
async fn serve_page_with_broken_api(page: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let page = page.clone();
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let mut response = Response::new(Full::new(page.clone()));
                if request.uri().path() != "/status" {
                    *response.body_mut() = Full::new(Bytes::from_static(b"unavailable"));
                    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                }
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::spawn(connection);
        }
    });
    addr
}

/// Headless chromium on `url` (see `headless_chromium`), off the async runtime.
async fn browse(url: &str, extra: &[&str]) -> String {
    let url = url.to_owned();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        headless_chromium(&url, &extra)
    })
    .await
    .unwrap()
}

/// The opening `<tr ...>` tag of the row for backend `address`.
fn backend_row<'a>(dom: &'a str, address: &str) -> Option<&'a str> {
    tag(dom, &format!("data-backend=\"{address}\""))
}

/// The whole opening tag around the first occurrence of `needle`.
fn tag<'a>(dom: &'a str, needle: &str) -> Option<&'a str> {
    let at = dom.find(needle)?;
    let start = dom[..=at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    Some(&dom[start..=end])
}

/// The value of attribute `name` in the HTML tag `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The workspace's `target/`, where the screenshots go.
fn target_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
