//! Facts of `pyinfra/facts/apt.py`: the configured sources (one-line `.list` files and
//! deb822 `.sources` files), the installed packages as `apt` lists them, the keys in
//! APT's keyring directories, and what an `apt-get` command would change.
//!
//! The pieces of that module the `apt` operations share live here as well, as in
//! pyinfra: [`parse_apt_repo`], [`SourcesEntry`] (pyinfra's `AptSourcesFile`) and
//! [`noninteractive_apt`]. A repository is plain data shaped as pyinfra's `AptRepo`:
//! `{"type", "url", "distribution", "components", "options"}`.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::deb::parse_packages;
use crate::files::compiled;
use crate::gpg::{directories, keyrings, keyrings_command};
use crate::registry::{FactDef, FactError, Param, default_dict, default_list, default_none, string_argument};

/// APT's keyring directories, where `AptKeys` looks by default.
pub const APT_KEYRING_DIRS: [&str; 3] = ["/etc/apt/trusted.gpg.d", "/etc/apt/keyrings", "/usr/share/keyrings"];

/// One `deb`/`deb-src` line: type, `[options]`, URL, suite and components. Flat
/// repositories (suite `/`, no components) match too.
static APT_REPO: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^(deb(?:-src)?)(?:\s+\[([^\]]+)\])?\s+([^\s]+)\s+([^\s]+)(?:\s+([a-z\s\d-]+))?\s*$"));
/// `apt list --installed` lines: `name/suites version arch [installed...]`.
static APT_PACKAGE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^([a-zA-Z0-9+\-.]+(?::[a-zA-Z0-9]+)?)/\S+\s+([a-zA-Z0-9:~.\-+]+)\s+\S+\s+\[installed"));
/// The summary line of an `apt-get` simulation.
static APT_CHANGES: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^(\d+) upgraded, (\d+) newly installed, (\d+) to remove and (\d+) not upgraded.$"));

/// Lists every sources file, each after a `##PYINFRA_FILE <path>` line, so the parser
/// knows which syntax to read it with.
const SOURCES_COMMAND: &str = r###"sh -c 'for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -e "$f" ] || continue; echo "##PYINFRA_FILE $f"; cat "$f"; echo; done'"###;
const FILE_MARKER: &str = "##PYINFRA_FILE ";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "apt.AptSources",
        params: &[],
        command: |_| StringCommand::raw(SOURCES_COMMAND),
        requires_command: Some(|_| "apt".to_owned()),
        process: |_, output| apt_sources(output),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "apt.AptPackages",
        params: &[],
        command: |_| StringCommand::raw("apt list --installed 2>/dev/null"),
        requires_command: Some(|_| "apt".to_owned()),
        process: |_, output| Ok(parse_packages(compiled(&APT_PACKAGE)?, output)),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "apt.AptKeys",
        params: &[Param::optional("directories", "null")],
        command: apt_keys_command,
        requires_command: Some(|_| "gpg".to_owned()),
        process: |_, output| apt_keys(output),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "apt.SimulateOperationWillChange",
        params: &[Param::required("command")],
        // The `apt-get` subcommand is shell text written by the operation (`upgrade
        // --autoremove`), as in pyinfra.
        command: |arguments| {
            let command = string_argument(arguments, "command");
            StringCommand::raw("LC_ALL=C").text(noninteractive_apt(&format!("{command} --dry-run"), false))
        },
        requires_command: Some(|_| "apt-get".to_owned()),
        process: |_, output| simulated_changes(output),
        default: default_none,
        shell_executable: None,
    },
];

/// pyinfra's `noninteractive_apt`: `apt-get -y` that never asks, keeping changed
/// configuration files, with `--force-yes` when forced.
pub fn noninteractive_apt(command: &str, force: bool) -> String {
    let force = if force { " --force-yes" } else { "" };
    format!("DEBIAN_FRONTEND=noninteractive apt-get -y{force} -o Dpkg::Options::=\"--force-confdef\" -o Dpkg::Options::=\"--force-confold\" {command}")
}

// AptSources

fn process_error(fact: &str, message: impl Into<String>) -> FactError {
    FactError::Process {
        fact: fact.to_owned(),
        message: message.into(),
    }
}

/// A repository as pyinfra's `AptRepo`.
fn repo(kind: &str, url: &str, distribution: &str, components: &[String], options: &Map<String, Value>) -> Value {
    json!({"type": kind, "url": url, "distribution": distribution, "components": components, "options": options})
}

