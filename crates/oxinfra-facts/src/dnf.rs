//! Facts of `pyinfra/facts/dnf.py`: the configured dnf repositories and the enabled and
//! disabled module streams.

use std::collections::BTreeSet;

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::registry::{FactDef, default_dict, default_list};
use crate::yum::{cat_files_command, parse_repositories};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "dnf.DnfRepositories",
        params: &[],
        command: |_| cat_files_command(&["/etc/dnf.conf", "/etc/dnf.repos.d/*.repo", "/etc/yum.repos.d/*.repo"]),
        requires_command: Some(|_| "dnf".to_owned()),
        process: |_, output| Ok(parse_repositories(output)),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "dnf.DnfEnabledModules",
        params: &[],
        command: |_| StringCommand::raw("dnf module list --enabled"),
        requires_command: Some(|_| "dnf".to_owned()),
        process: |_, output| Ok(enabled_modules(output)),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "dnf.DnfDisabledModules",
        params: &[],
        command: |_| StringCommand::raw("dnf module list --disabled"),
        requires_command: Some(|_| "dnf".to_owned()),
        process: |_, output| Ok(disabled_modules(output)),
        default: default_list,
        shell_executable: None,
    },
];

/// `{module: stream}` for each table row whose stream carries the `[e]` flag; a later
/// row of the same module wins.
fn enabled_modules(output: &[String]) -> Value {
    let mut modules = Map::new();
    for line in output.iter().filter(|line| has_flag(line, "[e]")) {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(stream)) = (words.next(), words.next()) {
            modules.insert(name.to_owned(), Value::String(stream.to_owned()));
        }
    }
    Value::Object(modules)
}

/// The sorted names of the modules with a row carrying the `[x]` flag.
fn disabled_modules(output: &[String]) -> Value {
    let names: BTreeSet<&str> = output
        .iter()
        .filter(|line| has_flag(line, "[x]"))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    Value::Array(names.into_iter().map(|name| Value::String(name.to_owned())).collect())
}

/// Whether `flag` stands in `line` as a flag: not followed by a word character, so the
/// legend's `[e]nabled` does not count.
fn has_flag(line: &str, flag: &str) -> bool {
    line.match_indices(flag).any(|(index, _)| {
        line[index + flag.len()..]
            .chars()
            .next()
            .is_none_or(|next| !(next.is_alphanumeric() || next == '_'))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn legend_is_not_a_flag() {
        assert!(!has_flag("Hint: [d]efault, [e]nabled, [x]disabled, [i]nstalled", "[e]"));
        assert!(has_flag("nodejs 20 [e] common", "[e]"));
        assert!(has_flag("nodejs 20 [e]", "[e]"));
        assert!(has_flag("nodejs 20 [e],[d]", "[e]"));
    }

    #[test]
    fn enabled_and_disabled_rows() {
        let output = lines(&[
            "Name Stream Profiles Summary",
            "php 8.1 [e] common",
            "ruby 3.1 [x] common",
            "ruby 3.3 [x] common",
            "[e]",
        ]);
        assert_eq!(enabled_modules(&output), json!({"php": "8.1"}));
        assert_eq!(disabled_modules(&output), json!(["ruby"]));
    }
}
