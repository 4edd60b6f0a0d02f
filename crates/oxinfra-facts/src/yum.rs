//! Facts of `pyinfra/facts/yum.py`: the configured yum repositories.
//!
//! Also here, for the dnf and zypper repository facts: the command that prints a set of
//! repository files each behind a marker line ([`cat_files_command`]) and the parser of
//! that output ([`parse_repositories`]), after pyinfra's `facts/util`.

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::registry::{FactDef, default_list};

/// The line printed before each file's content, followed by the file's path.
const FILENAME_MARKER: &str = "#pyinfra-filename:";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "yum.YumRepositories",
    params: &[],
    command: |_| cat_files_command(&["/etc/yum.conf", "/etc/yum.repos.d/*.repo"]),
    requires_command: Some(|_| "yum".to_owned()),
    process: |_, output| Ok(parse_repositories(output)),
    default: default_list,
    shell_executable: None,
}];

/// Prints each existing file among `patterns` (the shell expands the globs) after a
/// marker line naming it; a pattern that matches nothing prints nothing.
pub(crate) fn cat_files_command(patterns: &[&str]) -> StringCommand {
    // Fixed paths and globs only: the globs must stay unquoted for the shell to expand.
    StringCommand::raw(format!(
        "for f in {}; do [ -f \"$f\" ] && {{ printf \"{FILENAME_MARKER} %s\\n\" \"$f\"; cat \"$f\"; }}; done || true",
        patterns.join(" ")
    ))
}

/// The repositories of INI-style repository files printed by [`cat_files_command`]:
/// one dict per `[section]`, with `repoid` and `name` from the section header, the
/// file it came from as `filename`, and every `key=value` line of the section.
pub(crate) fn parse_repositories(output: &[String]) -> Value {
    let mut repositories = Vec::new();
    let mut current: Map<String, Value> = Map::new();
    let mut current_file: Option<String> = None;
    let mut finish = |current: &mut Map<String, Value>| {
        if !current.is_empty() {
            repositories.push(Value::Object(std::mem::take(current)));
        }
    };
    for line in output {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(file) = line.strip_prefix(FILENAME_MARKER) {
            finish(&mut current);
            current_file = Some(file.trim().to_owned()).filter(|file| !file.is_empty());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            finish(&mut current);
            let id = section_name(line);
            current.insert("repoid".to_owned(), Value::String(id.clone()));
            current.insert("name".to_owned(), Value::String(id));
            if let Some(file) = &current_file {
                current.insert("filename".to_owned(), Value::String(file.clone()));
            }
        }
        // A header holding `=` is also read as a setting, as pyinfra does.
        if !current.is_empty() {
            if let Some((key, value)) = line.split_once('=') {
                current.insert(key.trim_end().to_owned(), Value::String(value.trim_start().to_owned()));
            }
        }
    }
    finish(&mut current);
    Value::Array(repositories)
}

/// `[name]` without its first and last characters (whatever they are).
fn section_name(line: &str) -> String {
    let mut characters = line.chars();
    characters.next();
    characters.next_back();
    characters.as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn repositories_split_on_headers_and_files() {
        let output = lines(&[
            "#pyinfra-filename: /etc/yum.conf",
            "[main]",
            "gpgcheck = 1",
            "#pyinfra-filename: /etc/yum.repos.d/a.repo",
            "[a]",
            "name=A repo",
            "baseurl = http://x/?a=b",
            "[b]",
            "enabled=0",
        ]);
        assert_eq!(
            parse_repositories(&output),
            json!([
                {"repoid": "main", "name": "main", "filename": "/etc/yum.conf", "gpgcheck": "1"},
                {"repoid": "a", "name": "A repo", "filename": "/etc/yum.repos.d/a.repo", "baseurl": "http://x/?a=b"},
                {"repoid": "b", "name": "b", "filename": "/etc/yum.repos.d/a.repo", "enabled": "0"},
            ])
        );
    }

    #[test]
    fn settings_before_any_header_are_ignored() {
        assert_eq!(parse_repositories(&lines(&["key=value", "[x]"])), json!([{"repoid": "x", "name": "x"}]));
    }
}
