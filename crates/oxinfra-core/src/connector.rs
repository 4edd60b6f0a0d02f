//! The [`Connector`] trait: how the engine runs a command on a host and moves files
//! to and from it. Implementations live in `oxinfra-connectors`.

use std::path::Path;

use async_trait::async_trait;

use crate::arguments::ConnectorArguments;
use crate::command::{StringCommand, UploadSource};

/// Which stream a line of output came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a command's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputLine {
    /// Where it came from.
    pub stream: Stream,
    /// The text, without its newline.
    pub text: String,
}

/// What a finished command left behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit status; `None` when killed by a signal.
    pub exit_code: Option<i32>,
    /// Output lines in arrival order.
    pub lines: Vec<OutputLine>,
}

impl CommandOutput {
    /// The lines of one stream.
    pub fn stream_lines(&self, stream: Stream) -> Vec<String> {
        self.lines.iter().filter(|line| line.stream == stream).map(|line| line.text.clone()).collect()
    }

    /// Standard output lines.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stream_lines(Stream::Stdout)
    }

    /// Standard error lines.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stream_lines(Stream::Stderr)
    }
}

/// Why a connector could not do what was asked (as opposed to a command that ran and failed).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The host could not be reached or set up.
    #[error("could not connect: {0}")]
    Connect(String),
    /// The command did not finish within `_timeout`.
    #[error("command timed out after {seconds}s")]
    Timeout {
        /// The timeout that expired.
        seconds: f64,
    },
    /// Starting or talking to the command failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file transfer failed.
    #[error("file transfer failed: {0}")]
    Transfer(String),
}

/// A place where commands run.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Opens the connection (a no-op for local execution).
    async fn connect(&self) -> Result<(), ConnectorError>;
    /// Runs `command` wrapped as `arguments` say.
    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError>;
    /// Writes `source` to `dest` atomically (a temporary file beside it, then a rename).
    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError>;
    /// Copies the host's `src` to the controller's `dest`.
    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError>;
    /// Closes the connection and removes any helpers left on the host.
    async fn disconnect(&self) -> Result<(), ConnectorError>;
}
