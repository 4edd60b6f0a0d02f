//! Facts of `pyinfra/facts/brew.py`: Homebrew's version, its installed formulae and
//! casks (name -> versions), its taps and what `brew trust` marks as trusted. All of
//! them need the `brew` binary.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::files::compiled;
use crate::registry::{FactDef, FactError, default_dict, default_list};

/// A `brew list --versions` line: the name, then its first version.
static PACKAGE_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^([^\s]+)\s([0-9\._+a-z\-]+)"));
/// The first line of `brew --version`.
static VERSION_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^Homebrew\s+(\d+)\.(\d+)\.(\d+).*$"));

/// Homebrew before 2.6 listed casks with `brew cask list`; the shell picks the form.
const CASKS_COMMAND: &str =
    r#"if brew --version | grep -q -e "Homebrew\ +(1\.|2\.[0-5]).*" 1>/dev/null;then brew cask list --versions; else brew list --cask --versions; fi"#;

/// The kinds of item `brew trust` tracks, in pyinfra's `BrewItemKind` order.
pub const TRUST_KINDS: [&str; 4] = ["casks", "commands", "formulae", "taps"];

fn requires_brew(_arguments: &Map<String, Value>) -> String {
    "brew".to_owned()
}

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "brew.BrewVersion",
        params: &[],
        command: |_| StringCommand::raw("brew --version"),
        requires_command: Some(requires_brew),
        process: |_, output| brew_version(output),
        default: default_version,
        shell_executable: None,
    },
    FactDef {
        name: "brew.BrewPackages",
        params: &[],
        command: |_| StringCommand::raw("brew list --versions"),
        requires_command: Some(requires_brew),
        process: |_, output| package_versions(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "brew.BrewCasks",
        params: &[],
        command: |_| StringCommand::raw(CASKS_COMMAND),
        requires_command: Some(requires_brew),
        process: |_, output| package_versions(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "brew.BrewTaps",
        params: &[],
        command: |_| StringCommand::raw("brew tap"),
        requires_command: Some(requires_brew),
        process: |_, output| Ok(output.iter().map(|line| Value::String(line.clone())).collect()),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "brew.BrewTrusted",
        params: &[],
        command: |_| StringCommand::raw("brew trust --json=v1"),
        requires_command: Some(requires_brew),
        process: |_, output| Ok(trusted(output)),
        default: default_trusted,
        shell_executable: None,
    },
];

/// `[0, 0, 0]`: the version when `brew` is missing or says something unexpected.
fn default_version() -> Value {
    json!([0, 0, 0])
}

/// Every kind with nothing trusted.
fn default_trusted() -> Value {
    TRUST_KINDS
        .iter()
        .map(|kind| ((*kind).to_owned(), default_list()))
        .collect::<Map<_, _>>()
        .into()
}

/// `brew --version`: `[major, minor, patch]` from its first line.
fn brew_version(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&VERSION_LINE)?;
    let Some(captures) = output.first().and_then(|line| pattern.captures(line)) else {
        return Ok(default_version());
    };
    let numbers: Option<Vec<u64>> = (1..=3).map(|index| captures.get(index).and_then(|found| found.as_str().parse().ok())).collect();
    Ok(numbers.map_or_else(default_version, |numbers| json!(numbers)))
}

/// pyinfra's `parse_packages`: name -> the sorted, distinct versions of the lines that
/// match.
fn package_versions(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&PACKAGE_LINE)?;
    let mut packages = Map::new();
    for captures in output.iter().filter_map(|line| pattern.captures(line)) {
        let (Some(name), Some(version)) = (captures.get(1), captures.get(2)) else {
            continue;
        };
        let versions = packages.entry(name.as_str()).or_insert_with(default_list);
        if let Value::Array(versions) = versions {
            let version = Value::String(version.as_str().to_owned());
            if !versions.contains(&version) {
                versions.push(version);
                versions.sort_by(|left, right| left.as_str().cmp(&right.as_str()));
            }
        }
    }
    Ok(Value::Object(packages))
}

/// `brew trust --json=v1`: its JSON when it parses and names every kind, else nothing
/// trusted.
fn trusted(output: &[String]) -> Value {
    let parsed: Option<Value> = serde_json::from_str(&output.join("\n")).ok();
    match parsed {
        Some(value) if TRUST_KINDS.iter().all(|kind| python_contains(&value, kind)) => value,
        _ => default_trusted(),
    }
}

/// Python's `kind in value` for a parsed JSON value.
fn python_contains(value: &Value, item: &str) -> bool {
    match value {
        Value::Object(map) => map.contains_key(item),
        Value::Array(items) => items.iter().any(|element| element.as_str() == Some(item)),
        Value::String(text) => text.contains(item),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn version_reads_the_first_line() -> Result<(), FactError> {
        assert_eq!(brew_version(&lines(&["Homebrew 4.2.10-12-gabc", "Homebrew/homebrew-core"]))?, json!([4, 2, 10]));
        assert_eq!(brew_version(&lines(&["brew: command not found"]))?, json!([0, 0, 0]));
        Ok(())
    }

    #[test]
    fn packages_collect_every_version_of_a_name() -> Result<(), FactError> {
        let output = lines(&["node 20.1.0", "node 18.2.0", "python@3.13 3.13.2", "==> Casks"]);
        assert_eq!(package_versions(&output)?, json!({"node": ["18.2.0", "20.1.0"], "python@3.13": ["3.13.2"]}));
        Ok(())
    }

    #[test]
    fn trusted_needs_every_kind() {
        assert_eq!(trusted(&lines(&[r#"{"taps": ["a/b"]}"#])), default_trusted());
        assert_eq!(trusted(&lines(&["not json"])), default_trusted());
        let full = r#"{"casks": [], "commands": [], "formulae": ["f"], "taps": []}"#;
        assert_eq!(trusted(&lines(&[full])), json!({"casks": [], "commands": [], "formulae": ["f"], "taps": []}));
    }
}
