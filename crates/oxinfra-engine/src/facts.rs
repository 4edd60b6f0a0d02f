//! Facts during a run: a per-host cache, a [`FactSource`] over it that records what is
//! missing, and the batch that reads every missing fact of a host in one remote
//! command. Facts are cached per privilege context (a fact read with `sudo` may differ);
//! when an operation changes a host, the facts it may have changed are dropped. A fact
//! whose command depends on other facts ([`oxinfra_facts::prepare`]) is read one round
//! trip after them ([`prepare_keys`]).

use std::collections::{BTreeSet, HashMap, VecDeque};

use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, FactKey, FactSource, Missing, StringCommand};
use oxinfra_facts::FactDef;
use oxinfra_operations::footprint::{self, Footprint};
use serde_json::Value;

/// The marker pyinfra prints when a fact's required command is missing.
const NO_COMMAND: &str = "##PYINFRA_NOCMD##";
/// The prefix of the lines that split a batch's output between facts.
const MARKER: &str = "@@OXINFRA-FACT";

/// Which privilege a fact was read with; facts read as different users are different.
pub fn privilege_context(arguments: &ConnectorArguments) -> String {
    format!(
        "{}|{:?}|{:?}|{}|{:?}|{}|{:?}",
        arguments.sudo, arguments.sudo_user, arguments.su_user, arguments.doas, arguments.doas_user, arguments.dzdo, arguments.dzdo_user
    )
}

/// One host's facts.
#[derive(Debug, Default)]
pub struct FactCache {
    values: HashMap<(String, FactKey), Value>,
}

impl FactCache {
    /// Forgets what an operation with `footprint` may have changed: for a few paths, the
    /// `files` facts about those paths, what lies below them and the folders above them;
    /// for the account files, all but the facts they cannot change; otherwise everything.
    pub fn invalidate(&mut self, footprint: &Footprint) {
        match footprint {
            Footprint::Paths(paths) => self
                .values
                .retain(|(_, key), _| files_path(key).is_some_and(|path| !paths.iter().any(|touched| footprint::overlaps(&path, touched)))),
            Footprint::Accounts => self.values.retain(|(_, key), _| {
                let path = files_path(key);
                let untouched_file = path.is_some_and(|path| !footprint::ACCOUNT_FILES.iter().any(|file| footprint::overlaps(&path, file)));
                untouched_file || footprint::UNTOUCHED_BY_ACCOUNTS.contains(&key.name.as_str())
            }),
            Footprint::Anything => self.values.clear(),
        }
    }

    /// A source over the facts read in `context`.
    pub fn source<'a>(&'a self, context: &'a str) -> CacheSource<'a> {
        CacheSource {
            cache: self,
            context,
            missing: BTreeSet::new(),
            read: BTreeSet::new(),
        }
    }

    /// The cached value of `key`.
    pub fn get(&self, context: &str, key: &FactKey) -> Option<&Value> {
        self.values.get(&(context.to_owned(), key.clone()))
    }

    /// Stores a fetched value.
    pub fn insert(&mut self, context: &str, key: FactKey, value: Value) {
        self.values.insert((context.to_owned(), key), value);
    }
}

/// The path a `files` fact is about, when it is a plain absolute one.
fn files_path(key: &FactKey) -> Option<String> {
    let path = key.name.starts_with("files.").then(|| key.values.get("path")).flatten();
    path.and_then(Value::as_str).and_then(footprint::plain_absolute)
}

/// A [`FactSource`] over a cache that records what it lacks.
#[derive(Debug)]
pub struct CacheSource<'a> {
    cache: &'a FactCache,
    context: &'a str,
    /// The facts asked for and not cached.
    pub missing: BTreeSet<FactKey>,
    /// Every fact asked for.
    pub read: BTreeSet<FactKey>,
}

