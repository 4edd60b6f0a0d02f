//! The vocabulary every oxinfra crate shares: shell commands built from typed parts
//! ([`command`]), the global operation arguments that say how a command runs
//! ([`arguments`]), the wrapping of a command for sudo/su/doas and the shell ([`wrap`]),
//! fact keys and the [`facts::FactSource`] trait that planning reads through, the local
//! file access planning may use ([`local_files`]), small uploads written by a shell
//! command ([`upload`]), and the [`connector::Connector`] trait.
//!
//! Nothing here does I/O or depends on an async runtime or on Python.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod arguments;
pub mod command;
pub mod connector;
pub mod facts;
pub mod local_files;
pub mod pyrepr;
pub mod upload;
pub mod wrap;

pub use arguments::ConnectorArguments;
pub use command::{Command, CommandPart, StringCommand, shell_quote};
pub use connector::{CommandOutput, Connector, ConnectorError, OutputLine, Stream};
pub use facts::{FactKey, FactSource, Missing};
pub use local_files::{LocalFiles, RealLocalFiles};
