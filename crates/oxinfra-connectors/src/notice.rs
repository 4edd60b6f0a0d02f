//! Results a connector reports to the person running the deploy, outside any command:
//! `docker build complete, image ID: 0123456789ab` at disconnect. pyinfra logs these at
//! its default level, so they are always shown, unlike the `log` records of the
//! connectors (shown with `-v`).
//!
//! The engine owns the output, so it installs the [`Sink`]; without one (a connector
//! used on its own) notices go to stderr in the same `    [host] text` layout.

use std::sync::{Arc, PoisonError, RwLock};

/// Receives `(host, text)` for each notice.
pub type Sink = Arc<dyn Fn(&str, &str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Sends later notices to `sink` (replacing any earlier one).
pub fn set_sink(sink: Sink) {
    *SINK.write().unwrap_or_else(PoisonError::into_inner) = Some(sink);
}

/// Reports `text` about `host`.
pub fn report(host: &str, text: &str) {
    let sink = SINK.read().unwrap_or_else(PoisonError::into_inner).clone();
    match sink {
        Some(sink) => sink(host, text),
        None => eprintln!("    [{host}] {text}"),
    }
}
