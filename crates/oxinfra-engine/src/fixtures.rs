//! Runs pyinfra-format fixtures (`operations/<mod>.<op>/*.json|yaml`,
//! `facts/<mod>.<Fact>/*.json|yaml`) through the operation and fact registries, with
//! the rules of pyinfra's own harness: fixture facts keyed by `k=v` argument strings, a
//! virtual local file system rooted at `/`, `a-timestamp` as the backup timestamp, and
//! commands encoded as strings, `{raw, masked}` pairs or `["upload", src, dest]` lists.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use oxinfra_core::command::UploadSource;
use oxinfra_core::local_files::LocalMetadata;
use oxinfra_core::{Command, FactKey, FactSource, LocalFiles, Missing};
use oxinfra_operations::Plan;
use oxinfra_operations::files::util::DateTime;
use serde_json::{Map, Value, json};

/// What became of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// As expected.
    Passed,
    /// Not as expected, with a short explanation.
    Failed(String),
    /// The operation or fact is not in the registry.
    NotImplemented,
    /// The case is for another platform (`require_platform`).
    Skipped,
}

/// One case and its outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// `operations` or `facts`.
    pub kind: &'static str,
    /// The operation or fact name (the case's folder).
    pub group: String,
    /// The case file.
    pub path: PathBuf,
    /// What happened.
    pub outcome: Outcome,
}

/// Runs every case under `root` (which holds `operations/` and `facts/`).
pub fn run_directory(root: &Path) -> io::Result<Vec<CaseResult>> {
    let mut results = Vec::new();
    for kind in ["operations", "facts"] {
        let folder = root.join(kind);
        if !folder.is_dir() {
            continue;
        }
        let mut groups: Vec<PathBuf> = std::fs::read_dir(&folder)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()?;
        groups.sort();
        for group_path in groups.into_iter().filter(|path| path.is_dir()) {
            let group = group_path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let mut cases: Vec<PathBuf> = std::fs::read_dir(&group_path)?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()?;
            cases.retain(|path| matches!(path.extension().and_then(|ext| ext.to_str()), Some("json" | "yaml" | "yml")));
            cases.sort();
            for path in cases {
                let outcome = run_case(kind, &group, &path);
                results.push(CaseResult {
                    kind,
                    group: group.clone(),
                    path,
                    outcome,
                });
            }
        }
    }
    Ok(results)
}

/// Runs one case file.
pub fn run_case(kind: &str, group: &str, path: &Path) -> Outcome {
    let case = match load_case(path) {
        Ok(case) => case,
        Err(message) => return Outcome::Failed(message),
    };
    if kind == "operations" {
        run_operation_case(group, &case)
    } else {
        run_fact_case(group, &case)
    }
}

/// Reads a case; JSON with trailing commas is accepted, as pyinfra reads them with YAML.
pub fn load_case(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    serde_yaml_ng::from_str::<Value>(&text).map_err(|error| format!("cannot parse {}: {error}", path.display()))
}

/// Decodes pyinfra-testing's value markers (`datetime:`, `path:`, `io:`, `["set:", ...]`).
pub fn decode_value(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            if let Some(rest) = text.strip_prefix("datetime:") {
                Value::String(rest.to_owned())
            } else if let Some(rest) = text.strip_prefix("path:") {
                Value::String(rest.to_owned())
            } else if let Some(rest) = text.strip_prefix("io:") {
                json!({ "content": rest })
            } else {
                value.clone()
            }
        }
        Value::Array(items) if items.first().and_then(Value::as_str) == Some("set:") => Value::Array(items[1..].iter().map(decode_value).collect()),
        Value::Array(items) => Value::Array(items.iter().map(decode_value).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(key, item)| (key.clone(), decode_value(item))).collect()),
        other => other.clone(),
    }
}

/// Fixture facts: `{"files.File": {"path=/x": value}}`, or the whole value for facts
/// called without arguments.
struct FixtureFacts<'a> {
    facts: &'a Map<String, Value>,
}

