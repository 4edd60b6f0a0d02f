//! `files.line`, `files.replace` and `files.block`: edits of lines inside a file on the
//! host, with `grep`/`sed` (line and replace) or `awk` (block), as pyinfra does them.
//!
//! What lives elsewhere: whole-file state (existence, owner, mode, uploads) is in
//! [`super::paths`]. The `sed` and `echo` commands built here are reused by `server`
//! operations that edit configuration files (`server.sysctl`, `server.locale`, ...),
//! through the public planners [`line`] and [`replace`]. What the edits will do to a
//! file, for `--diff`, is worked out in `preview`.

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use oxinfra_core::{CommandPart, StringCommand};

use super::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use preview::{Substitution, awk_regex, joined};

pub(crate) mod preview;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "files.line",
        params: &[
            "path",
            "line",
            "present",
            "replace",
            "flags",
            "backup",
            "interpolate_variables",
            "escape_regex_characters",
            "ensure_newline",
            "extended_regex",
        ],
        plan: |arguments, plan| line(&parse_arguments("files.line", arguments)?, plan),
    },
    OperationDef {
        name: "files.replace",
        params: &["path", "text", "replace", "flags", "backup", "interpolate_variables", "extended_regex", "match"],
        plan: |arguments, plan| replace(&parse_arguments("files.replace", arguments)?, plan),
    },
    OperationDef {
        name: "files.block",
        params: &[
            "path",
            "content",
            "present",
            "line",
            "backup",
            "escape_regex_characters",
            "try_prevent_shell_expansion",
            "before",
            "after",
            "marker",
            "begin",
            "end",
        ],
        plan: |arguments, plan| block(&parse_arguments("files.block", arguments)?, plan),
    },
];

/// The marker around a block when none is given; `{mark}` becomes the begin or end word.
const MARKER_DEFAULT: &str = "# {mark} PYINFRA BLOCK";
/// The word for `{mark}` in the opening marker when none is given.
const MARKER_BEGIN_DEFAULT: &str = "BEGIN";
/// The word for `{mark}` in the closing marker when none is given.
const MARKER_END_DEFAULT: &str = "END";
/// The here-document delimiter used when a block is written into a new file.
const HERE_DOCUMENT_END: &str = "PYINFRAHERE";
/// The temporary folder `files.block` names when the plan has none (pyinfra's test host).
const FIXTURE_TEMP_DIR: &str = "_tempdir_";

fn yes() -> bool {
    true
}

/// Reads a Python-truthy value (`backup` may be `True` or an extension string).
fn truthy_argument<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(truthy(&Value::deserialize(deserializer)?))
}

/// Reads `sed` flags given as one string (`"gi"`) or a list (`["g", "i"]`), joined.
fn joined_flags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flags {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Flags>::deserialize(deserializer)? {
        None => String::new(),
        Some(Flags::One(text)) => text,
        Some(Flags::Many(flags)) => flags.concat(),
    })
}

/// Reads a value pyinfra turns into text with `str()` (a replacement may be a number).
fn python_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        other => Some(oxinfra_core::pyrepr::python_str(&other)),
    })
}

/// Arguments of `files.line`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineArgs {
    /// The file on the host to edit.
    pub path: String,
    /// A regular expression (or plain text) that finds the line; unless anchored with
    /// `^`/`$` it matches anywhere in a line.
    pub line: String,
    /// Whether the line should be in the file (`false` deletes every matching line).
    #[serde(default = "yes")]
    pub present: bool,
    /// The whole text matching lines should have; also what is appended when nothing
    /// matches. Empty counts as not given.
    #[serde(default, deserialize_with = "python_text")]
    pub replace: Option<String>,
    /// Flags appended to the `sed` expression (`"gi"` or `["g", "i"]`).
    #[serde(default, deserialize_with = "joined_flags")]
    pub flags: String,
    /// Keep a copy of the file, suffixed with the deploy's timestamp, before editing.
    #[serde(default, deserialize_with = "truthy_argument")]
    pub backup: bool,
    /// Put the expressions in double quotes so the remote shell expands `$variables`.
    #[serde(default)]
    pub interpolate_variables: bool,
    /// Treat `line` as literal text: regex special characters are escaped.
    #[serde(default)]
    pub escape_regex_characters: bool,
    /// When appending, first add a newline if the file does not end with one.
    #[serde(default)]
    pub ensure_newline: bool,
    /// Use extended regular expressions (`grep -E`, `sed -E`).
    #[serde(default)]
    pub extended_regex: bool,
}

impl LineArgs {
    /// `files.line(path, line)` with every other argument at its default.
    pub fn new(path: impl Into<String>, line: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: line.into(),
            present: true,
            replace: None,
            flags: String::new(),
            backup: false,
            interpolate_variables: false,
            escape_regex_characters: false,
            ensure_newline: false,
            extended_regex: false,
        }
    }
}

/// Arguments of `files.replace`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceArgs {
    /// The file on the host to edit.
    pub path: String,
    /// The regular expression to look for (required, despite its default).
    #[serde(default)]
    pub text: Option<String>,
    /// What every match becomes (required, despite its default).
    #[serde(default, deserialize_with = "python_text")]
    pub replace: Option<String>,
    /// Flags appended to the `sed` expression (`"g"` or `["g", "i"]`).
    #[serde(default, deserialize_with = "joined_flags")]
    pub flags: String,
    /// Keep a copy of the file, suffixed with the deploy's timestamp, before editing.
    #[serde(default, deserialize_with = "truthy_argument")]
    pub backup: bool,
    /// Put the expression in double quotes so the remote shell expands `$variables`.
    #[serde(default)]
    pub interpolate_variables: bool,
    /// Use extended regular expressions (`grep -E`, `sed -E`).
    #[serde(default)]
    pub extended_regex: bool,
    /// The old name of `text`, used when `text` is not given.
    #[serde(default, rename = "match")]
    pub match_: Option<String>,
}

