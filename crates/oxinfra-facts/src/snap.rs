//! Facts of `pyinfra/facts/snap.py`: the installed snaps (`snap list`) and what
//! `snap info` says about one of them. Both need the `snap` binary.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_dict, default_list, string_argument};

/// The fields of `snap info` the fact keeps, each with the line that holds it; a field
/// seen twice keeps its last value.
static INFO_FIELDS: LazyLock<[(&str, Result<Regex, regex::Error>); 5]> = LazyLock::new(|| {
    [
        ("name", Regex::new(r"^name:[ ]+(.*)")),
        ("publisher", Regex::new(r"^publisher:[ ]+(.*)")),
        ("snap-id", Regex::new(r"^snap-id:[ ]+(.*)")),
        // The tracked channel is `track/risk`; a branch after it is dropped.
        ("channel", Regex::new(r"^tracking:[ ]+([\w\d.-]+/[\w\d.-]+)[/]?.*$")),
        ("version", Regex::new(r"^installed:[ ]+([\w\d.-]+).*$")),
    ]
});

fn requires_snap(_arguments: &Map<String, Value>) -> String {
    "snap".to_owned()
}

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "snap.SnapPackage",
        params: &[Param::required("package")],
        command: |arguments| StringCommand::raw("snap info").quoted(string_argument(arguments, "package")),
        requires_command: Some(requires_snap),
        process: |_, output| snap_info(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "snap.SnapPackages",
        params: &[],
        command: |_| StringCommand::raw("snap list"),
        requires_command: Some(requires_snap),
        process: |_, output| Ok(snap_list(output)),
        default: default_list,
        shell_executable: None,
    },
];

/// `snap info`: name, publisher, snap id, tracked channel and installed version, as far
/// as the output has them (nothing for an unknown snap).
fn snap_info(output: &[String]) -> Result<Value, FactError> {
    let mut info = Map::new();
    for line in output {
        for (field, pattern) in INFO_FIELDS.iter() {
            let pattern = pattern.as_ref().map_err(|error| FactError::Process {
                fact: "snap.SnapPackage".to_owned(),
                message: error.to_string(),
            })?;
            if let Some(found) = pattern.captures(line).and_then(|captures| captures.get(1)) {
                info.insert((*field).to_owned(), Value::String(found.as_str().to_owned()));
            }
        }
    }
    Ok(Value::Object(info))
}

/// `snap list`: the first column of every line after the header.
fn snap_list(output: &[String]) -> Value {
    output
        .iter()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(|name| Value::String(name.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn info_keeps_track_and_risk_of_the_channel() -> Result<(), FactError> {
        let output = lines(&[
            "name:      lxd",
            "publisher: Canonical✓",
            "snap-id:      J60k4",
            "tracking:     4.0/stable/ubuntu-20.04",
            "installed:          4.0.9-8e2046b            (22753)  71MB -",
        ]);
        assert_eq!(
            snap_info(&output)?,
            json!({"name": "lxd", "publisher": "Canonical✓", "snap-id": "J60k4", "channel": "4.0/stable", "version": "4.0.9-8e2046b"})
        );
        Ok(())
    }

    #[test]
    fn info_of_an_unknown_snap_is_empty() -> Result<(), FactError> {
        assert_eq!(snap_info(&lines(&["error: no snap found for \"foo\""]))?, json!({}));
        Ok(())
    }

    #[test]
    fn list_skips_the_header_and_blank_lines() {
        let output = lines(&["Name  Version  Rev", "core  16  1", "", "lxd  4.0  2"]);
        assert_eq!(snap_list(&output), json!(["core", "lxd"]));
    }
}
