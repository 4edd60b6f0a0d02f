//! Facts of `pyinfra/facts/git.py`: what a git working copy is on (`GitBranch`,
//! `GitTag`, `GitTrackingBranch`), commits of a local ref and of a remote branch
//! (`GitLocalCommit`, `GitRemoteBranchCommit`), and `git config` at repository, global
//! or system level (`GitConfig`).
//!
//! pyinfra writes the repository path into these commands unquoted; here it is quoted,
//! which gives the same text for every path a shell would not split.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, bool_argument, default_dict, default_none, string_argument};

static HEADS_OR_TAGS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"(heads|tags)/"));
static TRACKING: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"\.{3}(\S+)\b"));
static SHA: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "git.GitBranch",
        params: REPO,
        command: |arguments| in_repo(arguments, StringCommand::raw("git describe --all")),
        requires_command: Some(git),
        process: |_, output| {
            Ok(Value::String(
                regex(&HEADS_OR_TAGS, "git.GitBranch")?.replace_all(&output.join("\n"), "").into_owned(),
            ))
        },
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "git.GitTag",
        params: REPO,
        command: |arguments| in_repo(arguments, StringCommand::raw("git tag")),
        requires_command: Some(git),
        process: |_, output| Ok(Value::Array(output.iter().cloned().map(Value::String).collect())),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "git.GitConfig",
        params: &[Param::optional("repo", "null"), Param::optional("system", "false")],
        command: config_command,
        requires_command: Some(git),
        process: |_, output| config(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "git.GitTrackingBranch",
        params: REPO,
        command: |arguments| in_repo(arguments, StringCommand::raw("git status --branch --porcelain")),
        requires_command: Some(git),
        process: |_, output| tracking_branch(output),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "git.GitLocalCommit",
        params: &[Param::required("repo"), Param::optional("ref", "\"HEAD\"")],
        command: |arguments| {
            let reference = StringCommand::raw("git rev-parse")
                .quoted(string_argument(arguments, "ref"))
                .text("2>/dev/null");
            in_repo(arguments, reference).text("|| true")
        },
        requires_command: Some(git),
        process: |_, output| sha(output.first().map(|line| line.trim()), "git.GitLocalCommit"),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "git.GitRemoteBranchCommit",
        params: &[
            Param::required("repo"),
            Param::optional("remote", "\"origin\""),
            Param::optional("branch", "null"),
        ],
        command: |arguments| {
            let branch = string_argument(arguments, "branch");
            let reference = if branch.is_empty() { "HEAD" } else { branch };
            let list = StringCommand::raw("git ls-remote")
                .quoted(string_argument(arguments, "remote"))
                .quoted(reference)
                .text("2>/dev/null | head -n1");
            in_repo(arguments, list)
        },
        requires_command: Some(git),
        process: |_, output| {
            let first = output.first().map(|line| line.trim().split('\t').next().unwrap_or_default());
            sha(first, "git.GitRemoteBranchCommit")
        },
        default: default_none,
        shell_executable: None,
    },
];

const REPO: &[Param] = &[Param::required("repo")];

fn git(_: &Map<String, Value>) -> String {
    "git".to_owned()
}

/// `! test -d REPO || (cd REPO && COMMAND)`: nothing when the repository is missing.
fn in_repo(arguments: &Map<String, Value>, command: StringCommand) -> StringCommand {
    let repo = string_argument(arguments, "repo");
    let inner = StringCommand::raw("cd").quoted(repo).text("&&").nested(command);
    let mut subshell = StringCommand::raw("(").nested(inner).text(")");
    subshell.separator = String::new();
    StringCommand::raw("! test -d").quoted(repo).text("||").nested(subshell)
}

fn config_command(arguments: &Map<String, Value>) -> StringCommand {
    if arguments.get("repo").is_some_and(Value::is_string) {
        return in_repo(arguments, StringCommand::raw("git config --local -l"));
    }
    let level = if bool_argument(arguments, "system") { "--system" } else { "--global" };
    StringCommand::raw("git config").text(level).text("-l || true")
}

/// `key=value` lines into `{key: [values]}`, values of a repeated key in order.
fn config(output: &[String]) -> Result<Value, FactError> {
    let mut items = Map::new();
    for line in output {
        let (key, value) = line.split_once('=').ok_or_else(|| FactError::Process {
            fact: "git.GitConfig".to_owned(),
            message: format!("not a `key=value` line: `{line}`"),
        })?;
        if let Value::Array(values) = items.entry(key.to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
            values.push(Value::String(value.to_owned()));
        }
    }
    Ok(Value::Object(items))
}

/// The upstream of `## branch...origin/branch [ahead 1]`, the first porcelain line.
fn tracking_branch(output: &[String]) -> Result<Value, FactError> {
    let Some(first) = output.first() else {
        return Ok(Value::Null);
    };
    let upstream = regex(&TRACKING, "git.GitTrackingBranch")?.captures(first).and_then(|captures| captures.get(1));
    Ok(upstream.map_or(Value::Null, |found| Value::String(found.as_str().to_owned())))
}

/// A full SHA-1 or SHA-256 commit id, else `None`.
fn sha(candidate: Option<&str>, fact: &str) -> Result<Value, FactError> {
    let sha = regex(&SHA, fact)?;
    Ok(candidate
        .filter(|text| sha.is_match(text))
        .map_or(Value::Null, |text| Value::String(text.to_owned())))
}

fn regex<'a>(regex: &'a LazyLock<Result<Regex, regex::Error>>, fact: &str) -> Result<&'a Regex, FactError> {
    regex.as_ref().map_err(|error| FactError::Process {
        fact: fact.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{bind_arguments, find};

    fn command(name: &str, arguments: Value) -> String {
        let fact = find(name).unwrap();
        let Value::Object(keyword) = arguments else { unreachable!() };
        (fact.command)(&bind_arguments(fact, &[], &keyword).unwrap()).raw_value()
    }

    #[test]
    fn repository_paths_are_quoted() {
        assert_eq!(
            command("git.GitTag", json!({"repo": "/srv/my repo"})),
            "! test -d '/srv/my repo' || (cd '/srv/my repo' && git tag)"
        );
    }

    #[test]
    fn remote_commit_defaults_to_head() {
        assert_eq!(
            command("git.GitRemoteBranchCommit", json!({"repo": "r"})),
            "! test -d r || (cd r && git ls-remote origin HEAD 2>/dev/null | head -n1)"
        );
    }

    #[test]
    fn config_keeps_repeated_keys_in_order() {
        let output = vec!["a.b=1".to_owned(), "a.b=2".to_owned(), "c=x=y".to_owned()];
        assert_eq!(config(&output), Ok(json!({"a.b": ["1", "2"], "c": ["x=y"]})));
        assert!(config(&["broken".to_owned()]).is_err());
    }

    #[test]
    fn branch_strips_heads_and_tags() {
        let fact = find("git.GitBranch").unwrap();
        assert_eq!((fact.process)(&Map::new(), &["tags/v1.0".to_owned()]), Ok(json!("v1.0")));
    }

    #[test]
    fn local_commit_ignores_non_sha_output() {
        let fact = find("git.GitLocalCommit").unwrap();
        assert_eq!((fact.process)(&Map::new(), &["HEAD".to_owned()]), Ok(Value::Null));
    }
}
