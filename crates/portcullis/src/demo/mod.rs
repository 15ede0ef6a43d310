//! `portcullis demo`: three built-in origins — healthy, flaky, slow — and a balancer in
//! front of them with the embedded `config/demo.toml`, until Ctrl-C.

mod origins;

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

use portcullis_dataplane::Server;

/// The demo's configuration, with `{listen}`, `{healthy}`, `{flaky}`, `{slow}` to fill.
const DEMO_CONFIG: &str = include_str!("../../../../config/demo.toml");

/// The ports the demo prefers; others are picked when they are taken.
const PREFERRED: &str = "127.0.0.1:8080";
const PREFERRED_ADMIN: &str = "127.0.0.1:9901";

pub(crate) fn run() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(demo())
}

async fn demo() -> ExitCode {
    let origins = match origins::start().await {
        Ok(origins) => origins,
        Err(e) => {
            eprintln!("cannot start the demo origins: {e}");
            return ExitCode::from(1);
        }
    };
    let text = DEMO_CONFIG
        .replace("{listen}", &free_or_any(PREFERRED))
        .replace("{admin}", &free_or_any(PREFERRED_ADMIN))
        .replace("{healthy}", &origins.healthy.to_string())
        .replace("{flaky}", &origins.flaky.to_string())
        .replace("{slow}", &origins.slow.to_string());
    let config = match portcullis_config::parse(&text, "config/demo.toml") {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(1);
        }
    };
    crate::logging::init(&config.log);
    crate::run::serve(
        config,
        None,
        crate::signals::terminate(),
        |server, admin| print_banner(server, admin, &origins),
    )
    .await
}

/// `preferred` when it is free right now, else any free port.
fn free_or_any(preferred: &str) -> String {
    match TcpListener::bind(preferred) {
        Ok(_) => preferred.to_owned(),
        Err(_) => "127.0.0.1:0".to_owned(),
    }
}

fn print_banner(server: &Server, admin: SocketAddr, origins: &origins::Origins) {
    let Some(address) = server.local_addr("web") else {
        return;
    };
    let url = format!("http://{address}");
    println!(
        "\nPortcullis demo is running (Ctrl-C to stop).\n\n\
         Status:   http://{admin}/status   (open it in a browser)\n\
         Metrics:  http://{admin}/metrics\n\
         Balancer: {url}/  (mixed: healthy x2, flaky, slow)\n\
         Origins:  healthy {h}, flaky {f} (500s, resets, goes away now and then), slow {s}\n\n\
         Try:\n\
         \x20 curl -i {url}/healthy               # a normal response\n\
         \x20 curl -i {url}/flaky                 # now and then a 502 with its Proxy-Status\n\
         \x20 curl -i {url}/slow                  # sometimes a 504 http_response_timeout\n\
         \x20 curl -s -H 'Accept: application/json' {url}/slow   # the same, as JSON\n\
         \x20 for i in $(seq 20); do curl -s -o /dev/null -w '%{{http_code}} ' {url}/; done; echo\n",
        h = origins.healthy,
        f = origins.flaky,
        s = origins.slow,
    );
}
