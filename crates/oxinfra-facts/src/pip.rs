//! Facts of `pyinfra/facts/pip.py`: the packages `pip freeze --all` lists, for `pip`
//! (`PipPackages`) or `pip3` (`Pip3Packages`).
//!
//! Also [`parse_packages`], pyinfra's `facts/util/packaging.parse_packages`, which the
//! other "name and version per line" package facts (`npm`, `gem`, `cargo`) share.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_dict};

/// A pinned requirement line of `pip freeze`: `name==version`.
const PIP_LINE: &str = r"^([a-zA-Z0-9_\-\+\.]+)==([0-9\.]+[a-z0-9\-]*)$";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[pip_fact("pip.PipPackages", PIP), pip_fact("pip.Pip3Packages", PIP3)];

const PIP: &[Param] = &[Param::optional("pip", "null")];
const PIP3: &[Param] = &[Param::optional("pip", "\"pip3\"")];

const fn pip_fact(name: &'static str, params: &'static [Param]) -> FactDef {
    FactDef {
        name,
        params,
        command: |arguments| StringCommand::new().nested(pip_program(arguments)).text("freeze").text("--all"),
        requires_command: Some(|arguments| pip_program(arguments).raw_value()),
        process: |_, output| parse_packages(PIP_LINE, output),
        default: default_dict,
        shell_executable: None,
    }
}

/// The pip to run: the `pip` argument, else `pip` (`Pip3Packages` defaults it to `pip3`).
///
/// It is a command rather than a value (`pip.packages` passes `'/opt/my venv'/bin/pip`,
/// already quoted), so it enters the command as written, as in pyinfra.
fn pip_program(arguments: &Map<String, Value>) -> StringCommand {
    let pip = arguments.get("pip").and_then(Value::as_str).filter(|pip| !pip.is_empty()).unwrap_or("pip");
    StringCommand::raw(pip)
}

/// pyinfra's `parse_packages`: every line matching `pattern` (group 1 the name, group 2
/// the version) adds its version to its name's set; the sets come out as sorted lists,
/// as the fixtures compare them.
pub fn parse_packages(pattern: &str, output: &[String]) -> Result<Value, FactError> {
    let regex = Regex::new(pattern).map_err(|error| FactError::Process {
        fact: "packages".to_owned(),
        message: error.to_string(),
    })?;
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in output {
        if let Some(captures) = regex.captures(line) {
            let name = captures.get(1).map_or("", |found| found.as_str());
            let version = captures.get(2).map_or("", |found| found.as_str());
            packages.entry(name.to_owned()).or_default().insert(version.to_owned());
        }
    }
    Ok(Value::Object(
        packages
            .into_iter()
            .map(|(name, versions)| (name, Value::Array(versions.into_iter().map(Value::String).collect())))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn freeze_skips_editable_and_url_lines() {
        let output = lines(&["Flask==2.3.1", "-e git+https://x/y.git@abc#egg=y", "z @ file:///tmp/z.whl", "pip==23.0.1"]);
        assert_eq!(parse_packages(PIP_LINE, &output), Ok(json!({"Flask": ["2.3.1"], "pip": ["23.0.1"]})));
    }

    #[test]
    fn versions_of_one_name_are_collected_sorted() {
        let output = lines(&["a==2.0", "a==1.0", "a==2.0"]);
        assert_eq!(parse_packages(PIP_LINE, &output), Ok(json!({"a": ["1.0", "2.0"]})));
    }

    #[test]
    fn pip3_fact_defaults_to_pip3() {
        let fact = &FACTS[1];
        let arguments = crate::bind_arguments(fact, &[], &Map::new()).unwrap_or_default();
        assert_eq!((fact.command)(&arguments).raw_value(), "pip3 freeze --all");
    }
}
