//! What happens during a run, as events, and the one narrow way the engine reports
//! them: [`Events::emit`]. Two [`Reporter`]s listen: the human output on stderr
//! ([`Human`], pyinfra's layout plus a progress line on a terminal; quiet, it shows
//! only warnings and errors) and, with `--json`, the JSON Lines stream on stdout
//! ([`JsonLines`], one object per line, described in `docs/json-events.md` and
//! `docs/json-events.schema.json`). An embedding program adds its own listeners
//! ([`Events::add_reporter`]). Events also keep what the summaries need: the commands
//! each host ran for an operation and per-host counts.
//!
//! Every text that leaves through a reporter has the run's known secrets masked (see
//! [`crate::output::add_secret`]); the engine hands events the masked form of commands.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use oxinfra_core::command::CommandPart;
use oxinfra_core::{Command, ConnectorArguments, StringCommand};
use serde::Serialize;
use serde_json::Value;

use crate::output::{self, Printer, Progress, Tone};

/// The version of the JSON event stream; bumped when a field changes meaning or goes
/// away (new fields and new event kinds do not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// A file an operation would change, for `--dry` and the `operation_plan` event.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedFile {
    /// The path on the host.
    pub path: String,
    /// `create` or `modify`.
    pub change: &'static str,
}

/// How an operation ended on a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It ran commands and succeeded.
    Success,
    /// Nothing was needed.
    NoChange,
    /// It failed; the host stops.
    Error,
    /// It failed with `_ignore_errors`; the host goes on.
    IgnoredError,
    /// The host has no such operation (a `host.when`, `_run_once` or limited host).
    Skipped,
}

/// Per-host counts for the results table and `run_end`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HostSummary {
    /// The host.
    pub host: String,
    /// Whether it connected.
    pub connected: bool,
    /// Operations that ran on it (skipped ones not counted).
    pub operations: usize,
    /// Operations that changed something.
    pub changed: usize,
    /// Operations that found nothing to do.
    pub no_change: usize,
    /// Operations that failed (ignored errors included).
    pub errors: usize,
}

/// One thing that happened. Serialized with its kind under `event`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run begins: the hosts of the inventory.
    RunStart {
        /// Host names, in inventory order.
        hosts: Vec<String>,
        /// `--dry` (or `--json` without `-y`): plan only.
        dry: bool,
        /// oxinfra's version.
        oxinfra_version: &'static str,
    },
    /// A host connected, or could not.
    HostConnect {
        /// The host.
        host: String,
        /// Whether it connected.
        ok: bool,
        /// Why not.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// What an operation would do on a host, found before the run (change detection).
    OperationPlan {
        /// The host.
        host: String,
        /// The operation's hash.
        operation: String,
        /// Its label.
        name: String,
        /// The commands that would run, wrapped as they are sent, secrets masked.
        commands: Vec<String>,
        /// The files that would change (known with `--dry` or `--diff`).
        files: Vec<PlannedFile>,
        /// Why nothing is needed, when nothing is.
        #[serde(skip_serializing_if = "Option::is_none")]
        noop: Option<String>,
    },
    /// An operation starts (on all its hosts).
    OperationStart {
        /// The operation's hash.
        operation: String,
        /// Its label.
        name: String,
        /// Its first name, bold in the header (human output only).
        #[serde(skip)]
        title: String,
        /// `Starting operation`, `Starting serial operation`, `Starting run once operation`.
        #[serde(skip)]
        heading: &'static str,
        /// The arguments shown after an automatic name.
        #[serde(skip)]
        arguments: String,
        /// Inside `python.call`.
        nested: bool,
        /// How many hosts it runs on.
        hosts: usize,
    },
    /// A command is sent to a host (the human output shows it with `-vv`).
    Command {
        /// The host.
        host: String,
        /// The operation's hash.
        operation: String,
        /// The command as shown: wrapped, secrets masked.
        command: String,
    },
    /// An operation finished on a host.
    HostResult {
        /// The host.
        host: String,
        /// The operation's hash.
        operation: String,
        /// Its label.
        name: String,
        /// How it ended.
        status: Status,
        /// Whether it changed something.
        changed: bool,
        /// The commands it sent, in order, secrets masked.
        commands: Vec<String>,
        /// How many of them completed successfully.
        executed: usize,
        /// Standard output lines.
        stdout: Vec<String>,
        /// Standard error lines.
        stderr: Vec<String>,
        /// What went wrong.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Retries it took.
        retries: u32,
        /// The most retries it was allowed (human output only).
        #[serde(skip)]
        max_retries: u32,
        /// An ignored error let the operation's later commands run (human output only).
        #[serde(skip)]
        continued: bool,
        /// Seconds it took on this host.
        duration: f64,
        /// Inside `python.call`.
        nested: bool,
    },
    /// The run ended.
    RunEnd {
        /// Whether every host succeeded.
        success: bool,
        /// The exit code oxinfra exits with.
        exit_code: i32,
        /// Why the run stopped early, if it did.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Whether Ctrl-C stopped it.
        interrupted: bool,
        /// Seconds since `run_start`.
        duration: f64,
        /// Counts per host.
        hosts: Vec<HostSummary>,
        /// pyinfra's `--json` document (`plan` and `results`).
        report: Value,
    },
}

