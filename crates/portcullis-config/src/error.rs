//! Configuration errors, each naming the file, line, column and key path.

use std::fmt;

/// One problem in a configuration file.
///
/// Displays as `PATH:LINE:COL: key.path: message`, the format `portcullis check`
/// prints and editors can jump to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {key_path}: {message}")]
pub struct ConfigError {
    /// The file as it was named to [`parse`](crate::parse) or [`load`](crate::load).
    pub file: String,
    /// 1-based line of the offending value (the key, for an unknown key; the table
    /// header, for a missing key).
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Dotted key path with `[i]` indices, such as `clusters.api.backends[2].weight`;
    /// `(file)` for I/O errors and `(syntax)` for TOML syntax errors not tied to a key.
    pub key_path: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// Every problem found in one configuration file; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// Wrap `errors`, ordered by position so they read top to bottom.
    pub(crate) fn new(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by_key(|e| (e.line, e.col));
        errors.dedup();
        Self { errors }
    }

    /// The errors, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }
}

/// One error per line, without a trailing newline.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
