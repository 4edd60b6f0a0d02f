//! Facts of `pyinfra/facts/crontab.py`: `Crontab`, a user's crontab as a list of
//! entries (pyinfra's `CrontabFile.to_json()`), each a command with its schedule or
//! special time, or an environment line, with the comment lines above it.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::files::{compiled, python_str, try_int};
use crate::registry::{FactDef, FactError, Param, default_list};

/// An environment line (`NAME = value`, the name bare or in matching quotes), as
/// crontab(5) allows it.
static ENVIRONMENT_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r#"^\s*(?:"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_]*)\s*="#));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "crontab.Crontab",
    params: &[Param::optional("user", "null")],
    command: |arguments| match arguments.get("user").filter(|user| truthy_text(user)) {
        Some(user) => StringCommand::raw("crontab -l -u").quoted(python_str(user)).text("|| true"),
        None => StringCommand::raw("crontab -l || true"),
    },
    requires_command: Some(|_| "crontab".to_owned()),
    process: |_, output| crontab(output),
    default: default_list,
    shell_executable: None,
}];

/// Python's truth of a `user` argument.
fn truthy_text(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false)) && value.as_str() != Some("")
}

/// The entries of a crontab, in order. Blank and `#` lines are kept as the comments of
/// the next entry.
fn crontab(output: &[String]) -> Result<Value, FactError> {
    let environment = compiled(&ENVIRONMENT_LINE)?;
    let mut entries = Vec::new();
    let mut comments: Vec<Value> = Vec::new();
    for line in output {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            comments.push(json!(line));
            continue;
        }
        let comments = std::mem::take(&mut comments);
        let entry = if line.starts_with('@') {
            let (special_time, command) = split_first_word(line);
            json!({"command": command, "special_time": special_time, "comments": comments})
        } else if environment.is_match(line) {
            json!({"env": line, "comments": comments})
        } else {
            schedule_entry(line, comments)?
        };
        entries.push(entry);
    }
    Ok(Value::Array(entries))
}

/// The first word of `line` and the rest after the blanks that follow it.
fn split_first_word(line: &str) -> (&str, &str) {
    match line.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim_start()),
        None => (line, ""),
    }
}

/// A `minute hour day-of-month month day-of-week command` line; numbers in the
/// schedule are read as numbers, as pyinfra does.
fn schedule_entry(line: &str, comments: Vec<Value>) -> Result<Value, FactError> {
    let mut rest = line;
    let mut fields = Vec::with_capacity(5);
    for _ in 0..5 {
        let (field, after) = split_first_word(rest);
        if after.is_empty() {
            return Err(FactError::Process {
                fact: "crontab.Crontab".to_owned(),
                message: format!("not a crontab entry: `{line}`"),
            });
        }
        fields.push(try_int(field));
        rest = after;
    }
    let mut entry = Map::new();
    entry.insert("command".to_owned(), json!(rest));
    for (name, value) in ["minute", "hour", "day_of_month", "month", "day_of_week"].into_iter().zip(fields) {
        entry.insert(name.to_owned(), value);
    }
    entry.insert("comments".to_owned(), Value::Array(comments));
    Ok(Value::Object(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn environment_pattern_compiles() {
        assert!(ENVIRONMENT_LINE.is_ok());
    }

    #[test]
    fn special_time_and_blank_line_comments() {
        let output = lines(&["", "@reboot   /usr/bin/thing --flag"]);
        assert_eq!(
            crontab(&output),
            Ok(json!([{
                "command": "/usr/bin/thing --flag",
                "special_time": "@reboot",
                "comments": [""],
            }]))
        );
    }

    #[test]
    fn schedule_keeps_the_command_spacing() {
        let output = lines(&["*/5 1 * * 0  echo  a"]);
        assert_eq!(
            crontab(&output),
            Ok(json!([{
                "command": "echo  a",
                "minute": "*/5",
                "hour": 1,
                "day_of_month": "*",
                "month": "*",
                "day_of_week": 0,
                "comments": [],
            }]))
        );
    }

    #[test]
    fn a_short_line_is_an_error() {
        assert!(crontab(&lines(&["* * *"])).is_err());
    }
}
