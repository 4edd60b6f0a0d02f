//! Facts of `pyinfra/facts/openrc.py`: which services of a runlevel are started
//! (`OpenrcStatus`, from `rc-status`) and which are in a runlevel (`OpenrcEnabled`,
//! from `rc-update show -v`).

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::{compiled, python_str};
use crate::registry::{FactDef, FactError, Param, default_dict};

/// A service line of `rc-status`: the name, then its state in brackets, possibly
/// followed by how long it has run (`started 15 day(s) 00:34:14 (10)`).
static STATUS_LINE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^\s+([a-zA-Z0-9\-_.]+)\s+\[\s+([a-z]+)(?:\s(?:[0-9]+\sday\(s\)\s)?[0-9]+:[0-9]+:[0-9]+\s\([0-9]+\))?\s+\]"));

const RUNLEVEL: &[Param] = &[Param::optional("runlevel", "\"default\"")];

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "openrc.OpenrcStatus",
        params: RUNLEVEL,
        // pyinfra writes the runlevel into the command unquoted.
        command: |arguments| StringCommand::raw("rc-status").text(runlevel(arguments)),
        requires_command: Some(|_| "rc-status".to_owned()),
        process: |_, output| status(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "openrc.OpenrcEnabled",
        params: RUNLEVEL,
        command: |_| StringCommand::raw("rc-update show -v"),
        requires_command: Some(|_| "rc-update".to_owned()),
        process: |arguments, output| Ok(enabled(&runlevel(arguments), output)),
        default: default_dict,
        shell_executable: None,
    },
];

fn runlevel(arguments: &Map<String, Value>) -> String {
    arguments.get("runlevel").map(python_str).unwrap_or_default()
}

/// Services listed by `rc-status` to whether they are `started`.
fn status(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&STATUS_LINE)?;
    let services: Map<String, Value> = output
        .iter()
        .filter_map(|line| pattern.captures(line))
        .map(|captures| (captures[1].to_owned(), Value::Bool(&captures[2] == "started")))
        .collect();
    Ok(Value::Object(services))
}

/// Services listed by `rc-update show -v` (`name | runlevel...`) to whether
/// `runlevel` is among their runlevels. Lines without `|` are not service lines.
fn enabled(runlevel: &str, output: &[String]) -> Value {
    let services: Map<String, Value> = output
        .iter()
        .filter_map(|line| line.split_once('|'))
        .map(|(name, levels)| {
            let member = levels.split_whitespace().any(|level| level == runlevel);
            (name.trim().to_owned(), Value::Bool(member))
        })
        .collect();
    Value::Object(services)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_pattern_compiles() {
        assert!(STATUS_LINE.is_ok());
    }

    #[test]
    fn a_service_in_no_runlevel_is_not_enabled() {
        let output = vec!["   cgroups |".to_owned(), "   sshd | boot default".to_owned()];
        assert_eq!(enabled("default", &output), json!({"cgroups": false, "sshd": true}));
    }
}
