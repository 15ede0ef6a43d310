//! A problem found while reading or validating, before it has a line and column.
//!
//! Validation knows *which key* is wrong; serde and the TOML parser know *where* (a
//! byte span). `locate` turns either into a full `ConfigError`.

use std::ops::Range;

/// One problem, anchored by key path or by span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    pub(crate) at: At,
    pub(crate) message: String,
}

/// Where an [`Issue`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum At {
    /// A key path such as `clusters.api.backends[2].weight`, from validation.
    Key(String),
    /// A serde error while reading the entry at key path `scope`; `span` is the
    /// byte range the error names, if any.
    Serde {
        scope: String,
        span: Option<Range<usize>>,
    },
    /// A TOML syntax error at this byte range.
    Syntax(Option<Range<usize>>),
}

/// Collects validation issues; each check reports and goes on.
#[derive(Debug, Default)]
pub(crate) struct Issues(pub(crate) Vec<Issue>);

impl Issues {
    /// Report `message` about the key at `path`.
    pub(crate) fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            at: At::Key(path.into()),
            message: message.into(),
        });
    }

    /// The value if `result` is `Ok`; otherwise report its message at `path`.
    pub(crate) fn check<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.report(path, message)).ok()
    }

    /// How many issues so far; lets a validator tell whether its own checks failed.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// `parent.key`, quoting `key` when it is not a bare TOML key, so every module
/// spells key paths the same way.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}
