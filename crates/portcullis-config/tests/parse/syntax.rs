use super::{error, errors};

#[test]
fn missing_value_names_the_key() {
    assert_eq!(
        error("[server]\nworkers = \n"),
        "t.toml:2:11: server.workers: string values must be quoted, expected literal string"
    );
}

#[test]
fn several_syntax_errors_at_once() {
    let errors = errors("[server]\nworkers = \n\n[log]\nlevel = \"info\n");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("t.toml:2:11: server.workers: "));
    assert!(errors[1].starts_with("t.toml:5:"), "{}", errors[1]);
}

#[test]
fn duplicate_key() {
    assert_eq!(
        error("[log]\nlevel = \"info\"\nlevel = \"debug\"\n"),
        "t.toml:3:1: log.level: duplicate key"
    );
}

#[test]
fn unclosed_table_header() {
    assert_eq!(
        error("[server\n"),
        "t.toml:1:8: server: unclosed table, expected `]`"
    );
}

#[test]
fn syntax_error_names_its_table() {
    assert_eq!(
        error("[log]\nlevel \"info\"\n"),
        "t.toml:2:7: log: key with no value, expected `=`"
    );
}

#[test]
fn syntax_error_outside_any_table() {
    assert_eq!(
        error("=1\n"),
        "t.toml:1:1: (syntax): unquoted keys cannot be empty, expected letters, numbers, `-`, `_`"
    );
}