impl ReplaceArgs {
    /// `files.replace(path, text, replace)` with every other argument at its default.
    pub fn new(path: impl Into<String>, text: impl Into<String>, replace: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: Some(text.into()),
            replace: Some(replace.into()),
            flags: String::new(),
            backup: false,
            interpolate_variables: false,
            extended_regex: false,
            match_: None,
        }
    }
}

/// The lines of a block: one text split at newlines, or a list of lines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BlockContent {
    /// One text; each `\n` starts a new line.
    Text(String),
    /// The lines, in order.
    Lines(Vec<String>),
}

impl BlockContent {
    fn lines(&self) -> Vec<String> {
        match self {
            Self::Text(text) => text.split('\n').map(str::to_owned).collect(),
            Self::Lines(lines) => lines.clone(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::Text(text) => text.is_empty(),
            Self::Lines(lines) => lines.is_empty(),
        }
    }
}

/// Arguments of `files.block`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockArgs {
    /// The file on the host to edit (created when missing and the block is wanted).
    pub path: String,
    /// The text that belongs between the markers (required when `present`).
    #[serde(default)]
    pub content: Option<BlockContent>,
    /// Whether the marked block should be in the file; removal ignores `content` and `line`.
    #[serde(default = "yes")]
    pub present: bool,
    /// A regular expression locating where a missing block goes (with `before` or `after`).
    #[serde(default)]
    pub line: Option<String>,
    /// Keep a copy of the file, suffixed with the deploy's timestamp, before editing.
    #[serde(default, deserialize_with = "truthy_argument")]
    pub backup: bool,
    /// Treat `line` as literal text: regex special characters are escaped.
    #[serde(default)]
    pub escape_regex_characters: bool,
    /// Deprecated and ignored: the content is always written literally.
    #[serde(default)]
    pub try_prevent_shell_expansion: bool,
    /// Put a missing block before `line`; with `after` too and no `line`, at the start.
    #[serde(default)]
    pub before: bool,
    /// Put a missing block after `line`; with neither and no `line`, at the end.
    #[serde(default)]
    pub after: bool,
    /// The marker template, where `{mark}` stands for the begin or end word.
    #[serde(default)]
    pub marker: Option<String>,
    /// The word for `{mark}` in the opening marker (`BEGIN` by default).
    #[serde(default)]
    pub begin: Option<String>,
    /// The word for `{mark}` in the closing marker (`END` by default).
    #[serde(default)]
    pub end: Option<String>,
}

/// Reads `files.FindInFile`: the matching lines, or `None` when the file is missing.
fn find_in_file(
    plan: &mut Plan<'_>,
    path: &str,
    pattern: &str,
    interpolate_variables: bool,
    extended_regex: bool,
) -> Result<Option<Vec<String>>, OperationError> {
    let value = plan.fact(
        "files.FindInFile",
        &[
            ("path", json!(path)),
            ("pattern", json!(pattern)),
            ("interpolate_variables", json!(interpolate_variables)),
            ("extended_regex", json!(extended_regex)),
        ],
    )?;
    Ok(string_lines(&value))
}

/// A fact value that is a list of lines, or `None` for `null`.
fn string_lines(value: &Value) -> Option<Vec<String>> {
    let items = value.as_array()?;
    Some(
        items
            .iter()
            .map(|item| item.as_str().map_or_else(|| oxinfra_core::pyrepr::python_str(item), str::to_owned))
            .collect(),
    )
}

/// Escapes the characters that are special in a regular expression.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if ".\\+*?[^]$(){}-".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Makes a pattern match whole lines (`^.*X.*$` unless anchored), escaping it first
/// when asked to (pyinfra's `adjust_regex`).
fn whole_line_pattern(line: &str, escape_regex_characters: bool) -> String {
    let mut pattern = if escape_regex_characters { escape_regex(line) } else { line.to_owned() };
    if !pattern.starts_with('^') {
        pattern = format!("^.*{pattern}");
    }
    if !pattern.ends_with('$') {
        pattern.push_str(".*$");
    }
    pattern
}

/// Drops a leading `^` and an unescaped trailing `$`: the text to append for a pattern.
fn strip_regex_anchors(line: &str) -> &str {
    let line = line.strip_prefix('^').unwrap_or(line);
    if line.ends_with('$') && !line.ends_with("\\$") {
        &line[..line.len() - 1]
    } else {
        line
    }
}

/// What a `sed` edit does to matching lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SedAction {
    /// `s/pattern/replacement/flags`.
    Substitute,
    /// `/pattern/d`, case-insensitive when the flags hold `i` or `I`.
    Delete,
}

/// One in-place `sed` edit of a file.
struct SedEdit<'a> {
    path: &'a str,
    pattern: &'a str,
    replacement: &'a str,
    flags: &'a str,
    backup: bool,
    interpolate_variables: bool,
    extended_regex: bool,
}

