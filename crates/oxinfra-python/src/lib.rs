//! `oxinfra._core`: the Python extension, and the only crate that uses `PyO3`. It
//! converts arguments (plain data crosses as JSON text), calls the engine with the GIL
//! released, and maps engine errors to Python exceptions. What the engine hands back
//! (results, command output, error messages, events) has the run's secrets masked.
//! No domain logic lives here.
#![expect(clippy::needless_pass_by_value, reason = "PyO3 extracts Python arguments into owned values")]

mod reporter;
mod vault;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use oxinfra_core::{Command, Connector, ConnectorArguments, FactKey};
use oxinfra_engine::fixtures::{self, Outcome};
use oxinfra_engine::output::Tone;
use oxinfra_engine::state::{OperationArguments, OperationCall, OperationKind};
use oxinfra_engine::{Engine, Hooks, Settings, Strategy};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Map, Value};

pyo3::create_exception!(
    _core,
    EngineError,
    pyo3::exceptions::PyException,
    "The run stopped (no hosts remaining, too many failures, a cycle in the operation order)."
);
pyo3::create_exception!(
    _core,
    NestedOperationError,
    pyo3::exceptions::PyException,
    "An operation called inside `python.call` failed."
);

/// The process-wide runtime; created on first use.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| PyRuntimeError::new_err(error.clone()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|error| PyValueError::new_err(format!("invalid {what}: {error}")))
}

fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|error| PyValueError::new_err(error.to_string()))
}

/// JSON text of something the engine produced, with the run's secrets masked.
fn to_redacted_json(value: &impl serde::Serialize) -> PyResult<String> {
    let mut value = serde_json::to_value(value).map_err(|error| PyValueError::new_err(error.to_string()))?;
    oxinfra_engine::secrets::redact_json(&mut value);
    Ok(value.to_string())
}

/// An engine message with the run's secrets masked.
fn redacted(message: &impl ToString) -> String {
    oxinfra_engine::secrets::redact(&message.to_string()).into_owned()
}

/// Parses the command line; returns `(None, options_json, False)` or, for help, version
/// and usage errors, `(exit_code, text, to_stdout)`.
#[pyfunction]
fn parse_cli(argv: Vec<String>) -> PyResult<(Option<i32>, String, bool)> {
    match oxinfra_engine::cli::parse(&argv) {
        Ok(cli) => Ok((None, to_json(&cli)?, false)),
        Err(exit) => Ok((Some(exit.code), exit.message, exit.to_stdout)),
    }
}

/// Prints a `-->` header.
#[pyfunction]
fn header(text: &str) {
    oxinfra_engine::output::Printer::new(0).header(text);
}

/// Prints an indented line; `tone` is one of plain, good, unchanged, skipped, warning, bad.
#[pyfunction]
#[pyo3(signature = (text, tone = "plain"))]
fn line(text: &str, tone: &str) {
    oxinfra_engine::output::Printer::new(0).line_toned(text, parse_tone(tone));
}

fn parse_tone(tone: &str) -> Tone {
    match tone {
        "good" => Tone::Good,
        "unchanged" => Tone::Unchanged,
        "skipped" => Tone::Skipped,
        "warning" => Tone::Warning,
        "bad" => Tone::Bad,
        _ => Tone::Plain,
    }
}

/// The parameter names of every operation planned in Rust, as JSON `{name: [params]}`.
#[pyfunction]
fn operation_params() -> PyResult<String> {
    let map: Map<String, Value> = oxinfra_operations_params();
    to_json(&map)
}

fn oxinfra_operations_params() -> Map<String, Value> {
    oxinfra_engine::fixtures::operation_registry_params()
        .into_iter()
        .map(|(name, params)| (name, Value::from(params)))
        .collect()
}

/// The names of every fact implemented in Rust.
#[pyfunction]
fn fact_names() -> Vec<String> {
    oxinfra_engine::fixtures::fact_registry_names()
}

