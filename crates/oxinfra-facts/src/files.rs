//! Facts of `pyinfra/facts/files.py`: what a path is (`File`, `Link`, `Directory`,
//! `Socket`), its checksums, its contents, `grep` and `find` results, BSD file flags and
//! the lines of a marked block.
//!
//! Commands are built from typed parts: paths and patterns enter quoted. The two places
//! where pyinfra writes user text into raw shell text are kept as pyinfra has them, and
//! commented: `FindInFile(interpolate_variables=True)` double-quotes the pattern so the
//! shell expands variables, and `Block` writes its markers into the `awk` program.
//! Parsers are pure; the one clock-dependent rule (`ls -ld` dates without a year) is
//! documented at [`LS_REFERENCE_YEAR`].

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use oxinfra_core::StringCommand;
use oxinfra_core::command::CommandPart;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, bool_argument, default_list, default_none, string_argument};

/// The year `ls -ld` dates without a year (`Jun 26 14:30`) are placed in.
///
/// pyinfra takes the controller's current UTC year; its fixture harness freezes the clock
/// at 2025-01-01, so the fixtures expect 2025. `FactDef::process` has no clock, so this
/// reference year stands in for "now" to keep parsing deterministic. It only matters on
/// hosts where neither GNU nor BSD `stat` works and the file changed in the last months.
pub const LS_REFERENCE_YEAR: i32 = 2025;

const LINUX_STAT_COMMAND: &str = "stat -c 'user=%U group=%G mode=%A atime=%X mtime=%Y ctime=%Z size=%s %N'";
const BSD_STAT_COMMAND: &str = "stat -f 'user=%Su group=%Sg mode=%Sp atime=%a mtime=%m ctime=%c size=%z %N%SY'";
const EXISTS: &str = "__pyinfra_exists_";
const MISSING: &str = "__pyinfra_missing_";

static STAT_LINE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^user=(.*) group=(.*) mode=(.*) atime=(-?[0-9]*) mtime=(-?[0-9]*) ctime=(-?[0-9]*) size=([0-9]*) (.*)"));
// Permissions (with an optional SELinux/xattr/ACL marker), links, user, group, size,
// two date words in either order, year or time, path.
static LS_LINE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^([dlbcsp-][-rwxstST]{9}[.@+]?)\s+\d+\s+(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$"));
static SIZE_UNIT: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"([KMGT]?I?[B])"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    path_type_fact("files.File", |_, output| path_type(output, "files.File", "file")),
    path_type_fact("files.Link", |_, output| path_type(output, "files.Link", "link")),
    path_type_fact("files.Directory", |_, output| path_type(output, "files.Directory", "directory")),
    path_type_fact("files.Socket", |_, output| path_type(output, "files.Socket", "socket")),
    hash_fact(
        "files.Sha1File",
        |arguments| hash_command(arguments, &["sha1sum", "shasum", "sha1"]),
        |arguments, output| hash(arguments, output, "SHA1", 40),
    ),
    hash_fact(
        "files.Sha256File",
        |arguments| hash_command(arguments, &["sha256sum", "shasum -a 256", "sha256"]),
        |arguments, output| hash(arguments, output, "SHA256", 64),
    ),
    hash_fact(
        "files.Sha384File",
        |arguments| hash_command(arguments, &["sha384sum", "shasum -a 384", "sha384"]),
        |arguments, output| hash(arguments, output, "SHA384", 96),
    ),
    hash_fact(
        "files.Md5File",
        |arguments| hash_command(arguments, &["md5sum", "md5"]),
        |arguments, output| hash(arguments, output, "MD5", 32),
    ),
    FactDef {
        name: "files.FindInFile",
        params: &[
            Param::required("path"),
            Param::required("pattern"),
            Param::optional("interpolate_variables", "false"),
            Param::optional("extended_regex", "false"),
        ],
        command: find_in_file_command,
        requires_command: None,
        process: |arguments, output| Ok(find_in_file(arguments, output)),
        default: default_none,
        shell_executable: None,
    },
    find_fact("files.FindFiles", |arguments| find_command(arguments, "f")),
    find_fact("files.FindLinks", |arguments| find_command(arguments, "l")),
    find_fact("files.FindDirectories", |arguments| find_command(arguments, "d")),
    FactDef {
        name: "files.Flags",
        params: PATH,
        command: |arguments| formatted("! test -e {0} || stat -f %Sf {0}", &[quoted(string_argument(arguments, "path"))]),
        requires_command: Some(|_| "chflags".to_owned()),
        process: |_, output| Ok(flags(output)),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "files.Block",
        params: &[
            Param::required("path"),
            Param::optional("marker", "null"),
            Param::optional("begin", "null"),
            Param::optional("end", "null"),
        ],
        command: block_command,
        requires_command: None,
        process: |arguments, output| Ok(block(arguments, output)),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "files.FileContents",
        params: PATH,
        command: |arguments| {
            let path = string_argument(arguments, "path");
            formatted("( test -e {0} && cat {0} ) || echo {1}", &[quoted(path), quoted(&format!("{MISSING}{path}"))])
        },
        requires_command: None,
        process: |arguments, output| Ok(file_contents(arguments, output)),
        default: default_none,
        shell_executable: None,
    },
];

