//! The entry points: text or file in, validated [`Config`] or every error out.

use std::path::Path;

use toml::de::DeTable;

use crate::error::{ConfigError, ConfigErrors};
use crate::issue::{At, Issue};
use crate::locate::Locator;
use crate::types::Config;

/// Parse and validate `source`; `file` is the path shown in error messages.
///
/// Reports every problem it can find in one go: TOML syntax errors alone if there
/// are any (a half-parsed file would only add noise), otherwise every unknown key,
/// wrong type, missing key and invalid value.
pub fn parse(source: &str, file: &str) -> Result<Config, ConfigErrors> {
    let (root, syntax) = DeTable::parse_recoverable(source);
    let locator = Locator::new(file, source, &root);
    let issues: Vec<Issue> = if syntax.is_empty() {
        let mut issues = Vec::new();
        let raw = crate::de::read(root.get_ref(), &mut issues);
        match Config::try_from(raw) {
            Ok(config) if issues.is_empty() => return Ok(config),
            Ok(_) => {}
            Err(more) => issues.extend(more),
        }
        issues
    } else {
        syntax
            .iter()
            .map(|error| Issue {
                at: At::Syntax(error.span()),
                message: error.message().to_owned(),
            })
            .collect()
    };
    let errors = issues.into_iter().map(|i| locator.resolve(i)).collect();
    Err(ConfigErrors::new(errors))
}

/// Read the file at `path` and [`parse`] it, naming it as `path` in errors.
///
/// A file that cannot be read is one error at `PATH:1:1` with key path `(file)`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(source) => parse(&source, &file),
        Err(error) => Err(ConfigErrors::new(vec![ConfigError {
            file,
            line: 1,
            col: 1,
            key_path: "(file)".to_owned(),
            message: format!("cannot read: {error}"),
        }])),
    }
}