/// pyinfra's `parse_apt_repo`: a one-line source as a repository, `None` when the line
/// is not one. An option without `=` is an error, as in pyinfra (a `ValueError` there).
pub fn parse_apt_repo(line: &str) -> Result<Option<Value>, FactError> {
    let Some(captures) = compiled(&APT_REPO)?.captures(line) else {
        return Ok(None);
    };
    let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
    let mut options = Map::new();
    for option in group(2).split_whitespace() {
        let (key, value) = option
            .split_once('=')
            .ok_or_else(|| process_error("apt.AptSources", format!("apt source option `{option}` has no `=`")))?;
        let value = if value.contains(',') {
            json!(value.split(',').collect::<Vec<_>>())
        } else {
            json!(value)
        };
        options.insert(key.to_owned(), value);
    }
    let components: Vec<String> = group(5).split_whitespace().map(str::to_owned).collect();
    Ok(Some(repo(group(1), group(3), group(4), &components, &options)))
}

/// The repositories of a one-line-style file (`sources.list`, `*.list`).
fn parse_list_file(lines: &[String]) -> Result<Vec<Value>, FactError> {
    let mut repos = Vec::new();
    for line in lines.iter().map(|line| line.trim()) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        repos.extend(parse_apt_repo(line)?);
    }
    Ok(repos)
}

/// One deb822 stanza before it is expanded into repositories (pyinfra's
/// `AptSourcesFile`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcesEntry {
    /// `deb`, `deb-src`.
    pub types: Vec<String>,
    /// Repository URLs.
    pub uris: Vec<String>,
    /// Suites.
    pub suites: Vec<String>,
    /// Components (none for a flat repository).
    pub components: Vec<String>,
    /// Architectures, when restricted.
    pub architectures: Option<Vec<String>>,
    /// Keyring paths, or one inline key block.
    pub signed_by: Option<Vec<String>>,
    /// `Trusted:`, lower-cased.
    pub trusted: Option<String>,
}

impl SourcesEntry {
    /// Reads a stanza's lines: `Field: value` lines, continuation lines indented by a
    /// space or tab (a lone `.` is an empty line), comments ignored. `None` when
    /// `Types`, `URIs` or `Suites` is missing, or when `Enabled` is not `yes`.
    pub fn from_deb822(lines: &[String]) -> Option<Self> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut current: Option<usize> = None;
        for line in lines {
            if line.starts_with('#') {
                continue;
            }
            if let (Some(index), true) = (current, line.starts_with([' ', '\t'])) {
                let continuation = &line[1..];
                let value = &mut fields[index].1;
                value.push('\n');
                value.push_str(if continuation == "." { "" } else { continuation });
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim().to_owned();
                let value = value.trim().to_owned();
                // A repeated field keeps its first place and its last value, as a dict.
                if let Some(index) = fields.iter().position(|(known, _)| *known == key) {
                    fields[index].1 = value;
                    current = Some(index);
                } else {
                    fields.push((key, value));
                    current = Some(fields.len() - 1);
                }
            }
        }
        let field = |name: &str| fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let words = |name: &str| field(name).unwrap_or_default().split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        if ["Types", "URIs", "Suites"].iter().any(|name| field(name).is_none()) {
            return None;
        }
        if field("Enabled").unwrap_or("yes").to_lowercase() != "yes" {
            return None;
        }
        let signed_by = match field("Signed-By").map(str::trim).unwrap_or_default() {
            "" => None,
            inline if inline.contains("-----BEGIN PGP") => Some(vec![inline.to_owned()]),
            paths => Some(paths.split_whitespace().map(str::to_owned).collect()),
        };
        Some(Self {
            types: words("Types"),
            uris: words("URIs"),
            suites: words("Suites"),
            components: words("Components"),
            architectures: field("Architectures").filter(|value| !value.is_empty()).map(|_| words("Architectures")),
            signed_by,
            trusted: field("Trusted").filter(|value| !value.is_empty()).map(str::to_lowercase),
        })
    }

    /// One repository per type, URL and suite, with the options a one-line source
    /// would carry (`arch`, `signed-by`, `trusted`: one value, or a list of several).
    pub fn expand(&self) -> Vec<Value> {
        let one_or_list = |values: &[String]| {
            if values.len() == 1 { json!(values[0]) } else { json!(values) }
        };
        let mut options = Map::new();
        if let Some(architectures) = self.architectures.as_deref().filter(|values| !values.is_empty()) {
            options.insert("arch".to_owned(), one_or_list(architectures));
        }
        if let Some(signed_by) = self.signed_by.as_deref().filter(|values| !values.is_empty()) {
            options.insert("signed-by".to_owned(), one_or_list(signed_by));
        }
        if let Some(trusted) = self.trusted.as_deref().filter(|value| !value.is_empty()) {
            options.insert("trusted".to_owned(), json!(trusted));
        }
        let mut repos = Vec::new();
        for kind in &self.types {
            for uri in &self.uris {
                for suite in &self.suites {
                    repos.push(repo(kind, uri, suite, &self.components, &options));
                }
            }
        }
        repos
    }
}