const PATH: &[Param] = &[Param::required("path")];
const FIND: &[Param] = &[
    Param::required("path"),
    Param::optional("size", "null"),
    Param::optional("min_size", "null"),
    Param::optional("max_size", "null"),
    Param::optional("maxdepth", "null"),
    Param::optional("fname", "null"),
    Param::optional("iname", "null"),
    Param::optional("regex", "null"),
    Param::optional("path_match", "null"),
    Param::optional("args", "null"),
    Param::optional("quote_path", "true"),
];

type Command = fn(&Map<String, Value>) -> StringCommand;
type Process = fn(&Map<String, Value>, &[String]) -> Result<Value, FactError>;

const fn path_type_fact(name: &'static str, process: Process) -> FactDef {
    FactDef {
        name,
        params: PATH,
        command: path_type_command,
        requires_command: None,
        process,
        default: default_none,
        shell_executable: None,
    }
}

const fn hash_fact(name: &'static str, command: Command, process: Process) -> FactDef {
    FactDef {
        name,
        params: PATH,
        command,
        requires_command: None,
        process,
        default: default_none,
        shell_executable: None,
    }
}

const fn find_fact(name: &'static str, command: Command) -> FactDef {
    FactDef {
        name,
        params: FIND,
        command,
        requires_command: None,
        process: |_, output| Ok(lines(output)),
        default: default_list,
        shell_executable: None,
    }
}

// File, Link, Directory, Socket

fn path_type_command(arguments: &Map<String, Value>) -> StringCommand {
    let path = string_argument(arguments, "path");
    // A leading `~/` stays bare so the shell expands it; the rest is quoted.
    let path = match path.strip_prefix("~/") {
        Some(rest) => CommandPart::Nested(StringCommand {
            parts: vec![CommandPart::Raw("~/".to_owned()), quoted(rest)],
            separator: String::new(),
        }),
        None => quoted(path),
    };
    let template = format!("! (test -e {{0}} || test -L {{0}} ) || ( {LINUX_STAT_COMMAND} {{0}} 2> /dev/null || {BSD_STAT_COMMAND} {{0}} || ls -ld {{0}} )");
    formatted(&template, &[path])
}