/// Runs one fixture case; returns `(outcome, message)`, outcome one of passed, failed,
/// `not_implemented`, skipped.
#[pyfunction]
fn run_fixture_case(kind: &str, group: &str, path: PathBuf) -> (String, String) {
    match fixtures::run_case(kind, group, &path) {
        Outcome::Passed => ("passed".to_owned(), String::new()),
        Outcome::Failed(message) => ("failed".to_owned(), message),
        Outcome::NotImplemented => ("not_implemented".to_owned(), String::new()),
        Outcome::Skipped => ("skipped".to_owned(), String::new()),
    }
}

/// Plans an operation against a fixture case (JSON) for the Python fixture runner;
/// returns `{"commands": [...], "noop": ...}` or `{"error", "message"}` as JSON.
#[pyfunction]
fn plan_fixture(planner: &str, arguments: &str, case: &str) -> PyResult<String> {
    let arguments: Map<String, Value> = from_json("operation arguments", arguments)?;
    let case: Value = from_json("fixture case", case)?;
    to_json(&fixtures::plan_with_case(planner, &arguments, &case))
}

/// A command (JSON) encoded as pyinfra's fixtures write it.
#[pyfunction]
fn encode_command(command: &str) -> PyResult<String> {
    let command: Command = from_json("command", command)?;
    to_json(&fixtures::encode_command(&command))
}

/// Loads a fixture case file (JSON or YAML) as JSON text.
#[pyfunction]
fn load_fixture(path: PathBuf) -> PyResult<String> {
    let value = fixtures::load_case(&path).map_err(PyValueError::new_err)?;
    to_json(&value)
}

/// The Python front's callback object, seen by the engine as [`Hooks`].
struct PythonHooks {
    target: Py<PyAny>,
}

impl PythonHooks {
    fn call<T, A: for<'py> pyo3::call::PyCallArgs<'py>>(
        &self,
        method: &str,
        arguments: A,
        convert: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T, String> {
        Python::attach(|py| {
            let result = self.target.bind(py).call_method1(method, arguments).and_then(|value| convert(&value));
            result.map_err(|error| {
                let text = error.to_string();
                let traceback = error.traceback(py).and_then(|traceback| traceback.format().ok()).unwrap_or_default();
                if traceback.is_empty() { text } else { format!("{text}\n{traceback}") }
            })
        })
    }
}

impl Hooks for PythonHooks {
    fn conditions_hold(&self, host: usize, conditions: &[u64]) -> Result<bool, String> {
        self.call("conditions_hold", (host, conditions.to_vec()), |value| value.extract())
    }

    fn start_generator(&self, host: usize, operation: u64) -> Result<u64, String> {
        self.call("start_generator", (host, operation), |value| value.extract())
    }

    fn next_command(&self, host: usize, generator: u64) -> Result<Option<Command>, String> {
        let text: Option<String> = self.call("next_command", (host, generator), |value| value.extract())?;
        text.map(|text| serde_json::from_str(&text).map_err(|error| format!("invalid command from Python: {error}")))
            .transpose()
    }

    fn finish_generator(&self, generator: u64) {
        // Forgetting a generator cannot fail in a way the run could act on.
        let _ = self.call("finish_generator", (generator,), |_| Ok(()));
    }

    fn call_function(&self, host: usize, function: u64) -> Result<bool, String> {
        self.call("call_function", (host, function), |value| value.extract())
    }

    fn ask_sudo_password(&self, host: usize) -> Result<Option<String>, String> {
        self.call("ask_sudo_password", (host,), |value| value.extract())
    }