impl FactSource for FixtureFacts<'_> {
    fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
        let missing = || Missing(key.clone());
        let by_name = self.facts.get(&key.name).ok_or_else(missing)?;
        if key.arguments.is_empty() {
            return Ok(decode_value(by_name));
        }
        by_name.get(&key.arguments).map(decode_value).ok_or_else(missing)
    }
}

/// The fixture's virtual local file system, after pyinfra-testing's `patch_files`: the
/// case's `local_files` tree (`files`, `links` and `dirs` at each level) rooted at `/`,
/// the root itself not being a directory. A file is `null`, its text, or a dict of
/// `os.stat` fields (`mode`, `atime`, `mtime`); it reads as its text or
/// `_test_data_`, and reports mode 644 unless told otherwise, directories 755.
#[derive(Default)]
struct VirtualFiles {
    files: HashMap<PathBuf, VirtualFile>,
    /// Links and their targets, as written.
    links: HashMap<PathBuf, PathBuf>,
    /// Each directory's entries: its files, then its links, then its folders, each in
    /// the case's order, as pyinfra-testing's `os.walk` lists them.
    dirs: HashMap<PathBuf, Vec<PathBuf>>,
}

struct VirtualFile {
    content: Vec<u8>,
    metadata: LocalMetadata,
}

/// pyinfra-testing's time for a `stat` field the case leaves out,
/// `2008-08-09T13:21:44`, read as UTC (pyinfra-testing reads it in the local zone).
const DEFAULT_FILE_TIME: Duration = Duration::from_secs(1_218_288_104);

impl VirtualFiles {
    fn from_case(local_files: Option<&Value>) -> Result<Self, String> {
        let mut virtual_files = Self::default();
        if let Some(tree) = local_files {
            virtual_files.add_tree(Path::new("/"), tree)?;
        }
        Ok(virtual_files)
    }

    fn add_tree(&mut self, base: &Path, tree: &Value) -> Result<Vec<PathBuf>, String> {
        let mut entries = Vec::new();
        for (name, file) in tree.get("files").and_then(Value::as_object).into_iter().flatten() {
            let path = base.join(name);
            self.files.insert(
                path.clone(),
                VirtualFile::from_case(file).map_err(|message| format!("local file {name}: {message}"))?,
            );
            entries.push(path);
        }
        for (name, target) in tree.get("links").and_then(Value::as_object).into_iter().flatten() {
            let path = base.join(name);
            self.links.insert(path.clone(), PathBuf::from(target.as_str().unwrap_or_default()));
            entries.push(path);
        }
        for (name, subtree) in tree.get("dirs").and_then(Value::as_object).into_iter().flatten() {
            let path = base.join(name);
            let children = self.add_tree(&path, subtree)?;
            self.dirs.insert(path.clone(), children);
            entries.push(path);
        }
        Ok(entries)
    }
}

impl VirtualFile {
    fn from_case(file: &Value) -> Result<Self, String> {
        let content = match file.as_str() {
            Some(text) if !text.is_empty() => text.as_bytes().to_vec(),
            _ => b"_test_data_".to_vec(),
        };
        let permissions = match file.get("mode") {
            None => 0o644,
            Some(Value::String(digits)) => octal(digits)?,
            Some(number) => octal(&number.to_string())?,
        };
        let time = |field: &str| {
            file.get(field)
                .map_or(Ok(SystemTime::UNIX_EPOCH + DEFAULT_FILE_TIME), |value| stat_time(field, value))
        };
        let metadata = LocalMetadata {
            permissions,
            accessed: time("atime")?,
            modified: time("mtime")?,
        };
        Ok(Self { content, metadata })
    }
}

/// Python's `int(digits, 8)`.
fn octal(digits: &str) -> Result<u32, String> {
    let digits = digits.trim();
    let digits = digits.strip_prefix("0o").unwrap_or(digits);
    u32::from_str_radix(digits, 8).map_err(|_| format!("mode `{digits}` is not octal"))
}

