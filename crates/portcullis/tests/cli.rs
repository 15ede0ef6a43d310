//! The real binary: `check`, `--version`, usage errors, and `run` draining on SIGTERM.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{temp_dir, Portcullis, BIN};
use portcullis_test_support::{raw_exchange, Action, FakeOrigin, Response, Script};

fn temp_config(name: &str, text: &str) -> std::path::PathBuf {
    let path = temp_dir(name).join("portcullis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_accepts_the_documented_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/portcullis.toml");
    let out = Command::new(BIN)
        .args(["check", "-c", example])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

#[test]
fn check_reports_every_error_with_its_line_and_exits_1() {
    let path = temp_config(
        "bad",
        "[[listeners]]\nname = \"web\"\naddress = \"nowhere\"\n\n[clusters.api]\nbackends = [{ address = \"a:1\", weight = 0 }]\n[clusters.b]\ncolour = 1\n",
    );
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = path.display().to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{shown}:3:11: listeners[0].address: ")),
        "{stderr}"
    );
    assert!(lines[1].starts_with(&format!("{shown}:6:")), "{stderr}");
    assert!(
        lines[1].contains("clusters.api.backends[0].weight"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with(&format!("{shown}:8:1: clusters.b.colour: unknown key")),
        "{stderr}"
    );
}

#[test]
fn version_and_usage_exit_codes() {
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("portcullis "));
    let usage = Command::new(BIN).arg("frobnicate").output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let missing = Command::new(BIN)
        .args(["run", "-c", "/nonexistent/portcullis.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_exits_0() {
    let slow = Response::ok()
        .body("slow but fine")
        .delay(Duration::from_millis(800));
    let origin = FakeOrigin::start(Script::always(Action::Respond(slow))).await;
    let config = temp_config(
        "drain",
        &format!(
            "[admin]\naddress = \"127.0.0.1:0\"\n[log]\naccess = \"off\"\n\
             [[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:0\"\n\
             [[routes]]\ncluster = \"app\"\n[clusters.app]\nbackends = [{{ address = \"{}\" }}]\n",
            origin.addr()
        ),
    );
    let portcullis = Portcullis::start(&config);
    let address = portcullis.listener("web");
    let request = tokio::spawn(async move {
        raw_exchange(
            address,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            Duration::from_secs(10),
        )
        .await
    });
    let waiting = Instant::now();
    while origin.in_flight() == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "request never reached the origin"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    portcullis.signal("TERM");
    // New connections are refused while the request in flight is still being served.
    let draining = Instant::now();
    while tokio::net::TcpStream::connect(address).await.is_ok() {
        assert!(
            draining.elapsed() < Duration::from_millis(500),
            "still accepting 500 ms into the drain"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !request.is_finished(),
        "refused before the request in flight ended"
    );
    let response = request.await.unwrap().expect("in-flight request completes");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "slow but fine");
    let status = tokio::task::spawn_blocking(move || portcullis.wait())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
