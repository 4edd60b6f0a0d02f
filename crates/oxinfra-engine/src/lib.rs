//! The run: inventory and data, operation order across hosts, batched and cached
//! facts, parallel execution through connectors, events and the human output. Also the
//! runner of pyinfra-format fixtures ([`fixtures`]) and the command line ([`cli`]).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cli;
pub mod engine;
pub mod events;
pub mod facts;
pub mod fixtures;
pub mod hooks;
pub mod interrupt;
pub mod output;
pub mod secrets;
pub mod state;

pub use engine::{Engine, Planned, RunError, Settings, Strategy};
pub use hooks::Hooks;