/// A `stat` time as pyinfra-testing reads it: seconds, or `datetime:<iso>` (UTC when
/// it names no zone).
fn stat_time(field: &str, value: &Value) -> Result<SystemTime, String> {
    let bad = || format!("`{field}` must be seconds or `datetime:<iso>`, not `{value}`");
    let seconds = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => match text.strip_prefix("datetime:") {
            Some(iso) => {
                let time = DateTime::parse_iso(iso.trim()).ok_or_else(bad)?;
                let micros = time.wall_micros() - time.offset_seconds().unwrap_or_default() * 1_000_000;
                return from_epoch(Duration::from_micros(micros.unsigned_abs()), micros < 0).ok_or_else(bad);
            }
            None => text.trim().parse::<f64>().ok(),
        },
        _ => None,
    };
    let seconds = seconds.ok_or_else(bad)?;
    let magnitude = Duration::try_from_secs_f64(seconds.abs()).map_err(|_| bad())?;
    from_epoch(magnitude, seconds < 0.0).ok_or_else(bad)
}

/// The time `magnitude` after (or `before`) 1970-01-01 UTC.
fn from_epoch(magnitude: Duration, before: bool) -> Option<SystemTime> {
    if before {
        SystemTime::UNIX_EPOCH.checked_sub(magnitude)
    } else {
        SystemTime::UNIX_EPOCH.checked_add(magnitude)
    }
}

impl LocalFiles for VirtualFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files.get(path).map(|file| file.content.clone()).ok_or_else(|| not_found(path))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains_key(path)
    }

    fn is_symlink(&self, path: &Path) -> bool {
        self.links.contains_key(path)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.links.get(path).cloned().ok_or_else(|| not_found(path))
    }

    fn metadata(&self, path: &Path) -> io::Result<LocalMetadata> {
        match self.files.get(path) {
            Some(file) => Ok(file.metadata),
            None if self.is_dir(path) => {
                let time = SystemTime::UNIX_EPOCH + DEFAULT_FILE_TIME;
                Ok(LocalMetadata {
                    permissions: 0o755,
                    accessed: time,
                    modified: time,
                })
            }
            None => Err(not_found(path)),
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.dirs.get(path).cloned().ok_or_else(|| not_found(path))
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("No such file or directory: {}", path.display()))
}