    fn retry_until(&self, host: usize, callback: u64, output: &Value) -> Result<bool, String> {
        let text = serde_json::to_string(output).map_err(|error| error.to_string())?;
        self.call("retry_until", (host, callback, text), |value| value.extract())
    }
}

/// A run, driven by the Python front.
#[pyclass(module = "oxinfra._core", name = "Engine", frozen)]
struct PyEngine {
    engine: Arc<Engine>,
}

fn engine_error(error: &oxinfra_engine::RunError) -> PyErr {
    match error {
        oxinfra_engine::RunError::Nested(_) => NestedOperationError::new_err(redacted(error)),
        _ => EngineError::new_err(redacted(error)),
    }
}

fn operation_call(call: &str) -> PyResult<OperationCall> {
    #[derive(serde::Deserialize)]
    struct CallJson {
        host: usize,
        hash: String,
        order: Vec<i64>,
        name: String,
        arguments_label: String,
        planner: Option<String>,
        arguments: Option<Map<String, Value>>,
        generator: Option<u64>,
        global_arguments: OperationArguments,
        nested: bool,
    }
    let parsed: CallJson = from_json("operation call", call)?;
    let kind = match (parsed.planner, parsed.generator) {
        (Some(planner), _) => OperationKind::Builtin {
            planner,
            arguments: parsed.arguments.unwrap_or_default(),
        },
        (None, Some(generator)) => OperationKind::Python { generator },
        (None, None) => return Err(PyValueError::new_err("an operation call needs a planner or a generator")),
    };
    Ok(OperationCall {
        host: parsed.host,
        hash: parsed.hash,
        order: parsed.order,
        name: parsed.name,
        arguments_label: parsed.arguments_label,
        kind,
        arguments: parsed.global_arguments,
        nested: parsed.nested,
    })
}

#[pymethods]
impl PyEngine {
    /// A run over `hosts` (name and connector data as JSON, each) with `settings` (JSON).
    #[new]
    fn new(settings: &str, hosts: Vec<(String, String)>) -> PyResult<Self> {
        #[derive(serde::Deserialize)]
        struct SettingsJson {
            deploy_dir: PathBuf,
            diff: bool,
            verbosity: u8,
            parallel: usize,
            fail_percent: Option<f64>,
            print_output: bool,
            #[serde(default)]
            debug: bool,
        }
        let parsed: SettingsJson = from_json("settings", settings)?;
        oxinfra_engine::output::install_logger(parsed.verbosity, parsed.debug);
        let settings = Settings {
            deploy_dir: parsed.deploy_dir,
            diff: parsed.diff,
            verbosity: parsed.verbosity,
            parallel: parsed.parallel,
            fail_percent: parsed.fail_percent,
            print_output: parsed.print_output,
        };
        let mut connectors: Vec<(String, Arc<dyn Connector>)> = Vec::with_capacity(hosts.len());
        for (name, data) in hosts {
            let data: Map<String, Value> = from_json("host data", &data)?;
            let connector = oxinfra_connectors::connector_for(&name, &data);
            connectors.push((name, connector));
        }
        Ok(Self {
            engine: Arc::new(Engine::new(settings, connectors)),
        })
    }

    /// Sets the object the engine calls back for Python code.
    fn set_hooks(&self, hooks: Py<PyAny>) {
        self.engine.set_hooks(Arc::new(PythonHooks { target: hooks }));
    }

    /// Connects every host.
    fn connect_all(&self, py: Python<'_>) -> PyResult<()> {
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        py.detach(|| runtime.block_on(engine.connect_all())).map_err(|error| engine_error(&error))
    }

    /// Disconnects every host.
    fn disconnect_all(&self, py: Python<'_>) -> PyResult<()> {
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        py.detach(|| runtime.block_on(engine.disconnect_all()));
        Ok(())
    }

    /// Hosts that connected and have not failed.
    fn active_hosts(&self) -> Vec<usize> {
        self.engine.active_hosts()
    }

    /// Hosts that failed.
    fn failed_hosts(&self) -> Vec<usize> {
        self.engine.failed_hosts()
    }

    /// Registers an operation call (JSON); false when `_run_once` skips this host.
    fn register(&self, call: &str) -> PyResult<bool> {
        self.engine
            .register(operation_call(call)?)
            .map_err(|error| EngineError::new_err(redacted(&error)))
    }

