//! Operations of `pyinfra/operations/crontab.py`: `crontab`, one entry of a user's
//! crontab, found by its command or by a `# pyinfra-name=` comment above it, added,
//! rewritten or removed in a copy that is then installed with `crontab`.
//! (`server.crontab` is the same operation under pyinfra's other name.) With `--diff`,
//! the crontab before and after the edit is recorded, rebuilt from the `Crontab` fact.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::files::lines::preview::{self, Substitution, joined, posix_regex};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operation's parameters, in pyinfra's order.
const PARAMS: &[&str] = &[
    "command",
    "present",
    "user",
    "cron_name",
    "minute",
    "hour",
    "month",
    "day_of_week",
    "day_of_month",
    "special_time",
    "interpolate_variables",
];

/// `crontab.crontab`.
pub const CRONTAB: OperationDef = OperationDef {
    name: "crontab.crontab",
    params: PARAMS,
    plan: |arguments, plan| crontab(&parse_arguments("crontab.crontab", arguments)?, plan),
};

/// `server.crontab`, pyinfra's other name for `crontab.crontab`.
pub const SERVER_CRONTAB: OperationDef = OperationDef {
    name: "server.crontab",
    params: PARAMS,
    plan: |arguments, plan| crontab(&parse_arguments("server.crontab", arguments)?, plan),
};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[CRONTAB];

fn yes() -> bool {
    true
}

/// Arguments of `crontab.crontab`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrontabArgs {
    /// The command the entry runs; it identifies the entry unless `cron_name` is given.
    pub command: String,
    /// Whether the entry should be in the crontab.
    #[serde(default = "yes")]
    pub present: bool,
    /// Whose crontab to edit (`crontab -u`); the connecting user's when not given.
    #[serde(default)]
    pub user: Option<String>,
    /// A name kept in a comment above the entry, so that an entry whose command
    /// changes is rewritten rather than added again.
    #[serde(default)]
    pub cron_name: Option<String>,
    /// The minutes to run at: a number, cron text (`*/5`) or a list; `*` by default.
    #[serde(default)]
    pub minute: Option<Value>,
    /// The hours to run at, as `minute`.
    #[serde(default)]
    pub hour: Option<Value>,
    /// The months to run in, as `minute`.
    #[serde(default)]
    pub month: Option<Value>,
    /// The days of the week to run on, as `minute`.
    #[serde(default)]
    pub day_of_week: Option<Value>,
    /// The days of the month to run on, as `minute`.
    #[serde(default)]
    pub day_of_month: Option<Value>,
    /// A cron nickname (`@reboot`, `@daily`) used instead of the five schedule fields.
    #[serde(default)]
    pub special_time: Option<String>,
    /// Write the command inside double quotes so the shell expands its variables when
    /// editing.
    #[serde(default)]
    pub interpolate_variables: bool,
}

/// A schedule field as pyinfra keeps it: a list joined with commas, anything else as
/// given (`None` when absent).
fn comma_separated(value: Option<&Value>) -> Value {
    match value {
        None => Value::Null,
        Some(Value::Array(items)) => {
            json!(items.iter().map(python_str).collect::<Vec<_>>().join(","))
        }
        Some(other) => other.clone(),
    }
}

/// Python's `try_int`: the integer a value spells (`"5"`, `5.0`, `True`), otherwise
/// the value unchanged.
fn try_int(value: &Value) -> Value {
    match value {
        Value::Bool(flag) => json!(i64::from(*flag)),
        #[expect(clippy::cast_possible_truncation, reason = "Python's int() truncates floats")]
        Value::Number(number) if number.is_f64() => number.as_f64().map_or_else(|| value.clone(), |float| json!(float.trunc() as i64)),
        Value::String(text) => python_int(text).map_or_else(|| value.clone(), |number| json!(number)),
        other => other.clone(),
    }
}

/// Python's `int(text)` for base-10 text: blanks around, one sign, single `_` between
/// digits.
fn python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let valid = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !valid {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// Python's `==` for fact values, where `1 == 1.0`.
fn python_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        _ => left == right,
    }
}