/// The repositories of a deb822 file: stanzas split at blank lines.
fn parse_sources_file(lines: &[String]) -> Vec<Value> {
    let mut repos = Vec::new();
    let mut stanza: Vec<String> = Vec::new();
    for line in lines.iter().map(String::as_str).chain([""]) {
        let line = line.trim_end_matches('\n');
        if line.trim().is_empty() {
            if !stanza.is_empty() {
                repos.extend(SourcesEntry::from_deb822(&stanza).iter().flat_map(SourcesEntry::expand));
                stanza.clear();
            }
            continue;
        }
        stanza.push(line.to_owned());
    }
    repos
}

fn apt_sources(output: &[String]) -> Result<Value, FactError> {
    let mut repos = Vec::new();
    let mut file: Option<&str> = None;
    let mut buffer: Vec<String> = Vec::new();
    let mut flush = |file: Option<&str>, buffer: &mut Vec<String>| -> Result<(), FactError> {
        match file {
            Some(path) if !buffer.is_empty() && path.ends_with(".sources") => {
                repos.extend(parse_sources_file(buffer));
            }
            Some(_) if !buffer.is_empty() => repos.extend(parse_list_file(buffer)?),
            _ => {}
        }
        buffer.clear();
        Ok(())
    };
    for line in output {
        if let Some(path) = line.strip_prefix(FILE_MARKER) {
            flush(file, &mut buffer)?;
            file = Some(path.trim());
            continue;
        }
        buffer.push(line.clone());
    }
    flush(file, &mut buffer)?;
    Ok(Value::Array(repos))
}

// AptKeys

fn apt_keys_command(arguments: &Map<String, Value>) -> StringCommand {
    let mut wanted = directories(arguments.get("directories"));
    if wanted.is_empty() {
        wanted = APT_KEYRING_DIRS.iter().map(|directory| (*directory).to_owned()).collect();
    }
    keyrings_command(&wanted)
}

/// Every key of every keyring, by id (a key in several keyrings: the last one read).
fn apt_keys(output: &[String]) -> Result<Value, FactError> {
    let mut keys = Map::new();
    if let Value::Object(found) = keyrings(output)? {
        for keyring in found.values() {
            if let Some(Value::Object(in_keyring)) = keyring.get("keys") {
                keys.extend(in_keyring.clone());
            }
        }
    }
    Ok(Value::Object(keys))
}

// SimulateOperationWillChange

fn simulated_changes(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&APT_CHANGES)?;
    let captures = output
        .iter()
        .find_map(|line| pattern.captures(line))
        .ok_or_else(|| process_error("apt.SimulateOperationWillChange", "Did not find proposed changes in output"))?;
    let count = |index: usize| captures.get(index).and_then(|found| found.as_str().parse::<u64>().ok()).unwrap_or_default();
    Ok(json!({
        "upgraded": count(1),
        "newly_installed": count(2),
        "removed": count(3),
        "not_upgraded": count(4),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn one_line_source_with_options() {
        let repo = parse_apt_repo("deb [arch=amd64,arm64 trusted=yes] file:/srv/lab-repo ./").unwrap();
        assert_eq!(
            repo,
            Some(
                json!({"type": "deb", "url": "file:/srv/lab-repo", "distribution": "./", "components": [], "options": {"arch": ["amd64", "arm64"], "trusted": "yes"}})
            )
        );
        assert_eq!(parse_apt_repo("not a source").unwrap(), None);
        assert!(parse_apt_repo("deb [trusted] http://x y z").is_err());
    }

    #[test]
    fn lines_before_the_first_file_are_ignored() {
        let output = lines(&[
            "deb http://stray a b",
            "##PYINFRA_FILE /etc/apt/sources.list",
            "# deb http://off a b",
            "deb http://on a b",
            "",
        ]);
        let repos = apt_sources(&output).unwrap();
        assert_eq!(repos.as_array().map(Vec::len), Some(1));
        assert_eq!(repos[0]["url"], "http://on");
    }

    #[test]
    fn deb822_field_repeated_keeps_the_last_value() {
        let stanza = lines(&["Types: deb", "URIs: http://a", "Suites: x", "Suites: y"]);
        assert_eq!(SourcesEntry::from_deb822(&stanza).map(|entry| entry.suites), Some(vec!["y".to_owned()]));
    }

    #[test]
    fn simulation_without_summary_is_an_error() {
        assert!(simulated_changes(&lines(&["E: Could not open lock file"])).is_err());
    }

    #[test]
    fn noninteractive_apt_forced() {
        assert!(noninteractive_apt("install", true).starts_with("DEBIAN_FRONTEND=noninteractive apt-get -y --force-yes -o"));
    }

    #[test]
    fn patterns_compile() {
        for pattern in [&APT_REPO, &APT_PACKAGE, &APT_CHANGES] {
            assert!(compiled(pattern).is_ok());
        }
    }
}
