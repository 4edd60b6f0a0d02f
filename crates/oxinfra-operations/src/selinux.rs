//! Operations of `pyinfra/operations/selinux.py`: booleans (`setsebool`), the type of
//! a file (`chcon`), file context mappings and port types (`semanage`).
//!
//! pyinfra's `Boolean` and `Protocol` enums reach the planners as their values
//! (`"on"`, `"tcp"`). After changing a port type pyinfra also edits its cached
//! `SEPorts` fact; oxinfra never edits facts, it reads them again once the host changed.

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
///
/// `selinux.file_context_mapping` and `selinux.port` are planned below but not listed
/// yet: pyinfra raises a plain `ValueError` for a missing `se_type`, which
/// [`OperationError`] cannot name, so one fixture case of each fails.
pub const OPERATIONS: &[OperationDef] = &[BOOLEAN, FILE_CONTEXT, FILE_CONTEXT_MAPPING, PORT];

/// `selinux.boolean`.
pub const BOOLEAN: OperationDef = OperationDef {
    name: "selinux.boolean",
    params: &["bool_name", "value", "persistent"],
    plan: |arguments, plan| boolean(&parse_arguments("selinux.boolean", arguments)?, plan),
};

/// `selinux.file_context`.
pub const FILE_CONTEXT: OperationDef = OperationDef {
    name: "selinux.file_context",
    params: &["path", "se_type"],
    plan: |arguments, plan| file_context(&parse_arguments("selinux.file_context", arguments)?, plan),
};

/// `selinux.file_context_mapping`.
pub const FILE_CONTEXT_MAPPING: OperationDef = OperationDef {
    name: "selinux.file_context_mapping",
    params: &["target", "se_type", "present"],
    plan: |arguments, plan| file_context_mapping(&parse_arguments("selinux.file_context_mapping", arguments)?, plan),
};

/// `selinux.port`.
pub const PORT: OperationDef = OperationDef {
    name: "selinux.port",
    params: &["protocol", "port_num", "se_type", "present"],
    plan: |arguments, plan| port(&parse_arguments("selinux.port", arguments)?, plan),
};

fn yes() -> bool {
    true
}

/// The error for a missing `se_type` where one is needed (pyinfra raises a plain
/// `ValueError`; `OperationValueError` is one).
fn missing_type() -> OperationError {
    OperationError::PlainValue("se_type must have a valid value if present is set".to_owned())
}

/// Arguments of `selinux.boolean`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BooleanArgs {
    /// The boolean's name.
    pub bool_name: String,
    /// The state it should have: `"on"` or `"off"` (or `Boolean.ON`, `Boolean.OFF`).
    pub value: Value,
    /// Also write the value into the policy on disk, so it survives a reboot (`-P`).
    #[serde(default)]
    pub persistent: bool,
}

/// `selinux.boolean`: sets a boolean with `setsebool`.
pub fn boolean(args: &BooleanArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let Some(value @ ("on" | "off")) = args.value.as_str() else {
        return Err(OperationError::Value(format!(
            "Invalid value '{}' for boolean operation",
            python_str(&args.value)
        )));
    };
    let current = plan.fact("selinux.SEBoolean", &[("boolean", Value::String(args.bool_name.clone()))])?;
    if current.as_str() == Some(value) {
        plan.noop(format!("boolean '{}' already had the value '{value}'", args.bool_name));
        return Ok(());
    }
    let mut command = StringCommand::raw("setsebool");
    if args.persistent {
        command = command.text("-P");
    }
    plan.push(command.quoted(&args.bool_name).text(value));
    Ok(())
}

/// Arguments of `selinux.file_context`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileContextArgs {
    /// The file or directory to label.
    pub path: String,
    /// The type it should have (`httpd_sys_content_t`).
    pub se_type: String,
}

/// `selinux.file_context`: sets the type of one path with `chcon`.
pub fn file_context(args: &FileContextArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let current = plan.fact("selinux.FileContext", &[("path", Value::String(args.path.clone()))])?;
    let current_type = current.get("type").and_then(Value::as_str).unwrap_or_default();
    if current_type == args.se_type {
        plan.noop(format!("file_context: '{}' already had type '{}'", args.path, args.se_type));
    } else {
        plan.push(StringCommand::raw("chcon -t").quoted(&args.se_type).quoted(&args.path));
    }
    Ok(())
}

/// Arguments of `selinux.file_context_mapping`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileContextMappingArgs {
    /// The path expression the mapping applies to (`/web(/.*)?`).
    pub target: String,
    /// The type files matching `target` get (needed when `present`).
    #[serde(default)]
    pub se_type: Option<String>,
    /// Whether the mapping should exist.
    #[serde(default = "yes")]
    pub present: bool,
}

/// `selinux.file_context_mapping`: adds, changes or deletes a file context mapping
/// of the policy with `semanage fcontext`. Files already there keep their labels
/// until `restorecon` relabels them.
pub fn file_context_mapping(args: &FileContextMappingArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if args.present && args.se_type.is_none() {
        return Err(missing_type());
    }
    let current = plan.fact("selinux.FileContextMapping", &[("target", Value::String(args.target.clone()))])?;
    let target = &args.target;
    if !args.present {
        if truthy(&current) {
            plan.push(StringCommand::raw("semanage fcontext -d").quoted(target));
        } else {
            plan.noop(format!("no existing mapping for '{target}'"));
        }
        return Ok(());
    }
    let se_type = args.se_type.as_deref().unwrap_or_default();
    let option = if !truthy(&current) {
        Some("-a")
    } else if current.get("type").and_then(Value::as_str) == Some(se_type) {
        None
    } else {
        Some("-m")
    };
    match option {
        Some(option) => plan.push(StringCommand::raw("semanage fcontext").text(option).text("-t").quoted(se_type).quoted(target)),
        None => plan.noop(format!("mapping for '{target}' -> '{se_type}' already present")),
    }
    Ok(())
}

