//! Facts of `pyinfra/facts/systemd.py`: which units are active (`SystemdStatus`) and
//! which start at boot (`SystemdEnabled`), read with `systemctl show` for the system
//! manager, a user manager, or a manager in another machine.
//!
//! [`systemctl`] builds the `systemctl` prefix the `systemd` operations share.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::{compiled, python_str};
use crate::registry::{Arguments, FactDef, FactError, Param, default_dict};

/// A unit name: a prefix of letters, digits and `:-_.\@`, then a dot and a unit type.
/// pyinfra matches it at the start of the `Id=` value only.
static UNIT_NAME: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9:\-_.\\@]+\.(?:service|socket|device|mount|automount|swap|target|path|timer|slice|scope)"));

/// The `systemd` facts' parameters, in pyinfra's order.
const PARAMS: &[Param] = &[
    Param::optional("user_mode", "false"),
    Param::optional("machine", "null"),
    Param::optional("user_name", "null"),
    Param::optional("services", "null"),
];

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "systemd.SystemdStatus",
        params: PARAMS,
        command: |arguments| show_command(arguments, STATUS.property),
        requires_command: Some(requires_systemctl),
        process: |_, output| units(output, &STATUS),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "systemd.SystemdEnabled",
        params: PARAMS,
        command: |arguments| show_command(arguments, ENABLED.property),
        requires_command: Some(requires_systemctl),
        process: |_, output| units(output, &ENABLED),
        default: default_dict,
        shell_executable: None,
    },
];

/// Which `systemctl show` property a fact reads and the values that count as true.
struct UnitState {
    property: &'static str,
    true_values: &'static [&'static str],
}

const STATUS: UnitState = UnitState {
    property: "SubState",
    true_values: &["running", "waiting", "exited", "listening", "mounted"],
};

const ENABLED: UnitState = UnitState {
    property: "UnitFileState",
    true_values: &["enabled", "static"],
};

fn requires_systemctl(_arguments: &Arguments) -> String {
    "systemctl".to_owned()
}

/// Python's truth of an argument (`"True"` and `1` count, `None` and `""` do not).
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|number| number != 0.0),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
    }
}

/// An argument that is `None` unless given, as its text.
fn optional_text(arguments: &Map<String, Value>, name: &str) -> Option<String> {
    arguments.get(name).filter(|value| !value.is_null()).map(python_str)
}

/// `systemctl`, `systemctl --user`, with `--machine=[user@]machine` when a machine or
/// a user's manager is named (a user alone means that user's manager on this host).
/// pyinfra writes the machine and user names into the command unquoted.
pub fn systemctl(user_mode: bool, machine: Option<&str>, user_name: Option<&str>) -> StringCommand {
    let mut command = StringCommand::raw(if user_mode { "systemctl --user" } else { "systemctl" });
    match (machine, user_name) {
        (Some(machine), Some(user_name)) => {
            command = command.text(format!("--machine={user_name}@{machine}"));
        }
        (Some(machine), None) => command = command.text(format!("--machine={machine}")),
        (None, Some(user_name)) => command = command.text(format!("--machine={user_name}@.host")),
        (None, None) => {}
    }
    command
}

/// `systemctl show` of the units' id and `property`, every unit when none are named.
/// A user manager may not be reachable yet when facts are read, so its errors are
/// swallowed.
fn show_command(arguments: &Map<String, Value>, property: &str) -> StringCommand {
    let user_mode = truthy(arguments.get("user_mode"));
    let machine = optional_text(arguments, "machine");
    let user_name = optional_text(arguments, "user_name");
    let mut command = StringCommand::new()
        .nested(systemctl(user_mode, machine.as_deref(), user_name.as_deref()))
        .text("show --all --property Id --property")
        .text(property);
    match arguments.get("services") {
        None | Some(Value::Null) => command = command.quoted("*"),
        Some(Value::Array(services)) => {
            for service in services {
                command = command.quoted(python_str(service));
            }
        }
        Some(service) => command = command.quoted(python_str(service)),
    }
    if user_mode {
        return StringCommand::raw("(").nested(command).text("2>/dev/null || true )");
    }
    command
}

/// Units to whether their `state.property` is one of its true values. `Id=` lines
/// that are not unit names, and lines without `=`, end the current unit.
fn units(output: &[String], state: &UnitState) -> Result<Value, FactError> {
    let unit_name = compiled(&UNIT_NAME)?;
    let mut units = Map::new();
    let mut current: Option<String> = None;
    for line in output {
        let Some((key, value)) = line.trim().split_once('=') else {
            current = None;
            continue;
        };
        if key == "Id" && unit_name.is_match(value) {
            current = Some(value.to_owned());
            continue;
        }
        if key == state.property {
            if let Some(unit) = &current {
                units.insert(unit.clone(), Value::Bool(state.true_values.contains(&value)));
            }
        }
    }
    Ok(Value::Object(units))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn unit_name_pattern_compiles() {
        assert!(UNIT_NAME.is_ok());
    }

    #[test]
    fn id_that_is_not_a_unit_name_is_skipped() {
        let output = lines(&["Id=not-a-unit", "SubState=running", "Id=a.service", "SubState=dead"]);
        assert_eq!(units(&output, &STATUS), Ok(json!({"a.service": false})));
    }

    #[test]
    fn named_user_without_machine_means_the_local_host() {
        assert_eq!(systemctl(true, None, Some("alice")).raw_value(), "systemctl --user --machine=alice@.host");
    }

    #[test]
    fn a_single_service_name_is_quoted() {
        let mut arguments = Map::new();
        arguments.insert("services".to_owned(), json!("my unit.service"));
        assert_eq!(
            show_command(&arguments, "SubState").raw_value(),
            "systemctl show --all --property Id --property SubState 'my unit.service'"
        );
    }
}
