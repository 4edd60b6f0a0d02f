//! The SSH connector: one russh connection per host, opened in `connect()` and reused
//! for every command (each on its own channel) and file transfer.
//!
//! - [`options`]: the `ssh_*` host data, type-checked.
//! - [`config`]: the effective settings, from `ssh -G` with the host data on top.
//! - [`known_hosts`]: host key verification and `StrictHostKeyChecking`.
//! - [`auth`]: key files, certificates, the agent, passwords.
//! - [`session`]: the stream (TCP, `ProxyJump`, `ProxyCommand`), handshake, retries.
//! - [`exec`]: one command on one channel; sudo passwords on standard input.
//! - [`transfer`]: atomic uploads and downloads (SFTP, or `cat` over exec).
//! - [`rsync`]: `files.rsync`, the controller's `rsync` over the system `ssh`.

pub mod auth;
pub mod config;
pub mod error;
pub mod exec;
pub mod known_hosts;
pub mod options;
pub mod rsync;
pub mod session;
pub mod transfer;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value};

pub use error::SshError;
pub use options::{OptionsError, SshOptions};

use session::Connection;

/// A host reached over SSH.
pub struct SshConnector {
    /// The inventory name, used in every message.
    name: String,
    options: SshOptions,
    connection: Mutex<Option<Arc<Connection>>>,
    /// Serialises connecting, so concurrent first uses open one connection.
    connecting: tokio::sync::Mutex<()>,
}

impl SshConnector {
    /// A connector for the inventory host `name` (`web1` or `@ssh/web1`) and its data.
    pub fn from_data(name: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let default_hostname = name.strip_prefix("@ssh/").unwrap_or(name);
        Ok(Self::new(name, SshOptions::from_data(default_hostname, data)?))
    }

    /// A connector for `name` with already-read options.
    pub fn new(name: &str, options: SshOptions) -> Self {
        Self {
            name: name.to_owned(),
            options,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<Arc<Connection>> {
        self.connection.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The open connection, connecting first when needed.
    async fn connection(&self) -> Result<Arc<Connection>, ConnectorError> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let _guard = self.connecting.lock().await;
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let connection = Arc::new(session::open(&self.name, &self.options).await?);
        *self.connection.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&connection));
        Ok(connection)
    }
}

impl std::fmt::Debug for SshConnector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The options hold passwords: show only the name.
        formatter.debug_struct("SshConnector").field("name", &self.name).finish_non_exhaustive()
    }
}

#[async_trait]
impl Connector for SshConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        self.connection().await.map(drop)
    }

    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        let connection = self.connection().await?;
        exec::run_command(&connection, command, arguments).await
    }

    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        let connection = self.connection().await?;
        transfer::put(&connection, source, dest, arguments).await
    }

    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        let connection = self.connection().await?;
        transfer::get(&connection, src, dest, arguments).await
    }

    async fn rsync(&self, src: &str, dest: &str, flags: &[String], arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        rsync::rsync(&self.name, &self.options, src, dest, flags, arguments).await
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        let connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(connection) = connection {
            connection.close().await;
        }
        Ok(())
    }
}