/// `stat` (GNU or BSD) or `ls -ld` output as pyinfra's `FileDict`, `false` when the path
/// is of another type than `wanted`, `null` when the output is neither.
fn path_type(output: &[String], fact: &str, wanted: &str) -> Result<Value, FactError> {
    let Some(line) = output.first() else {
        return Ok(Value::Null);
    };
    if let Some(captures) = compiled(&STAT_LINE)?.captures(line) {
        let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
        let mode = group(3);
        let kind = mode
            .chars()
            .next()
            .and_then(file_type)
            .ok_or_else(|| process_error(fact, format!("unknown file type in mode `{mode}`")))?;
        let mut data = Map::new();
        data.insert("user".into(), Value::String(group(1).to_owned()));
        data.insert("group".into(), Value::String(group(2).to_owned()));
        data.insert(
            "mode".into(),
            Value::from(parse_mode(mode.get(1..).unwrap_or_default()).map_err(|message| process_error(fact, message))?),
        );
        for (key, index) in [("atime", 4), ("mtime", 5), ("ctime", 6)] {
            data.insert(key.into(), timestamp(group(index)).map_err(|message| process_error(fact, message))?);
        }
        data.insert("size".into(), try_int(group(7)));
        if kind != wanted {
            return Ok(Value::Bool(false));
        }
        if kind == "link" {
            let names: Vec<&str> = group(8).split(" -> ").collect();
            let [_, target] = names.as_slice() else {
                return Err(process_error(fact, format!("cannot split link `{}`", group(8))));
            };
            data.insert("link_target".into(), Value::String(unquote_stat_name(target).to_owned()));
        }
        return Ok(Value::Object(data));
    }
    if let Some((data, kind)) = parse_ls(line, fact)? {
        return Ok(if kind == wanted { Value::Object(data) } else { Value::Bool(false) });
    }
    Ok(Value::Null)
}

/// A path type as pyinfra names it (`file`, `directory`, `link`, ...).
type FileType = &'static str;

fn file_type(flag: char) -> Option<FileType> {
    Some(match flag {
        'b' => "block",
        'c' => "character",
        'd' => "directory",
        'l' => "link",
        's' => "socket",
        'p' => "fifo",
        '-' => "file",
        _ => return None,
    })
}

/// `rwxr-x---` as the integer pyinfra shows (`750`): the octal digits read as decimal.
fn parse_mode(mode: &str) -> Result<u64, String> {
    // Per position, the characters that set bits, setuid/setgid/sticky included.
    const PERMISSIONS: [&[(char, u32)]; 9] = [
        &[('r', 0o400)],
        &[('w', 0o200)],
        &[('x', 0o100), ('S', 0o4000), ('s', 0o4100)],
        &[('r', 0o40)],
        &[('w', 0o20)],
        &[('x', 0o10), ('S', 0o2000), ('s', 0o2010)],
        &[('r', 0o4)],
        &[('w', 0o2)],
        &[('x', 0o1), ('T', 0o1000), ('t', 0o1001)],
    ];
    let mut bits = 0u32;
    for (index, flag) in mode.chars().enumerate() {
        let choices = PERMISSIONS.get(index).ok_or_else(|| format!("mode `{mode}` is longer than nine characters"))?;
        bits |= choices.iter().find(|(character, _)| *character == flag).map_or(0, |(_, bit)| *bit);
    }
    format!("{bits:o}").parse().map_err(|_| format!("cannot read mode `{mode}`"))
}

/// A Unix timestamp as a naive UTC ISO datetime, `null` when not a number.
fn timestamp(text: &str) -> Result<Value, String> {
    let Some(seconds) = python_int(text) else {
        return Ok(Value::Null);
    };
    DateTime::from_timestamp(seconds, 0)
        .map(|moment| moment.naive_utc())
        .filter(|moment| (1..=9999).contains(&chrono::Datelike::year(moment)))
        .map(|moment| Value::String(iso(&moment)))
        .ok_or_else(|| format!("timestamp `{text}` is out of range"))
}

/// A `FileDict` read from `ls -ld` and the path's type.
type LsEntry = (Map<String, Value>, FileType);