/// Something that listens to events.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn report(&self, event: &Event);
}

/// The human output: pyinfra's lines on stderr, and the progress line on a terminal.
pub struct Human {
    printer: Printer,
    verbosity: u8,
    dry: bool,
    progress: Option<Progress>,
}

impl Human {
    /// The human reporter for hosts whose longest name is `host_width` characters.
    pub fn new(host_width: usize, verbosity: u8, dry: bool) -> Self {
        Self {
            printer: Printer::new(host_width),
            verbosity,
            dry,
            progress: Progress::for_terminal(),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the fields of one host-result event, from its one caller")]
    fn status_line(&self, host: &str, status: Status, commands: usize, retries: (u32, u32), continued: bool, nested: bool, error: Option<&str>, name: &str) {
        let prefix = if nested { "nested " } else { "" };
        let (retries, max_retries) = retries;
        match status {
            Status::Skipped => self.printer.host_line(host, "Skipped", Tone::Skipped),
            Status::NoChange => self.printer.host_line(host, &format!("{prefix}No changes"), Tone::Unchanged),
            Status::Success if retries > 0 => self.printer.host_line(host, &format!("{prefix}Success on retry {retries}"), Tone::Good),
            Status::Success => self.printer.host_line(host, &format!("{prefix}Success"), Tone::Good),
            Status::Error | Status::IgnoredError => {
                if let Some(error) = error {
                    self.printer.host_line(host, &format!("{name}: {error}"), Tone::Bad);
                }
                let retry_note = if retries > 0 {
                    format!(" (failed after {retries}/{max_retries} retries)")
                } else {
                    String::new()
                };
                let continued = if continued { ", execution continued" } else { "" };
                if status == Status::Error {
                    self.printer
                        .host_line(host, &format!("{prefix}Error: executed {commands} commands{retry_note}"), Tone::Bad);
                } else {
                    self.printer.host_line(
                        host,
                        &format!("{prefix}Error (ignored{continued}): executed {commands} commands{retry_note}"),
                        Tone::Warning,
                    );
                }
            }
        }
    }
}

impl Reporter for Human {
    fn report(&self, event: &Event) {
        match event {
            Event::RunStart { hosts, .. } => {
                if let Some(progress) = &self.progress {
                    progress.start("Connecting", hosts.len());
                }
            }
            Event::RunEnd { .. } => {
                if let Some(progress) = &self.progress {
                    progress.finish();
                }
            }
            Event::HostConnect { host, ok, error } => {
                if let Some(progress) = &self.progress {
                    progress.advance();
                }
                if *ok {
                    self.printer.host_line(host, "Connected", Tone::Good);
                } else {
                    self.printer.host_line(host, error.as_deref().unwrap_or("could not connect"), Tone::Bad);
                }
            }
            Event::OperationPlan {
                host,
                name,
                commands,
                files,
                noop,
                ..
            } => {
                if !self.dry {
                    return;
                }
                if commands.is_empty() {
                    if self.verbosity >= 1 {
                        let reason = noop.as_deref().map(|reason| format!(" ({reason})")).unwrap_or_default();
                        self.printer.host_line(host, &format!("{name}: no change{reason}"), Tone::Unchanged);
                    }
                    return;
                }
                self.printer.host_line(host, &format!("{name}: would run"), Tone::Plain);
                for command in commands {
                    self.printer.line(&format!("    >>> {command}"));
                }
                for file in files {
                    self.printer.line(&format!("    would {} {}", file.change, file.path));
                }
            }
            Event::OperationStart {
                title: name,
                heading,
                arguments,
                nested,
                hosts,
                ..
            } => {
                let shown = if arguments.is_empty() { String::new() } else { format!("({arguments})") };
                if *nested {
                    self.printer.line(&format!("Starting nested operation: {name} {shown}"));
                    return;
                }
                self.printer.operation_header(heading, name, &shown);
                if let Some(progress) = &self.progress {
                    progress.start(name, *hosts);
                }
            }
            Event::Command { host, command, .. } => {
                if self.verbosity >= 2 {
                    self.printer.host_echo(host, &format!(">>> {command}"), false);
                }
            }
            Event::HostResult {
                host,
                name,
                status,
                executed,
                retries,
                max_retries,
                continued,
                error,
                nested,
                ..
            } => {
                self.status_line(host, *status, *executed, (*retries, *max_retries), *continued, *nested, error.as_deref(), name);
                if let (Some(progress), false) = (&self.progress, *nested) {
                    progress.advance();
                }
            }
        }
    }
}

/// The `--json` stream: one JSON object per line on stdout, each with `version`,
/// `event` and `time` (seconds since the run started).
pub struct JsonLines {
    started: Instant,
}

impl JsonLines {
    /// A writer whose clock starts now.
    pub fn new() -> Self {
        Self { started: Instant::now() }
    }

    /// One event as its line (without the newline), secrets masked.
    pub fn line(&self, event: &Event) -> String {
        let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            let mut ordered = serde_json::Map::new();
            ordered.insert("version".to_owned(), SCHEMA_VERSION.into());
            ordered.insert("event".to_owned(), map.shift_remove("event").unwrap_or(Value::Null));
            let time = (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
            ordered.insert("time".to_owned(), time.into());
            ordered.append(map);
            value = Value::Object(ordered);
        }
        crate::secrets::redact_json(&mut value);
        value.to_string()
    }
}

impl Default for JsonLines {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for JsonLines {
    fn report(&self, event: &Event) {
        if matches!(event, Event::Command { .. }) {
            // Commands reach the stream inside their `host_result`.
            return;
        }
        let line = self.line(event);
        let mut stdout = std::io::stdout().lock();
        // Nothing sensible can be done when stdout is gone.
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
}

/// The engine's one way of reporting: fans events out to the reporters and keeps what
/// the summaries need.
pub struct Events {
    reporters: RwLock<Vec<Box<dyn Reporter>>>,
    /// Reporters added by an embedding program; [`Events::configure`] keeps them.
    listeners: RwLock<Vec<Box<dyn Reporter>>>,
    width: usize,
    verbosity: u8,
    dry: AtomicBool,
    json: AtomicBool,
    quiet: AtomicBool,
    started: Instant,
    commands: Mutex<HashMap<(String, String), Vec<String>>>,
    hosts: Mutex<Vec<HostSummary>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Events {
    /// Events for `hosts`, reported to the human output (see [`Events::configure`]).
    pub fn new(hosts: &[String], verbosity: u8) -> Self {
        let width = hosts.iter().map(|name| name.chars().count()).max().unwrap_or(0);
        let mut events = Self::with_reporters(hosts, vec![Box::new(Human::new(width, verbosity, false))]);
        events.width = width;
        events.verbosity = verbosity;
        events
    }

    /// Sets how the run reports, before it starts: `dry` lists what would run, and
    /// `json` adds the JSON Lines stream on stdout.
    pub fn configure(&self, dry: bool, json: bool) {
        self.dry.store(dry, Ordering::Release);
        self.json.store(json, Ordering::Release);
        self.rebuild();
    }

    /// Quiet: the human output shows only warnings and errors (connection failures,
    /// failed operations, retries), as pyinfra's API does without a logging setup.
    pub fn set_quiet(&self, quiet: bool) {
        self.quiet.store(quiet, Ordering::Release);
        self.rebuild();
    }

    fn rebuild(&self) {
        let mut human = Human::new(self.width, self.verbosity, self.dry());
        if self.quiet.load(Ordering::Acquire) {
            human.printer.set_quiet(true);
            human.progress = None;
        }
        let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(human)];
        if self.json.load(Ordering::Acquire) {
            reporters.push(Box::new(JsonLines::new()));
        }
        *self.reporters.write().unwrap_or_else(PoisonError::into_inner) = reporters;
    }

    /// Adds a listener that gets every event from now on, after the built-in reporters.
    pub fn add_reporter(&self, reporter: Box<dyn Reporter>) {
        self.listeners.write().unwrap_or_else(PoisonError::into_inner).push(reporter);
    }

    /// Whether the run only plans (`--dry`, or `--json` without `-y`).
    pub fn dry(&self) -> bool {
        self.dry.load(Ordering::Acquire)
    }

    /// Events reported to `reporters` only (tests, embedding programs).
    pub fn with_reporters(hosts: &[String], reporters: Vec<Box<dyn Reporter>>) -> Self {
        let summaries = hosts
            .iter()
            .map(|host| HostSummary {
                host: host.clone(),
                ..HostSummary::default()
            })
            .collect();
        Self {
            reporters: RwLock::new(reporters),
            listeners: RwLock::new(Vec::new()),
            width: 0,
            verbosity: 0,
            dry: AtomicBool::new(false),
            json: AtomicBool::new(false),
            quiet: AtomicBool::new(false),
            started: Instant::now(),
            commands: Mutex::new(HashMap::new()),
            hosts: Mutex::new(summaries),
        }
    }

    /// Reports `event` to every reporter, after keeping what the summaries need.
    pub fn emit(&self, mut event: Event) {
        match &mut event {
            Event::HostConnect { host, ok, .. } => {
                if let Some(summary) = lock(&self.hosts).iter_mut().find(|summary| summary.host == *host) {
                    summary.connected = *ok;
                }
            }
            Event::Command { host, operation, command } => {
                lock(&self.commands).entry((host.clone(), operation.clone())).or_default().push(command.clone());
            }
            Event::HostResult {
                host,
                operation,
                status,
                commands,
                nested,
                ..
            } => {
                if commands.is_empty() {
                    *commands = lock(&self.commands).remove(&(host.clone(), operation.clone())).unwrap_or_default();
                }
                if !*nested && *status != Status::Skipped {
                    if let Some(summary) = lock(&self.hosts).iter_mut().find(|summary| summary.host == *host) {
                        summary.operations += 1;
                        match status {
                            Status::Success => summary.changed += 1,
                            Status::NoChange => summary.no_change += 1,
                            Status::Error | Status::IgnoredError => summary.errors += 1,
                            Status::Skipped => {}
                        }
                    }
                }
            }
            Event::RunEnd { duration, hosts, .. } => {
                *duration = (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
                if hosts.is_empty() {
                    hosts.clone_from(&lock(&self.hosts));
                }
            }
            _ => {}
        }
        for reporter in self.reporters.read().unwrap_or_else(PoisonError::into_inner).iter() {
            reporter.report(&event);
        }
        for listener in self.listeners.read().unwrap_or_else(PoisonError::into_inner).iter() {
            listener.report(&event);
        }
    }

    /// The commands reported for an operation on a host so far (taken out).
    pub fn take_commands(&self, host: &str, operation: &str) -> Vec<String> {
        lock(&self.commands).remove(&(host.to_owned(), operation.to_owned())).unwrap_or_default()
    }

    /// Per-host counts so far.
    pub fn host_summaries(&self) -> Vec<HostSummary> {
        lock(&self.hosts).clone()
    }

    /// The per-host results table, after pyinfra's per-operation one: operations run,
    /// changed, unchanged and failed on each host; `(not connected)` after a host that
    /// never connected.
    pub fn print_host_table(&self, printer: &Printer) {
        let show = |count: usize| if count == 0 { "-".to_owned() } else { count.to_string() };
        let rows: Vec<Vec<String>> = self
            .host_summaries()
            .into_iter()
            .map(|summary| {
                let host = if summary.connected {
                    summary.host
                } else {
                    format!("{} (not connected)", summary.host)
                };
                vec![
                    host,
                    show(summary.operations),
                    show(summary.changed),
                    show(summary.no_change),
                    show(summary.errors),
                ]
            })
            .collect();
        printer.line("");
        printer.table(&["Host", "Operations", "Changed", "No Change", "Error"], &rows);
    }

    /// Remembers the secrets of `arguments` (passwords, secret environment values) so
    /// that no output shows them.
    pub fn learn_arguments(arguments: &ConnectorArguments) {
        for secret in arguments.secrets() {
            output::add_secret(secret);
        }
    }

    /// Remembers the secret parts of a command.
    pub fn learn_command(command: &Command) {
        if let Command::Shell { command } = command {
            Self::learn_string_command(command);
        }
    }

    fn learn_string_command(command: &StringCommand) {
        fn walk(part: &CommandPart) {
            match part {
                CommandPart::Raw(_) => {}
                CommandPart::Secret(secret) => output::add_secret(secret),
                CommandPart::Quoted(parts) => parts.iter().for_each(walk),
                CommandPart::Nested(command) => command.parts.iter().for_each(walk),
            }
        }
        command.parts.iter().for_each(walk);
    }
}

/// A command as people see it, in `-vv`, `--dry` and `--json` alike: a shell command
/// wrapped as it is sent (`sh -c '...'`, sudo), secrets masked; other commands described.
/// Its secret parts are remembered for masking on the way.
pub fn command_text(command: &Command, arguments: &ConnectorArguments) -> String {
    Events::learn_command(command);
    match command {
        Command::Shell { command } => oxinfra_core::wrap::make_unix_command(command, arguments, None).masked_value(),
        other => other.display(),
    }
}

/// The label and path list of files an operation would change, from its diffs.
pub fn planned_files(diffs: &[oxinfra_operations::FileDiff]) -> Vec<PlannedFile> {
    diffs
        .iter()
        .map(|diff| PlannedFile {
            path: diff.path.clone(),
            change: if diff.before.is_some() { "modify" } else { "create" },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Collect(Arc<Mutex<Vec<String>>>);

    impl Reporter for Collect {
        fn report(&self, event: &Event) {
            lock(&self.0).push(JsonLines::new().line(event));
        }
    }

    #[test]
    fn host_result_carries_the_commands_reported_before_it() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let events = Events::with_reporters(&["web".to_owned()], vec![Box::new(Collect(Arc::clone(&seen)))]);
        events.emit(Event::Command {
            host: "web".into(),
            operation: "abc".into(),
            command: "sh -c true".into(),
        });
        events.emit(Event::HostResult {
            host: "web".into(),
            operation: "abc".into(),
            name: "Op".into(),
            status: Status::Success,
            changed: true,
            commands: Vec::new(),
            executed: 1,
            stdout: Vec::new(),
            stderr: Vec::new(),
            error: None,
            retries: 0,
            max_retries: 0,
            continued: false,
            duration: 0.1,
            nested: false,
        });
        let lines = lock(&seen).clone();
        let result: Value = serde_json::from_str(&lines[1]).unwrap_or(Value::Null);
        assert_eq!(result["event"], "host_result");
        assert_eq!(result["version"], 1);
        assert_eq!(result["commands"], serde_json::json!(["sh -c true"]));
        let summary = &events.host_summaries()[0];
        assert_eq!((summary.operations, summary.changed), (1, 1));
    }

    #[test]
    fn added_listeners_hear_every_event_whatever_the_output_settings() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let events = Events::new(&["web".to_owned()], 0);
        events.add_reporter(Box::new(Collect(Arc::clone(&seen))));
        events.set_quiet(true);
        events.configure(false, false);
        events.emit(Event::HostConnect {
            host: "web".into(),
            ok: true,
            error: None,
        });
        let lines = lock(&seen).clone();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains(r#""event":"host_connect""#), "{}", lines[0]);
    }

    #[test]
    fn json_lines_mask_known_secrets() {
        output::add_secret("events-test-hunter2");
        let line = JsonLines::new().line(&Event::HostConnect {
            host: "web".into(),
            ok: false,
            error: Some("bad password events-test-hunter2".into()),
        });
        assert!(!line.contains("events-test-hunter2"), "{line}");
        assert!(line.contains("*MASKED*"));
    }

    #[test]
    fn secret_parts_of_commands_are_learned() {
        let command = StringCommand::raw("mysql -p").secret("events-test-s3cr3t");
        Events::learn_command(&Command::shell(command));
        assert_eq!(output::mask_secrets("x events-test-s3cr3t y"), "x *MASKED* y");
    }
}
