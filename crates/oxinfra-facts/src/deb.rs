//! Facts of `pyinfra/facts/deb.py`: what `dpkg` knows, the host's package
//! architecture, the installed packages and one package or `.deb` archive.
//!
//! [`parse_packages`] (pyinfra's `facts/util/packaging.parse_packages`) lives here too,
//! since `apt.AptPackages` reads the same `name -> versions` shape.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::compiled;
use crate::registry::{FactDef, FactError, Param, default_dict, default_none, joined, string_argument};

/// A `dpkg -l` line of an installed (`ii`) or held (`hi`) package: its name, without
/// any `:arch` suffix, and its version.
static DEB_PACKAGE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^[i|h]i\s+([a-zA-Z0-9+\-.]+):?[a-zA-Z0-9]*\s+([a-zA-Z0-9:~.\-+]+).+$"));
static CONTROL_PACKAGE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^Package:\s+([a-zA-Z0-9+\-.]+)$"));
static CONTROL_VERSION: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^Version:\s+([a-zA-Z0-9:~.\-+]+)$"));

fn requires_dpkg(_arguments: &Map<String, Value>) -> String {
    "dpkg".to_owned()
}

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "deb.DebArch",
        params: &[],
        command: |_| StringCommand::raw("dpkg --print-architecture"),
        requires_command: Some(requires_dpkg),
        process: joined,
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "deb.DebPackages",
        params: &[],
        command: |_| StringCommand::raw("dpkg -l"),
        requires_command: Some(requires_dpkg),
        process: |_, output| Ok(parse_packages(compiled(&DEB_PACKAGE)?, output)),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "deb.DebPackage",
        params: &[Param::required("package")],
        command: deb_package_command,
        requires_command: Some(requires_dpkg),
        process: deb_package,
        default: default_none,
        shell_executable: None,
    },
];

/// pyinfra's `parse_packages`: each line `pattern` matches adds its second group, a
/// version, to the versions of its first group, a name. Names keep the order they first
/// appear in; versions, a set in Python, come sorted.
pub fn parse_packages(pattern: &Regex, output: &[String]) -> Value {
    let mut packages: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in output {
        let Some(captures) = pattern.captures(line) else {
            continue;
        };
        let (Some(name), Some(version)) = (captures.get(1), captures.get(2)) else {
            continue;
        };
        let version = version.as_str().to_owned();
        if let Some((_, versions)) = packages.iter_mut().find(|(known, _)| known == name.as_str()) {
            versions.insert(version);
        } else {
            packages.push((name.as_str().to_owned(), BTreeSet::from([version])));
        }
    }
    Value::Object(
        packages
            .into_iter()
            .map(|(name, versions)| (name, Value::Array(versions.into_iter().map(Value::String).collect())))
            .collect(),
    )
}

/// An archive's control data when `package` names an existing `*.deb` file, otherwise
/// the installed package of that name.
fn deb_package_command(arguments: &Map<String, Value>) -> StringCommand {
    let package = string_argument(arguments, "package");
    StringCommand::raw("test -f")
        .quoted(package)
        .text("&& case")
        .quoted(package)
        .text("in *.deb) dpkg -I")
        .quoted(package)
        .text(";; *) dpkg -s")
        .quoted(package)
        .text("2>/dev/null || true ;; esac || dpkg -s")
        .quoted(package)
        .text("2>/dev/null || true")
}

/// `name` and `version` from `Package:` and `Version:` lines, wherever they are
/// indented (`dpkg -I` indents the control fields).
fn deb_package(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let fields = [("name", compiled(&CONTROL_PACKAGE)?), ("version", compiled(&CONTROL_VERSION)?)];
    let mut data = Map::new();
    for line in output {
        let line = line.trim();
        for (key, pattern) in fields {
            if let Some(value) = pattern.captures(line).and_then(|captures| captures.get(1)) {
                data.insert(key.to_owned(), Value::String(value.as_str().to_owned()));
                break;
            }
        }
    }
    Ok(Value::Object(data))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn packages_collect_every_version_of_a_name() {
        let output = lines(&[
            "ii  libc6:amd64 2.36-9 amd64 GNU C Library",
            "ii  libc6:i386 2.36-8 i386 GNU C Library",
            "rc  gone 1.0 amd64 removed, config left",
        ]);
        let packages = parse_packages(compiled(&DEB_PACKAGE).unwrap(), &output);
        assert_eq!(packages, json!({"libc6": ["2.36-8", "2.36-9"]}));
    }

    #[test]
    fn archive_fields_are_read_through_indentation() {
        let output = lines(&[" Package: tree", " Version: 2.1.0-1", " Architecture: amd64"]);
        assert_eq!(deb_package(&Map::new(), &output).unwrap(), json!({"name": "tree", "version": "2.1.0-1"}));
    }

    #[test]
    fn package_name_is_quoted_everywhere() {
        let arguments: Map<String, Value> = [("package".to_owned(), json!("a b.deb"))].into_iter().collect();
        let command = deb_package_command(&arguments).raw_value();
        assert_eq!(command.matches("'a b.deb'").count(), 5);
    }

    #[test]
    fn patterns_compile() {
        for pattern in [&DEB_PACKAGE, &CONTROL_PACKAGE, &CONTROL_VERSION] {
            assert!(compiled(pattern).is_ok());
        }
    }
}