impl SedEdit<'_> {
    /// The sed script, quoted by hand as pyinfra does: the user's pattern and replacement
    /// go inside double quotes (escaped `"`) when variables are interpolated, otherwise
    /// inside single quotes (each `'` closed, double-quoted and reopened).
    fn script(&self, action: SedAction) -> String {
        let mut pattern = self.pattern.replace('/', "\\/");
        let mut replacement = self.replacement.replace('/', "\\/").replace('&', "\\&");
        if self.interpolate_variables {
            pattern = pattern.replace('"', "\\\"");
            replacement = replacement.replace('"', "\\\"");
        } else {
            pattern = pattern.replace('\'', "'\"'\"'");
            replacement = replacement.replace('\'', "'\"'\"'");
        }
        let quote = if self.interpolate_variables { '"' } else { '\'' };
        let body = match action {
            SedAction::Substitute => format!("s/{pattern}/{replacement}/{}", self.flags),
            SedAction::Delete => {
                let ignore_case = if self.flags.contains(['i', 'I']) { "I" } else { "" };
                format!("/{pattern}/{ignore_case}d")
            }
        };
        format!("{quote}{body}{quote}")
    }

    /// `sed -i.<timestamp> <script> <path>`, removing the copy sed leaves unless a
    /// backup was asked for.
    fn command(&self, action: SedAction, timestamp: &str) -> StringCommand {
        let mut sed = StringCommand::raw("sed");
        if self.extended_regex {
            sed = sed.text("-E");
        }
        sed = sed.text(format!("-i.{timestamp}")).text(self.script(action)).quoted(self.path);
        if self.backup {
            return sed;
        }
        StringCommand::new()
            .nested(sed)
            .text("&&")
            .text("rm")
            .text("-f")
            .quoted(format!("{}.{timestamp}", self.path))
    }
}

/// The text to append as one shell word: pyinfra's double quotes when variables are
/// interpolated, otherwise shell-quoted.
fn appended_text(text: &str, interpolate_variables: bool) -> CommandPart {
    if interpolate_variables {
        CommandPart::Raw(format!("\"{text}\""))
    } else {
        quoted_part(text)
    }
}

/// `echo <text> >> <path>`, optionally after a newline when the file lacks a final one,
/// and after copying the file aside when a backup is asked for.
fn append_command(args: &LineArgs, text: &str, timestamp: &str) -> StringCommand {
    let value = appended_text(text, args.interpolate_variables);
    let mut echo = StringCommand::new();
    if args.ensure_newline {
        echo = echo.text("( [ $(tail -c1").quoted(&args.path).text("| wc -l) -eq 0 ] && echo ; echo");
        echo.push(value);
        echo = echo.text(")").text(">>").quoted(&args.path);
    } else {
        echo = echo.text("echo");
        echo.push(value);
        echo = echo.text(">>").quoted(&args.path);
    }
    if !args.backup {
        return echo;
    }
    let copy = StringCommand::raw("cp")
        .quoted(&args.path)
        .quoted(format!("{}.{timestamp}", args.path))
        .text("&&");
    StringCommand::new().nested(copy).nested(echo)
}

/// Records the lines a `files.line` edit removes or rewrites, as pyinfra shows them.
fn record_line_diff(plan: &mut Plan<'_>, path: &str, before: &[String], after: &[String]) {
    plan.record_diff(path, Some(joined(before)), joined(after));
}

/// `files.line`: ensures a line is in a file (appending or rewriting it) or is not.
pub fn line(args: &LineArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let pattern = whole_line_pattern(&args.line, args.escape_regex_characters);
    let found = find_in_file(plan, &args.path, &pattern, args.interpolate_variables, args.extended_regex)?;
    let file_exists = found.is_some();
    let present_lines = found.unwrap_or_default();
    let replace = args.replace.as_deref().filter(|replace| !replace.is_empty());
    // The text written when appending: the replacement, or the pattern taken literally
    // (its anchors only mean something while matching, unless it was escaped).
    let text = match replace {
        Some(replace) => replace,
        None if args.escape_regex_characters => &args.line,
        None => strip_regex_anchors(&args.line),
    };
    let sed = SedEdit {
        path: &args.path,
        pattern: &pattern,
        replacement: replace.unwrap_or_default(),
        flags: &args.flags,
        backup: args.backup,
        interpolate_variables: args.interpolate_variables,
        extended_regex: args.extended_regex,
    };
    if present_lines.is_empty() {
        if args.present {
            append_missing_line(args, replace, text, file_exists, plan)?;
        }
    } else if !args.present {
        record_line_diff(plan, &args.path, &present_lines, &[]);
        let command = sed.command(SedAction::Delete, &plan.timestamp);
        plan.push(command);
    } else if let Some(replace) = replace.filter(|replace| present_lines.iter().any(|line| line != replace)) {
        let rewritten = vec![replace.to_owned(); present_lines.len()];
        record_line_diff(plan, &args.path, &present_lines, &rewritten);
        let command = sed.command(SedAction::Substitute, &plan.timestamp);
        plan.push(command);
    } else {
        plan.noop(format!("line \"{text}\" exists in {}", args.path));
    }
    Ok(())
}

/// Appends `text` when no line matches, unless the replacement line is already there
/// in full.
fn append_missing_line(args: &LineArgs, replace: Option<&str>, text: &str, file_exists: bool, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if let Some(replace) = replace {
        let replaced = find_in_file(plan, &args.path, &anchored(replace), args.interpolate_variables, args.extended_regex)?;
        if replaced.is_some_and(|lines| !lines.is_empty()) {
            plan.noop(format!("line \"{text}\" exists in {}", args.path));
            return Ok(());
        }
    }
    // Shown as pyinfra shows line edits: the line added, not the whole file.
    plan.record_diff(&args.path, file_exists.then(String::new), joined(&[text.to_owned()]));
    let command = append_command(args, text, &plan.timestamp);
    plan.push(command);
    Ok(())
}