/// `ls -ld` output as a `FileDict` (no atime or ctime) and the path's type.
fn parse_ls(line: &str, fact: &str) -> Result<Option<LsEntry>, FactError> {
    let Some(captures) = compiled(&LS_LINE)?.captures(line.trim()) else {
        return Ok(None);
    };
    let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
    let permissions = group(1);
    let kind = permissions.chars().next().and_then(file_type).unwrap_or("file");
    // Either `Jun 22 19:00` or `22 Jun 19:00` (macOS in some locales).
    let (month, day) = if !group(5).is_empty() && group(5).chars().all(|c| c.is_ascii_digit()) {
        (group(6), group(5))
    } else {
        (group(5), group(6))
    };
    let mode = parse_mode(permissions.get(1..10).unwrap_or_default()).map_err(|message| process_error(fact, message))?;
    let mut data = Map::new();
    data.insert("user".into(), Value::String(group(2).to_owned()));
    data.insert("group".into(), Value::String(group(3).to_owned()));
    data.insert("mode".into(), Value::from(mode));
    data.insert("atime".into(), Value::Null);
    data.insert(
        "mtime".into(),
        ls_timestamp(month, day, group(7), LS_REFERENCE_YEAR).map_or(Value::Null, |moment| Value::String(iso(&moment))),
    );
    data.insert("ctime".into(), Value::Null);
    data.insert("size".into(), try_int(group(4)));
    if kind == "link" {
        if let Some((_, target)) = group(8).split_once(" -> ") {
            data.insert("link_target".into(), Value::String(unquote_stat_name(target).to_owned()));
        }
    }
    Ok(Some((data, kind)))
}

/// An `ls` date: `Jan  1  1970`, or `Dec 31 12:34` in `current_year`.
fn ls_timestamp(month: &str, day: &str, year_or_time: &str, current_year: i32) -> Option<NaiveDateTime> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = u32::try_from(MONTHS.iter().position(|name| *name == month)? + 1).ok()?;
    let day = u32::try_from(python_int(day)?).ok()?;
    let (year, hour, minute) = if year_or_time.contains(':') {
        let mut parts = year_or_time.split(':');
        let (hour, minute) = (parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (current_year, u32::try_from(python_int(hour)?).ok()?, u32::try_from(python_int(minute)?).ok()?)
    } else {
        (i32::try_from(python_int(year_or_time)?).ok()?, 0, 0)
    };
    if !(1..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, 0)
}

/// Strips the quotes `stat %N` puts around a name: `'x'` (GNU), `` `x' `` (old GNU),
/// `"x"` (uutils).
fn unquote_stat_name(name: &str) -> &str {
    for (opener, closer) in [("'", "'"), ("`", "'"), ("\"", "\"")] {
        if name.len() >= opener.len() + closer.len() {
            if let Some(inner) = name.strip_prefix(opener).and_then(|rest| rest.strip_suffix(closer)) {
                return inner;
            }
        }
    }
    name
}

// Sha1File, Sha256File, Sha384File, Md5File

fn hash_command(arguments: &Map<String, Value>, programs: &[&str]) -> StringCommand {
    let attempts: Vec<String> = programs.iter().map(|program| format!("{program} {{0}} 2> /dev/null")).collect();
    formatted(
        &format!("test -e {{0}} && ( {} ) || true", attempts.join(" || ")),
        &[quoted(string_argument(arguments, "path"))],
    )
}

/// The digest from GNU (`<hash>  <path>`) or BSD (`NAME (<path>) = <hash>`) output.
fn hash(arguments: &Map<String, Value>, output: &[String], name: &str, digits: usize) -> Result<Value, FactError> {
    let Some(line) = output.first() else {
        return Ok(Value::Null);
    };
    let path = regex::escape(string_argument(arguments, "path"));
    for pattern in [
        format!(r"^([a-fA-F0-9]{{{digits}}})\s+{path}$"),
        format!(r"^{name}\s+\({path}\)\s+=\s+([a-fA-F0-9]{{{digits}}})$"),
    ] {
        let regex = Regex::new(&pattern).map_err(|error| process_error(name, error.to_string()))?;
        if let Some(found) = regex.captures(line).and_then(|captures| captures.get(1)) {
            return Ok(Value::String(found.as_str().to_owned()));
        }
    }
    Ok(Value::Null)
}

