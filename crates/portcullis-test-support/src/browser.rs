//! Headless Chromium (Debian's `chromium`) for tests of pages: the rendered DOM or a
//! screenshot. Fails, never skips, when the browser is missing.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BROWSER: &str = "chromium";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs headless Chromium on `url` with `extra` arguments (`--dump-dom`,
/// `--screenshot=PATH`, `--window-size=W,H`, ...) in a fresh profile, letting scripts
/// run for up to 5 s of virtual time; returns its stdout (the DOM with `--dump-dom`).
/// The flags keep it off the network: this machine's only peers are on loopback.
///
/// # Panics
/// When chromium is missing, fails, or takes longer than 90 s.
pub fn headless_chromium(url: &str, extra: &[&str]) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "portcullis-chromium-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let stdout_path = scratch.join("stdout");
    let stderr_path = scratch.join("stderr");
    let mut command = Command::new(BROWSER);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    // Its own process group, so its helper processes can be ended with it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run `{BROWSER}` ({e}): page tests need a real browser; \
             install it with `apt-get install -y chromium` (scripts/test.sh does)"
        )
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{BROWSER} took longer than {BROWSER_TIMEOUT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(status.success(), "{BROWSER} failed ({status}):\n{stderr}");
    stdout
}