impl FactSource for CacheSource<'_> {
    fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
        self.read.insert(key.clone());
        if let Some(value) = self.cache.get(self.context, key) {
            Ok(value.clone())
        } else {
            self.missing.insert(key.clone());
            Err(Missing(key.clone()))
        }
    }

    fn hint(&mut self, key: &FactKey) {
        self.read.insert(key.clone());
        if self.cache.get(self.context, key).is_none() {
            self.missing.insert(key.clone());
        }
    }
}

/// Why facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FactFetchError {
    /// The fact is not one oxinfra knows.
    #[error("no fact named `{0}`")]
    Unknown(String),
    /// The batch could not run.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// A fact's command failed.
    #[error("could not load fact `{key}`: exit status {status}{}", stderr_tail(.stderr))]
    Failed {
        /// The fact.
        key: FactKey,
        /// Its exit status.
        status: i32,
        /// The end of its standard error.
        stderr: Vec<String>,
    },
    /// A fact's output could not be parsed.
    #[error("{0}")]
    Process(#[from] oxinfra_facts::FactError),
    /// sudo wants a password and none was given.
    #[error("could not load facts: sudo needs a password and none was given (hint: set `_sudo_password` in the host's data, or run with --same-sudo-password)")]
    SudoPassword,
    /// The batch failed before reading any fact (a shell or privilege error).
    #[error("could not load facts: exit status {status}{}", stderr_tail(.stderr))]
    Batch {
        /// The batch's exit status.
        status: i32,
        /// The end of its standard error.
        stderr: Vec<String>,
    },
    /// The facts a fact's command depends on could not be read before it.
    #[error("could not load fact `{0}`: the facts its command depends on depend on it")]
    Dependencies(FactKey),
}

fn stderr_tail(stderr: &[String]) -> String {
    let tail: Vec<&str> = stderr.iter().rev().take(5).rev().map(String::as_str).collect();
    if tail.is_empty() { String::new() } else { format!(": {}", tail.join(" / ")) }
}

/// The command that reads one fact (a quicker equivalent of pyinfra's where there is
/// one), guarded by `command -v` when it needs a binary.
pub fn fact_command(fact: &FactDef, key: &FactKey) -> StringCommand {
    let command = oxinfra_facts::quick::command(fact.name).unwrap_or_else(|| (fact.command)(&key.values));
    match fact.requires_command {
        Some(requires) => StringCommand::raw("if command -v")
            .quoted(requires(&key.values))
            .text(">/dev/null 2>&1; then (")
            .nested(command)
            .text(format!("\n); else echo '{NO_COMMAND}'; fi")),
        None => command,
    }
}

/// The one remote command that reads every fact in `keys`, each between markers on
/// both streams so the output can be split again.
fn batch_command(keys: &[(FactKey, &FactDef)]) -> StringCommand {
    let mut script = StringCommand::new();
    script.separator = "\n".to_owned();
    for (index, (key, fact)) in keys.iter().enumerate() {
        script = script
            .text(format!("echo '{MARKER} {index}'; echo '{MARKER} {index}' >&2"))
            .nested(StringCommand::raw("(").nested(fact_command(fact, key)).text("\n) </dev/null"))
            .text(format!("printf '\\n{MARKER}-END {index} %s\\n' \"$?\""));
    }
    script
}

/// A fact's slice of the batch output.
#[derive(Debug, Default)]
struct FactOutput {
    stdout: Vec<String>,
    stderr: Vec<String>,
    status: Option<i32>,
}

