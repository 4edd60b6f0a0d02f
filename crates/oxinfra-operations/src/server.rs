//! Operations of `pyinfra/operations/server.py`, split into families: commands run as
//! given ([`commands`]: `server.wait`, `shell`, `script`, `kill`), host names
//! ([`hosts`]: `hostname`, `etc_hosts`), system settings ([`system`]: `modprobe`,
//! `mount`, `timezone`, `sysctl`, `locale`, `security_limit`), accounts ([`users`]:
//! `group`, `user_authorized_keys`, `user`) and the operations that hand over to the
//! host's init system or package manager ([`services`]: `service`, `packages`).
//! `server.crontab` is `crontab.crontab` under another name, as in pyinfra.
//!
//! This file holds the registry, in pyinfra's order, and the small readers of host
//! facts the families share. `server.reboot` is not here: it needs the engine to
//! disconnect, wait and reconnect in the middle of the operation.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan};
use crate::registry::OperationDef;

pub mod commands;
pub mod hosts;
pub mod services;
pub mod system;
pub mod users;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    commands::WAIT,
    commands::SHELL,
    commands::SCRIPT,
    system::MODPROBE,
    system::MOUNT,
    hosts::HOSTNAME,
    hosts::ETC_HOSTS,
    system::TIMEZONE,
    system::SYSCTL,
    services::SERVICE,
    services::PACKAGES,
    crate::crontab::SERVER_CRONTAB,
    users::GROUP,
    users::USER_AUTHORIZED_KEYS,
    users::USER,
    system::LOCALE,
    commands::KILL,
    system::SECURITY_LIMIT,
    commands::REBOOT,
];

/// Whether `name` is in a fact holding names, as a list or as the keys of a mapping
/// (Python's `name in value`).
pub(crate) fn contains_name(names: &Value, name: &str) -> bool {
    match names {
        Value::Array(items) => items.iter().any(|item| item.as_str() == Some(name)),
        Value::Object(map) => map.contains_key(name),
        _ => false,
    }
}

/// A fact read without arguments, as text (`None` when the fact is `None`).
fn text_fact(plan: &mut Plan<'_>, name: &str) -> Result<Option<String>, OperationError> {
    let value = plan.fact(name, &[])?;
    Ok((!value.is_null()).then(|| python_str(&value)))
}

/// `server.Which`: whether `command` is on the host's `PATH`.
fn which(plan: &mut Plan<'_>, command: &str) -> Result<bool, OperationError> {
    let value = plan.fact("server.Which", &[("command", Value::String(command.to_owned()))])?;
    Ok(truthy(&value))
}

/// `server.Os`, empty when unknown.
fn os(plan: &mut Plan<'_>) -> Result<String, OperationError> {
    Ok(text_fact(plan, "server.Os")?.unwrap_or_default())
}

/// The error pyinfra raises when a Linux host lacks one of the shadow tools
/// (`useradd`, `usermod`, `userdel`), with the package hint on Alpine.
fn require_shadow_tool(plan: &mut Plan<'_>, os: &str, tool: &str) -> Result<(), OperationError> {
    if os != "Linux" || which(plan, tool)? {
        return Ok(());
    }
    let hint = if text_fact(plan, "server.LinuxName")?.as_deref() == Some("Alpine") {
        " (install the shadow package)"
    } else {
        ""
    };
    Err(OperationError::Operation(format!("{tool} is not installed{hint}")))
}

/// A command whose parts are joined with nothing between them
/// (pyinfra's `StringCommand(..., _separator="")`).
pub(crate) fn unspaced(mut command: StringCommand) -> StringCommand {
    command.separator = String::new();
    command
}

/// Reads one string or a list of strings as a list.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => vec![text],
        OneOrMany::Many(items) => items,
    })
}

/// Reads any value as the text Python's `str()` gives it (a `pid` or a limit may be a
/// number or a string; `None` reads as `None`).
fn python_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(python_str(&Value::deserialize(deserializer)?))
}

/// A non-empty optional text (Python's `if value:` for strings).
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_found_in_lists_and_mapping_keys() {
        assert!(contains_name(&json!(["wheel", "docker"]), "docker"));
        assert!(contains_name(&json!({"docker": {}}), "docker"));
        assert!(!contains_name(&json!({}), "docker"));
        assert!(!contains_name(&Value::Null, "docker"));
    }
}
