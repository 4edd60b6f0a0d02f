//! Operations of `pyinfra/operations/server.py`, split into families: commands run as
//! given ([`commands`]: `server.wait`, `shell`, `script`, `kill`), system settings
//! ([`system`]: `modprobe`, `mount`, `hostname`, `etc_hosts`, `timezone`, `sysctl`,
//! `locale`, `security_limit`) and accounts ([`users`]: `group`,
//! `user_authorized_keys`, `user`).
//!
//! This file holds the registry, in pyinfra's order, and the small readers of host
//! facts the families share. Operations that pick an init system or a package manager
//! (`server.service`, `server.packages`) and `server.reboot` are not here.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::plan::{OperationError, Plan};
use crate::registry::OperationDef;

pub mod commands;
pub mod system;
pub mod users;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    commands::WAIT,
    commands::SHELL,
    system::MODPROBE,
    system::MOUNT,
    system::TIMEZONE,
    system::SYSCTL,
    users::GROUP,
    system::LOCALE,
    commands::KILL,
    system::SECURITY_LIMIT,
];

/// Whether a value is true in Python's sense (`None`, `False`, `0`, `""`, `[]` and `{}`
/// are false): pyinfra tests arguments and facts with `if value:`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Whether `name` is in a fact holding names, as a list or as the keys of a mapping
/// (Python's `name in value`).
fn contains_name(names: &Value, name: &str) -> bool {
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
    let value = plan.fact(
        "server.Which",
        &[("command", Value::String(command.to_owned()))],
    )?;
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
    Err(OperationError::Operation(format!(
        "{tool} is not installed{hint}"
    )))
}

/// A command whose parts are joined with nothing between them
/// (pyinfra's `StringCommand(..., _separator="")`).
fn unspaced(mut command: StringCommand) -> StringCommand {
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

/// Reads any value as the text Python's `str()` gives it (a `pid` or `gid` may be a
/// number or a string); `None` stays `None`.
fn python_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        other => Some(python_str(&other)),
    })
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

    #[test]
    fn python_truthiness_of_fact_values() {
        assert!(!truthy(&json!({})));
        assert!(!truthy(&json!("")));
        assert!(!truthy(&json!(0)));
        assert!(truthy(&json!("/usr/bin/useradd")));
        assert!(truthy(&json!({"user": "root"})));
    }
}
