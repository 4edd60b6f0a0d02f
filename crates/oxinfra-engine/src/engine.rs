//! The run itself: connecting, planning against batched and cached facts, executing
//! operation by operation across hosts in parallel (or `--serial`, `--no-wait`),
//! failure handling, and the summaries. The Python front registers operations during
//! prepare; everything after that happens here, entering Python only through
//! [`Hooks`] for code the user wrote in Python.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use oxinfra_core::command::{RebootStep, UploadSource};
use oxinfra_core::upload::INLINE_LIMIT;
use oxinfra_core::{Command, Connector, ConnectorArguments, FactKey, RealLocalFiles, StringCommand};
use oxinfra_operations::{FileDiff, OperationError, Plan};
use serde_json::{Map, Value, json};

use crate::events::{Event, Events, Status, planned_files};
use crate::facts::{CacheSource, FactCache, FactFetchError, RideAlong, fetch, prepare_keys, privilege_context};
use crate::hooks::Hooks;
use crate::output::{Printer, Tone};
use crate::state::{HostResult, OperationArguments, OperationCall, OperationKind, OperationMeta, Operations, StateError};

/// How a run behaves, from the CLI or the embedding program.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Where relative local paths of the deploy resolve.
    pub deploy_dir: PathBuf,
    /// `--diff`: show content changes.
    pub diff: bool,
    /// `-v` count.
    pub verbosity: u8,
    /// `--parallel`: hosts at once (0: all).
    pub parallel: usize,
    /// `--fail-percent`.
    pub fail_percent: Option<f64>,
    /// Stream every command's output (the `exec` form).
    pub print_output: bool,
}

/// How operations are spread over hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Operation by operation, hosts in parallel.
    Default,
    /// `--serial`: host by host, all operations on one host then the next.
    Serial,
    /// `--no-wait`: every host runs all its operations without waiting for the others.
    NoWait,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Every host failed.
    #[error("No hosts remaining!")]
    NoHostsRemaining,
    /// More hosts failed than `--fail-percent` allows.
    #[error("Over {limit}% of hosts failed ({actual}%)")]
    FailPercent {
        /// The allowed percentage.
        limit: f64,
        /// The failed percentage.
        actual: u32,
    },
    /// Registration or ordering failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Python code the user wrote raised at execute time.
    #[error("{0}")]
    Python(String),
    /// A nested operation failed.
    #[error("Error in nested operation: {0}")]
    Nested(String),
}

/// One host of the run.
pub struct HostEntry {
    /// Its inventory name.
    pub name: String,
    connector: Arc<dyn Connector>,
    facts: Mutex<FactCache>,
    /// The uptime `server.reboot` read before rebooting the host, in seconds.
    uptime_before_reboot: Mutex<Option<f64>>,
}

#[derive(Debug, Default)]
struct HostStatus {
    activated: BTreeSet<usize>,
    active: BTreeSet<usize>,
    failed: BTreeSet<usize>,
}

/// A run in progress.
pub struct Engine {
    settings: Settings,
    /// The human output.
    pub printer: Printer,
    /// Where the run's events go (the human output, and the `--json` stream).
    pub events: Events,
    /// Ctrl-C: stop starting work, cut running commands after a grace period.
    pub interrupt: crate::interrupt::Interrupt,
    hosts: Vec<HostEntry>,
    operations: Mutex<Operations>,
    hooks: RwLock<Option<Arc<dyn Hooks>>>,
    status: Mutex<HostStatus>,
    /// The sudo password asked for during the run: `None` before asking, `Some(None)`
    /// when there was no terminal to ask on.
    #[expect(clippy::option_option, reason = "not asked yet, asked without a terminal, asked and answered")]
    sudo_password: tokio::sync::Mutex<Option<Option<String>>>,
}

/// The marker a batch prints on standard error after each command that succeeded.
const STEP_MARKER: &str = "@@OXINFRA-STEP-DONE";

/// One script for several commands: each in its own subshell (as if run alone), the
/// next only after the previous succeeded, a marker after each success.
fn batch_script(commands: &[&StringCommand]) -> StringCommand {
    if let [command] = commands {
        return (*command).clone();
    }
    let mut script = StringCommand::new();
    script.separator = " && ".to_owned();
    for (index, command) in commands.iter().enumerate() {
        // The newline ends a trailing `# comment` before the subshell closes.
        script = script.nested(
            StringCommand::raw("(")
                .nested((*command).clone())
                .text(format!("\n) && echo '{STEP_MARKER} {index}' >&2")),
        );
    }
    script
}

/// Removes a batch's markers from its output; returns how many commands succeeded.
fn take_step_markers(output: &mut oxinfra_core::CommandOutput) -> usize {
    let before = output.lines.len();
    output
        .lines
        .retain(|line| !(line.stream == oxinfra_core::Stream::Stderr && line.text.starts_with(STEP_MARKER)));
    before - output.lines.len()
}

/// Whether a failed command's output says sudo wants a password.
fn needs_sudo_password(output: &oxinfra_core::CommandOutput) -> bool {
    output
        .lines
        .iter()
        .any(|line| line.text == "sudo: a password is required" || line.text == "sudo-rs: interactive authentication is required")
}

