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
    /// The connector cannot do this at all (`files.rsync` on a connector without rsync).
    #[error("the {connector} connector cannot {action}")]
    Unsupported {
        /// The connector's short name (`docker`, `chroot`, ...).
        connector: String,
        /// What it cannot do.
        action: &'static str,
    },
}

/// The short name of a connector type for messages: `DockerConnector` -> `docker`.
fn connector_name<C: ?Sized>() -> String {
    let full = std::any::type_name::<C>();
    let last = full.rsplit("::").next().unwrap_or(full);
    let name = last.strip_suffix("Connector").filter(|name| !name.is_empty()).unwrap_or(last);
    name.to_ascii_lowercase()
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
    /// Copies the controller's `src` to the host's `dest` by running the controller's
    /// `rsync` with `flags` (pyinfra's `RsyncCommand`). Of the privilege arguments, a
    /// connector honours what its `rsync` can (`sudo` and `sudo_user` over SSH). The
    /// output is that of the local `rsync`. Connectors that cannot rsync keep this default,
    /// which says so.
    async fn rsync(&self, src: &str, dest: &str, flags: &[String], arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        let _ = (src, dest, flags, arguments);
        Err(ConnectorError::Unsupported {
            connector: connector_name::<Self>(),
            action: "rsync",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct DockerConnector;

    #[async_trait]
    impl Connector for DockerConnector {
        async fn connect(&self) -> Result<(), ConnectorError> {
            Ok(())
        }
        async fn run_shell_command(&self, _command: &StringCommand, _arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
            Ok(CommandOutput::default())
        }
        async fn put_file(&self, _source: &UploadSource, _dest: &str, _arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
            Ok(())
        }
        async fn get_file(&self, _src: &str, _dest: &Path, _arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
            Ok(())
        }
        async fn disconnect(&self) -> Result<(), ConnectorError> {
            Ok(())
        }
    }

    #[test]
    fn connector_without_rsync_says_which_connector() {
        let connector: &dyn Connector = &DockerConnector;
        let arguments = ConnectorArguments::default();
        let error = block_on_ready(connector.rsync("src/", "/dest", &[], &arguments))
            .err()
            .map(|error| error.to_string());
        assert_eq!(error.as_deref(), Some("the docker connector cannot rsync"));
    }

    /// Polls a future that never waits (the default `rsync` returns at once).
    fn block_on_ready<F: std::future::Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the default rsync does not wait"),
        }
    }
}