/// `^text$`, adding only the anchors that are missing.
fn anchored(text: &str) -> String {
    let mut pattern = text.to_owned();
    if !pattern.starts_with('^') {
        pattern.insert(0, '^');
    }
    if !pattern.ends_with('$') {
        pattern.push('$');
    }
    pattern
}

/// `files.replace`: replaces text matching a regular expression everywhere in a file.
pub fn replace(args: &ReplaceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let Some(text) = args.text.as_deref().or(args.match_.as_deref().filter(|text| !text.is_empty())) else {
        return Err(OperationError::Type("Missing argument `text` required in `files.replace` operation".to_owned()));
    };
    let Some(replacement) = args.replace.as_deref() else {
        return Err(OperationError::Type(
            "Missing argument `replace` required in `files.replace` operation".to_owned(),
        ));
    };
    if plan.want_diff {
        plan.hint_paths(&[("files.FileContents", &args.path)]);
    }
    let existing = find_in_file(plan, &args.path, text, args.interpolate_variables, args.extended_regex)?;
    // A missing file is edited anyway: an earlier operation may create it.
    if existing.as_ref().is_some_and(Vec::is_empty) {
        plan.noop(format!("string \"{text}\" does not exist in {}", args.path));
        return Ok(());
    }
    if plan.want_diff && existing.is_some() {
        record_replace_diff(args, text, replacement, plan)?;
    }
    let sed = SedEdit {
        path: &args.path,
        pattern: text,
        replacement,
        flags: &args.flags,
        backup: args.backup,
        interpolate_variables: args.interpolate_variables,
        extended_regex: args.extended_regex,
    };
    let command = sed.command(SedAction::Substitute, &plan.timestamp);
    plan.push(command);
    Ok(())
}

/// Records what the `sed` of `files.replace` does to the file, for `--diff`. Nothing is
/// recorded when the shell would expand the expression first (variables interpolated)
/// or the expression cannot be worked out here.
fn record_replace_diff(args: &ReplaceArgs, pattern: &str, replacement: &str, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if args.interpolate_variables && [pattern, replacement].iter().any(|text| text.contains(['$', '`', '\\'])) {
        return Ok(());
    }
    let Some(substitution) = Substitution::new(pattern, replacement, &args.flags, args.extended_regex) else {
        return Ok(());
    };
    if let Some(before) = plan.file_lines(&args.path)? {
        let after = preview::substituted(&before, &substitution);
        plan.record_diff(&args.path, Some(joined(&before)), joined(&after));
    }
    Ok(())
}

/// Python's `str.format(mark=...)` on a marker template: `{mark}` is replaced and
/// `{{`/`}}` unescaped; any other field is an error, as Python's `KeyError`.
fn format_marker(template: &str, mark: &str) -> Result<String, OperationError> {
    let mut formatted = String::with_capacity(template.len() + mark.len());
    let mut rest = template;
    while let Some(position) = rest.find(['{', '}']) {
        formatted.push_str(&rest[..position]);
        rest = &rest[position..];
        if let Some(after) = rest.strip_prefix("{{").or_else(|| rest.strip_prefix("}}")) {
            formatted.push_str(&rest[..1]);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{mark}") {
            formatted.push_str(mark);
            rest = after;
        } else {
            return Err(OperationError::Value(format!("invalid block marker `{template}`: only `{{mark}}` may be used")));
        }
    }
    formatted.push_str(rest);
    Ok(formatted)
}

/// The pieces of the `awk` rewrite of a file shared by every `files.block` command.
struct BlockRewrite {
    /// Copies the file aside (when asked), creates the output file and records the
    /// file's mode (when it exists) and owner.
    prepare: StringCommand,
    /// Moves the output over the file and restores owner and mode.
    finish: StringCommand,
}

impl BlockRewrite {
    fn new(args: &BlockArgs, file_exists: bool, temp_dir: &str, timestamp: &str) -> Self {
        let path = args.path.as_str();
        let mut prepare = StringCommand::raw(format!("OUT=\"$(TMPDIR={temp_dir} mktemp -t pyinfra.XXXXXX)\" && "));
        if file_exists {
            prepare = prepare
                .text("MODE=\"$(stat -c %a")
                .quoted(path)
                .text("2>/dev/null || stat -f %Lp")
                .quoted(path)
                .text("2>/dev/null)\" &&");
        }
        prepare = prepare
            .text("OWNER=\"$(stat -c \"%u:%g\"")
            .quoted(path)
            .text("2>/dev/null || stat -f \"%u:%g\"")
            .quoted(path)
            .text("2>/dev/null || echo $(id -un):$(id -gn))\" &&");
        if args.backup && file_exists {
            prepare = StringCommand::raw("cp")
                .quoted(path)
                .quoted(format!("{path}.{timestamp}"))
                .text("&&")
                .nested(prepare);
        }
        let finish = StringCommand::raw(" && mv \"$OUT\"")
            .quoted(path)
            .text(" && chown \"$OWNER\"")
            .quoted(path)
            .text(if file_exists { " && chmod \"$MODE\"" } else { "" })
            .quoted(path);
        Self { prepare, finish }
    }
}

/// Checks the combination of `content`, `line`, `before` and `after` for adding a block.
fn check_block_placement(args: &BlockArgs) -> Result<(), OperationError> {
    if args.content.as_ref().is_none_or(BlockContent::is_empty) {
        return Err(OperationError::Value("'content' must be supplied when 'present' == True".to_owned()));
    }
    let has_line = args.line.as_deref().is_some_and(|line| !line.is_empty());
    if has_line && args.before == args.after {
        return Err(OperationError::Value(
            "only one of 'before' or 'after' used when 'line` is specified".to_owned(),
        ));
    }
    if !has_line && args.before != args.after {
        return Err(OperationError::Value(
            "'line' must be supplied or 'before' and 'after' must be equal".to_owned(),
        ));
    }
    Ok(())
}