/// The last lines of a command's standard error, for a one-line error.
fn stderr_tail(stderr: &[String]) -> String {
    let tail: Vec<&str> = stderr.iter().map(String::as_str).filter(|line| !line.trim().is_empty()).collect();
    let tail = &tail[tail.len().saturating_sub(3)..];
    if tail.is_empty() { String::new() } else { format!(": {}", tail.join(" / ")) }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What planning a built-in operation on a host gave.
#[derive(Debug, Default)]
pub struct Planned {
    /// The commands.
    pub commands: Vec<Command>,
    /// Why nothing is needed.
    pub noop_reason: Option<String>,
    /// Content changes for `--diff`.
    pub diffs: Vec<FileDiff>,
}

/// One planning of a built-in operation against the cache, without fetching.
struct CachePlan {
    /// How planning ended (a missing fact stops it).
    result: Result<(), OperationError>,
    /// What it planned up to there.
    planned: Planned,
    /// The facts it lacked.
    missing: BTreeSet<FactKey>,
    /// Every fact it asked for.
    read: BTreeSet<FactKey>,
}

/// Why a built-in operation could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The operation refused its arguments or the host's state.
    #[error(transparent)]
    Operation(#[from] OperationError),
    /// A fact could not be read.
    #[error(transparent)]
    Fact(#[from] FactFetchError),
    /// No such operation.
    #[error("no operation named `{0}`")]
    Unknown(String),
}

/// The backup timestamp pyinfra uses (`%y%m%d%H%M`).
/// Whether an operation's consecutive shell commands go to the host as one invocation:
/// not when each must see its own standard input, run on after a failure, or may
/// succeed with another exit status than 0.
fn batches(arguments: &OperationArguments) -> bool {
    !arguments.continue_on_error && arguments.connector.stdin.is_empty() && arguments.connector.success_exit_codes == [0]
}

fn timestamp() -> String {
    chrono::Local::now().format("%y%m%d%H%M").to_string()
}

impl Engine {
    /// A run over `hosts` (name and connector each).
    pub fn new(settings: Settings, hosts: Vec<(String, Arc<dyn Connector>)>) -> Self {
        let width = hosts.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
        let count = hosts.len();
        let names: Vec<String> = hosts.iter().map(|(name, _)| name.clone()).collect();
        let events = Events::new(&names, settings.verbosity);
        let hosts = hosts
            .into_iter()
            .map(|(name, connector)| HostEntry {
                name,
                connector,
                facts: Mutex::new(FactCache::default()),
                uptime_before_reboot: Mutex::new(None),
            })
            .collect();
        Self {
            settings,
            printer: Printer::new(width),
            events,
            interrupt: crate::interrupt::Interrupt::default(),
            hosts,
            operations: Mutex::new(Operations::new(count)),
            hooks: RwLock::new(None),
            status: Mutex::new(HostStatus::default()),
            sudo_password: tokio::sync::Mutex::new(None),
        }
    }

    /// Sets the Python callbacks.
    pub fn set_hooks(&self, hooks: Arc<dyn Hooks>) {
        *self.hooks.write().unwrap_or_else(PoisonError::into_inner) = Some(hooks);
    }

    fn hooks(&self) -> Result<Arc<dyn Hooks>, RunError> {
        self.hooks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| RunError::Python("no Python front attached".to_owned()))
    }

    /// The hosts.
    pub fn hosts(&self) -> &[HostEntry] {
        &self.hosts
    }

    /// The name of host `index`.
    pub fn host_name(&self, index: usize) -> &str {
        self.hosts.get(index).map_or("?", |host| host.name.as_str())
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Hosts that connected and have not failed, in inventory order.
    pub fn active_hosts(&self) -> Vec<usize> {
        lock(&self.status).active.iter().copied().collect()
    }

    /// Hosts that failed, in inventory order.
    pub fn failed_hosts(&self) -> Vec<usize> {
        lock(&self.status).failed.iter().copied().collect()
    }

    /// Connects to every host concurrently, printing `[host] Connected` or the error.
    pub async fn connect_all(self: &Arc<Self>) -> Result<(), RunError> {
        self.events.emit(Event::RunStart {
            hosts: self.hosts.iter().map(|host| host.name.clone()).collect(),
            dry: self.events.dry(),
            oxinfra_version: env!("CARGO_PKG_VERSION"),
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(self.connection_slots()));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, host) in self.hosts.iter().enumerate() {
            let connector = Arc::clone(&host.connector);
            let slots = Arc::clone(&slots);
            tasks.spawn(async move {
                // The semaphore is never closed, so a permit always comes.
                let _permit = slots.acquire_owned().await;
                (index, connector.connect().await)
            });
        }
        let mut failed = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((index, result)) = joined else { continue };
            match result {
                Ok(()) => {
                    self.events.emit(Event::HostConnect {
                        host: self.host_name(index).to_owned(),
                        ok: true,
                        error: None,
                    });
                    let mut status = lock(&self.status);
                    status.activated.insert(index);
                    status.active.insert(index);
                }
                Err(error) => {
                    self.events.emit(Event::HostConnect {
                        host: self.host_name(index).to_owned(),
                        ok: false,
                        error: Some(error.to_string()),
                    });
                    failed.push(index);
                }
            }
        }
        if !failed.is_empty() {
            let mut status = lock(&self.status);
            status.failed.extend(failed.iter().copied());
            let attempted = self.hosts.len();
            drop(status);
            self.check_failures(attempted)?;
        }
        Ok(())
    }

    /// How many hosts may connect at once: `--parallel` when given, else what the
    /// open-file limit allows (raised to its hard maximum first), each connection taking
    /// a socket and a little room for proxies.
    fn connection_slots(&self) -> usize {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};

        if self.settings.parallel > 0 {
            return self.settings.parallel;
        }
        let soft = match getrlimit(Resource::RLIMIT_NOFILE) {
            Ok((soft, hard)) if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() => hard,
            Ok((soft, _)) => soft,
            Err(_) => 1024,
        };
        usize::try_from(soft.saturating_sub(32) / 2).unwrap_or(usize::MAX).max(1)
    }

    /// Disconnects every host, all at once (a container connector commits its image
    /// here), printing what the connectors report and any failure.
    pub async fn disconnect_all(&self) {
        let width = self.hosts.iter().map(|host| host.name.chars().count()).max().unwrap_or(0);
        oxinfra_connectors::notice::set_sink(Arc::new(move |host: &str, text: &str| Printer::new(width).host_line(host, text, Tone::Plain)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, host) in self.hosts.iter().enumerate() {
            let connector = Arc::clone(&host.connector);
            tasks.spawn(async move { (index, connector.disconnect().await) });
        }
        while let Some(joined) = tasks.join_next().await {
            // A host that cannot be disconnected cleanly is closed anyway; the reason is shown.
            if let Ok((index, Err(error))) = joined {
                self.printer.host_line(self.host_name(index), &error.to_string(), Tone::Bad);
            }
        }
    }

    /// Registers an operation call; `Ok(false)` when `_run_once` skips this host.
    pub fn register(&self, call: OperationCall) -> Result<bool, StateError> {
        Events::learn_arguments(&call.arguments.connector);
        lock(&self.operations).register(call)
    }

    /// Reads one fact on a host (from the cache when it is there).
    pub async fn get_fact(&self, host: usize, key: &FactKey, arguments: &ConnectorArguments) -> Result<Value, FactFetchError> {
        let entry = self.hosts.get(host).ok_or_else(|| FactFetchError::Unknown(format!("host {host}")))?;
        let context = privilege_context(arguments);
        if let Some(value) = lock(&entry.facts).get(&context, key) {
            return Ok(value.clone());
        }
        self.fetch_into_cache(host, std::slice::from_ref(key), arguments).await?;
        Ok(lock(&entry.facts).get(&context, key).cloned().unwrap_or(Value::Null))
    }

    async fn fetch_into_cache(&self, host: usize, keys: &[FactKey], arguments: &ConnectorArguments) -> Result<(), FactFetchError> {
        let Some(entry) = self.hosts.get(host) else { return Ok(()) };
        let context = privilege_context(arguments);
        let mut pending = keys.to_vec();
        // A fact whose command depends on other facts waits a round trip for them.
        while !pending.is_empty() {
            let (ready, waiting) = prepare_keys(&lock(&entry.facts), &context, &pending)?;
            self.fetch_batch_into_cache(host, &ready, arguments).await?;
            pending = waiting;
        }
        Ok(())
    }

    /// Reads `keys`, all ready to read, in one command and caches them.
    async fn fetch_batch_into_cache(&self, host: usize, keys: &[FactKey], arguments: &ConnectorArguments) -> Result<(), FactFetchError> {
        let Some(entry) = self.hosts.get(host) else { return Ok(()) };
        let mut arguments = std::borrow::Cow::Borrowed(arguments);
        if arguments.sudo && arguments.sudo_password.is_none() {
            if let Some(Some(password)) = self.sudo_password.lock().await.clone() {
                arguments.to_mut().sudo_password = Some(password);
            }
        }
        let values = match fetch(entry.connector.as_ref(), keys, &arguments).await {
            Err(FactFetchError::SudoPassword) if arguments.sudo && arguments.sudo_password.is_none() => {
                let Ok(Some(password)) = self.ask_sudo_password(host).await else {
                    return Err(FactFetchError::SudoPassword);
                };
                arguments.to_mut().sudo_password = Some(password);
                fetch(entry.connector.as_ref(), keys, &arguments).await?
            }
            other => other?,
        };
        let context = privilege_context(&arguments);
        let mut cache = lock(&entry.facts);
        for (key, value) in values {
            if self.settings.verbosity >= 1 {
                self.printer.host_line(&entry.name, &format!("Loaded fact {key}"), Tone::Plain);
            }
            cache.insert(&context, key, value);
        }
        Ok(())
    }

    /// Runs one command on a host now (for facts written in Python).
    pub async fn run_command(
        &self,
        host: usize,
        command: &oxinfra_core::StringCommand,
        arguments: &ConnectorArguments,
    ) -> Result<oxinfra_core::CommandOutput, oxinfra_core::ConnectorError> {
        let entry = self
            .hosts
            .get(host)
            .ok_or_else(|| oxinfra_core::ConnectorError::Connect(format!("no host {host}")))?;
        entry.connector.run_shell_command(&crate::secrets::mark_command(command), arguments).await
    }

    /// Drops the facts of `host` that `kind` may have changed by running.
    fn invalidate_facts(&self, host: usize, kind: &OperationKind) {
        let footprint = match kind {
            OperationKind::Builtin { planner, arguments } => oxinfra_operations::footprint::footprint(planner, arguments),
            OperationKind::Python { .. } => oxinfra_operations::footprint::Footprint::Anything,
        };
        if let Some(entry) = self.hosts.get(host) {
            lock(&entry.facts).invalidate(&footprint);
        }
    }

    /// Plans a built-in operation against the cache once, without fetching: the result,
    /// what it planned, the facts it lacked and every fact it asked for.
    fn plan_against_cache(
        &self,
        host: usize,
        planner: &str,
        arguments: &Map<String, Value>,
        operation_arguments: &OperationArguments,
        want_diff: bool,
    ) -> Result<CachePlan, PlanError> {
        let operation = oxinfra_operations::find(planner).ok_or_else(|| PlanError::Unknown(planner.to_owned()))?;
        let context = privilege_context(&operation_arguments.connector);
        let entry = self.hosts.get(host).ok_or_else(|| PlanError::Unknown(format!("host {host}")))?;
        let cache = lock(&entry.facts);
        let mut source: CacheSource<'_> = cache.source(&context);
        let local_files = RealLocalFiles;
        let mut plan = Plan::new(&mut source, &local_files, self.settings.deploy_dir.clone(), timestamp());
        plan.want_diff = want_diff;
        plan.temp_dir = Some(operation_arguments.connector.temp_dir.clone().unwrap_or_else(|| "/tmp".to_owned()));
        let result = (operation.plan)(arguments, &mut plan);
        let planned = Planned {
            commands: std::mem::take(&mut plan.commands),
            noop_reason: plan.noop_reason.take(),
            diffs: std::mem::take(&mut plan.diffs),
        };
        drop(plan);
        Ok(CachePlan {
            result,
            planned,
            missing: std::mem::take(&mut source.missing),
            read: std::mem::take(&mut source.read),
        })
    }

    /// Plans a built-in operation against the cache once; the facts it lacks come back
    /// in `missing` instead of an error.
    fn plan_once(
        &self,
        host: usize,
        planner: &str,
        arguments: &Map<String, Value>,
        operation_arguments: &OperationArguments,
    ) -> Result<(Planned, BTreeSet<FactKey>), PlanError> {
        let CachePlan { result, planned, missing, .. } =
            self.plan_against_cache(host, planner, arguments, operation_arguments, self.settings.diff || self.events.dry())?;
        match result {
            Ok(()) => Ok((planned, BTreeSet::new())),
            Err(OperationError::Missing(_)) => Ok((planned, missing)),
            Err(error) => Err(error.into()),
        }
    }

    /// The facts the host's next operation reads, when they can ride along with this
    /// operation's last command: both built-in, same privilege and shell.
    fn next_operation_facts(&self, host: usize, hash: &str, arguments: &OperationArguments) -> Option<RideAlong> {
        let (kind, next_arguments) = {
            let operations = lock(&self.operations);
            let order = operations.host_order.get(host)?;
            let position = order.iter().position(|candidate| candidate == hash)?;
            let by_hash = operations.host_operations.get(host)?;
            let next = order[position + 1..]
                .iter()
                .filter_map(|candidate| by_hash.get(candidate))
                .find(|operation| operation.result.is_none())?;
            (next.kind.clone(), next.arguments.clone())
        };
        let OperationKind::Builtin {
            planner,
            arguments: planner_arguments,
        } = kind
        else {
            return None;
        };
        let same_context = privilege_context(&next_arguments.connector) == privilege_context(&arguments.connector)
            && next_arguments.connector.shell_executable == arguments.connector.shell_executable;
        if !same_context {
            return None;
        }
        let read = self.facts_read(host, &planner, &planner_arguments, &next_arguments)?;
        RideAlong::new(&read)
    }

    /// Every fact a built-in operation reads when planned against the cache now (only
    /// which facts it reads matters here, not whether it plans).
    fn facts_read(&self, host: usize, planner: &str, arguments: &Map<String, Value>, operation_arguments: &OperationArguments) -> Option<Vec<FactKey>> {
        let plan = self.plan_against_cache(host, planner, arguments, operation_arguments, false).ok()?;
        Some(plan.read.into_iter().collect())
    }

    /// Plans a built-in operation on a host, fetching the facts it needs in batches.
    pub async fn plan(
        &self,
        host: usize,
        planner: &str,
        arguments: &Map<String, Value>,
        operation_arguments: &OperationArguments,
    ) -> Result<Planned, PlanError> {
        loop {
            let (planned, missing) = self.plan_once(host, planner, arguments, operation_arguments)?;
            if missing.is_empty() {
                return Ok(self.inline_uploads(planned, operation_arguments));
            }
            let keys: Vec<FactKey> = missing.into_iter().collect();
            self.fetch_into_cache(host, &keys, &operation_arguments.connector).await?;
        }
    }

    /// Turns the small uploads of an operation whose commands go to the host as one
    /// invocation into shell commands of that invocation (`oxinfra_core::upload`), so that
    /// an upload costs no round trip of its own. Bigger files, unreadable ones (the run
    /// reports the error) and operations whose commands run one by one keep the upload.
    fn inline_uploads(&self, mut planned: Planned, arguments: &OperationArguments) -> Planned {
        if !batches(arguments) {
            return planned;
        }
        for command in &mut planned.commands {
            let Command::Upload { source, dest } = command else { continue };
            let content = match source {
                UploadSource::Content(bytes) => Some(bytes.clone()),
                UploadSource::Path(path) => {
                    let path = self.settings.deploy_dir.join(&*path);
                    let small = std::fs::metadata(&path).is_ok_and(|metadata| metadata.is_file() && metadata.len() <= INLINE_LIMIT as u64);
                    small.then(|| std::fs::read(&path).ok()).flatten()
                }
            };
            if let Some(content) = content.filter(|content| content.len() <= INLINE_LIMIT) {
                *command = Command::shell(oxinfra_core::upload::inline_upload(&content, dest));
            }
        }
        planned
    }

    /// Fetches, in one batch per privilege context, every fact the host's pending
    /// built-in operations need, repeating while planning finds more.
    async fn prefetch(&self, host: usize) {
        for _round in 0..4 {
            let pending: Vec<(OperationKind, OperationArguments)> = {
                let operations = lock(&self.operations);
                let Some(by_hash) = operations.host_operations.get(host) else { return };
                operations.host_order[host]
                    .iter()
                    .filter_map(|hash| by_hash.get(hash))
                    .filter(|operation| operation.result.is_none())
                    .map(|operation| (operation.kind.clone(), operation.arguments.clone()))
                    .collect()
            };
            let mut wanted: BTreeMap<String, (ConnectorArguments, BTreeSet<FactKey>)> = BTreeMap::new();
            for (kind, arguments) in &pending {
                let OperationKind::Builtin {
                    planner,
                    arguments: planner_arguments,
                } = kind
                else {
                    continue;
                };
                if let Ok((_, missing)) = self.plan_once(host, planner, planner_arguments, arguments) {
                    let entry = wanted
                        .entry(privilege_context(&arguments.connector))
                        .or_insert_with(|| (arguments.connector.clone(), BTreeSet::new()));
                    entry.1.extend(missing);
                }
            }
            wanted.retain(|_, (_, keys)| !keys.is_empty());
            if wanted.is_empty() {
                return;
            }
            for (arguments, keys) in wanted.into_values() {
                let keys: Vec<FactKey> = keys.into_iter().collect();
                // A fact that fails here fails again, with its error, when its operation runs.
                let _ = self.fetch_into_cache(host, &keys, &arguments).await;
            }
        }
    }

    /// Change detection before the run: plans every built-in operation of every active
    /// host against the state before the deploy, printing diffs with `--diff`.
    pub async fn detect_changes(self: &Arc<Self>) {
        let mut tasks = tokio::task::JoinSet::new();
        for host in self.active_hosts() {
            let engine = Arc::clone(self);
            tasks.spawn(async move { engine.prefetch(host).await });
        }
        while tasks.join_next().await.is_some() {}
        for host in self.active_hosts() {
            let pending: Vec<(String, OperationKind, OperationArguments)> = {
                let operations = lock(&self.operations);
                operations.host_order[host]
                    .iter()
                    .filter_map(|hash| {
                        operations.host_operations[host]
                            .get(hash)
                            .map(|operation| (hash.clone(), operation.kind.clone(), operation.arguments.clone()))
                    })
                    .collect()
            };
            for (hash, kind, arguments) in pending {
                let OperationKind::Builtin {
                    planner,
                    arguments: planner_arguments,
                } = kind
                else {
                    continue;
                };
                let will_change = match self.plan(host, &planner, &planner_arguments, &arguments).await {
                    Ok(planned) => {
                        self.print_diffs(host, &planned.diffs);
                        self.report_plan(host, &hash, &planned, &arguments);
                        !planned.commands.is_empty()
                    }
                    Err(_) => true,
                };
                self.set_will_change(host, &hash, will_change);
            }
        }
    }

    /// Records the prepare-time change guess of an operation (the Python front does so
    /// for operations written in Python).
    pub fn set_will_change(&self, host: usize, hash: &str, will_change: bool) {
        if let Some(operation) = lock(&self.operations)
            .host_operations
            .get_mut(host)
            .and_then(|operations| operations.get_mut(hash))
        {
            operation.will_change = Some(will_change);
        }
    }

    fn print_diffs(&self, host: usize, diffs: &[FileDiff]) {
        if !self.settings.diff {
            return;
        }
        for diff in diffs {
            let verb = if diff.before.is_some() { "Will modify" } else { "Will create" };
            self.printer.host_line(self.host_name(host), &format!("{verb} {}", diff.path), Tone::Plain);
            self.printer.diff(diff.before.as_deref().unwrap_or(""), &diff.after);
        }
    }

    /// Fails hosts and applies pyinfra's rules: none left, or over `--fail-percent`.
    pub fn fail_hosts(&self, hosts: &[usize]) -> Result<(), RunError> {
        if hosts.is_empty() {
            return Ok(());
        }
        let activated = {
            let mut status = lock(&self.status);
            for host in hosts {
                status.active.remove(host);
                status.failed.insert(*host);
            }
            status.activated.len()
        };
        self.check_failures(activated)
    }

    fn check_failures(&self, counted: usize) -> Result<(), RunError> {
        let status = lock(&self.status);
        if status.active.is_empty() {
            return Err(RunError::NoHostsRemaining);
        }
        if let Some(limit) = self.settings.fail_percent {
            #[expect(clippy::cast_precision_loss, reason = "host counts are far below 2^52")]
            let failed = (1.0 - status.active.len() as f64 / counted.max(1) as f64) * 100.0;
            if failed > limit {
                #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a percentage between 0 and 100")]
                return Err(RunError::FailPercent {
                    limit,
                    actual: failed.round() as u32,
                });
            }
        }
        Ok(())
    }

    /// Executes every registered operation with `strategy`.
    pub async fn run(self: &Arc<Self>, strategy: Strategy) -> Result<(), RunError> {
        let listener = self.listen_for_interrupt();
        let result = self.run_strategy(strategy).await;
        listener.abort();
        result
    }

    async fn run_strategy(self: &Arc<Self>, strategy: Strategy) -> Result<(), RunError> {
        let order = lock(&self.operations).order()?;
        let mut tasks = tokio::task::JoinSet::new();
        for host in self.active_hosts() {
            let engine = Arc::clone(self);
            tasks.spawn(async move { engine.prefetch(host).await });
        }
        while tasks.join_next().await.is_some() {}
        match strategy {
            Strategy::Default => {
                for hash in order.iter().take_while(|_| !self.interrupt.requested()) {
                    self.run_operation(hash).await?;
                }
            }
            Strategy::Serial => {
                for host in self.active_hosts() {
                    for hash in order.iter().take_while(|_| !self.interrupt.requested()) {
                        let Some(meta) = self.meta(hash) else { continue };
                        self.print_operation_header(&meta, false, 1);
                        if !self.run_on_host(host, hash, false).await? {
                            self.fail_hosts(&[host])?;
                            break;
                        }
                    }
                }
            }
            Strategy::NoWait => {
                let mut tasks = tokio::task::JoinSet::new();
                for host in self.active_hosts() {
                    let engine = Arc::clone(self);
                    let order = order.clone();
                    tasks.spawn(async move {
                        for hash in order.iter().take_while(|_| !engine.interrupt.requested()) {
                            if let Some(meta) = engine.meta(hash) {
                                engine.print_operation_header(&meta, false, 1);
                            }
                            if !engine.run_on_host(host, hash, false).await? {
                                return Ok::<_, RunError>(Some(host));
                            }
                        }
                        Ok(None)
                    });
                }
                let mut failed = Vec::new();
                while let Some(joined) = tasks.join_next().await {
                    if let Ok(result) = joined {
                        failed.extend(result?);
                    }
                }
                self.fail_hosts(&failed)?;
            }
        }
        Ok(())
    }

    fn meta(&self, hash: &str) -> Option<OperationMeta> {
        lock(&self.operations).meta.get(hash).cloned()
    }

    fn print_operation_header(&self, meta: &OperationMeta, nested: bool, hosts: usize) {
        let heading = if meta.serial {
            "Starting serial operation"
        } else if meta.run_once {
            "Starting run once operation"
        } else {
            "Starting operation"
        };
        self.events.emit(Event::OperationStart {
            operation: meta.hash.clone(),
            name: meta.label(),
            title: meta.names.first().cloned().unwrap_or_default(),
            heading,
            arguments: meta.arguments_label.clone(),
            nested,
            hosts,
        });
    }

    /// Runs one operation on every active host, in batches of `_parallel`.
    async fn run_operation(self: &Arc<Self>, hash: &str) -> Result<(), RunError> {
        let Some(meta) = self.meta(hash) else { return Ok(()) };
        let hosts = self.active_hosts();
        self.print_operation_header(&meta, false, hosts.len());
        let batch_size = if meta.serial {
            1
        } else {
            meta.parallel.filter(|size| *size > 0).unwrap_or(if self.settings.parallel > 0 {
                self.settings.parallel
            } else {
                hosts.len().max(1)
            })
        };
        let mut failed = Vec::new();
        for batch in hosts.chunks(batch_size) {
            let mut tasks = tokio::task::JoinSet::new();
            for &host in batch {
                let engine = Arc::clone(self);
                let hash = hash.to_owned();
                tasks.spawn(async move { (host, engine.run_on_host(host, &hash, false).await) });
            }
            while let Some(joined) = tasks.join_next().await {
                let Ok((host, result)) = joined else { continue };
                if !result? {
                    failed.push(host);
                }
            }
        }
        self.fail_hosts(&failed)
    }

    /// Registers and runs a nested operation (one called inside `python.call`) at once.
    pub async fn run_nested(self: &Arc<Self>, call: OperationCall) -> Result<HostResult, RunError> {
        let host = call.host;
        let hash = call.hash.clone();
        if !self.register(call)? {
            return Ok(HostResult {
                success: true,
                ..HostResult::default()
            });
        }
        if let Some(meta) = self.meta(&hash) {
            self.print_operation_header(&meta, true, 1);
        }
        self.run_on_host(host, &hash, true).await?;
        let result = self.result(host, &hash).unwrap_or_default();
        if result.success || result.ignored_error {
            Ok(result)
        } else {
            Err(RunError::Nested(result.error.unwrap_or_else(|| "failed".to_owned())))
        }
    }

    /// The result of an operation on a host, once it ran.
    pub fn result(&self, host: usize, hash: &str) -> Option<HostResult> {
        lock(&self.operations).host_operations.get(host)?.get(hash)?.result.clone()
    }

    /// Whether planning before the run found a change.
    pub fn will_change(&self, host: usize, hash: &str) -> Option<bool> {
        lock(&self.operations).host_operations.get(host)?.get(hash)?.will_change
    }

    /// Runs an operation on one host, with retries; prints the status line. Returns
    /// whether the host is still fine (success, or an ignored error).
    async fn run_on_host(self: &Arc<Self>, host: usize, hash: &str, nested: bool) -> Result<bool, RunError> {
        let operation = lock(&self.operations)
            .host_operations
            .get(host)
            .and_then(|operations| operations.get(hash).cloned());
        let name = self.host_name(host).to_owned();
        let started = std::time::Instant::now();
        let Some(operation) = operation else {
            self.report_result(host, hash, nested, &HostResult::default(), Status::Skipped, started, false);
            return Ok(true);
        };
        if self.interrupt.requested() {
            // Ctrl-C: nothing new starts; the operation stays "not run" on this host.
            return Ok(true);
        }
        let arguments = operation.arguments.clone();
        let mut result = HostResult {
            max_retries: arguments.retries,
            ..HostResult::default()
        };
        if !arguments.conditions.is_empty() {
            let hooks = self.hooks()?;
            let conditions = arguments.conditions.clone();
            let holds = tokio::task::spawn_blocking(move || hooks.conditions_hold(host, &conditions))
                .await
                .map_err(|error| RunError::Python(error.to_string()))?
                .map_err(RunError::Python)?;
            if !holds {
                result.success = true;
                self.finish(host, hash, result.clone());
                self.report_result(host, hash, nested, &result, Status::NoChange, started, false);
                return Ok(true);
            }
        }
        let mut attempt = 0;
        loop {
            let attempt_result = self.attempt(host, hash, &operation.kind, &arguments).await?;
            let retry_wanted = if attempt_result.success {
                match arguments.retry_until {
                    Some(callback) => self.ask_retry_until(host, callback, hash, &attempt_result).await?,
                    None => false,
                }
            } else {
                true
            };
            result = HostResult {
                retries: attempt,
                max_retries: arguments.retries,
                ..attempt_result
            };
            if !retry_wanted || attempt >= arguments.retries || self.interrupt.requested() {
                break;
            }
            attempt += 1;
            self.printer.host_line(
                &name,
                &format!(
                    "Retrying {} (attempt {attempt}/{}) after {}s...",
                    self.meta(hash).map(|meta| meta.label()).unwrap_or_default(),
                    arguments.retries,
                    arguments.retry_delay
                ),
                Tone::Warning,
            );
            tokio::time::sleep(Duration::from_secs_f64(arguments.retry_delay.max(0.0))).await;
        }
        if result.commands > 0 {
            self.invalidate_facts(host, &operation.kind);
            if let Some(entry) = self.hosts.get(host) {
                let mut cache = lock(&entry.facts);
                for (context, key, value) in std::mem::take(&mut result.fresh_facts) {
                    cache.insert(&context, key, value);
                }
            }
        }
        let (status, fine) = match (result.success, result.commands, arguments.ignore_errors) {
            (true, 0, _) => (Status::NoChange, true),
            (true, _, _) => (Status::Success, true),
            (false, _, true) => (Status::IgnoredError, true),
            (false, _, false) => (Status::Error, false),
        };
        result.ignored_error = status == Status::IgnoredError;
        self.report_result(host, hash, nested, &result, status, started, arguments.continue_on_error);
        self.finish(host, hash, result);
        Ok(fine)
    }

    /// Reports how an operation ended on a host (the status line, the `host_result`).
    #[expect(clippy::too_many_arguments, reason = "one call per way an operation ends, each with its own facts")]
    fn report_result(&self, host: usize, hash: &str, nested: bool, result: &HostResult, status: Status, started: std::time::Instant, continued: bool) {
        self.events.emit(Event::HostResult {
            host: self.host_name(host).to_owned(),
            operation: hash.to_owned(),
            name: self.meta(hash).map(|meta| meta.label()).unwrap_or_default(),
            status,
            changed: status == Status::Success,
            commands: Vec::new(),
            executed: result.commands,
            stdout: result.stdout.clone(),
            stderr: result.stderr.clone(),
            error: result.error.clone(),
            retries: result.retries,
            max_retries: result.max_retries,
            continued,
            duration: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            nested,
        });
    }

    /// Reports what change detection planned for an operation on a host (`--dry`).
    fn report_plan(&self, host: usize, hash: &str, planned: &Planned, arguments: &OperationArguments) {
        self.events.emit(Event::OperationPlan {
            host: self.host_name(host).to_owned(),
            operation: hash.to_owned(),
            name: self.meta(hash).map(|meta| meta.label()).unwrap_or_default(),
            commands: planned
                .commands
                .iter()
                .map(|command| crate::events::command_text(command, &arguments.connector))
                .collect(),
            files: planned_files(&planned.diffs),
            noop: planned.noop_reason.clone(),
        });
    }

    /// Listens for Ctrl-C until the returned task is aborted (see [`crate::interrupt`]).
    fn listen_for_interrupt(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let first = |grace: Duration| {
                engine.printer.line_toned(
                    &format!(
                        "Interrupted: no new operation starts; running commands get {:.0}s to finish (Ctrl-C again to stop them now)",
                        grace.as_secs_f64()
                    ),
                    Tone::Warning,
                );
            };
            let cut = || engine.printer.line_toned("Stopping running commands", Tone::Warning);
            engine.interrupt.listen(first, cut).await;
        })
    }

    /// Whether Ctrl-C stopped the run.
    pub fn interrupted(&self) -> bool {
        self.interrupt.requested()
    }

    /// Reports the end of the run: `exit_code`, and why it stopped early if it did.
    pub fn finish_run(&self, exit_code: i32, error: Option<String>, executed: bool) {
        self.events.emit(Event::RunEnd {
            success: exit_code == 0,
            exit_code,
            error,
            interrupted: self.interrupted(),
            duration: 0.0,
            hosts: Vec::new(),
            report: self.json_report(executed),
        });
    }

    async fn ask_retry_until(&self, host: usize, callback: u64, hash: &str, attempt: &HostResult) -> Result<bool, RunError> {
        let hooks = self.hooks()?;
        let output = json!({
            "stdout_lines": attempt.stdout,
            "stderr_lines": attempt.stderr,
            "commands": attempt.commands,
            "executed_commands": attempt.commands,
            "host": self.host_name(host),
            "operation": self.meta(hash).map(|meta| meta.label()).unwrap_or_default(),
        });
        tokio::task::spawn_blocking(move || hooks.retry_until(host, callback, &output))
            .await
            .map_err(|error| RunError::Python(error.to_string()))?
            .map_err(RunError::Python)
    }

    fn finish(&self, host: usize, hash: &str, result: HostResult) {
        if let Some(operation) = lock(&self.operations)
            .host_operations
            .get_mut(host)
            .and_then(|operations| operations.get_mut(hash))
        {
            operation.result = Some(result);
        }
    }

    /// One try of an operation on a host: plan (or drive the Python generator) and run
    /// each command as soon as it is known.
    async fn attempt(self: &Arc<Self>, host: usize, hash: &str, kind: &OperationKind, arguments: &OperationArguments) -> Result<HostResult, RunError> {
        let mut result = HostResult::default();
        match kind {
            OperationKind::Builtin {
                planner,
                arguments: planner_arguments,
            } => {
                let planned = match self.plan(host, planner, planner_arguments, arguments).await {
                    Ok(planned) => planned,
                    Err(error) => {
                        result.error = Some(error.to_string());
                        return Ok(result);
                    }
                };
                self.print_diffs(host, &planned.diffs);
                if let (Some(reason), true) = (&planned.noop_reason, self.settings.verbosity >= 1) {
                    self.printer.host_line(self.host_name(host), &format!("noop: {reason}"), Tone::Plain);
                }
                let batch = batches(arguments);
                let ride = if batch { self.next_operation_facts(host, hash, arguments) } else { None };
                let mut index = 0;
                while index < planned.commands.len() {
                    let run: Vec<&StringCommand> = planned.commands[index..]
                        .iter()
                        .map_while(|command| match command {
                            Command::Shell { command } if batch => Some(command),
                            _ => None,
                        })
                        .collect();
                    let last = index + run.len() == planned.commands.len();
                    let succeeded = if run.len() > 1 || (last && ride.is_some() && !run.is_empty()) {
                        index += run.len();
                        self.execute_shell_batch(host, hash, &run, arguments, ride.as_ref().filter(|_| last), &mut result)
                            .await?
                    } else {
                        index += 1;
                        self.execute(host, hash, &planned.commands[index - 1], arguments, &mut result).await?
                    };
                    if !succeeded && !arguments.continue_on_error {
                        return Ok(result);
                    }
                }
            }
            OperationKind::Python { generator } => {
                let hooks = self.hooks()?;
                let (start_hooks, generator) = (Arc::clone(&hooks), *generator);
                let handle = tokio::task::spawn_blocking(move || start_hooks.start_generator(host, generator))
                    .await
                    .map_err(|error| RunError::Python(error.to_string()))?
                    .map_err(RunError::Python)?;
                let mut failed = false;
                loop {
                    let next_hooks = Arc::clone(&hooks);
                    let next = tokio::task::spawn_blocking(move || next_hooks.next_command(host, handle))
                        .await
                        .map_err(|error| RunError::Python(error.to_string()))?;
                    let command = match next {
                        Ok(Some(command)) => command,
                        Ok(None) => break,
                        Err(error) => {
                            hooks.finish_generator(handle);
                            return Err(RunError::Python(error));
                        }
                    };
                    if !self.execute(host, hash, &command, arguments, &mut result).await? {
                        failed = true;
                        if !arguments.continue_on_error {
                            break;
                        }
                    }
                }
                hooks.finish_generator(handle);
                if failed {
                    return Ok(result);
                }
            }
        }
        result.success = result.error.is_none();
        Ok(result)
    }

    /// Runs one command; records its output in `result`; returns whether it succeeded.
    async fn execute(
        self: &Arc<Self>,
        host: usize,
        hash: &str,
        command: &Command,
        arguments: &OperationArguments,
        result: &mut HostResult,
    ) -> Result<bool, RunError> {
        let Some(entry) = self.hosts.get(host) else { return Ok(false) };
        let name = entry.name.clone();
        if self.interrupt.requested() {
            result.error = Some("not started: interrupted (Ctrl-C)".to_owned());
            return Ok(false);
        }
        self.events.emit(Event::Command {
            host: name.clone(),
            operation: hash.to_owned(),
            command: crate::events::command_text(command, &arguments.connector),
        });
        let connector_arguments = &arguments.connector;
        let outcome: Result<(), String> = match command {
            Command::Shell { command } => {
                let (_, outcome) = self.run_shell(host, &[command], connector_arguments, None, result).await?;
                outcome
            }
            Command::Upload { source, dest } => {
                let source = match source {
                    UploadSource::Path(path) if path.is_relative() => UploadSource::Path(self.settings.deploy_dir.join(path)),
                    other => other.clone(),
                };
                match self.interrupt.until_cut(entry.connector.put_file(&source, dest, connector_arguments)).await {
                    Some(result) => result.map_err(|error| error.to_string()),
                    None => Err(format!("upload to `{dest}` stopped after Ctrl-C")),
                }
            }
            Command::Download { src, dest, create_local_dir } => {
                let dest = if dest.is_relative() {
                    self.settings.deploy_dir.join(dest)
                } else {
                    dest.clone()
                };
                // pyinfra creates the folder while planning; planning here does no I/O.
                let folder = dest.parent().filter(|folder| *create_local_dir && !folder.as_os_str().is_empty());
                let created = match folder {
                    Some(folder) => tokio::fs::create_dir_all(folder)
                        .await
                        .map_err(|error| format!("cannot create local folder `{}`: {error}", folder.display())),
                    None => Ok(()),
                };
                match created {
                    Ok(()) => entry
                        .connector
                        .get_file(src, &dest, connector_arguments)
                        .await
                        .map_err(|error| error.to_string()),
                    Err(error) => Err(error),
                }
            }
            Command::Function { id, .. } => {
                let hooks = self.hooks()?;
                let function = *id;
                match tokio::task::spawn_blocking(move || hooks.call_function(host, function)).await {
                    Ok(Ok(true)) => Ok(()),
                    Ok(Ok(false)) => Err("function returned False".to_owned()),
                    Ok(Err(error)) => Err(format!("Unexpected error in Python callback: {error}")),
                    Err(error) => Err(error.to_string()),
                }
            }
            Command::Reboot { step } => self.reboot_step(host, step, connector_arguments).await,
            Command::Rsync { src, dest, flags } => {
                // A relative `src` is read from the deploy folder, keeping its trailing `/`.
                let src = if std::path::Path::new(src).is_relative() {
                    format!("{}/{src}", self.settings.deploy_dir.display())
                } else {
                    src.clone()
                };
                match entry.connector.rsync(&src, dest, flags, connector_arguments).await {
                    Ok(output) => {
                        if self.settings.print_output || self.settings.verbosity >= 3 {
                            for line in &output.lines {
                                self.printer.host_output(&name, &line.text, line.stream == oxinfra_core::Stream::Stderr);
                            }
                        }
                        let stderr = output.stderr_lines();
                        result.stdout.extend(output.stdout_lines());
                        result.stderr.extend(stderr.iter().cloned());
                        match output.exit_code {
                            Some(0) => Ok(()),
                            Some(code) => Err(format!(
                                "command `{}` failed with exit status {code}{}",
                                command.display(),
                                stderr_tail(&stderr)
                            )),
                            None => Err(format!("command `{}` was killed by a signal{}", command.display(), stderr_tail(&stderr))),
                        }
                    }
                    Err(error) => Err(format!("command `{}`: {error}", command.display())),
                }
            }
        };
        match outcome {
            Ok(()) => {
                result.commands += 1;
                Ok(true)
            }
            Err(error) => {
                result.error = Some(error);
                Ok(false)
            }
        }
    }

    /// Carries out one of `server.reboot`'s own steps on `host`.
    async fn reboot_step(&self, host: usize, step: &RebootStep, arguments: &ConnectorArguments) -> Result<(), String> {
        let Some(entry) = self.hosts.get(host) else { return Ok(()) };
        match step {
            // Sudo passwords reach the host on standard input: no helper file is left there.
            RebootStep::RemoveAnyAskpassFile | RebootStep::CleanSudoInfo => Ok(()),
            RebootStep::CaptureUptime => {
                let uptime = self.fresh_uptime(host, arguments).await?;
                *lock(&entry.uptime_before_reboot) = Some(uptime);
                Ok(())
            }
            RebootStep::WaitAndReconnect {
                delay,
                interval,
                reboot_timeout,
            } => {
                let before = lock(&entry.uptime_before_reboot).take().ok_or("the uptime before the reboot was not read")?;
                tokio::time::sleep(*delay).await;
                // The connection dies with the host: drop it now rather than find out later.
                let _ = entry.connector.disconnect().await;
                let attempts = (reboot_timeout.as_secs_f64() / interval.as_secs_f64().max(0.001)).round();
                let mut attempt = 0.0;
                loop {
                    if entry.connector.connect().await.is_ok() {
                        match self.fresh_uptime(host, arguments).await {
                            Ok(uptime) if uptime < before + delay.as_secs_f64() => return Ok(()),
                            // Still up from before the reboot, or not answering yet.
                            Ok(_) | Err(_) => {}
                        }
                    }
                    if attempt > attempts {
                        return Err(format!("Server did not reboot in time (reboot_timeout={}s)", reboot_timeout.as_secs_f64()));
                    }
                    tokio::time::sleep(*interval).await;
                    attempt += 1.0;
                }
            }
        }
    }

    /// The host's uptime in seconds, read now (the host may have rebooted since the
    /// cached value: every fact of the host is forgotten first).
    async fn fresh_uptime(&self, host: usize, arguments: &ConnectorArguments) -> Result<f64, String> {
        if let Some(entry) = self.hosts.get(host) {
            lock(&entry.facts).invalidate(&oxinfra_operations::footprint::Footprint::Anything);
        }
        let key = oxinfra_facts::registry::key("server.Uptime", &[]);
        let uptime = self.get_fact(host, &key, arguments).await.map_err(|error| error.to_string())?;
        uptime.as_f64().ok_or_else(|| format!("could not read the uptime of the host: got {uptime}"))
    }

    /// Runs consecutive shell commands of a built-in operation as one remote invocation.
    async fn execute_shell_batch(
        &self,
        host: usize,
        hash: &str,
        commands: &[&StringCommand],
        arguments: &OperationArguments,
        ride: Option<&RideAlong>,
        result: &mut HostResult,
    ) -> Result<bool, RunError> {
        if self.interrupt.requested() {
            result.error = Some("not started: interrupted (Ctrl-C)".to_owned());
            return Ok(false);
        }
        for command in commands {
            self.events.emit(Event::Command {
                host: self.host_name(host).to_owned(),
                operation: hash.to_owned(),
                command: crate::events::command_text(&Command::shell((*command).clone()), &arguments.connector),
            });
        }
        let (done, outcome) = self.run_shell(host, commands, &arguments.connector, ride, result).await?;
        result.commands += done;
        match outcome {
            Ok(()) => Ok(true),
            Err(error) => {
                result.error = Some(error);
                Ok(false)
            }
        }
    }

    /// Runs shell commands as one remote invocation (each in its own subshell, stopping
    /// at the first failure), streams or keeps their output, and describes a failure in
    /// one line: the command (secrets masked), the exit status and the end of stderr.
    /// Returns how many commands succeeded. When sudo wants a password none was given,
    /// asks for one once per run (on a terminal) and runs the commands again with it.
    async fn run_shell(
        &self,
        host: usize,
        commands: &[&StringCommand],
        arguments: &ConnectorArguments,
        ride: Option<&RideAlong>,
        result: &mut HostResult,
    ) -> Result<(usize, Result<(), String>), RunError> {
        let Some(entry) = self.hosts.get(host) else {
            return Ok((0, Err("no such host".to_owned())));
        };
        // Vault values in the text go to the host as secrets: on standard input, not the command line.
        let mut script = crate::secrets::mark_command(&batch_script(commands));
        if let Some(ride) = ride {
            let mut joined = StringCommand::new();
            joined.separator = "\n".to_owned();
            script = joined
                .nested(StringCommand::raw("(").nested(script).text("\n) && {"))
                .nested(ride.script())
                .text("}");
        }
        let shown = |done: usize| commands.get(done).or(commands.last()).map(|command| command.masked_value()).unwrap_or_default();
        let mut arguments = std::borrow::Cow::Borrowed(arguments);
        if arguments.sudo && arguments.sudo_password.is_none() {
            if let Some(Some(password)) = self.sudo_password.lock().await.clone() {
                arguments.to_mut().sudo_password = Some(password);
            }
        }
        let mut output = match self.interrupt.until_cut(entry.connector.run_shell_command(&script, &arguments)).await {
            Some(Ok(output)) => output,
            Some(Err(error)) => return Ok((0, Err(format!("command `{}`: {error}", shown(0))))),
            None => return Ok((0, Err(format!("command `{}`: stopped after Ctrl-C", shown(0))))),
        };
        if arguments.sudo && arguments.sudo_password.is_none() && output.exit_code != Some(0) && needs_sudo_password(&output) {
            let Some(password) = self.ask_sudo_password(host).await? else {
                return Ok((
                    0,
                    Err(format!(
                        "command `{}`: sudo needs a password and none was given (hint: set `_sudo_password` in the host's data, or run with --same-sudo-password)",
                        shown(0)
                    )),
                ));
            };
            arguments.to_mut().sudo_password = Some(password);
            output = match self.interrupt.until_cut(entry.connector.run_shell_command(&script, &arguments)).await {
                Some(Ok(output)) => output,
                Some(Err(error)) => return Ok((0, Err(format!("command `{}`: {error}", shown(0))))),
                None => return Ok((0, Err(format!("command `{}`: stopped after Ctrl-C", shown(0))))),
            };
        }
        if let Some(ride) = ride {
            // Facts that cannot be read now are read again when the next operation plans.
            if let Ok(values) = ride.take(&mut output) {
                let context = privilege_context(&arguments);
                result.fresh_facts.extend(values.into_iter().map(|(key, value)| (context.clone(), key, value)));
            }
        }
        let done = if commands.len() > 1 {
            take_step_markers(&mut output)
        } else {
            usize::from(output.exit_code.is_some_and(|code| arguments.is_success(code)))
        };
        if self.settings.print_output || self.settings.verbosity >= 3 {
            for line in &output.lines {
                self.printer.host_output(&entry.name, &line.text, line.stream == oxinfra_core::Stream::Stderr);
            }
        }
        let stderr = output.stderr_lines();
        result.stdout.extend(output.stdout_lines());
        result.stderr.extend(stderr.iter().cloned());
        let outcome = match output.exit_code {
            Some(code) if arguments.is_success(code) => Ok(()),
            Some(code) => Err(format!("command `{}` failed with exit status {code}{}", shown(done), stderr_tail(&stderr))),
            None => Err(format!("command `{}` was killed by a signal{}", shown(done), stderr_tail(&stderr))),
        };
        Ok((if outcome.is_ok() { commands.len() } else { done }, outcome))
    }

    /// The sudo password for hosts whose sudo asks for one: asked once per run, on a
    /// terminal only; `None` when there is no terminal to ask on.
    async fn ask_sudo_password(&self, host: usize) -> Result<Option<String>, RunError> {
        let mut asked = self.sudo_password.lock().await;
        if let Some(answer) = asked.clone() {
            return Ok(answer);
        }
        let hooks = self.hooks()?;
        let answer = tokio::task::spawn_blocking(move || hooks.ask_sudo_password(host))
            .await
            .map_err(|error| RunError::Python(error.to_string()))?
            .map_err(RunError::Python)?;
        if let Some(password) = &answer {
            crate::output::add_secret(password);
        }
        *asked = Some(answer.clone());
        Ok(answer)
    }

    fn table_operations(&self) -> (Vec<String>, Operations) {
        let operations = lock(&self.operations);
        let mut order = operations.order().unwrap_or_default();
        order.extend(operations.nested_order.iter().cloned());
        let snapshot = Operations {
            meta: operations.meta.clone(),
            host_order: operations.host_order.clone(),
            host_operations: operations.host_operations.clone(),
            nested_order: operations.nested_order.clone(),
        };
        (order, snapshot)
    }

    fn host_list(&self, hosts: &[usize]) -> String {
        if hosts.is_empty() {
            return "-".to_owned();
        }
        let mut names = hosts.iter().map(|host| self.host_name(*host)).collect::<Vec<_>>().join(", ");
        if names.chars().count() > 48 {
            names = format!("{}...", names.chars().take(48).collect::<String>());
        }
        format!("{} ({names})", hosts.len())
    }

    /// The `--> Detected changes:` table and its disclaimer.
    pub fn print_changes(&self) {
        let (order, operations) = self.table_operations();
        let mut rows = Vec::new();
        for hash in &order {
            let mut change = Vec::new();
            let mut conditional = Vec::new();
            for (host, by_hash) in operations.host_operations.iter().enumerate() {
                let Some(operation) = by_hash.get(hash) else { continue };
                if operation.will_change == Some(true) {
                    if operation.arguments.conditions.is_empty() {
                        change.push(host);
                    } else {
                        conditional.push(host);
                    }
                }
            }
            let label = operations.meta.get(hash).map(OperationMeta::label).unwrap_or_default();
            rows.push(vec![label, self.host_list(&change), self.host_list(&conditional)]);
        }
        self.printer.header("Detected changes:");
        self.printer.table(&["Operation", "Change", "Conditional Change"], &rows);
        self.printer.line("");
        for line in [
            "Detected changes may not include every change oxinfra will execute.",
            "Hidden side effects of operations may alter behaviour of future operations,",
            "this will be shown in the results. The remote state will always be updated",
            "to reflect the state defined by the input operations.",
        ] {
            self.printer.line(line);
        }
    }

    /// Per operation: `(label, hosts, success, error, no change)`.
    fn result_counts(&self) -> Vec<(String, String, [usize; 4])> {
        let (order, operations) = self.table_operations();
        let mut rows = Vec::new();
        for hash in &order {
            let mut counts = [0; 4];
            for by_hash in &operations.host_operations {
                let Some(operation) = by_hash.get(hash) else { continue };
                counts[0] += 1;
                match &operation.result {
                    Some(result) if result.success && result.commands > 0 => counts[1] += 1,
                    Some(result) if result.success => counts[3] += 1,
                    _ => counts[2] += 1,
                }
            }
            let label = operations.meta.get(hash).map(OperationMeta::label).unwrap_or_default();
            rows.push((hash.clone(), label, counts));
        }
        rows
    }

    /// The `--> Results:` table.
    pub fn print_results(&self) {
        let show = |count: usize| if count == 0 { "-".to_owned() } else { count.to_string() };
        let mut totals = [0; 4];
        let mut rows = Vec::new();
        for (_, label, counts) in self.result_counts() {
            for (total, count) in totals.iter_mut().zip(counts) {
                *total += count;
            }
            rows.push(vec![label, show(counts[0]), show(counts[1]), show(counts[2]), show(counts[3])]);
        }
        rows.push(vec![
            "Grand total".to_owned(),
            show(totals[0]),
            show(totals[1]),
            show(totals[2]),
            show(totals[3]),
        ]);
        self.printer.header("Results:");
        self.printer.table(&["Operation", "Hosts", "Success", "Error", "No Change"], &rows);
        self.events.print_host_table(&self.printer);
    }

    /// pyinfra's `--json` document: the plan, and the results once the run executed.
    pub fn json_report(&self, executed: bool) -> Value {
        let (order, operations) = self.table_operations();
        let names = |hosts: Vec<usize>| -> Vec<String> { hosts.into_iter().map(|host| self.host_name(host).to_owned()).collect() };
        let mut plan = Vec::new();
        let mut results = Vec::new();
        let mut totals = [0usize; 4];
        for hash in &order {
            let Some(meta) = operations.meta.get(hash) else { continue };
            let (mut change, mut conditional, mut hosts, mut success, mut error, mut no_change) = (vec![], vec![], vec![], vec![], vec![], vec![]);
            for (host, by_hash) in operations.host_operations.iter().enumerate() {
                let Some(operation) = by_hash.get(hash) else { continue };
                hosts.push(host);
                if operation.will_change == Some(true) {
                    if operation.arguments.conditions.is_empty() {
                        change.push(host);
                    } else {
                        conditional.push(host);
                    }
                }
                match &operation.result {
                    Some(result) if result.success && result.commands > 0 => success.push(host),
                    Some(result) if result.success => no_change.push(host),
                    _ => error.push(host),
                }
            }
            for (total, count) in totals.iter_mut().zip([hosts.len(), success.len(), error.len(), no_change.len()]) {
                *total += count;
            }
            plan.push(json!({
                "op_hash": hash, "name": meta.label(), "names": meta.names, "args": meta.arguments_label,
                "hosts_with_change": names(change), "hosts_with_conditional_change": names(conditional),
            }));
            results.push(json!({
                "op_hash": hash, "name": meta.label(), "names": meta.names, "args": meta.arguments_label,
                "hosts": names(hosts), "success": names(success), "error": names(error), "no_change": names(no_change),
            }));
        }
        let results = executed.then(|| {
            json!({
                "operations": results,
                "totals": {"hosts": totals[0], "success": totals[1], "error": totals[2], "no_change": totals[3]},
                "failed_hosts": names(self.failed_hosts()),
            })
        });
        let mut report = json!({ "plan": plan, "results": results });
        crate::secrets::redact_json(&mut report);
        report
    }
}