    /// Reads a fact on a host; returns the value as JSON. Raises `ValueError` naming
    /// the fact when it is unknown or cannot be read.
    fn get_fact(&self, py: Python<'_>, host: usize, name: &str, positional: &str, keyword: &str, arguments: &str) -> PyResult<String> {
        let fact = oxinfra_facts::find(name).ok_or_else(|| PyValueError::new_err(format!("no fact named `{name}`")))?;
        let positional: Vec<Value> = from_json("fact arguments", positional)?;
        let keyword: Map<String, Value> = from_json("fact arguments", keyword)?;
        let bound = oxinfra_facts::bind_arguments(fact, &positional, &keyword).map_err(|error| PyValueError::new_err(redacted(&error)))?;
        let arguments: ConnectorArguments = from_json("global arguments", arguments)?;
        let key = FactKey::new(name, &bound);
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        let value = py.detach(|| runtime.block_on(async { engine.get_fact(host, &key, &arguments).await }));
        to_json(&value.map_err(|error| PyRuntimeError::new_err(redacted(&error)))?)
    }

    /// A fact's default value (what it is when it cannot be read) as JSON.
    #[staticmethod]
    fn fact_default(name: &str) -> PyResult<String> {
        let fact = oxinfra_facts::find(name).ok_or_else(|| PyValueError::new_err(format!("no fact named `{name}`")))?;
        to_json(&(fact.default)())
    }

    /// Fails a host (it leaves the run); raises `EngineError` when no host is left or
    /// more than `FAIL_PERCENT` failed.
    fn fail_host(&self, host: usize) -> PyResult<()> {
        self.engine.fail_hosts(&[host]).map_err(|error| engine_error(&error))
    }

    /// Plans a built-in operation on a host against live facts; returns
    /// `{"commands": [...], "noop": reason}` or `{"error": class, "message": text}` as JSON.
    fn plan(&self, py: Python<'_>, host: usize, planner: &str, arguments: &str, global_arguments: &str) -> PyResult<String> {
        let arguments: Map<String, Value> = from_json("operation arguments", arguments)?;
        let global_arguments: OperationArguments = from_json("global arguments", global_arguments)?;
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        let result = py.detach(|| runtime.block_on(async { engine.plan(host, planner, &arguments, &global_arguments).await }));
        let value = match result {
            Ok(planned) => serde_json::json!({"commands": planned.commands, "noop": planned.noop_reason}),
            Err(oxinfra_engine::engine::PlanError::Operation(error)) => serde_json::json!({"error": error.class_name(), "message": redacted(&error)}),
            Err(error) => serde_json::json!({"error": "OperationError", "message": redacted(&error)}),
        };
        // The commands are run as they are: the secrets in them must reach the host.
        to_json(&value)
    }

    /// Runs a command (JSON `StringCommand`) on a host now; returns
    /// `{"success", "stdout", "stderr"}` as JSON.
    fn run_command(&self, py: Python<'_>, host: usize, command: &str, arguments: &str) -> PyResult<String> {
        let command: oxinfra_core::StringCommand = from_json("command", command)?;
        let arguments: ConnectorArguments = from_json("global arguments", arguments)?;
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        let output = py.detach(|| runtime.block_on(async { engine.run_command(host, &command, &arguments).await }));
        let value = match output {
            Ok(output) => serde_json::json!({
                "success": output.exit_code.is_some_and(|code| arguments.is_success(code)),
                "stdout": output.stdout_lines(),
                "stderr": output.stderr_lines(),
            }),
            Err(error) => serde_json::json!({"success": false, "stdout": [], "stderr": [error.to_string()]}),
        };
        to_redacted_json(&value)
    }

    /// Plans every built-in operation before the run (change detection).
    fn detect_changes(&self, py: Python<'_>) -> PyResult<()> {
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        py.detach(|| runtime.block_on(engine.detect_changes()));
        Ok(())
    }

    /// Records a prepare-time change guess.
    fn set_will_change(&self, host: usize, hash: &str, will_change: bool) {
        self.engine.set_will_change(host, hash, will_change);
    }

    /// The prepare-time change guess, if any.
    fn will_change(&self, host: usize, hash: &str) -> Option<bool> {
        self.engine.will_change(host, hash)
    }

