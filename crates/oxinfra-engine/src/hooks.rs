//! The calls the engine makes back into the Python front, for the parts of a run that
//! the user wrote in Python: `_if` conditions, `python.call` functions, operations
//! defined in Python, and `_retry_until`. The engine knows only ids; the Python front
//! keeps the objects. Implemented by `oxinfra-python`.

use oxinfra_core::Command;
use serde_json::Value;

/// Python callbacks, by id.
pub trait Hooks: Send + Sync {
    /// Whether every `_if` callable of an operation returns true on `host`.
    fn conditions_hold(&self, host: usize, conditions: &[u64]) -> Result<bool, String>;
    /// Starts a fresh run of a Python operation's generator on `host`; returns its handle.
    fn start_generator(&self, host: usize, operation: u64) -> Result<u64, String>;
    /// The generator's next command, `None` when it is done.
    fn next_command(&self, host: usize, generator: u64) -> Result<Option<Command>, String>;
    /// Forgets a generator.
    fn finish_generator(&self, generator: u64);
    /// Runs a `python.call` function on `host`; `Ok(false)` when it returned `False`.
    fn call_function(&self, host: usize, function: u64) -> Result<bool, String>;
    /// Asks `_retry_until` whether to retry, given the attempt's output.
    fn retry_until(&self, host: usize, callback: u64, output: &Value) -> Result<bool, String>;
    /// Asks the user for the sudo password (once per run); `None` without a terminal.
    fn ask_sudo_password(&self, host: usize) -> Result<Option<String>, String>;
}
