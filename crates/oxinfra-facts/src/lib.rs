//! pyinfra's facts, one file per pyinfra fact module (`files.rs` is
//! `pyinfra/facts/files.py`): for each fact, the command that reads it and a pure
//! parser of that command's output. No I/O: the engine runs the commands.
//!
//! Every fact is a [`FactDef`] in the one [`registry`]. Fact values are plain data
//! (`serde_json::Value`) shaped as pyinfra's: what Python deploy code receives, what the
//! fixtures compare, what operations read.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod files;
pub mod registry;
pub mod server;

pub use registry::{FactDef, FactError, Param, bind_arguments, find, registry};