fn split_batch(output: &CommandOutput, count: usize) -> Vec<FactOutput> {
    let mut parts: Vec<FactOutput> = (0..count).map(|_| FactOutput::default()).collect();
    let mut stdout_index: Option<usize> = None;
    let mut stderr_index: Option<usize> = None;
    for line in &output.lines {
        let is_stdout = line.stream == oxinfra_core::Stream::Stdout;
        if let Some(rest) = line.text.strip_prefix(MARKER) {
            if let Some(end) = rest.strip_prefix("-END ") {
                let mut fields = end.split_whitespace();
                let index: Option<usize> = fields.next().and_then(|text| text.parse().ok());
                if let Some(part) = index.and_then(|index| parts.get_mut(index)) {
                    part.status = fields.next().and_then(|text| text.parse().ok());
                    // The end marker starts with a newline of its own: drop the empty
                    // line it adds after output that already ended with one.
                    if part.stdout.last().is_some_and(String::is_empty) {
                        part.stdout.pop();
                    }
                }
                stdout_index = None;
                continue;
            }
            let index = rest.trim().parse().ok();
            if is_stdout {
                stdout_index = index;
            } else {
                stderr_index = index;
            }
            continue;
        }
        let target = if is_stdout { stdout_index } else { stderr_index };
        if let Some(part) = target.and_then(|index| parts.get_mut(index)) {
            if is_stdout {
                part.stdout.push(line.text.clone());
            } else {
                part.stderr.push(line.text.clone());
            }
        }
    }
    parts
}

/// Whether a failed fact means "that user does not exist" (pyinfra returns the default).
fn is_unknown_user(stderr: &[String]) -> bool {
    stderr.first().is_some_and(|line| {
        line.starts_with("sudo: unknown user") || (line.starts_with("su: user ") && line.ends_with("does not exist")) || line.starts_with("su: unknown login")
    })
}

/// Interprets one fact's output as pyinfra's `get_fact` does.
fn fact_value(fact: &FactDef, key: &FactKey, output: FactOutput) -> Result<Value, FactFetchError> {
    let status = output.status.unwrap_or(-1);
    if output.stdout.len() == 1 && output.stdout[0] == NO_COMMAND {
        return Ok((fact.default)());
    }
    if status != 0 {
        if is_unknown_user(&output.stderr) {
            return Ok((fact.default)());
        }
        return Err(FactFetchError::Failed {
            key: key.clone(),
            status,
            stderr: output.stderr,
        });
    }
    if output.stdout.is_empty() {
        return Ok((fact.default)());
    }
    Ok((fact.process)(&key.values, &output.stdout)?)
}

/// Splits `keys` for one round trip: the facts that can be read now, including what
/// the others depend on, each with the facts its own command depends on filled into its
/// values ([`oxinfra_facts::prepare`]; its identity, name and printed arguments, stays
/// the same); and the facts that must wait until those are cached.
pub fn prepare_keys(cache: &FactCache, context: &str, keys: &[FactKey]) -> Result<(Vec<FactKey>, Vec<FactKey>), FactFetchError> {
    let (mut ready, mut waiting) = (Vec::new(), Vec::new());
    let mut queue: VecDeque<FactKey> = keys.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    while let Some(key) = queue.pop_front() {
        if !seen.insert(key.clone()) {
            continue;
        }
        let fact = oxinfra_facts::find(&key.name).ok_or_else(|| FactFetchError::Unknown(key.name.clone()))?;
        let mut source = cache.source(context);
        if let Ok(values) = oxinfra_facts::prepare(fact, &key.values, &mut source) {
            ready.push(FactKey { values, ..key });
        } else {
            queue.extend(source.missing);
            waiting.push(key);
        }
    }
    match waiting.first() {
        Some(key) if ready.is_empty() => Err(FactFetchError::Dependencies(key.clone())),
        _ => Ok((ready, waiting)),
    }
}

/// The line that starts facts riding along at the end of an operation's commands.
const RIDE_MARKER: &str = "@@OXINFRA-FACTS-BEGIN";