/// Encodes a command as pyinfra-testing compares it.
pub fn encode_command(command: &Command) -> Value {
    match command {
        Command::Shell { command } => {
            let (raw, masked) = (command.raw_value(), command.masked_value());
            if raw == masked {
                Value::String(raw)
            } else {
                json!({ "raw": raw, "masked": masked })
            }
        }
        Command::Upload { source, dest } => {
            let source = match source {
                UploadSource::Path(path) => path.display().to_string(),
                UploadSource::Content(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            };
            json!(["upload", source, dest])
        }
        Command::Download { src, dest, .. } => json!(["download", src, dest.display().to_string()]),
        Command::Function { name, .. } => json!([name]),
        Command::Reboot { step } => json!([step.name(), [], {}]),
        Command::Rsync { src, dest, flags } => json!(["rsync", src, dest, flags]),
    }
}

/// Maps a case's `args` and `kwargs` onto the operation's parameter names.
fn keyword_arguments(params: &[&str], case: &Value) -> Result<Map<String, Value>, String> {
    let mut arguments = Map::new();
    if let Some(args) = case.get("args").and_then(Value::as_array) {
        if args.len() > params.len() {
            return Err(format!("{} positional arguments for {} parameters", args.len(), params.len()));
        }
        for (name, value) in params.iter().zip(args) {
            arguments.insert((*name).to_owned(), decode_value(value));
        }
    }
    if let Some(kwargs) = case.get("kwargs").and_then(Value::as_object) {
        for (name, value) in kwargs {
            arguments.insert(name.clone(), decode_value(value));
        }
    }
    Ok(arguments)
}

/// Plans `planner` with already keyword `arguments` against a case's facts and local
/// files, for operations the Python front prepares (templates): the encoded commands,
/// or `{"error": class, "message": text}`.
pub fn plan_with_case(planner: &str, arguments: &Map<String, Value>, case: &Value) -> Value {
    let Some(operation) = oxinfra_operations::find(planner) else {
        return json!({"error": "OperationError", "message": format!("no operation named `{planner}`")});
    };
    let empty = Map::new();
    let mut facts = FixtureFacts {
        facts: case.get("facts").and_then(Value::as_object).unwrap_or(&empty),
    };
    let local_files = match VirtualFiles::from_case(case.get("local_files")) {
        Ok(local_files) => local_files,
        Err(message) => return json!({"error": "OperationError", "message": message}),
    };
    let mut plan = Plan::new(&mut facts, &local_files, PathBuf::from("/"), "a-timestamp".to_owned());
    match (operation.plan)(arguments, &mut plan) {
        Ok(()) => json!({"commands": plan.commands, "noop": plan.noop_reason}),
        Err(error) => json!({"error": error.class_name(), "message": error.to_string()}),
    }
}

fn run_operation_case(group: &str, case: &Value) -> Outcome {
    let Some(operation) = oxinfra_operations::find(group) else {
        return Outcome::NotImplemented;
    };
    if let Some(platforms) = case.get("require_platform").and_then(Value::as_array) {
        if !platforms.iter().any(|platform| platform.as_str() == Some("Linux")) {
            return Outcome::Skipped;
        }
    }
    let arguments = match keyword_arguments(operation.params, case) {
        Ok(arguments) => arguments,
        Err(message) => return Outcome::Failed(message),
    };
    let empty = Map::new();
    let mut facts = FixtureFacts {
        facts: case.get("facts").and_then(Value::as_object).unwrap_or(&empty),
    };
    let local_files = match VirtualFiles::from_case(case.get("local_files")) {
        Ok(local_files) => local_files,
        Err(message) => return Outcome::Failed(message),
    };
    let mut plan = Plan::new(&mut facts, &local_files, PathBuf::from("/"), "a-timestamp".to_owned());
    let result = (operation.plan)(&arguments, &mut plan);

    if let Some(expected) = case.get("exception") {
        let names: Vec<&str> = match (expected.get("name"), expected.get("names")) {
            (Some(name), _) => name.as_str().into_iter().collect(),
            (None, Some(Value::String(name))) => vec![name.as_str()],
            (None, Some(names)) => names
                .as_array()
                .map(|names| names.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let message = expected.get("message").and_then(Value::as_str);
        return match result {
            Err(error) if names.contains(&error.class_name()) && message.is_none_or(|message| message == error.to_string()) => Outcome::Passed,
            Err(error) => Outcome::Failed(format!("expected {names:?}: {message:?}\n     got {}: {error}", error.class_name())),
            Ok(()) => Outcome::Failed(format!("expected {names:?}: {message:?}, got no error")),
        };
    }
    if let Err(error) = result {
        return Outcome::Failed(format!("{}: {error}", error.class_name()));
    }
    let got: Vec<Value> = plan.commands.iter().map(encode_command).collect();
    let expected: Vec<Value> = case.get("commands").and_then(Value::as_array).cloned().unwrap_or_default();
    if got != expected {
        return Outcome::Failed(command_diff(&expected, &got));
    }
    if got.is_empty() {
        if let Some(description) = case.get("noop_description").and_then(Value::as_str) {
            if plan.noop_reason.as_deref() != Some(description) {
                return Outcome::Failed(format!("noop: expected {description:?}, got {:?}", plan.noop_reason));
            }
        }
    }
    Outcome::Passed
}

fn command_diff(expected: &[Value], got: &[Value]) -> String {
    let render = |values: &[Value]| values.iter().map(|value| format!("{value}\n")).collect::<String>();
    let (expected, got) = (render(expected), render(got));
    similar::TextDiff::from_lines(&expected, &got)
        .unified_diff()
        .header("expected", "got")
        .to_string()
}

fn run_fact_case(group: &str, case: &Value) -> Outcome {
    let Some(fact) = oxinfra_facts::find(group) else {
        return Outcome::NotImplemented;
    };
    let (positional, keyword) = match case.get("arg").map(decode_value) {
        None => (Vec::new(), Map::new()),
        Some(Value::Array(items)) => (items, Map::new()),
        Some(Value::Object(map)) => (Vec::new(), map),
        Some(scalar) => (vec![scalar], Map::new()),
    };
    let arguments = match oxinfra_facts::bind_arguments(fact, &positional, &keyword) {
        Ok(arguments) => arguments,
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    // The facts the fact's command depends on come from the case, as operations' do.
    let empty = Map::new();
    let mut facts = FixtureFacts {
        facts: case.get("facts").and_then(Value::as_object).unwrap_or(&empty),
    };
    let arguments = match oxinfra_facts::prepare(fact, &arguments, &mut facts) {
        Ok(arguments) => arguments,
        Err(Missing(key)) => return Outcome::Failed(format!("the command depends on `{key}`, which the case does not give")),
    };
    let mut problems = Vec::new();
    if let Some(expected) = case.get("command").and_then(Value::as_str) {
        let got = (fact.command)(&arguments).raw_value();
        if got != expected {
            problems.push(format!("command:\n  expected {expected}\n       got {got}"));
        }
    }
    // As pyinfra's harness: checked only for facts that require a command.
    if let (Some(expected), Some(requires)) = (case.get("requires_command"), fact.requires_command) {
        let got = requires(&arguments);
        if Some(got.as_str()) != expected.as_str() {
            problems.push(format!("requires_command: expected {expected}, got {got:?}"));
        }
    }
    let output: Vec<String> = match case.get("output") {
        Some(Value::String(text)) => text.lines().map(str::to_owned).collect(),
        Some(Value::Array(lines)) => lines.iter().map(|line| line.as_str().map_or_else(|| line.to_string(), str::to_owned)).collect(),
        _ => Vec::new(),
    };
    let expected = case.get("fact").map_or(Value::Null, decode_value);
    match (fact.process)(&arguments, &output) {
        Ok(got) if json_equal(&got, &expected) => {}
        Ok(got) => problems.push(format!("fact:\n  expected {expected}\n       got {got}")),
        Err(error) => problems.push(error.to_string()),
    }
    if problems.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed(problems.join("\n"))
    }
}

/// Equality that treats `644` and `644.0` alike, as Python's `==` does.
fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y)),
        (Value::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().all(|(key, x)| b.get(key).is_some_and(|y| json_equal(x, y))),
        _ => left == right,
    }
}

/// Pass counts per group: `(group, passed, failed)`, implemented groups only.
pub fn group_counts(results: &[CaseResult]) -> Vec<(String, usize, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for result in results {
        let entry = counts.entry(result.group.clone()).or_default();
        match result.outcome {
            Outcome::Passed => entry.0 += 1,
            Outcome::Failed(_) => entry.1 += 1,
            Outcome::NotImplemented | Outcome::Skipped => {}
        }
    }
    counts
        .into_iter()
        .filter(|(_, (passed, failed))| passed + failed > 0)
        .map(|(group, (passed, failed))| (group, passed, failed))
        .collect()
}

/// Every operation of the registry with its parameter names.
pub fn operation_registry_params() -> Vec<(String, Vec<String>)> {
    oxinfra_operations::registry()
        .iter()
        .map(|operation| (operation.name.to_owned(), operation.params.iter().map(|param| (*param).to_owned()).collect()))
        .collect()
}

/// Every fact name of the registry.
pub fn fact_registry_names() -> Vec<String> {
    oxinfra_facts::registry().iter().map(|fact| fact.name.to_owned()).collect()
}
