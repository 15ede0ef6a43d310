//! `parse` and `load` through the public API: every kind of error with its exact
//! position and key path, several at once, defaults, and the documented example.

mod defaults;
mod example;
mod policies;
mod schema;
mod syntax;
mod values;

/// The rendered errors for `source`, named `t.toml`; panics if it parses.
fn errors(source: &str) -> Vec<String> {
    match portcullis_config::parse(source, "t.toml") {
        Ok(config) => panic!("expected errors, got {config:#?}"),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

/// The one rendered error for `source`.
fn error(source: &str) -> String {
    let mut errors = errors(source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

/// A minimal valid cluster, to append where a test needs one.
const CLUSTER: &str = "[clusters.api]\nbackends = [{ address = \"127.0.0.1:9001\" }]\n";