/// Facts read at the end of an operation's last command, for the operation after it:
/// the host changed, so they must be read again, and this saves a round trip.
#[derive(Debug)]
pub struct RideAlong {
    known: Vec<(FactKey, &'static FactDef)>,
}

impl RideAlong {
    /// The ride for `keys`, or `None` when there is nothing to read or a fact is unknown.
    pub fn new(keys: &[FactKey]) -> Option<Self> {
        let known: Option<Vec<(FactKey, &'static FactDef)>> = keys.iter().map(|key| oxinfra_facts::find(&key.name).map(|fact| (key.clone(), fact))).collect();
        // A fact whose command depends on other facts is read when it is needed: what it
        // depends on may be what the operation changes.
        let known = known.map(|known| {
            known
                .into_iter()
                .filter(|(_, fact)| !oxinfra_facts::reads_other_facts(fact))
                .collect::<Vec<_>>()
        });
        known.filter(|known| !known.is_empty()).map(|known| Self { known })
    }

    /// The script that reads the facts, after a line of its own on both streams.
    pub fn script(&self) -> StringCommand {
        let mut script = StringCommand::new();
        script.separator = "\n".to_owned();
        script
            .text(format!("printf '\\n{RIDE_MARKER}\\n'; printf '\\n{RIDE_MARKER}\\n' >&2"))
            .nested(batch_command(&self.known))
    }

    /// Takes the facts' lines out of `output` and parses them; nothing when the
    /// commands before them failed and the facts were never read.
    pub fn take(&self, output: &mut CommandOutput) -> Result<Vec<(FactKey, Value)>, FactFetchError> {
        let mut riding = Vec::new();
        let mut kept = Vec::with_capacity(output.lines.len());
        let (mut stdout_riding, mut stderr_riding) = (false, false);
        for line in std::mem::take(&mut output.lines) {
            let is_stdout = line.stream == oxinfra_core::Stream::Stdout;
            let riding_now = if is_stdout { &mut stdout_riding } else { &mut stderr_riding };
            if *riding_now {
                riding.push(line);
            } else if line.text == RIDE_MARKER {
                *riding_now = true;
                // The marker starts with a newline of its own: drop the empty line it
                // leaves after output that already ended with one.
                if let Some(index) = kept.iter().rposition(|kept: &oxinfra_core::OutputLine| kept.stream == line.stream) {
                    if kept[index].text.is_empty() {
                        kept.remove(index);
                    }
                }
            } else {
                kept.push(line);
            }
        }
        output.lines = kept;
        if !stdout_riding {
            return Ok(Vec::new());
        }
        let parts = split_batch(
            &CommandOutput {
                exit_code: Some(0),
                lines: riding,
            },
            self.known.len(),
        );
        self.known
            .iter()
            .zip(parts)
            .map(|((key, fact), part)| Ok((key.clone(), fact_value(fact, key, part)?)))
            .collect()
    }
}

/// Reads `keys` on a host in one command, with the privilege of `arguments`.
pub async fn fetch(connector: &dyn Connector, keys: &[FactKey], arguments: &ConnectorArguments) -> Result<Vec<(FactKey, Value)>, FactFetchError> {
    let mut known = Vec::with_capacity(keys.len());
    for key in keys {
        let fact = oxinfra_facts::find(&key.name).ok_or_else(|| FactFetchError::Unknown(key.name.clone()))?;
        known.push((key.clone(), fact));
    }
    if known.is_empty() {
        return Ok(Vec::new());
    }
    // Facts never read from the operation's standard input and never need its timeout.
    let fact_arguments = ConnectorArguments {
        stdin: Vec::new(),
        success_exit_codes: vec![0],
        ..arguments.clone()
    };
    let output = connector.run_shell_command(&batch_command(&known), &fact_arguments).await?;
    let started = output
        .lines
        .iter()
        .any(|line| line.stream == oxinfra_core::Stream::Stdout && line.text.starts_with(MARKER));
    if output.lines.is_empty() && output.exit_code == Some(0) {
        // A host that runs nothing and says nothing (`@fake`): each fact's command
        // "succeeded" without output, which gives the fact's default, as in pyinfra.
        return Ok(known.into_iter().map(|(key, fact)| (key, (fact.default)())).collect());
    }
    if !started && output.exit_code != Some(0) {
        let stderr = output.stderr_lines();
        if stderr
            .iter()
            .any(|line| line == "sudo: a password is required" || line == "sudo-rs: interactive authentication is required")
        {
            return Err(FactFetchError::SudoPassword);
        }
        return Err(FactFetchError::Batch {
            status: output.exit_code.unwrap_or(-1),
            stderr,
        });
    }
    let parts = split_batch(&output, known.len());
    let mut values = Vec::with_capacity(known.len());
    for ((key, fact), part) in known.into_iter().zip(parts) {
        let value = fact_value(fact, &key, part)?;
        values.push((key, value));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxinfra_core::{OutputLine, Stream};

    fn line(stream: Stream, text: &str) -> OutputLine {
        OutputLine { stream, text: text.to_owned() }
    }

    #[test]
    fn a_dependent_fact_waits_a_round_trip_for_what_it_depends_on() -> Result<(), FactFetchError> {
        let key = |name: &str, arguments: &[(&str, Value)]| oxinfra_facts::registry::key(name, arguments);
        let port = key("server.Port", &[("port", Value::from(80))]);
        let mut cache = FactCache::default();
        let (ready, waiting) = prepare_keys(&cache, "context", &[port.clone(), key("server.Hostname", &[])])?;
        let names: Vec<String> = ready.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["server.Hostname", "server.Kernel", "server.Which (command=ss)"]);
        assert_eq!(waiting, std::slice::from_ref(&port));
        cache.insert("context", key("server.Kernel", &[]), Value::from("Linux"));
        cache.insert("context", key("server.Which", &[("command", Value::from("ss"))]), Value::from("/usr/bin/ss"));
        let (ready, waiting) = prepare_keys(&cache, "context", &waiting)?;
        assert!(waiting.is_empty());
        let fact = oxinfra_facts::find("server.Port").ok_or_else(|| FactFetchError::Unknown("server.Port".to_owned()))?;
        assert_eq!(ready, [port]);
        assert_eq!(fact_command(fact, &ready[0]).raw_value(), "ss -lptn | grep ':80 ' || true");
        Ok(())
    }

    #[tokio::test]
    async fn a_silent_host_gives_every_fact_its_default() -> Result<(), FactFetchError> {
        let key = |name: &str, arguments: &[(&str, Value)]| oxinfra_facts::registry::key(name, arguments);
        let keys = [key("files.File", &[("path", Value::from("/x"))]), key("server.Users", &[])];
        let values = fetch(&oxinfra_connectors::fake::FakeConnector, &keys, &ConnectorArguments::default()).await?;
        let defaults: Vec<Value> = keys
            .iter()
            .filter_map(|key| oxinfra_facts::find(&key.name))
            .map(|fact| (fact.default)())
            .collect();
        assert_eq!(values.into_iter().map(|(_, value)| value).collect::<Vec<_>>(), defaults);
        assert_eq!(defaults[0], Value::Null);
        Ok(())
    }

    #[test]
    fn batch_output_splits_per_fact() {
        let output = CommandOutput {
            exit_code: Some(0),
            lines: vec![
                line(Stream::Stdout, "@@OXINFRA-FACT 0"),
                line(Stream::Stdout, "host-a"),
                line(Stream::Stdout, ""),
                line(Stream::Stdout, "@@OXINFRA-FACT-END 0 0"),
                line(Stream::Stdout, "@@OXINFRA-FACT 1"),
                line(Stream::Stdout, "partial"),
                line(Stream::Stdout, "@@OXINFRA-FACT-END 1 2"),
                line(Stream::Stderr, "@@OXINFRA-FACT 1"),
                line(Stream::Stderr, "oops"),
            ],
        };
        let parts = split_batch(&output, 2);
        assert_eq!(parts[0].stdout, vec!["host-a"]);
        assert_eq!(parts[0].status, Some(0));
        assert_eq!(parts[1].stdout, vec!["partial"]);
        assert_eq!(parts[1].stderr, vec!["oops"]);
        assert_eq!(parts[1].status, Some(2));
    }
}
