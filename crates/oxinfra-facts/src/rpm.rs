//! Facts of `pyinfra/facts/rpm.py`: the installed rpm packages, one package (installed
//! or an `.rpm` file), and the packages that provide a capability.
//!
//! Also here, for the other package facts: [`parse_packages`], pyinfra's
//! `facts/util/packaging.py:parse_packages` (name to versions, from one regex).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::compiled;
use crate::registry::{FactDef, FactError, Param, default_dict, default_list, default_none, string_argument};

/// The query format every rpm fact prints: `name version-release`, one per line. The
/// `\n` is for rpm to expand, so it reaches the shell as a backslash and an `n`.
const RPM_QUERY_FORMAT: &str = "%{NAME} %{VERSION}-%{RELEASE}\\n";

static RPM_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\S+) (\S+)$"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "rpm.RpmPackages",
        params: &[],
        command: |_| StringCommand::raw("rpm --queryformat").quoted(RPM_QUERY_FORMAT).text("-qa"),
        requires_command: Some(|_| "rpm".to_owned()),
        process: |_, output| parse_packages(&RPM_LINE, output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "rpm.RpmPackage",
        params: &[Param::required("package")],
        command: package_command,
        requires_command: Some(|_| "rpm".to_owned()),
        process: package,
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "rpm.RpmPackageProvides",
        params: &[Param::required("package")],
        // `|| true`: an unknown capability is an empty answer, not a failed fact.
        command: |arguments| {
            StringCommand::raw("dnf repoquery --quiet --queryformat")
                .quoted(RPM_QUERY_FORMAT)
                .text("--whatprovides")
                .quoted(string_argument(arguments, "package"))
                .text("|| true")
        },
        requires_command: Some(|_| "dnf".to_owned()),
        process: providers,
        default: default_list,
        shell_executable: None,
    },
];

/// Asks rpm about an installed package of that name first; failing that, and only when
/// a file of that name exists, reads the `.rpm` file itself.
fn package_command(arguments: &Map<String, Value>) -> StringCommand {
    let package = string_argument(arguments, "package");
    StringCommand::raw("rpm --queryformat")
        .quoted(RPM_QUERY_FORMAT)
        .text("-q")
        .quoted(package)
        .text("|| ! test -e")
        .quoted(package)
        .text("|| rpm --queryformat")
        .quoted(RPM_QUERY_FORMAT)
        .text("-qp")
        .quoted(package)
        .text("2> /dev/null")
}

/// `{"name": ..., "version": ...}` from the first line that reads as a package, or
/// `None`.
fn package(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let regex = compiled(&RPM_LINE)?;
    let found = output.iter().find_map(|line| regex.captures(line)).map(|captures| {
        let mut info = Map::new();
        info.insert("name".to_owned(), Value::String(captures[1].to_owned()));
        info.insert("version".to_owned(), Value::String(captures[2].to_owned()));
        Value::Object(info)
    });
    Ok(found.unwrap_or(Value::Null))
}

/// `[[name, version], ...]`, one pair per line that reads as a package.
fn providers(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let regex = compiled(&RPM_LINE)?;
    Ok(Value::Array(
        output
            .iter()
            .filter_map(|line| regex.captures(line))
            .map(|captures| Value::Array(vec![Value::String(captures[1].to_owned()), Value::String(captures[2].to_owned())]))
            .collect(),
    ))
}

/// Packages and their versions, from the lines `regex` matches at their start (group
/// 1 the name, group 2 the version). pyinfra's versions are a set; here a sorted list
/// without repeats, as pyinfra's fixtures write sets.
pub(crate) fn parse_packages(regex: &'static LazyLock<Result<Regex, regex::Error>>, output: &[String]) -> Result<Value, FactError> {
    let regex = compiled(regex)?;
    let mut packages: Vec<(String, BTreeSet<String>)> = Vec::new();
    for captures in output.iter().filter_map(|line| regex.captures(line)) {
        let (name, version) = (&captures[1], captures[2].to_owned());
        match packages.iter_mut().find(|(known, _)| known == name) {
            Some((_, versions)) => {
                versions.insert(version);
            }
            None => packages.push((name.to_owned(), BTreeSet::from([version]))),
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
    fn packages_collect_every_installed_version() {
        let output = lines(&[
            "kernel 5.14.0-1.el9",
            "bash 5.1-2",
            "kernel 5.14.0-3.el9",
            "kernel 5.14.0-1.el9",
            "not a package line",
        ]);
        let value = parse_packages(&RPM_LINE, &output).ok();
        assert_eq!(value, Some(json!({"kernel": ["5.14.0-1.el9", "5.14.0-3.el9"], "bash": ["5.1-2"]})));
    }

    #[test]
    fn package_without_a_matching_line_is_none() {
        let value = package(&Map::new(), &lines(&["package foo is not installed"])).ok();
        assert_eq!(value, Some(Value::Null));
    }
}
