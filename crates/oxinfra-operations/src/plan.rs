//! What planning produces ([`Plan`]: commands, or the reason nothing is needed, and the
//! content changes for `--diff`) and how it fails ([`OperationError`]).

use std::path::PathBuf;

use oxinfra_core::{Command, FactKey, FactSource, LocalFiles, Missing, StringCommand};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Why an operation could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// A fact is not loaded yet: the engine fetches it and plans again.
    #[error(transparent)]
    Missing(#[from] Missing),
    /// pyinfra's `OperationError`: the wanted state cannot be reached.
    #[error("{0}")]
    Operation(String),
    /// pyinfra's `OperationTypeError`: an argument has the wrong type.
    #[error("{0}")]
    Type(String),
    /// pyinfra's `OperationValueError`: an argument has a wrong value.
    #[error("{0}")]
    Value(String),
    /// Python's plain `ValueError`, where pyinfra raises one rather than its own class.
    #[error("{0}")]
    PlainValue(String),
    /// Python's `OSError`: a local file or folder the operation reads is missing.
    #[error("{0}")]
    LocalFile(String),
}

impl OperationError {
    /// pyinfra's exception class name for this error.
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::Missing(_) => "FactNotCollected",
            Self::Operation(_) => "OperationError",
            Self::Type(_) => "OperationTypeError",
            Self::Value(_) => "OperationValueError",
            Self::LocalFile(_) => "OSError",
            Self::PlainValue(_) => "ValueError",
        }
    }
}

/// A content change to show with `--diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The file on the host.
    pub path: String,
    /// Its content before, `None` when it does not exist yet.
    pub before: Option<String>,
    /// Its content after.
    pub after: String,
}

/// The planning context and result of one operation on one host.
pub struct Plan<'a> {
    facts: &'a mut dyn FactSource,
    /// The controller's files.
    pub local_files: &'a dyn LocalFiles,
    /// The folder relative paths of the deploy resolve against (pyinfra's `state.cwd`).
    pub deploy_dir: PathBuf,
    /// The timestamp used in backup names (pyinfra's `get_timestamp()`).
    pub timestamp: String,
    /// Whether to record content changes for `--diff` (may read extra facts).
    pub want_diff: bool,
    /// The host's folder for temporary files (pyinfra's `_temp_dir` or `TmpDir`);
    /// `None` in fixtures, where every temporary file is `_tempfile_`.
    pub temp_dir: Option<String>,
    /// The commands, in order.
    pub commands: Vec<Command>,
    /// Why nothing needs doing, when an operation says so.
    pub noop_reason: Option<String>,
    /// Content changes, for `--diff`.
    pub diffs: Vec<FileDiff>,
}

impl<'a> Plan<'a> {
    /// An empty plan reading facts from `facts` and local files from `local_files`.
    pub fn new(facts: &'a mut dyn FactSource, local_files: &'a dyn LocalFiles, deploy_dir: PathBuf, timestamp: String) -> Self {
        Self {
            facts,
            local_files,
            deploy_dir,
            timestamp,
            want_diff: false,
            temp_dir: None,
            commands: Vec::new(),
            noop_reason: None,
            diffs: Vec::new(),
        }
    }

    /// Reads a fact, by name and keyword arguments (defaults are filled in).
    pub fn fact(&mut self, name: &str, arguments: &[(&str, Value)]) -> Result<Value, OperationError> {
        let key = oxinfra_facts::registry::key(name, arguments);
        Ok(self.facts.get(&key)?)
    }

    /// Says that planning is about to read a fact, by name and keyword arguments, so that
    /// the engine fetches the facts an operation reads one after the other (each read
    /// depending on the one before, as pyinfra reads them) in one round trip.
    pub fn hint(&mut self, name: &str, arguments: &[(&str, Value)]) {
        let key = oxinfra_facts::registry::key(name, arguments);
        self.facts.hint(&key);
    }

    /// [`Plan::hint`] for facts that take one `path` argument.
    pub fn hint_paths(&mut self, facts: &[(&str, &str)]) {
        for (name, path) in facts {
            self.hint(name, &[("path", Value::String((*path).to_owned()))]);
        }
    }

    /// Reads a fact by its full key.
    pub fn fact_by_key(&mut self, key: &FactKey) -> Result<Value, OperationError> {
        Ok(self.facts.get(key)?)
    }

    /// Reads `files.FileContents`: the file's lines, `None` when it does not exist.
    pub fn file_lines(&mut self, path: &str) -> Result<Option<Vec<String>>, OperationError> {
        let value = self.fact("files.FileContents", &[("path", Value::String(path.to_owned()))])?;
        Ok(value.as_array().map(|lines| {
            lines
                .iter()
                .map(|line| line.as_str().map_or_else(|| oxinfra_core::pyrepr::python_str(line), str::to_owned))
                .collect()
        }))
    }

    /// Records a content change for `--diff`: only when asked for, and only when the
    /// content changes (`before` is `None` for a file that does not exist yet).
    pub fn record_diff(&mut self, path: &str, before: Option<String>, after: String) {
        if self.want_diff && before.as_ref() != Some(&after) {
            self.diffs.push(FileDiff {
                path: path.to_owned(),
                before,
                after,
            });
        }
    }

    /// Adds a shell command (pyinfra's `yield StringCommand(...)`).
    pub fn push(&mut self, command: StringCommand) {
        self.commands.push(Command::shell(command));
    }

    /// Adds operation-written shell text (pyinfra's `yield "..."`), stripped as pyinfra does.
    pub fn push_raw(&mut self, text: impl AsRef<str>) {
        self.push(StringCommand::raw(text.as_ref().trim()));
    }

    /// Adds any command.
    pub fn push_command(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Records why nothing needs doing (pyinfra's `host.noop`).
    pub fn noop(&mut self, reason: impl Into<String>) {
        self.noop_reason = Some(reason.into());
    }

    /// A temporary file name on the host derived from `seed`, as pyinfra's
    /// `state.get_temp_filename`: `<temp dir>/pyinfra-<sha1 of seed>`.
    pub fn temp_filename(&self, seed: &str) -> String {
        use sha1::Digest;
        match &self.temp_dir {
            None => "_tempfile_".to_owned(),
            Some(directory) => {
                let digest = sha1::Sha1::digest(seed.as_bytes());
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                format!("{}/pyinfra-{hex}", directory.trim_end_matches('/'))
            }
        }
    }

    /// Whether the plan changes anything.
    pub fn will_change(&self) -> bool {
        !self.commands.is_empty()
    }
}

/// Deserializes an operation's arguments into its argument struct, turning serde's
/// message into pyinfra's `OperationTypeError`.
pub fn parse_arguments<T: DeserializeOwned>(operation: &str, arguments: &Map<String, Value>) -> Result<T, OperationError> {
    serde_json::from_value(Value::Object(arguments.clone())).map_err(|error| OperationError::Type(format!("{operation}: invalid arguments: {error}")))
}
