//! The documented example file parses, and says what its comments say.

use std::path::Path;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/portcullis.toml");

#[test]
fn documented_example_parses() {
    let config = portcullis_config::load(Path::new(EXAMPLE)).unwrap_or_else(|e| panic!("{e}"));
    let web = config.listener("web").expect("listener web");
    assert_eq!(web.address.to_string(), "0.0.0.0:8080");
    assert_eq!(config.routes.len(), 1);
    assert_eq!(config.routes[0].cluster, "api");
    let api = config.cluster("api").expect("cluster api");
    let backends: Vec<(&str, u32)> = api
        .backends
        .iter()
        .map(|b| (b.address.as_str(), b.weight.get()))
        .collect();
    assert_eq!(backends, [("127.0.0.1:9001", 3), ("127.0.0.1:9002", 1)]);
}

#[test]
fn documented_example_shows_the_defaults() {
    // Every value in the example is its default, so dropping the values the
    // example sets for show (listener, route, backends) must change nothing else.
    let example = portcullis_config::load(Path::new(EXAMPLE)).unwrap_or_else(|e| panic!("{e}"));
    let minimal = "\
[[listeners]]
name = \"web\"
address = \"0.0.0.0:8080\"
[[routes]]
listener = \"web\"
cluster = \"api\"
[clusters.api]
backends = [{ address = \"127.0.0.1:9001\", weight = 3 }, { address = \"127.0.0.1:9002\" }]
";
    let minimal = portcullis_config::parse(minimal, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(example, minimal);
}

#[test]
fn unreadable_file_is_one_error() {
    let errors = portcullis_config::load(Path::new("/nonexistent/portcullis.toml"))
        .expect_err("missing file");
    let text = errors.to_string();
    assert!(
        text.starts_with("/nonexistent/portcullis.toml:1:1: (file): cannot read: "),
        "{text}"
    );
}

#[test]
fn errors_display_one_per_line() {
    let errors =
        portcullis_config::parse("[server]\nworkers = -1\n[log]\nformat = \"x\"\n", "c.toml")
            .expect_err("invalid");
    let text = errors.to_string();
    assert_eq!(text.lines().count(), 2);
    let first = &errors.errors()[0];
    assert_eq!(
        (first.line, first.col, first.key_path.as_str()),
        (2, 11, "server.workers")
    );
}

#[test]
fn truncated_files_never_panic() {
    // Every prefix of the example is some kind of broken file; each must come back
    // as errors or a config, never a panic.
    let source = std::fs::read_to_string(EXAMPLE).expect("example readable");
    for (end, _) in source.char_indices() {
        let _ = portcullis_config::parse(&source[..end], "t.toml");
    }
}
