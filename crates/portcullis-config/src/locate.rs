//! Turns [`Issue`]s into [`ConfigError`]s with a line, a column and a key path.
//!
//! The TOML tree keeps the byte span of every key and value. Walking it once gives a
//! table from key path to spans: validation issues look their key path up in it, and
//! serde issues (which only carry a span) look for the key path whose key or value
//! has that span. Spans become 1-based line and column (in characters) last.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::ConfigError;
use crate::issue::{index, join, At, Issue};

/// Key path for syntax errors that no key on the same line explains.
const SYNTAX: &str = "(syntax)";

/// Where one key path is in the source.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
    /// A table opened by a `[header]` (its value span is the header).
    header: bool,
}

/// Key paths and line starts of one source text.
#[derive(Debug)]
pub(crate) struct Locator<'s> {
    file: &'s str,
    source: &'s str,
    line_starts: Vec<usize>,
    entries: Vec<Entry>,
    by_path: HashMap<String, usize>,
}

impl<'s> Locator<'s> {
    /// Index `root`, parsed from `source`; `file` is the path shown in errors.
    pub(crate) fn new(file: &'s str, source: &'s str, root: &Spanned<DeTable<'_>>) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut entries = Vec::new();
        walk_table(root.get_ref(), "", &mut entries);
        for entry in &mut entries {
            entry.header &= source
                .get(entry.value.clone())
                .is_some_and(|t| t.starts_with('['));
        }
        let by_path = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.clone(), i))
            .collect();
        Self {
            file,
            source,
            line_starts,
            entries,
            by_path,
        }
    }

    /// The positioned error for `issue`.
    pub(crate) fn resolve(&self, issue: Issue) -> ConfigError {
        let (key_path, offset) = match issue.at {
            At::Key(path) => {
                let offset = self.value_span(&path).map_or(0, |s| s.start);
                (path, offset)
            }
            At::Serde { scope, span } => self.serde_place(scope, span, &issue.message),
            At::Syntax(span) => {
                let offset = span.as_ref().map_or(0, |s| s.start);
                (self.syntax_path(span, &issue.message), offset)
            }
        };
        let (line, col) = self.line_col(offset);
        ConfigError {
            file: self.file.to_owned(),
            line,
            col,
            key_path,
            message: issue.message,
        }
    }

    /// The value span of `path`, or of its nearest ancestor present in the file
    /// (a defaulted key has no span of its own; its table does).
    fn value_span(&self, path: &str) -> Option<Range<usize>> {
        let mut path = path;
        loop {
            if let Some(&i) = self.by_path.get(path) {
                return Some(self.entries[i].value.clone());
            }
            path = &path[..path.rfind(['.', '['])?];
        }
    }

    /// Key path and offset of a serde error inside the entry at `scope`.
    fn serde_place(
        &self,
        scope: String,
        span: Option<Range<usize>>,
        message: &str,
    ) -> (String, usize) {
        let Some(span) = span else {
            let offset = self.value_span(&scope).map_or(0, |s| s.start);
            return (scope, offset);
        };
        // The deepest key under `scope` whose key or value is exactly the span:
        // unknown keys point at the key, bad values and missing keys at the value
        // (for a table, its header).
        let path = self
            .entries
            .iter()
            .filter(|e| e.key == span || e.value == span)
            .filter(|e| within(&e.path, &scope))
            .max_by_key(|e| e.path.len())
            .map_or(scope, |e| e.path.clone());
        let path = match missing_key(message) {
            Some(key) => join(&path, key),
            None => path,
        };
        (path, span.start)
    }

    /// Best-effort key path for a syntax error: the key before it on its line (a bad
    /// value), else the duplicated key itself, else the table it is in.
    fn syntax_path(&self, span: Option<Range<usize>>, message: &str) -> String {
        let offset = span.as_ref().map_or(0, |s| s.start);
        let line_start = self.line_start(offset);
        let on_line = self
            .entries
            .iter()
            // Recovery may invent empty keys; they explain nothing.
            .filter(|e| !e.key.is_empty() && e.key.start >= line_start && e.key.end <= offset)
            .max_by_key(|e| (e.key.start, e.path.len()));
        if let Some(entry) = on_line {
            return entry.path.clone();
        }
        let table = self
            .entries
            .iter()
            .filter(|e| e.header && e.value.start <= offset)
            .max_by_key(|e| e.value.start)
            .map_or("", |e| e.path.as_str());
        let duplicate = span
            .filter(|_| message == "duplicate key")
            .and_then(|s| self.source.get(s));
        match duplicate {
            Some(key) => join(table, key.trim_matches(['"', '\''])),
            None if table.is_empty() => SYNTAX.to_owned(),
            None => table.to_owned(),
        }
    }

    fn line_start(&self, offset: usize) -> usize {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        self.line_starts[line.saturating_sub(1)]
    }

    /// 1-based line and column (counted in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_start(offset);
        let col = self
            .source
            .get(start..offset)
            .map_or(offset - start, |text| text.chars().count());
        (line.max(1), col + 1)
    }
}

/// Whether `path` is `scope` or below it.
fn within(path: &str, scope: &str) -> bool {
    scope.is_empty()
        || path == scope
        || path
            .strip_prefix(scope)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
}

/// The key named by serde's (humanized) "missing required key `name`" message.
fn missing_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing required key `")?;
    rest.split('`').next()
}

fn walk_table(table: &DeTable<'_>, parent: &str, out: &mut Vec<Entry>) {
    for (key, value) in table.iter() {
        let path = join(parent, key.get_ref());
        walk_value(value, path, key.span(), out);
    }
}

fn walk_value(value: &Spanned<DeValue<'_>>, path: String, key: Range<usize>, out: &mut Vec<Entry>) {
    out.push(Entry {
        path: path.clone(),
        key: key.clone(),
        value: value.span(),
        header: value.get_ref().is_table(),
    });
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, &path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                // Array elements have no key; their own span stands in for it.
                walk_value(item, index(&path, i), item.span(), out);
            }
        }
        _ => {}
    }
}
