//! `@chroot/DIR`, as pyinfra's `ChrootConnector`: commands run on this machine as
//! `chroot DIR sh -c '...'` (root needed), files travel through the same `chroot` (so
//! that paths resolve inside DIR, symlinks included) and are renamed into place.

use std::path::Path;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value};

use crate::container::{self, Helpers, Runner, Target, data_string};
use crate::process::LocalRunner;
use crate::ssh::OptionsError;

/// A root directory on this machine, entered with `chroot`.
#[derive(Debug)]
pub struct ChrootConnector {
    name: String,
    directory: String,
    helpers: Helpers,
}

impl ChrootConnector {
    /// `@chroot/DIR`: `chroot_directory` from the data, else `/DIR`.
    pub fn new(name: &str, argument: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let directory = data_string(data, "chroot_directory")?.unwrap_or_else(|| format!("/{}", argument.trim_start_matches('/')));
        Ok(Self {
            name: name.to_owned(),
            directory,
            helpers: Helpers::default(),
        })
    }
}

impl Target for ChrootConnector {
    fn host(&self) -> &str {
        &self.name
    }

    fn runner(&self) -> &dyn Runner {
        &LocalRunner
    }

    fn entry(&self, _pty: bool, _input: bool) -> Result<StringCommand, ConnectorError> {
        Ok(StringCommand::raw("chroot").quoted(self.directory.clone()))
    }

    fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    fn shares_processes(&self) -> bool {
        true
    }
}

#[async_trait]
impl Connector for ChrootConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        // As pyinfra: the root must be enterable and have a shell.
        container::check_entry(self, "chroot", &format!("chroot into `{}`", self.directory)).await
    }

    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        container::run_shell_command(self, command, arguments).await
    }

    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        container::put_file(self, source, dest, arguments).await
    }

    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        container::get_file(self, src, dest, arguments).await
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        container::remove_helpers(self).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_defaults_to_the_argument_from_the_root() {
        let connector = ChrootConnector::new("@chroot/srv/root", "srv/root", &Map::new());
        let entry = connector
            .ok()
            .and_then(|connector| connector.entry(false, false).ok())
            .map(|entry| entry.raw_value());
        assert_eq!(entry.as_deref(), Some("chroot /srv/root"));
    }

    #[test]
    fn a_missing_root_fails_at_connect_naming_host_and_directory() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| unreachable!("{error}"));
        let connector = ChrootConnector::new("@chroot/nonexistent-oxinfra", "nonexistent-oxinfra", &Map::new());
        let connector = connector.unwrap_or_else(|error| unreachable!("{error}"));
        let error = runtime.block_on(connector.connect()).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.starts_with("could not connect: `@chroot/nonexistent-oxinfra`: "), "{error}");
    }
}
