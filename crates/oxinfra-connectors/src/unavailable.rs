//! A connector for a host that cannot be served (an unknown connector, bad connector
//! data): connecting fails with the reason, so the host fails alone.

use std::path::Path;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};

/// A host that cannot be connected to, and why.
#[derive(Debug, Clone)]
pub struct Unavailable {
    reason: String,
}

impl Unavailable {
    /// A connector that fails with `reason`.
    pub fn new(reason: String) -> Self {
        Self { reason }
    }

    fn error(&self) -> ConnectorError {
        ConnectorError::Connect(self.reason.clone())
    }
}

#[async_trait]
impl Connector for Unavailable {
    async fn connect(&self) -> Result<(), ConnectorError> {
        Err(self.error())
    }

    async fn run_shell_command(&self, _command: &StringCommand, _arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        Err(self.error())
    }

    async fn put_file(&self, _source: &UploadSource, _dest: &str, _arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        Err(self.error())
    }

    async fn get_file(&self, _src: &str, _dest: &Path, _arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        Err(self.error())
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
