//! `[server]`, `[admin]` and `[log]`: the process-wide sections.

use crate::issue::Issues;
use crate::raw::{FileAdmin, FileLog, FileServer};
use crate::types::{AccessLog, Admin, Log, LogFormat, ProxyStatusMode, Server};

use super::values;

/// `[server]`; `None` if any value is invalid (reported).
pub(super) fn server(raw: FileServer, issues: &mut Issues) -> Option<Server> {
    let workers = issues.check("server.workers", values::at_least(raw.workers, 0));
    let drain_timeout = issues.check("server.drain_timeout", values::duration(&raw.drain_timeout));
    // The name goes into `Via` and `Proxy-Status` as a token.
    let proxy_name = if values::is_token(&raw.proxy_name) {
        Some(raw.proxy_name)
    } else {
        let message = format!(
            "must be a non-empty HTTP token (letters, digits, \"-._~\"), got {:?}",
            raw.proxy_name
        );
        issues.report("server.proxy_name", message);
        None
    };
    let modes = [
        ("errors", ProxyStatusMode::Errors),
        ("always", ProxyStatusMode::Always),
        ("off", ProxyStatusMode::Off),
    ];
    let proxy_status = issues.check(
        "server.proxy_status",
        values::one_of(&raw.proxy_status, &modes),
    );
    Some(Server {
        workers: workers?,
        drain_timeout: drain_timeout?,
        proxy_name: proxy_name?,
        proxy_status: proxy_status?,
        expose_next_hop: raw.expose_next_hop,
    })
}

/// `[admin]`; `None` if any value is invalid (reported).
pub(super) fn admin(raw: FileAdmin, issues: &mut Issues) -> Option<Admin> {
    let address = issues.check("admin.address", values::socket_addr(&raw.address));
    // An empty token would make every `Bearer` header with nothing after it valid.
    if raw.token.as_deref() == Some("") {
        issues.report(
            "admin.token",
            "must not be empty; remove the key to disable auth",
        );
        return None;
    }
    Some(Admin {
        address: address?,
        token: raw.token,
    })
}

/// `[log]`; `None` if any value is invalid (reported).
pub(super) fn log(raw: FileLog, issues: &mut Issues) -> Option<Log> {
    let level = if raw.level.trim().is_empty() {
        let message = "must not be empty (e.g. \"info\" or \"portcullis=debug\")";
        issues.report("log.level", message);
        None
    } else {
        Some(raw.level)
    };
    let access = match raw.access.as_str() {
        "stdout" => Some(AccessLog::Stdout),
        "off" => Some(AccessLog::Off),
        "" => {
            let message = "must be \"stdout\", \"off\" or a file path, got \"\"";
            issues.report("log.access", message);
            None
        }
        path => Some(AccessLog::File(path.into())),
    };
    let formats = [("json", LogFormat::Json), ("text", LogFormat::Text)];
    let format = issues.check("log.format", values::one_of(&raw.format, &formats));
    Some(Log {
        level: level?,
        access: access?,
        format: format?,
    })
}