// FindInFile

fn find_in_file_command(arguments: &Map<String, Value>) -> StringCommand {
    let path = string_argument(arguments, "path");
    let pattern = string_argument(arguments, "pattern");
    let pattern = if bool_argument(arguments, "interpolate_variables") {
        // As pyinfra: double quotes so the shell expands `$VARIABLES` in the pattern.
        CommandPart::Raw(format!("\"{}\"", pattern.replace('"', "\\\"")))
    } else {
        quoted(pattern)
    };
    let grep = CommandPart::Raw(if bool_argument(arguments, "extended_regex") { "grep -E" } else { "grep" }.to_owned());
    formatted(
        "{3} -e {0} {1} 2> /dev/null || ( find {1} -type f > /dev/null && echo {2} || true )",
        &[pattern, quoted(path), quoted(&format!("{EXISTS}{path}")), grep],
    )
}

/// Matching lines; `[]` when the file exists without a match. No output at all means
/// the file is missing, which pyinfra reports as `None`.
fn find_in_file(arguments: &Map<String, Value>, output: &[String]) -> Value {
    match output.first() {
        None => Value::Null,
        Some(first) if *first == format!("{EXISTS}{}", string_argument(arguments, "path")) => default_list(),
        Some(_) => lines(output),
    }
}

// FindFiles, FindLinks, FindDirectories

fn find_command(arguments: &Map<String, Value>, type_flag: &str) -> StringCommand {
    let quote_path = arguments.get("quote_path").is_none_or(|value| value.as_bool() != Some(false));
    let maybe_quoted = |value: &Value| {
        if quote_path {
            quoted(&python_str(value))
        } else {
            CommandPart::Raw(python_str(value))
        }
    };
    let argument = |name: &str| arguments.get(name).filter(|value| !value.is_null());
    let extra: Vec<&Value> = arguments
        .get("args")
        .and_then(Value::as_array)
        .map(|items| items.iter().collect())
        .unwrap_or_default();
    let has_flag = |flag: &str| extra.iter().any(|item| item.as_str() == Some(flag));

    let mut command = StringCommand::raw("find");
    command.push(maybe_quoted(arguments.get("path").unwrap_or(&Value::Null)));
    command = command.text("-type").text(type_flag);
    // Sizes always in bytes (`c`): other `find` units round in surprising ways.
    if !has_flag("-size") {
        for (name, sign) in [("min_size", "+"), ("max_size", "-")] {
            if let Some(size) = argument(name) {
                command = command.text("-size");
                command.push(match parse_size(size) {
                    Some(bytes) => CommandPart::Raw(format!("{sign}{bytes}c")),
                    // pyinfra refuses to build the command; `find` rejects this instead.
                    None => quoted(&format!("{sign}{}c", python_str(size))),
                });
            }
        }
        if let Some(size) = argument("size") {
            command = command.text("-size").text(format!("{}c", python_str(size)));
        }
    }
    if let Some(depth) = argument("maxdepth").filter(|_| !has_flag("-maxdepth")) {
        command = command.text("-maxdepth").text(python_str(depth));
    }
    // pyinfra checks for `-fname` (not `-name`) in `args`; kept as is.
    for (name, flag, guard) in [("fname", "-name", "-fname"), ("iname", "-iname", "-iname"), ("regex", "-regex", "-regex")] {
        if let Some(value) = argument(name).filter(|_| !has_flag(guard)) {
            command = command.text(flag);
            command.push(maybe_quoted(value));
        }
    }
    // Always quoted: `find` does the globbing, not the shell.
    if let Some(pattern) = argument("path_match").filter(|_| !has_flag("-path")) {
        command = command.text("-path").quoted(python_str(pattern));
    }
    for item in extra {
        command = command.text(python_str(item));
    }
    command.text("||").text("true")
}

