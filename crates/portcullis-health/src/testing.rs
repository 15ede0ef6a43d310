//! Config fixtures for unit tests.

use portcullis_config::{Cluster, Config};

/// Parses `clusters` (TOML `[clusters.*]` tables) with a listener and a route
/// around them.
pub(crate) fn config(clusters: &str) -> Config {
    let source = format!(
        "[[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:1\"\n\n\
         [[routes]]\ncluster = \"api\"\n\n{clusters}"
    );
    match portcullis_config::parse(&source, "test.toml") {
        Ok(config) => config,
        Err(errors) => panic!("test config: {errors}"),
    }
}

/// Cluster `api` with `backends` backends (`10.0.0.N:80`) and the given
/// `outlier_detection` keys.
pub(crate) fn cluster(backends: usize, outlier: &str) -> Cluster {
    let list: Vec<String> = (1..=backends)
        .map(|n| format!("{{ address = \"10.0.0.{n}:80\" }}"))
        .collect();
    let source = format!(
        "[clusters.api]\nbackends = [{}]\nslow_start = \"10s\"\n\
         [clusters.api.outlier_detection]\n{outlier}\n",
        list.join(", ")
    );
    match config(&source).clusters.remove("api") {
        Some(cluster) => cluster,
        None => panic!("no cluster api"),
    }
}
