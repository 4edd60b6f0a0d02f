//! Engine events handed to Python as they happen: a [`Reporter`] holding a Python
//! callable, called with each event as JSON text (secrets masked) while the engine
//! waits. The Python front turns the events into pyinfra's state callbacks; what an
//! event means lives there and in `oxinfra_engine::events`, not here.

use oxinfra_engine::events::{Event, Reporter};
use pyo3::prelude::*;
use serde_json::Value;

/// Calls a Python callable with every event.
pub struct PythonReporter {
    callback: Py<PyAny>,
}

impl PythonReporter {
    /// A reporter calling `callback(event_json)`.
    pub fn new(callback: Py<PyAny>) -> Self {
        Self { callback }
    }

    fn call(&self, text: &str) {
        Python::attach(|py| {
            if let Err(error) = self.callback.call1(py, (text,)) {
                // A listener cannot stop the run; the front keeps its own errors, so
                // this is only for a callable that lets one escape.
                error.write_unraisable(py, Some(self.callback.bind(py)));
            }
        });
    }
}

/// The event as the front reads it: its JSON form plus the fields the human output
/// keeps to itself that pyinfra's callbacks pass on (`max_retries`), secrets masked.
pub fn event_json(event: &Event) -> String {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let (Event::HostResult { max_retries, .. }, Value::Object(map)) = (event, &mut value) {
        map.insert("max_retries".to_owned(), Value::from(*max_retries));
    }
    oxinfra_engine::secrets::redact_json(&mut value);
    value.to_string()
}

impl Reporter for PythonReporter {
    fn report(&self, event: &Event) {
        let text = event_json(event);
        // On a runtime worker, waiting for the interpreter must not hold up the worker's
        // other tasks, and the callable may call back into the engine (which blocks on
        // the runtime): `block_in_place` hands the worker on and leaves the runtime.
        let on_worker = tokio::runtime::Handle::try_current().is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker {
            tokio::task::block_in_place(|| self.call(&text));
        } else {
            self.call(&text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_results_carry_their_retry_limit_and_mask_secrets() {
        oxinfra_engine::secrets::register("reporter-test-hunter2");
        let text = event_json(&Event::HostResult {
            host: "web".into(),
            operation: "abc".into(),
            name: "Op".into(),
            status: oxinfra_engine::events::Status::Error,
            changed: false,
            commands: Vec::new(),
            executed: 0,
            stdout: Vec::new(),
            stderr: vec!["bad password reporter-test-hunter2".into()],
            error: None,
            retries: 2,
            max_retries: 3,
            continued: false,
            duration: 0.1,
            nested: false,
        });
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(value["event"], "host_result");
        assert_eq!((value["retries"].as_u64(), value["max_retries"].as_u64()), (Some(2), Some(3)));
        assert!(!text.contains("reporter-test-hunter2"), "{text}");
    }
}
