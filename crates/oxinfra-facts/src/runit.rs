//! Facts of `pyinfra/facts/runit.py`: the state of runit's services (`RunitStatus`,
//! from `sv status`) and which services are managed, that is linked into the service
//! directory (`RunitManaged`). Both read one service, or all of them when `service` is
//! `None`.
//!
//! pyinfra writes the names into these commands as `"{value}"`; [`double_quoted`] keeps
//! that text for ordinary names and single-quotes any the shell would expand.

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::files::python_str;
use crate::gpg::double_quoted;
use crate::registry::{FactDef, FactError, Param, default_dict, default_list};

const SERVICE_AND_DIRECTORY: &[Param] = &[Param::optional("service", "null"), Param::optional("svdir", "\"/var/service\"")];

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "runit.RunitStatus",
        params: SERVICE_AND_DIRECTORY,
        command: status_command,
        requires_command: Some(|_| "sv".to_owned()),
        process: |_, output| status(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "runit.RunitManaged",
        params: SERVICE_AND_DIRECTORY,
        command: managed_command,
        requires_command: None,
        process: |_, output| Ok(managed(output)),
        default: default_list,
        shell_executable: None,
    },
];

fn service(arguments: &Map<String, Value>) -> Option<String> {
    arguments.get("service").filter(|service| !service.is_null()).map(python_str)
}

fn service_directory(arguments: &Map<String, Value>) -> String {
    double_quoted(&arguments.get("svdir").map(python_str).unwrap_or_default())
}

fn status_command(arguments: &Map<String, Value>) -> StringCommand {
    let directory = service_directory(arguments);
    match service(arguments) {
        Some(service) => StringCommand::raw(format!("SVDIR={directory}")).text("sv status").text(double_quoted(&service)),
        None => StringCommand::raw("export")
            .text(format!("SVDIR={directory}"))
            .text(r#"&& cd "$SVDIR" && find * -maxdepth 0 -exec sv status {} + 2>/dev/null"#),
    }
}

fn managed_command(arguments: &Map<String, Value>) -> StringCommand {
    let directory = service_directory(arguments);
    match service(arguments) {
        Some(service) => {
            let service = double_quoted(&service);
            StringCommand::raw("cd")
                .text(directory)
                .text("&& test -h")
                .text(service.clone())
                .text("&& echo")
                .text(service)
                .text("|| true")
        }
        None => StringCommand::raw("[ -d")
            .text(directory.clone())
            .text("] && cd")
            .text(directory)
            .text(r#"&& find -mindepth 1 -maxdepth 1 -type l -printf "%f\n" || true"#),
    }
}

/// `run: name: (pid 1) 5s` lines: `run` is running (`true`), `down` is stopped
/// (`false`), anything else (`fail`, `warning`) is not known (`None`).
fn status(output: &[String]) -> Result<Value, FactError> {
    let mut services = Map::new();
    for line in output {
        let fields: Vec<&str> = line.splitn(3, ": ").collect();
        let [state, service, _] = fields[..] else {
            return Err(FactError::Process {
                fact: "runit.RunitStatus".to_owned(),
                message: format!("cannot read status line `{line}`"),
            });
        };
        let running = match state {
            "run" => Value::Bool(true),
            "down" => Value::Bool(false),
            _ => Value::Null,
        };
        services.insert(service.to_owned(), running);
    }
    Ok(Value::Object(services))
}

/// The managed service names (a set in pyinfra), each once, in output order.
fn managed(output: &[String]) -> Value {
    let mut names: Vec<&str> = Vec::new();
    for line in output {
        if !names.contains(&line.as_str()) {
            names.push(line);
        }
    }
    Value::from(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arguments(service: &str, svdir: &str) -> Map<String, Value> {
        let mut arguments = Map::new();
        arguments.insert("service".to_owned(), json!(service));
        arguments.insert("svdir".to_owned(), json!(svdir));
        arguments
    }

    #[test]
    fn names_the_shell_would_expand_are_single_quoted() {
        let command = status_command(&arguments("$(reboot)", "/var/service")).raw_value();
        assert_eq!(command, r#"SVDIR="/var/service" sv status '$(reboot)'"#);
        let command = managed_command(&arguments("a", "/home/u/$SV")).raw_value();
        assert_eq!(command, r#"cd '/home/u/$SV' && test -h "a" && echo "a" || true"#);
    }

    #[test]
    fn status_lines_need_three_fields() {
        let output: Vec<String> = ["fail: a: unable to change to service directory: file does not exist", "down: b: 3s"]
            .map(str::to_owned)
            .into();
        assert_eq!(status(&output), Ok(json!({"a": null, "b": false})));
        assert!(status(&["run: a".to_owned()]).is_err());
    }

    #[test]
    fn managed_names_are_a_set() {
        let output: Vec<String> = ["a", "b", "a"].map(str::to_owned).into();
        assert_eq!(managed(&output), json!(["a", "b"]));
    }
}