/// `files.block`: ensures text between two marker lines is in a file, or is not.
pub fn block(args: &BlockArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let marker = args.marker.as_deref().unwrap_or(MARKER_DEFAULT);
    let begin_marker = format_marker(marker, args.begin.as_deref().unwrap_or(MARKER_BEGIN_DEFAULT))?;
    let end_marker = format_marker(marker, args.end.as_deref().unwrap_or(MARKER_END_DEFAULT))?;
    if plan.want_diff {
        plan.hint_paths(&[("files.FileContents", &args.path)]);
    }
    let current = plan.fact(
        "files.Block",
        &[
            ("path", json!(args.path)),
            ("marker", json!(args.marker)),
            ("begin", json!(args.begin)),
            ("end", json!(args.end)),
        ],
    )?;
    let current = string_lines(&current);
    let temp_dir = plan.temp_dir.clone().unwrap_or_else(|| FIXTURE_TEMP_DIR.to_owned());
    let rewrite = BlockRewrite::new(args, current.is_some(), &temp_dir, &plan.timestamp);

    let markers = [begin_marker.as_str(), end_marker.as_str()];
    if !args.present {
        if current.as_ref().is_some_and(|lines| !lines.is_empty()) {
            record_block_diff(args, true, BlockEdit::Remove { markers }, plan)?;
        }
        remove_block(&args.path, plan, current.as_deref(), rewrite, &begin_marker, &end_marker);
        return Ok(());
    }
    check_block_placement(args)?;
    let content = args.content.as_ref().map(BlockContent::lines).unwrap_or_default();
    let with_markers = [std::slice::from_ref(&begin_marker), &content, std::slice::from_ref(&end_marker)]
        .concat()
        .join("\n");
    let (command, edit) = match current.as_deref() {
        None => (add_block_at_edge(args, false, rewrite, &with_markers), BlockEdit::AtEdge(&with_markers)),
        Some([]) if args.before == args.after => (add_block_at_edge(args, true, rewrite, &with_markers), BlockEdit::AtEdge(&with_markers)),
        Some([]) => (add_block_at_line(args, rewrite, &with_markers), BlockEdit::AtLine(&with_markers)),
        Some(existing) if existing == content.as_slice() => {
            plan.noop("content already present");
            return Ok(());
        }
        Some(_) => {
            let content = content.join("\n");
            let command = replace_block_content(rewrite, &args.path, &content, &begin_marker, &end_marker);
            (command, BlockEdit::Replace { markers, content })
        }
    };
    record_block_diff(args, current.is_some(), edit, plan)?;
    plan.push(command);
    Ok(())
}

