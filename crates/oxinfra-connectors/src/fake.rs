//! The `@fake` connector (pyinfra 3.10's `@fake/NAME`): every command succeeds with no
//! output and nothing is touched, so inventories and operation ordering can be tried
//! without hosts. A fact batch that prints nothing gives every fact its default (the
//! engine's `facts::fetch`), so operations plan as on an empty host.

use std::path::Path;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};

/// A host that accepts everything and has nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeConnector;

#[async_trait]
impl Connector for FakeConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn run_shell_command(&self, _command: &StringCommand, _arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        Ok(CommandOutput {
            exit_code: Some(0),
            lines: Vec::new(),
        })
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