/// A size in bytes: an integer as is, or human text (`10MB`, `1.5 GiB`).
fn parse_size(size: &Value) -> Option<i64> {
    if let Some(bytes) = size.as_i64() {
        return Some(bytes);
    }
    let mut text = size.as_str()?.to_uppercase();
    if !text.starts_with(' ') {
        text = compiled(&SIZE_UNIT).ok()?.replace_all(&text, " $1").into_owned();
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let [number, unit] = words.as_slice() else {
        return None;
    };
    let multiplier: f64 = match *unit {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KIB" => 1024.0,
        "MIB" => 1_048_576.0,
        "GIB" => 1_073_741_824.0,
        "TIB" => 1_099_511_627_776.0,
        _ => return None,
    };
    let number: f64 = number.parse().ok()?;
    #[expect(clippy::cast_possible_truncation, reason = "Python's int() truncates the float the same way")]
    Some((number * multiplier) as i64)
}

// Flags

/// The comma-separated flags of `stat -f %Sf`; anything but one line means none.
fn flags(output: &[String]) -> Value {
    let [line] = output else {
        return default_list();
    };
    Value::Array(
        line.split(',')
            .filter(|flag| !flag.is_empty())
            .map(|flag| Value::String(flag.to_owned()))
            .collect(),
    )
}

// Block

fn block_command(arguments: &Map<String, Value>) -> StringCommand {
    let path = string_argument(arguments, "path");
    let text_or = |name: &str, default: &'static str| Some(string_argument(arguments, name)).filter(|text| !text.is_empty()).unwrap_or(default);
    let marker = text_or("marker", "# {mark} PYINFRA BLOCK");
    let (Some(start), Some(end)) = (format_mark(marker, text_or("begin", "BEGIN")), format_mark(marker, text_or("end", "END"))) else {
        return refused(&format!("marker {marker:?} is not a `{{mark}}` template"));
    };
    if start == end {
        return refused(&format!("delimiters for block must be different but found only '{start}'"));
    }
    let backstop = formatted(
        "(find {0} -type f > /dev/null && echo {1} || echo {2} )",
        &[quoted(path), quoted(&format!("{EXISTS}{path}")), quoted(&format!("{MISSING}{path}"))],
    );
    // As pyinfra: the markers are written into the awk program unquoted.
    let program = format!("awk '/{end}/{{ f=0}} f; /{start}/{{ f=1}} ' ");
    let parts = vec![
        CommandPart::Raw(program),
        quoted(path),
        CommandPart::Raw(" || ".to_owned()),
        CommandPart::Nested(backstop),
    ];
    StringCommand {
        parts,
        separator: String::new(),
    }
}

/// Python's `marker.format(mark=...)`: `{mark}` replaced, `{{` and `}}` unescaped, any
/// other field refused.
fn format_mark(template: &str, mark: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(index) = rest.find(['{', '}']) {
        out.push_str(&rest[..index]);
        let tail = &rest[index..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{mark}") {
            out.push_str(mark);
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The lines between the markers; `[]` when the file has no markers, `null` when it is
/// missing.
fn block(arguments: &Map<String, Value>, output: &[String]) -> Value {
    let path = string_argument(arguments, "path");
    match output.first() {
        Some(first) if *first == format!("{EXISTS}{path}") => default_list(),
        Some(first) if *first == format!("{MISSING}{path}") => Value::Null,
        _ => lines(output),
    }
}

// FileContents

fn file_contents(arguments: &Map<String, Value>, output: &[String]) -> Value {
    match output.first() {
        Some(first) if *first == format!("{MISSING}{}", string_argument(arguments, "path")) => Value::Null,
        _ => lines(output),
    }
}

// Shared helpers

/// A command that prints why it cannot be built and fails, for argument errors pyinfra
/// raises while building the command (`FactDef::command` cannot return an error).
pub(crate) fn refused(message: &str) -> StringCommand {
    StringCommand::raw("echo").quoted(message).text(">&2 && false")
}

/// pyinfra's `make_formatted_string_command`: the template's words as shell text, `{n}`
/// words replaced by `values[n]`.
fn formatted(template: &str, values: &[CommandPart]) -> StringCommand {
    let mut command = StringCommand::new();
    for word in template.split_whitespace() {
        let value = word
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .and_then(|index| index.parse::<usize>().ok())
            .and_then(|index| values.get(index));
        command.push(value.cloned().unwrap_or_else(|| CommandPart::Raw(word.to_owned())));
    }
    command
}

fn quoted(value: &str) -> CommandPart {
    CommandPart::Quoted(vec![CommandPart::Raw(value.to_owned())])
}

fn lines(output: &[String]) -> Value {
    Value::Array(output.iter().map(|line| Value::String(line.clone())).collect())
}

fn iso(moment: &NaiveDateTime) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Python's `str()` of a JSON-shaped argument.
pub(crate) fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// Python's `int(text)` for the forms commands print: surrounding spaces, a sign,
/// digits with single `_` between them.
pub(crate) fn python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let number: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -number } else { number })
}

/// pyinfra's `try_int`: the integer when `text` is one, else the text unchanged. Beyond
/// 64 bits (where Python still has an integer) the text is kept.
pub(crate) fn try_int(text: &str) -> Value {
    match python_int(text) {
        Some(number) => Value::from(number),
        None => text
            .trim()
            .replace('_', "")
            .parse::<u64>()
            .map_or_else(|_| Value::String(text.to_owned()), Value::from),
    }
}

/// A built-in pattern, compiled once (tests check that each one compiles).
pub(crate) fn compiled(regex: &'static LazyLock<Result<Regex, regex::Error>>) -> Result<&'static Regex, FactError> {
    regex.as_ref().map_err(|error| FactError::Process {
        fact: "built-in pattern".to_owned(),
        message: error.to_string(),
    })
}

fn process_error(fact: &str, message: String) -> FactError {
    FactError::Process {
        fact: fact.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn arguments(value: Value) -> Map<String, Value> {
        if let Value::Object(map) = value { map } else { Map::new() }
    }

    fn output(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn patterns_compile() {
        for regex in [&STAT_LINE, &LS_LINE, &SIZE_UNIT] {
            assert!(compiled(regex).is_ok());
        }
    }

    #[test]
    fn mode_reads_special_bits() {
        assert_eq!(parse_mode("rwsr-Sr-T"), Ok(7744));
        assert_eq!(parse_mode("rwxrwxrwt"), Ok(1777));
        assert_eq!(parse_mode("---------"), Ok(0));
        assert_eq!(parse_mode("rw"), Ok(600));
        assert!(parse_mode("rwxrwxrwx.").is_err());
    }

    #[test]
    fn stat_with_unknown_type_is_an_error() {
        let line = output(&["user=a group=b mode=?rw-r--r-- atime=0 mtime=0 ctime=0 size=1 'x'"]);
        assert!(path_type(&line, "files.File", "file").is_err());
    }

    #[test]
    fn stat_with_empty_times_and_size() {
        let line = output(&["user=a group=b mode=-rw-r--r-- atime= mtime=- ctime=0 size= 'x'"]);
        let value = path_type(&line, "files.File", "file");
        assert_eq!(
            value,
            Ok(json!({"user": "a", "group": "b", "mode": 644, "atime": null, "mtime": null, "ctime": "1970-01-01T00:00:00", "size": ""}))
        );
    }

    #[test]
    fn stat_negative_timestamp_is_before_epoch() {
        assert_eq!(timestamp("-86400"), Ok(json!("1969-12-31T00:00:00")));
        assert!(timestamp("99999999999999").is_err());
    }

    #[test]
    fn ls_link_keeps_target_and_bad_dates_become_null() {
        let line = output(&["lrwxrwxrwx 1 root root 12 Feb 31 2025 /a -> '/b c'"]);
        let value = path_type(&line, "files.Link", "link");
        assert_eq!(
            value,
            Ok(json!({"user": "root", "group": "root", "mode": 777, "atime": null, "mtime": null, "ctime": null, "size": 12, "link_target": "/b c"}))
        );
    }

    #[test]
    fn ls_time_uses_reference_year() {
        assert_eq!(
            ls_timestamp("Dec", "31", "12:34", 2031).map(|moment| iso(&moment)),
            Some("2031-12-31T12:34:00".to_owned())
        );
        assert_eq!(ls_timestamp("Dec", "31", "12:34:56", 2031), None);
        assert_eq!(ls_timestamp("Foo", "31", "2020", 2031), None);
    }

    #[test]
    fn stat_link_with_arrow_in_name_is_an_error() {
        let line = output(&["user=a group=b mode=lrwxrwxrwx atime=0 mtime=0 ctime=0 size=1 'a -> b' -> 'c'"]);
        assert!(path_type(&line, "files.Link", "link").is_err());
    }

    #[test]
    fn hash_ignores_other_paths() {
        let args = arguments(json!({"path": "a.txt"}));
        let digest = "c10ba97d7c9078a006d26b5db01d8ee7";
        assert_eq!(hash(&args, &output(&[&format!("{digest}  a.txt")]), "MD5", 32), Ok(json!(digest)));
        assert_eq!(hash(&args, &output(&[&format!("{digest}  aXtxt")]), "MD5", 32), Ok(Value::Null));
    }

    #[test]
    fn find_sizes_in_bytes() {
        let args = arguments(
            json!({"path": "/srv", "min_size": "1.5KiB", "max_size": 100, "size": "10", "quote_path": false, "fname": "*.log", "path_match": "/srv/*"}),
        );
        assert_eq!(
            find_command(&args, "f").raw_value(),
            "find /srv -type f -size +1536c -size -100c -size 10c -name *.log -path '/srv/*' || true"
        );
    }

    #[test]
    fn find_args_override_named_options() {
        let args = arguments(json!({"path": "/srv dir", "min_size": "1GB", "maxdepth": 2, "fname": "x", "args": ["-size", "+1k", "-maxdepth", 3, "-fname"]}));
        assert_eq!(
            find_command(&args, "d").raw_value(),
            "find '/srv dir' -type d -size +1k -maxdepth 3 -fname || true"
        );
    }

    #[test]
    fn size_parsing_follows_pyinfra_units() {
        assert_eq!(parse_size(&json!("2 MB")), Some(2_000_000));
        assert_eq!(parse_size(&json!("1gib")), Some(1_073_741_824));
        assert_eq!(parse_size(&json!("1000")), None);
        assert_eq!(parse_size(&json!("5XB")), None);
    }

    #[test]
    fn block_with_custom_markers() {
        let args = arguments(json!({"path": "f", "marker": "## {mark} x {{y}}", "begin": "", "end": "STOP"}));
        assert_eq!(
            block_command(&args).raw_value(),
            "awk '/## STOP x {y}/{ f=0} f; /## BEGIN x {y}/{ f=1} ' f || (find f -type f > /dev/null && echo __pyinfra_exists_f || echo __pyinfra_missing_f )"
        );
    }

    #[test]
    fn block_with_equal_markers_fails_on_the_host() {
        let args = arguments(json!({"path": "f", "marker": "same"}));
        assert_eq!(
            block_command(&args).raw_value(),
            "echo 'delimiters for block must be different but found only '\"'\"'same'\"'\"'' >&2 && false"
        );
    }

    #[test]
    fn block_missing_file_is_null() {
        let args = arguments(json!({"path": "f"}));
        assert_eq!(block(&args, &output(&["__pyinfra_missing_f"])), Value::Null);
    }

    #[test]
    fn flags_ignore_empty_entries() {
        assert_eq!(flags(&output(&["uchg,,nodump,"])), json!(["uchg", "nodump"]));
    }

    #[test]
    fn python_int_accepts_python_forms() {
        assert_eq!(python_int(" +1_000 "), Some(1000));
        assert_eq!(python_int("-"), None);
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("1.0"), None);
    }
}