/// What a `files.block` command does to the file, for `--diff`.
enum BlockEdit<'a> {
    /// The block (with its markers) goes at the start (`before`) or end of the file.
    AtEdge(&'a str),
    /// The block goes before or after the first line matching `line`, or at the end.
    AtLine(&'a str),
    /// The lines between the markers become `content`.
    Replace { markers: [&'a str; 2], content: String },
    /// The markers and what is between them go.
    Remove { markers: [&'a str; 2] },
}

/// Records the file before and after the `awk` rewrite of `files.block`, for `--diff`
/// (nothing when a pattern cannot be worked out here).
fn record_block_diff(args: &BlockArgs, file_exists: bool, edit: BlockEdit<'_>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if !plan.want_diff {
        return Ok(());
    }
    let before = if file_exists {
        match plan.file_lines(&args.path)? {
            Some(lines) => Some(lines),
            None => return Ok(()),
        }
    } else {
        None
    };
    let lines = before.as_deref().unwrap_or_default();
    let marker_patterns = |[begin, end]: [&str; 2]| awk_regex(begin).zip(awk_regex(end));
    let after = match edit {
        BlockEdit::AtEdge(with_markers) => Some(preview::block_at_edge(lines, with_markers, args.before)),
        BlockEdit::AtLine(with_markers) => {
            let pattern = whole_line_pattern(args.line.as_deref().unwrap_or_default(), args.escape_regex_characters);
            awk_regex(&pattern).map(|line| preview::block_at_line(lines, &line, with_markers, args.before))
        }
        BlockEdit::Replace { markers, content } => marker_patterns(markers).map(|(begin, end)| preview::block_replaced(lines, &begin, &end, &content)),
        BlockEdit::Remove { markers } => marker_patterns(markers).map(|(begin, end)| preview::block_removed(lines, &begin, &end)),
    };
    if let Some(after) = after {
        plan.record_diff(&args.path, before.as_deref().map(joined), joined(&after));
    }
    Ok(())
}

/// The whole file (or nothing, when it is missing) with the block added at its start
/// (`before`) or end, through a here-document.
fn add_block_at_edge(args: &BlockArgs, file_exists: bool, rewrite: BlockRewrite, with_markers: &str) -> StringCommand {
    let original = quoted_part(if file_exists { &args.path } else { "/dev/null" });
    let standard_input = CommandPart::Raw(" - ".to_owned());
    let (first, second) = if args.before {
        (standard_input, original)
    } else {
        (original, standard_input)
    };
    let mut command = StringCommand::new().nested(rewrite.prepare).text("(").text("awk '{{print}}'");
    command.push(first);
    command.push(second);
    command
        .text("> \"$OUT\"")
        .text(format!("<<'{HERE_DOCUMENT_END}'\n{with_markers}\n{HERE_DOCUMENT_END}\n"))
        .text(")")
        .nested(rewrite.finish)
}

/// A value as one quoted shell word.
fn quoted_part(text: &str) -> CommandPart {
    CommandPart::Quoted(vec![CommandPart::Raw(text.to_owned())])
}

/// The block inserted before or after the first line matching `line` (at the end
/// when none matches).
fn add_block_at_line(args: &BlockArgs, rewrite: BlockRewrite, with_markers: &str) -> StringCommand {
    let pattern = whole_line_pattern(args.line.as_deref().unwrap_or_default(), args.escape_regex_characters);
    let print_before = if args.before { "{ print }" } else { "" };
    let print_after = if args.after { "{ print }" } else { "" };
    let program = format!(
        "awk 'BEGIN {{x=ARGV[2]; ARGV[2]=\"\"}} {print_after} f!=1 && /{pattern}/ {{ print x; f=1}} \
         END {{if (f==0) print x }} {print_before}'"
    );
    StringCommand::new()
        .nested(rewrite.prepare)
        .text(program)
        .quoted(&args.path)
        .quoted(with_markers)
        .text("> \"$OUT\"")
        .nested(rewrite.finish)
}

/// The lines between the existing markers replaced by `content`.
fn replace_block_content(rewrite: BlockRewrite, path: &str, content: &str, begin_marker: &str, end_marker: &str) -> StringCommand {
    // The doubled braces of `BEGIN` reach awk as pyinfra sends them (awk reads them as
    // nested actions).
    let program = format!(
        "awk 'BEGIN {{{{f=1; x=ARGV[2]; ARGV[2]=\"\"}}}}/{begin_marker}/ {{print; print x; f=0}} \
         /{end_marker}/ {{print; f=1; next}} f'"
    );
    StringCommand::new()
        .nested(rewrite.prepare)
        .text(program)
        .quoted(path)
        .quoted(content)
        .text("> \"$OUT\"")
        .nested(rewrite.finish)
}

/// Deletes the markers and everything between them, when they are there.
fn remove_block(path: &str, plan: &mut Plan<'_>, current: Option<&[String]>, rewrite: BlockRewrite, begin_marker: &str, end_marker: &str) {
    match current {
        None => plan.noop("no remove required: file did not exist"),
        Some([]) => plan.noop("no remove required: markers not found"),
        Some(_) => {
            let program = StringCommand::raw(format!("awk '/{begin_marker}/,/{end_marker}/ {{next}} 1'"));
            let command = StringCommand::new()
                .nested(rewrite.prepare)
                .nested(program)
                .quoted(path)
                .text("> $OUT")
                .nested(rewrite.finish);
            plan.push(command);
        }
    }
}

/// Planning against a table of facts, for the unit tests of operations.
#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::HashMap;
    use std::io;
    use std::path::{Path, PathBuf};

    use oxinfra_core::local_files::LocalMetadata;
    use oxinfra_core::{FactKey, FactSource, LocalFiles, Missing};
    use serde_json::{Map, Value, json};

    use crate::plan::{FileDiff, OperationError, Plan, parse_arguments};

    /// Facts answered from a table; anything else is missing.
    #[derive(Default)]
    pub(crate) struct TableFacts(HashMap<FactKey, Value>);

    impl TableFacts {
        /// Adds the value of fact `name` read with `arguments`.
        pub(crate) fn with(mut self, name: &str, arguments: &[(&str, Value)], value: Value) -> Self {
            self.0.insert(oxinfra_facts::registry::key(name, arguments), value);
            self
        }

        /// Adds a `files.FileContents` answer: the file's lines, or `null` when missing.
        pub(crate) fn file_contents(self, path: &str, value: Value) -> Self {
            self.with("files.FileContents", &[("path", json!(path))], value)
        }

        /// Adds a `files.FindInFile` answer (basic regex, no interpolation).
        pub(crate) fn find_in_file(self, path: &str, pattern: &str, value: Value) -> Self {
            self.with(
                "files.FindInFile",
                &[
                    ("path", json!(path)),
                    ("pattern", json!(pattern)),
                    ("interpolate_variables", json!(false)),
                    ("extended_regex", json!(false)),
                ],
                value,
            )
        }
    }

    impl FactSource for TableFacts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.0.get(key).cloned().ok_or_else(|| Missing(key.clone()))
        }
    }

    /// Controller files held in memory, by absolute path.
    #[derive(Default)]
    pub(crate) struct MemoryFiles(pub(crate) HashMap<PathBuf, Vec<u8>>);

    impl LocalFiles for MemoryFiles {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.0.get(path).cloned().ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn is_file(&self, path: &Path) -> bool {
            self.0.contains_key(path)
        }

        fn is_dir(&self, _path: &Path) -> bool {
            false
        }

        fn is_symlink(&self, _path: &Path) -> bool {
            false
        }

        fn read_link(&self, _path: &Path) -> io::Result<PathBuf> {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }

        fn metadata(&self, path: &Path) -> io::Result<LocalMetadata> {
            let time = std::time::SystemTime::UNIX_EPOCH;
            self.0
                .get(path)
                .map(|_| LocalMetadata {
                    permissions: 0o644,
                    accessed: time,
                    modified: time,
                })
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn read_dir(&self, _path: &Path) -> io::Result<Vec<PathBuf>> {
            Ok(Vec::new())
        }
    }

    /// Plans `operation` against `facts`: the rendered commands and the no-op reason.
    pub(crate) fn run<A: serde::de::DeserializeOwned>(
        operation: fn(&A, &mut Plan<'_>) -> Result<(), OperationError>,
        arguments: &Value,
        facts: &mut TableFacts,
    ) -> Result<(Vec<String>, Option<String>), OperationError> {
        run_with_files(operation, arguments, facts, &MemoryFiles::default())
    }

    /// Plans `operation` against `facts` with `--diff`: the content changes it records.
    pub(crate) fn diffs<A: serde::de::DeserializeOwned>(
        operation: fn(&A, &mut Plan<'_>) -> Result<(), OperationError>,
        arguments: &Value,
        facts: &mut TableFacts,
    ) -> Result<Vec<FileDiff>, OperationError> {
        let arguments: A = parse_arguments("test", arguments.as_object().unwrap_or(&Map::new()))?;
        let files = MemoryFiles::default();
        let mut plan = Plan::new(facts, &files, PathBuf::from("/"), "ts".to_owned());
        plan.want_diff = true;
        operation(&arguments, &mut plan)?;
        Ok(plan.diffs)
    }

    /// [`run`] with controller files, the deploy directory being `/`.
    pub(crate) fn run_with_files<A: serde::de::DeserializeOwned>(
        operation: fn(&A, &mut Plan<'_>) -> Result<(), OperationError>,
        arguments: &Value,
        facts: &mut TableFacts,
        files: &MemoryFiles,
    ) -> Result<(Vec<String>, Option<String>), OperationError> {
        let arguments: A = parse_arguments("test", arguments.as_object().unwrap_or(&Map::new()))?;
        let mut plan = Plan::new(facts, files, PathBuf::from("/"), "ts".to_owned());
        operation(&arguments, &mut plan)?;
        let commands = plan.commands.iter().map(oxinfra_core::Command::display).collect();
        Ok((commands, plan.noop_reason))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::test_support::{MemoryFiles, TableFacts, diffs, run};
    use super::*;
    use crate::plan::FileDiff;

    fn changed(before: Option<&str>, after: &str) -> Vec<FileDiff> {
        vec![FileDiff {
            path: "/f".to_owned(),
            before: before.map(str::to_owned),
            after: after.to_owned(),
        }]
    }

    /// Facts with the `files.Block` answer for `/f` and the default markers.
    fn block_facts(value: Value) -> TableFacts {
        TableFacts::default().with(
            "files.Block",
            &[("path", json!("/f")), ("marker", Value::Null), ("begin", Value::Null), ("end", Value::Null)],
            value,
        )
    }

    #[test]
    fn line_removal_deletes_matching_lines_case_insensitively() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().find_in_file("/f", "^.*a/b.*$", json!(["xa/bx"]));
        let (commands, _) = run(line, &json!({"path": "/f", "line": "a/b", "present": false, "flags": ["i"]}), &mut facts)?;
        assert_eq!(commands, ["sed -i.ts '/^.*a\\/b.*$/Id' /f && rm -f /f.ts"]);
        Ok(())
    }

    #[test]
    fn line_absent_and_unwanted_does_nothing() {
        let mut facts = TableFacts::default().find_in_file("/f", "^.*x.*$", Value::Null);
        let outcome = run(line, &json!({"path": "/f", "line": "x", "present": false}), &mut facts);
        assert_eq!(outcome, Ok((vec![], None)));
    }

    #[test]
    fn line_appended_after_a_newline_in_double_quotes_when_interpolating() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with(
            "files.FindInFile",
            &[
                ("path", json!("/f")),
                ("pattern", json!("^.*$HOME.*$")),
                ("interpolate_variables", json!(true)),
                ("extended_regex", json!(false)),
            ],
            json!([]),
        );
        let arguments = json!({"path": "/f", "line": "$HOME", "interpolate_variables": true, "ensure_newline": true});
        let (commands, _) = run(line, &arguments, &mut facts)?;
        assert_eq!(commands, ["( [ $(tail -c1 /f | wc -l) -eq 0 ] && echo ; echo \"$HOME\" ) >> /f"]);
        Ok(())
    }

    #[test]
    fn line_replacement_escapes_slashes_and_ampersands() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().find_in_file("/f", "^.*key.*$", json!(["key=1"]));
        let arguments = json!({"path": "/f", "line": "key", "replace": "key=a/b&c", "backup": true});
        let (commands, _) = run(line, &arguments, &mut facts)?;
        assert_eq!(commands, ["sed -i.ts 's/^.*key.*$/key=a\\/b\\&c/' /f"]);
        Ok(())
    }

    #[test]
    fn line_replacement_records_a_diff_when_asked() {
        let mut facts = TableFacts::default().find_in_file("/f", "^.*key.*$", json!(["key=1"]));
        let mut arguments = LineArgs::new("/f", "key");
        arguments.replace = Some("key=2".to_owned());
        let files = MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &files, PathBuf::from("/"), "ts".to_owned());
        plan.want_diff = true;
        assert_eq!(line(&arguments, &mut plan), Ok(()));
        assert_eq!(
            plan.diffs,
            [FileDiff {
                path: "/f".to_owned(),
                before: Some("key=1\n".to_owned()),
                after: "key=2\n".to_owned()
            }]
        );
    }

    #[test]
    fn replace_accepts_the_old_match_argument_and_edits_missing_files() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().find_in_file("/f", "old", Value::Null);
        let (commands, _) = run(replace, &json!({"path": "/f", "match": "old", "replace": 5}), &mut facts)?;
        assert_eq!(commands, ["sed -i.ts 's/old/5/' /f && rm -f /f.ts"]);
        Ok(())
    }

    #[test]
    fn replace_diff_shows_the_whole_file_after_sed() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with(
                "files.FindInFile",
                &[
                    ("path", json!("/f")),
                    ("pattern", json!("^(port)=.*$")),
                    ("interpolate_variables", json!(false)),
                    ("extended_regex", json!(true)),
                ],
                json!(["port=80"]),
            )
            .file_contents("/f", json!(["name=web", "port=80", "port=81 # a/b"]));
        let arguments = json!({"path": "/f", "text": "^(port)=.*$", "replace": "\\1=9090 # a/b&c", "extended_regex": true});
        assert_eq!(
            diffs(replace, &arguments, &mut facts)?,
            changed(Some("name=web\nport=80\nport=81 # a/b\n"), "name=web\nport=9090 # a/b&c\nport=9090 # a/b&c\n")
        );
        Ok(())
    }

    #[test]
    fn replace_diff_is_left_out_when_the_shell_expands_the_expression() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with(
                "files.FindInFile",
                &[
                    ("path", json!("/f")),
                    ("pattern", json!("a")),
                    ("interpolate_variables", json!(true)),
                    ("extended_regex", json!(false)),
                ],
                json!(["a"]),
            )
            .file_contents("/f", json!(["a"]));
        let arguments = json!({"path": "/f", "text": "a", "replace": "$HOME", "interpolate_variables": true});
        assert_eq!(diffs(replace, &arguments, &mut facts)?, []);
        Ok(())
    }

    #[test]
    fn replace_requires_text() {
        let outcome = run(replace, &json!({"path": "/f", "replace": "x"}), &mut TableFacts::default());
        assert_eq!(
            outcome,
            Err(OperationError::Type("Missing argument `text` required in `files.replace` operation".to_owned()))
        );
    }

    #[test]
    fn block_markers_are_formatted_from_the_template() {
        assert_eq!(format_marker("<!-- {mark} -->", "BEGIN"), Ok("<!-- BEGIN -->".to_owned()));
        assert_eq!(format_marker("{{x}} {mark}", "END"), Ok("{x} END".to_owned()));
        assert!(format_marker("{other}", "END").is_err());
    }

    #[test]
    fn block_prepended_to_a_file_without_markers() -> Result<(), OperationError> {
        let mut facts = block_facts(json!([]));
        let arguments = json!({"path": "/f", "content": "x", "before": true, "after": true, "backup": true});
        let (commands, _) = run(block, &arguments, &mut facts)?;
        assert_eq!(commands.len(), 1);
        assert!(commands[0].starts_with("cp /f /f.ts && OUT="), "{}", commands[0]);
        assert!(commands[0].contains("awk '{{print}}'  -  /f > \"$OUT\""), "{}", commands[0]);
        Ok(())
    }

    #[test]
    fn block_diff_shows_the_block_after_the_matching_line() -> Result<(), OperationError> {
        let mut facts = block_facts(json!([])).file_contents("/f", json!(["a", "b.c", "d"]));
        let arguments = json!({"path": "/f", "content": "x\ny", "line": "b.c", "after": true, "escape_regex_characters": true});
        let added = "# BEGIN PYINFRA BLOCK\nx\ny\n# END PYINFRA BLOCK\n";
        assert_eq!(
            diffs(block, &arguments, &mut facts)?,
            changed(Some("a\nb.c\nd\n"), &format!("a\nb.c\n{added}d\n"))
        );
        Ok(())
    }

    #[test]
    fn block_diff_replaces_the_lines_between_the_markers() -> Result<(), OperationError> {
        let mut facts = block_facts(json!(["old"])).file_contents("/f", json!(["a", "# BEGIN PYINFRA BLOCK", "old", "# END PYINFRA BLOCK", "z"]));
        let before = "a\n# BEGIN PYINFRA BLOCK\nold\n# END PYINFRA BLOCK\nz\n";
        let after = "a\n# BEGIN PYINFRA BLOCK\nnew\n# END PYINFRA BLOCK\nz\n";
        assert_eq!(
            diffs(block, &json!({"path": "/f", "content": ["new"]}), &mut facts)?,
            changed(Some(before), after)
        );
        let mut facts = block_facts(json!(["old"])).file_contents("/f", json!(["a", "# BEGIN PYINFRA BLOCK", "old", "# END PYINFRA BLOCK", "z"]));
        assert_eq!(
            diffs(block, &json!({"path": "/f", "present": false}), &mut facts)?,
            changed(Some(before), "a\nz\n")
        );
        Ok(())
    }

    #[test]
    fn block_diff_creates_a_missing_file() -> Result<(), OperationError> {
        let mut facts = block_facts(Value::Null);
        let created = "# BEGIN PYINFRA BLOCK\nx\n# END PYINFRA BLOCK\n";
        assert_eq!(diffs(block, &json!({"path": "/f", "content": "x"}), &mut facts)?, changed(None, created));
        Ok(())
    }

    #[test]
    fn block_requires_content_when_present() {
        let mut facts = block_facts(json!([]));
        let outcome = run(block, &json!({"path": "/f", "content": []}), &mut facts);
        assert_eq!(
            outcome,
            Err(OperationError::Value("'content' must be supplied when 'present' == True".to_owned()))
        );
    }

    #[test]
    fn block_with_line_needs_exactly_one_side() {
        let mut facts = block_facts(json!([]));
        let outcome = run(block, &json!({"path": "/f", "content": "x", "line": "y"}), &mut facts);
        assert_eq!(
            outcome,
            Err(OperationError::Value(
                "only one of 'before' or 'after' used when 'line` is specified".to_owned()
            ))
        );
    }
}