/// Arguments of `selinux.port`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortArgs {
    /// The protocol: `tcp`, `udp`, `sctp` or `dccp` (or a `Protocol`).
    pub protocol: Value,
    /// The port number.
    pub port_num: Value,
    /// The type the port should have (needed when `present`).
    #[serde(default)]
    pub se_type: Option<String>,
    /// Whether the port should have a type of its own.
    #[serde(default = "yes")]
    pub present: bool,
}

/// `selinux.port`: gives a port a type, changes it or takes it away with
/// `semanage port`. The current type comes from `sepolicy` when the host has it, else
/// from the whole `semanage port` listing.
pub fn port(args: &PortArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let (protocol, port) = (python_str(&args.protocol), python_str(&args.port_num));
    if args.present && args.se_type.is_none() {
        return Err(missing_type());
    }
    let sepolicy = plan.fact("server.Which", &[("command", Value::String("sepolicy".to_owned()))])?;
    let current = if truthy(&sepolicy) {
        plan.fact("selinux.SEPort", &[("protocol", args.protocol.clone()), ("port", args.port_num.clone())])?
    } else {
        let ports = plan.fact("selinux.SEPorts", &[])?;
        ports
            .get(&protocol)
            .and_then(|ports| ports.get(&port))
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()))
    };
    let unset = current.as_str() == Some("");

    if !args.present {
        if unset {
            plan.noop(format!("setype for '{protocol}/{port}' is already unset"));
        } else {
            plan.push(StringCommand::raw("semanage port -d -p").quoted(&protocol).quoted(&port));
        }
        return Ok(());
    }
    let se_type = args.se_type.as_deref().unwrap_or_default();
    let option = if unset {
        Some("-a")
    } else if current.as_str() == Some(se_type) {
        None
    } else {
        Some("-m")
    };
    match option {
        Some(option) => {
            plan.push(
                StringCommand::raw("semanage port")
                    .text(option)
                    .text("-t")
                    .quoted(se_type)
                    .text("-p")
                    .quoted(&protocol)
                    .quoted(&port),
            );
        }
        None => plan.noop(format!("setype for '{protocol}/{port}' is already '{se_type}'")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::test_support::{try_plan, try_planned};
    use serde_json::json;

    #[test]
    fn boolean_enum_values_and_bad_values() {
        let planned = try_planned("selinux.boolean", json!({"bool_name": "b", "value": "on"}), json!({"selinux.SEBoolean": ""}));
        assert_eq!(planned.ok().map(|(commands, _)| commands[0].0.clone()).as_deref(), Some("setsebool b on"));
        let error = try_planned("selinux.boolean", json!({"bool_name": "b", "value": true}), json!({})).err();
        assert_eq!(
            error.map(|error| error.to_string()).as_deref(),
            Some("Invalid value 'True' for boolean operation")
        );
    }

    #[test]
    fn missing_file_context_reads_as_no_type() {
        let planned = try_planned(
            "selinux.file_context",
            json!({"path": "/srv/a b", "se_type": "t"}),
            json!({"selinux.FileContext": null}),
        );
        assert_eq!(
            planned.ok().map(|(commands, _)| commands[0].0.clone()).as_deref(),
            Some("chcon -t t '/srv/a b'")
        );
    }

    #[test]
    fn mapping_with_another_type_is_modified() {
        let planned = try_plan(
            &FILE_CONTEXT_MAPPING,
            json!({"target": "/w", "se_type": "t"}),
            json!({"selinux.FileContextMapping": {"type": "u"}}),
        );
        assert_eq!(
            planned.ok().map(|(commands, _)| commands[0].0.clone()).as_deref(),
            Some("semanage fcontext -m -t t /w")
        );
    }

    #[test]
    fn missing_type_is_a_value_error() {
        let error = try_plan(&FILE_CONTEXT_MAPPING, json!({"target": "/w"}), json!({})).err();
        assert_eq!(error.map(|error| error.class_name()), Some("ValueError"));
        let error = try_plan(&PORT, json!({"protocol": "tcp", "port_num": 1}), json!({})).err();
        assert_eq!(error.map(|error| error.class_name()), Some("ValueError"));
    }

    #[test]
    fn port_type_is_read_from_the_listing_without_sepolicy() {
        let facts = json!({"server.Which": null, "selinux.SEPorts": {"tcp": {"8080": "http_cache_port_t"}}});
        let planned = try_plan(&PORT, json!({"protocol": "tcp", "port_num": 8080, "se_type": "http_port_t"}), facts);
        assert_eq!(
            planned.ok().map(|(commands, _)| commands[0].0.clone()).as_deref(),
            Some("semanage port -m -t http_port_t -p tcp 8080")
        );
        let facts = json!({"server.Which": null, "selinux.SEPorts": {}});
        let planned = try_plan(&PORT, json!({"protocol": "udp", "port_num": 53, "present": false}), facts);
        assert_eq!(
            planned.ok().map(|(_, noop)| noop),
            Some(Some("setype for 'udp/53' is already unset".to_owned()))
        );
    }
}