    /// Executes the run: `strategy` is default, serial or `no_wait`.
    fn run(&self, py: Python<'_>, strategy: &str) -> PyResult<()> {
        let strategy = match strategy {
            "serial" => Strategy::Serial,
            "no_wait" => Strategy::NoWait,
            _ => Strategy::Default,
        };
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        py.detach(|| runtime.block_on(engine.run(strategy))).map_err(|error| engine_error(&error))
    }

    /// Registers and runs a nested operation at once; returns its result as JSON.
    fn run_nested(&self, py: Python<'_>, call: &str) -> PyResult<String> {
        let call = operation_call(call)?;
        let engine = Arc::clone(&self.engine);
        let runtime = runtime()?;
        let result = py.detach(|| runtime.block_on(engine.run_nested(call))).map_err(|error| engine_error(&error))?;
        to_redacted_json(&result)
    }

    /// An operation's result on a host as JSON, or `None` before it ran.
    fn result(&self, host: usize, hash: &str) -> PyResult<Option<String>> {
        self.engine.result(host, hash).map(|result| to_redacted_json(&result)).transpose()
    }

    /// Prints the detected-changes table.
    fn print_changes(&self) {
        self.engine.print_changes();
    }

    /// Prints the results table.
    fn print_results(&self) {
        self.engine.print_results();
    }

    /// pyinfra's `--json` document.
    fn json_report(&self, executed: bool) -> PyResult<String> {
        to_redacted_json(&self.engine.json_report(executed))
    }

    /// Calls `callback(event_json)` with every event of the run from now on, as it
    /// happens (in the engine's threads, the GIL taken); secrets are masked.
    fn add_listener(&self, callback: Py<PyAny>) {
        self.engine.events.add_reporter(Box::new(reporter::PythonReporter::new(callback)));
    }

    /// Quiet: the human output on stderr shows only warnings and errors (embedding
    /// programs); not quiet: everything the `oxinfra` command shows.
    fn set_quiet(&self, quiet: bool) {
        self.engine.events.set_quiet(quiet);
        self.engine.printer.set_quiet(quiet);
    }

    /// Sets how the run reports: `dry` lists what would run (`--dry`), `json` adds the
    /// event stream on stdout (`--json`). Call before connecting.
    fn configure_output(&self, dry: bool, json: bool) {
        self.engine.events.configure(dry, json);
    }

    /// Whether Ctrl-C stopped the run.
    fn interrupted(&self) -> bool {
        self.engine.interrupted()
    }

    /// Reports the end of the run (the `run_end` event): the exit code, why it stopped
    /// early if it did, and whether operations were executed.
    #[pyo3(signature = (exit_code, error = None, executed = true))]
    fn finish_run(&self, exit_code: i32, error: Option<String>, executed: bool) {
        self.engine.finish_run(exit_code, error, executed);
    }

    /// Prints `[host] text`.
    #[pyo3(signature = (host, text, tone = "plain"))]
    fn host_line(&self, host: usize, text: &str, tone: &str) {
        self.engine.printer.host_line(self.engine.host_name(host), text, parse_tone(tone));
    }
}

/// The `oxinfra._core` module.
#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(parse_cli, module)?)?;
    module.add_function(wrap_pyfunction!(header, module)?)?;
    module.add_function(wrap_pyfunction!(line, module)?)?;
    module.add_function(wrap_pyfunction!(operation_params, module)?)?;
    module.add_function(wrap_pyfunction!(fact_names, module)?)?;
    module.add_function(wrap_pyfunction!(run_fixture_case, module)?)?;
    module.add_function(wrap_pyfunction!(load_fixture, module)?)?;
    module.add_function(wrap_pyfunction!(plan_fixture, module)?)?;
    module.add_function(wrap_pyfunction!(encode_command, module)?)?;
    vault::register(module)?;
    module.add_class::<PyEngine>()?;
    module.add("EngineError", module.py().get_type::<EngineError>())?;
    module.add("NestedOperationError", module.py().get_type::<NestedOperationError>())?;
    Ok(())
}
