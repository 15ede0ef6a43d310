//! Reads the parsed TOML tree into [`FileConfig`] section by section and entry by
//! entry. Serde stops at the first error of whatever it deserializes, so giving it
//! small pieces is what lets one run report an unknown key in one cluster *and* a
//! wrong type in another.

use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use crate::issue::{index, join, At, Issue};
use crate::raw::FileConfig;

/// Top-level keys, in the order the SPEC documents them.
const SECTIONS: &[&str] = &["server", "admin", "log", "listeners", "routes", "clusters"];

/// Deserialize `root` into a [`FileConfig`], pushing every serde error to `issues`.
/// Sections that fail keep their defaults; entries that fail are left out.
pub(crate) fn read(root: &DeTable<'_>, issues: &mut Vec<Issue>) -> FileConfig {
    let mut file = FileConfig::default();
    for (key, value) in root.iter() {
        let name: &str = key.get_ref();
        match name {
            "server" => set(&mut file.server, entry(value, name, issues)),
            "admin" => set(&mut file.admin, entry(value, name, issues)),
            "log" => set(&mut file.log, entry(value, name, issues)),
            "listeners" => read_listeners(value, &mut file, issues),
            "routes" => {
                for (i, item) in array(value, name, issues).iter().enumerate() {
                    if let Some(route) = entry(item, &index(name, i), issues) {
                        file.routes.push((i, route));
                    }
                }
            }
            "clusters" => read_clusters(value, &mut file, issues),
            _ => issues.push(unknown_key(key, name)),
        }
    }
    file
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn read_listeners(value: &Spanned<DeValue<'_>>, file: &mut FileConfig, issues: &mut Vec<Issue>) {
    for (i, item) in array(value, "listeners", issues).iter().enumerate() {
        match entry(item, &index("listeners", i), issues) {
            Some(listener) => file.listeners.push((i, listener)),
            None => {
                // Remember the name, if readable, so routes naming it are not
                // reported as dangling on top of the real error.
                let name = item
                    .get_ref()
                    .get("name")
                    .and_then(|n| n.get_ref().as_str());
                if let Some(name) = name {
                    file.unreadable.listeners.insert(name.to_owned());
                }
            }
        }
    }
}

fn read_clusters(value: &Spanned<DeValue<'_>>, file: &mut FileConfig, issues: &mut Vec<Issue>) {
    let DeValue::Table(clusters) = value.get_ref() else {
        issues.push(wrong_shape(
            value,
            "clusters",
            "a table of clusters ([clusters.NAME])",
        ));
        return;
    };
    for (key, item) in clusters.iter() {
        let name: &str = key.get_ref();
        match entry(item, &join("clusters", name), issues) {
            Some(cluster) => {
                file.clusters.insert(name.to_owned(), cluster);
            }
            None => {
                file.unreadable.clusters.insert(name.to_owned());
            }
        }
    }
}

/// The elements of an array of tables, or none (reported) if `value` is not an array.
fn array<'v, 'i>(
    value: &'v Spanned<DeValue<'i>>,
    scope: &str,
    issues: &mut Vec<Issue>,
) -> &'v [Spanned<DeValue<'i>>] {
    match value.get_ref() {
        DeValue::Array(items) => items,
        _ => {
            let what = format!("an array of tables ([[{scope}]])");
            issues.push(wrong_shape(value, scope, &what));
            &[]
        }
    }
}

/// Deserialize one piece, reporting a failure as an issue scoped to its key path.
fn entry<'i, T: Deserialize<'i>>(
    value: &Spanned<DeValue<'i>>,
    scope: &str,
    issues: &mut Vec<Issue>,
) -> Option<T> {
    T::deserialize(ValueDeserializer::from(value.clone()))
        .map_err(|error| {
            issues.push(Issue {
                at: At::Serde {
                    scope: scope.to_owned(),
                    span: error.span(),
                },
                message: humanize(error.message()),
            });
        })
        .ok()
}

fn unknown_key(key: &Spanned<toml::de::DeString<'_>>, name: &str) -> Issue {
    let expected = SECTIONS.join(", ");
    Issue {
        at: At::Serde {
            scope: String::new(),
            span: Some(key.span()),
        },
        message: format!("unknown key `{name}`, expected one of {expected}"),
    }
}

fn wrong_shape(value: &Spanned<DeValue<'_>>, scope: &str, expected: &str) -> Issue {
    let found = value.get_ref().type_str();
    Issue {
        at: At::Key(scope.to_owned()),
        message: format!("expected {expected}, found {found}"),
    }
}

/// Serde speaks Rust ("field", "i64", "struct FileRoute"); users wrote TOML.
fn humanize(message: &str) -> String {
    let mut out = message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing required key")
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    if let Some(at) = out.find("expected struct File") {
        out.replace_range(at.., "expected a table");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::humanize;

    #[test]
    fn humanize_speaks_toml() {
        assert_eq!(
            humanize("invalid type: integer `1`, expected struct FileRoute"),
            "invalid type: integer `1`, expected a table"
        );
        assert_eq!(
            humanize("missing field `cluster`"),
            "missing required key `cluster`"
        );
    }
}