/// The crontab's entries. The fact is a list of entries; pyinfra's fixtures write it
/// as a mapping of command to entry, which is read the same way.
fn entries(value: &Value) -> Vec<Map<String, Value>> {
    match value {
        Value::Array(items) => items.iter().filter_map(|item| item.as_object().cloned()).collect(),
        Value::Object(by_command) => by_command
            .iter()
            .map(|(command, item)| {
                let mut entry = item.as_object().cloned().unwrap_or_default();
                entry.insert("command".to_owned(), json!(command));
                entry
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether an entry's comments hold exactly `comment`.
fn has_comment(entry: &Map<String, Value>, comment: &str) -> bool {
    entry
        .get("comments")
        .and_then(Value::as_array)
        .is_some_and(|comments| comments.iter().any(|line| line.as_str() == Some(comment)))
}

/// The first command entry with this command, or carrying the name comment.
fn find_entry<'a>(entries: &'a [Map<String, Value>], command: Option<&str>, name_comment: &str) -> Option<&'a Map<String, Value>> {
    entries
        .iter()
        .filter(|entry| entry.contains_key("command"))
        .find(|entry| (command.is_some() && entry.get("command").and_then(Value::as_str) == command) || has_comment(entry, name_comment))
}

/// The crontab's lines as the fact describes them (the comments above each entry, one
/// space between schedule fields): what `crontab -l` prints, up to spacing and the
/// comments after the last entry.
fn crontab_lines(entries: &[Map<String, Value>]) -> Vec<String> {
    let text = |entry: &Map<String, Value>, name: &str| entry.get(name).map_or_else(|| "*".to_owned(), python_str);
    let mut lines = Vec::new();
    for entry in entries {
        let comments = entry.get("comments").and_then(Value::as_array).into_iter().flatten();
        lines.extend(comments.map(python_str));
        if let Some(environment) = entry.get("env") {
            lines.push(python_str(environment));
        } else if let Some(special_time) = entry.get("special_time").filter(|time| !time.is_null()) {
            lines.push(format!("{} {}", python_str(special_time), text(entry, "command")));
        } else {
            let fields = ["minute", "hour", "day_of_month", "month", "day_of_week", "command"];
            lines.push(fields.map(|name| text(entry, name)).join(" "));
        }
    }
    lines
}

/// A `sed` edit of the temporary copy, as pyinfra's `sed_replace`/`sed_delete` write
/// it: the pattern and replacement inside the script's own quotes, the copy sed keeps
/// removed afterwards.
fn sed_edit(path: &str, pattern: &str, replacement: Option<&str>, interpolate_variables: bool, timestamp: &str) -> StringCommand {
    let escape = |text: &str| {
        if interpolate_variables {
            text.replace('"', "\\\"")
        } else {
            text.replace('\'', "'\"'\"'")
        }
    };
    let pattern = escape(&pattern.replace('/', "\\/"));
    let quote = if interpolate_variables { '"' } else { '\'' };
    let script = match replacement {
        Some(replacement) => {
            let replacement = escape(&replacement.replace('/', "\\/").replace('&', "\\&"));
            format!("{quote}s/{pattern}/{replacement}/{quote}")
        }
        None => format!("{quote}/{pattern}/d{quote}"),
    };
    let sed = StringCommand::raw("sed").text(format!("-i.{timestamp}")).text(script).quoted(path);
    StringCommand::new().nested(sed).text("&& rm -f").quoted(format!("{path}.{timestamp}"))
}

/// `crontab.crontab`: adds, rewrites or removes one crontab entry.
pub fn crontab(args: &CrontabArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut schedule = [
        comma_separated(args.minute.as_ref()),
        comma_separated(args.hour.as_ref()),
        comma_separated(args.day_of_month.as_ref()),
        comma_separated(args.month.as_ref()),
        comma_separated(args.day_of_week.as_ref()),
    ];
    let current = plan.fact("crontab.Crontab", &[("user", json!(args.user))])?;
    let entries = entries(&current);
    let name_comment = format!("# pyinfra-name={}", args.cron_name.as_deref().map_or_else(|| "None".to_owned(), str::to_owned));
    let by_command = args.cron_name.is_none().then_some(args.command.as_str());
    let existing = find_entry(&entries, by_command, &name_comment);
    let existing_command = existing.and_then(|entry| entry.get("command")).map_or_else(|| args.command.clone(), python_str);
    let has_name = existing.is_some_and(|entry| has_comment(entry, &name_comment));
    let temp_file = plan.temp_filename(&format!("crontab {:?} {:?} {}", args.user, args.cron_name, args.command));

    let mut line = if let Some(special_time) = args.special_time.as_deref().filter(|time| !time.is_empty()) {
        format!("{special_time} {}", args.command)
    } else {
        for field in &mut schedule {
            if field.is_null() {
                *field = json!("*");
            }
        }
        let fields: Vec<String> = schedule.iter().map(python_str).collect();
        format!("{} {}", fields.join(" "), args.command)
    };
    let pattern = format!(".*{existing_command}.*");
    // For `--diff`: the crontab before, and after the edits when they can be worked
    // out here (not when the shell expands the sed script first).
    let before = if plan.want_diff { crontab_lines(&entries) } else { Vec::new() };
    let shell_expands = |text: &str| args.interpolate_variables && text.contains(['$', '`', '\\']);
    let mut after: Option<Vec<String>> = None;

    let mut edits: Vec<StringCommand> = Vec::new();
    match (args.present, existing) {
        (false, Some(_)) => {
            edits.push(sed_edit(&temp_file, &pattern, None, args.interpolate_variables, &plan.timestamp));
            after = posix_regex(&pattern.replace('/', "\\/"), false, false)
                .filter(|_| !shell_expands(&pattern))
                .map(|regex| preview::deleted(&before, &regex));
        }
        (true, None) => {
            let mut lines = before.clone();
            if !entries.is_empty() {
                edits.push(StringCommand::raw(format!("echo '' >> {temp_file}")));
                lines.push(String::new());
            }
            if args.cron_name.is_some() {
                edits.push(StringCommand::raw("echo").quoted(&name_comment).text(">>").text(&temp_file));
                lines.push(name_comment.clone());
            }
            edits.push(StringCommand::raw("echo").quoted(&line).text(">>").text(&temp_file));
            lines.push(line.clone());
            after = Some(lines);
        }
        (true, Some(entry)) => {
            let [minute, hour, day_of_month, month, day_of_week] = &schedule;
            let field_differs = |value: &Value, name: &str| !python_equal(&try_int(value), entry.get(name).unwrap_or(&Value::Null));
            let special_time = args.special_time.as_ref().map_or(Value::Null, |time| json!(time));
            let differs = has_name != args.cron_name.is_some()
                || special_time != *entry.get("special_time").unwrap_or(&Value::Null)
                || field_differs(minute, "minute")
                || field_differs(hour, "hour")
                || field_differs(month, "month")
                || field_differs(day_of_week, "day_of_week")
                || field_differs(day_of_month, "day_of_month")
                || existing_command != args.command;
            if differs {
                let worked_out = !shell_expands(&pattern) && !shell_expands(&line);
                if !has_name && args.cron_name.is_some() {
                    // sed turns `\n` in a replacement into a line break.
                    line = format!("{name_comment}\\n{line}");
                }
                edits.push(sed_edit(&temp_file, &pattern, Some(&line), args.interpolate_variables, &plan.timestamp));
                after = Substitution::new(&pattern, &line, "", false)
                    .filter(|_| worked_out)
                    .map(|substitution| preview::substituted(&before, &substitution));
            }
        }
        (false, None) => {}
    }

    if edits.is_empty() {
        let state = if args.present { "exists" } else { "does not exist" };
        plan.noop(format!("crontab {} {state}", args.command));
        return Ok(());
    }
    let user = args.user.as_deref().filter(|user| !user.is_empty());
    if let Some(after) = after {
        let name = user.map_or_else(|| "crontab".to_owned(), |user| format!("crontab of {user}"));
        plan.record_diff(&name, (!entries.is_empty()).then(|| joined(&before)), joined(&after));
    }
    let with_user = |command: StringCommand| match user {
        Some(user) => command.text("-u").quoted(user),
        None => command,
    };
    if !entries.is_empty() {
        plan.push(with_user(StringCommand::raw("crontab -l")).text(">").quoted(&temp_file));
    }
    for edit in edits {
        plan.push(edit);
    }
    plan.push(with_user(StringCommand::raw("crontab")).quoted(&temp_file));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, diffs, run};
    use crate::plan::FileDiff;

    fn facts(user: Option<&str>, value: Value) -> TableFacts {
        TableFacts::default().with("crontab.Crontab", &[("user", json!(user))], value)
    }

    #[test]
    fn an_entry_found_by_name_gets_the_new_command() -> Result<(), OperationError> {
        let mut facts = facts(
            Some("app"),
            json!([{"command": "old", "minute": 0, "hour": "*", "month": "*", "day_of_month": "*", "day_of_week": "*", "comments": ["# pyinfra-name=job"]}]),
        );
        let arguments = json!({"command": "new", "cron_name": "job", "minute": "0", "user": "app"});
        let (commands, _) = run(crontab, &arguments, &mut facts)?;
        assert_eq!(
            commands,
            [
                "crontab -l -u app > _tempfile_",
                "sed -i.ts 's/.*old.*/0 * * * * new/' _tempfile_ && rm -f _tempfile_.ts",
                "crontab -u app _tempfile_",
            ]
        );
        Ok(())
    }

    #[test]
    fn a_named_entry_found_by_command_gets_its_name_comment() -> Result<(), OperationError> {
        let mut facts = facts(
            None,
            json!([{"command": "job", "minute": "*", "hour": "*", "month": "*", "day_of_month": "*", "day_of_week": "*", "comments": ["# pyinfra-name=job"]}]),
        );
        let (commands, noop) = run(crontab, &json!({"command": "job", "cron_name": "job"}), &mut facts)?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("crontab job exists"));
        Ok(())
    }

    #[test]
    fn removing_a_missing_entry_does_nothing() -> Result<(), OperationError> {
        let mut facts = facts(None, json!([]));
        let (commands, noop) = run(crontab, &json!({"command": "job", "present": false}), &mut facts)?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("crontab job does not exist"));
        Ok(())
    }

    #[test]
    fn diff_shows_the_rewritten_entry_among_the_others() -> Result<(), OperationError> {
        let mut facts = facts(
            Some("app"),
            json!([
                {"env": "MAILTO=ops", "comments": ["# jobs"]},
                {"command": "/bin/backup", "minute": 0, "hour": 3, "month": "*", "day_of_month": "*", "day_of_week": "*", "comments": []},
                {"command": "/bin/other", "special_time": "@daily", "comments": [""]},
            ]),
        );
        let arguments = json!({"command": "/bin/backup", "minute": 30, "hour": 3, "user": "app"});
        assert_eq!(
            diffs(crontab, &arguments, &mut facts)?,
            [FileDiff {
                path: "crontab of app".to_owned(),
                before: Some("# jobs\nMAILTO=ops\n0 3 * * * /bin/backup\n\n@daily /bin/other\n".to_owned()),
                after: "# jobs\nMAILTO=ops\n30 3 * * * /bin/backup\n\n@daily /bin/other\n".to_owned(),
            }]
        );
        Ok(())
    }

    #[test]
    fn diff_shows_added_and_removed_entries() -> Result<(), OperationError> {
        let existing = json!([{"command": "job", "minute": "*", "hour": "*", "month": "*", "day_of_month": "*", "day_of_week": "*", "comments": []}]);
        let removed = diffs(crontab, &json!({"command": "job", "present": false}), &mut facts(None, existing.clone()))?;
        assert_eq!(
            removed,
            [FileDiff {
                path: "crontab".to_owned(),
                before: Some("* * * * * job\n".to_owned()),
                after: String::new(),
            }]
        );
        let added = diffs(crontab, &json!({"command": "new", "special_time": "@reboot"}), &mut facts(None, existing))?;
        assert_eq!(added[0].after, "* * * * * job\n\n@reboot new\n");
        let created = diffs(crontab, &json!({"command": "new", "hour": 1}), &mut facts(None, json!([])))?;
        assert_eq!((created[0].before.as_deref(), created[0].after.as_str()), (None, "* 1 * * * new\n"));
        Ok(())
    }

    #[test]
    fn schedule_values_compare_as_numbers() {
        assert_eq!(try_int(&json!(" 7 ")), json!(7));
        assert_eq!(try_int(&json!("*/5")), json!("*/5"));
        assert_eq!(try_int(&json!(true)), json!(1));
        assert_eq!(comma_separated(Some(&json!([1, "2"]))), json!("1,2"));
    }
}
