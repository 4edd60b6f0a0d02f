//! `@docker/IMAGE_OR_CONTAINER` and `@podman/...` (the tool on this machine), and
//! `@dockerssh/HOST:IMAGE` and `@podmanssh/...` (the tool on an SSH host), as pyinfra's
//! `DockerConnector` and `DockerSSHConnector`:
//!
//! - a running container is used as it is and left running;
//! - an image is started as `docker run -d --name oxinfra-RANDOM IMAGE tail -f /dev/null`
//!   (named so that a container left by a failed start can be removed); at disconnect
//!   the container is committed to a new image, whose id is reported, and removed;
//! - a stopped container is started, committed at disconnect like an image run, and
//!   then stopped again (pyinfra removes it; we leave the user's container as found).
//!
//! Commands run as `docker exec -i CID sh -c '...'` through [`crate::container`].

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value};

use crate::container::{self, Helpers, Invocation, Runner, Target, data_string as string, random_suffix, stderr_tail};
use crate::notice;
use crate::process::LocalRunner;
use crate::ssh::exec::{self, Request};
use crate::ssh::session::{self, Connection};
use crate::ssh::{OptionsError, SshOptions};

/// The container tool: its command and how pyinfra names it in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `docker`.
    Docker,
    /// `podman`.
    Podman,
}

impl Tool {
    /// The command.
    pub fn command(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }

    /// `rm -f`, at once: podman would first wait 10 s for `tail` to ignore SIGTERM.
    fn remove(self) -> StringCommand {
        match self {
            Self::Docker => StringCommand::raw("rm -f"),
            Self::Podman => StringCommand::raw("rm -f --time 0"),
        }
    }
}

/// What the connector does with the container at disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// It was running before: leave it running.
    LeaveRunning,
    /// Started from an image: commit it, then remove it.
    CommitAndRemove,
    /// It was stopped: commit it, then stop it again.
    CommitAndStop,
}

#[derive(Debug, Clone)]
struct Container {
    id: String,
    ending: Ending,
}

/// A container reached through `docker`/`podman` on this machine or an SSH host.
pub struct DockerConnector {
    name: String,
    tool: Tool,
    /// The image or container to start from.
    identifier: String,
    /// `docker_platform` and `docker_architecture` (`run --platform`/`--arch`).
    platform: Option<String>,
    architecture: Option<String>,
    /// `docker_container_id` (`@dockerssh`): an existing container to use.
    container_id: Option<String>,
    runner: Place,
    container: Mutex<Option<Container>>,
    helpers: Helpers,
}

/// Where the tool runs.
enum Place {
    Here(LocalRunner),
    Ssh(Box<SshRunner>),
}

impl DockerConnector {
    /// `@docker/ID` or `@podman/ID`: `docker_identifier` (default: ID), and
    /// `docker_platform`/`docker_architecture` from the host data.
    pub fn local(tool: Tool, name: &str, argument: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let identifier = string(data, "docker_identifier")?.unwrap_or_else(|| argument.to_owned());
        Ok(Self {
            name: name.to_owned(),
            tool,
            identifier,
            platform: string(data, "docker_platform")?,
            architecture: string(data, "docker_architecture")?,
            container_id: None,
            runner: Place::Here(LocalRunner),
            container: Mutex::new(None),
            helpers: Helpers::default(),
        })
    }

    /// `@dockerssh/HOST:IMAGE` or `@podmanssh/HOST:IMAGE`: the SSH settings of HOST
    /// (`ssh_hostname` and the other `ssh_*` data), `docker_image` (default: IMAGE) and
    /// `docker_container_id` for an existing container.
    pub fn over_ssh(tool: Tool, name: &str, argument: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let (hostname, image) = argument.split_once(':').unwrap_or((argument, ""));
        let identifier = string(data, "docker_image")?.unwrap_or_else(|| image.to_owned());
        let options = SshOptions::from_data(hostname, data)?;
        Ok(Self {
            name: name.to_owned(),
            tool,
            identifier,
            platform: string(data, "docker_platform")?,
            architecture: string(data, "docker_architecture")?,
            container_id: string(data, "docker_container_id")?,
            runner: Place::Ssh(Box::new(SshRunner {
                name: name.to_owned(),
                options,
                connection: tokio::sync::Mutex::new(None),
            })),
            container: Mutex::new(None),
            helpers: Helpers::default(),
        })
    }

    fn current(&self) -> Option<Container> {
        self.container.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Runs `TOOL ARGS...` where the tool runs.
    async fn tool(&self, arguments: StringCommand) -> Result<CommandOutput, ConnectorError> {
        let line = StringCommand::raw(self.tool.command()).nested(arguments);
        self.runner().run(Invocation::line(line.raw_value())).await
    }

    fn failure(&self, step: &str, output: &CommandOutput) -> String {
        if output.exit_code == Some(127) {
            let place = if matches!(self.runner, Place::Here(_)) {
                "this machine"
            } else {
                "the SSH host"
            };
            return format!("`{}`: {}: command not found on {place}", self.name, self.tool.command());
        }
        format!("`{}`: {} {step} failed{}", self.name, self.tool.command(), stderr_tail(output))
    }

    /// Finds the container (starting it when stopped) or starts one from the image.
    async fn start(&self) -> Result<Container, ConnectorError> {
        if self.identifier.is_empty() && self.container_id.is_none() {
            return Err(ConnectorError::Connect(format!(
                "`{}`: no {} image or container given",
                self.name,
                self.tool.command()
            )));
        }
        let existing = self.container_id.clone().unwrap_or_else(|| self.identifier.clone());
        let inspect = StringCommand::raw("container inspect --format '{{.State.Running}}'").quoted(existing.clone());
        let output = self.tool(inspect).await?;
        if output.exit_code == Some(0) {
            if output.stdout_lines().last().map(String::as_str) == Some("true") {
                return Ok(Container {
                    id: existing,
                    ending: Ending::LeaveRunning,
                });
            }
            log::info!("[{}] Starting stopped container: {existing}", self.name);
            let output = self.tool(StringCommand::raw("container start").quoted(existing.clone())).await?;
            if output.exit_code != Some(0) {
                return Err(ConnectorError::Connect(self.failure(&format!("start of container `{existing}`"), &output)));
            }
            return Ok(Container {
                id: existing,
                ending: Ending::CommitAndStop,
            });
        }
        if output.exit_code == Some(127) {
            return Err(ConnectorError::Connect(self.failure("container inspect", &output)));
        }
        if self.container_id.is_some() {
            return Err(ConnectorError::Connect(format!(
                "`{}`: {}: container `{existing}` not found{}",
                self.name,
                self.tool.command(),
                stderr_tail(&output)
            )));
        }

        // Named, so that a container the tool created before failing can be removed.
        let container_name = format!("oxinfra-{}", random_suffix());
        let mut run = StringCommand::raw("run -d --name").quoted(container_name.clone());
        if let Some(platform) = &self.platform {
            run = run.text("--platform").quoted(platform.clone());
        }
        if let Some(architecture) = &self.architecture {
            run = run.text("--arch").quoted(architecture.clone());
        }
        let run = run.quoted(self.identifier.clone()).text("tail -f /dev/null");
        let output = self.tool(run).await?;
        let id = output.stdout_lines().last().map(|line| line.trim().to_owned()).unwrap_or_default();
        if output.exit_code != Some(0) || id.is_empty() {
            // Best effort: usually there is nothing to remove.
            self.tool(self.tool.remove().quoted(container_name)).await.ok();
            // The tools word it differently (and may have tried a registry first): ask.
            let inspect = self.tool(StringCommand::raw("image inspect").quoted(self.identifier.clone())).await;
            let missing = inspect.is_ok_and(|inspect| inspect.exit_code != Some(0));
            let message = if missing {
                format!(
                    "`{}`: {}: image `{}` not found{}",
                    self.name,
                    self.tool.command(),
                    self.identifier,
                    stderr_tail(&output)
                )
            } else {
                self.failure(&format!("run of image `{}`", self.identifier), &output)
            };
            return Err(ConnectorError::Connect(message));
        }
        Ok(Container {
            id,
            ending: Ending::CommitAndRemove,
        })
    }

    /// Commits the container and returns the new image's short id.
    async fn commit(&self, id: &str) -> Result<String, ConnectorError> {
        let output = self.tool(StringCommand::raw("commit").quoted(id.to_owned())).await?;
        let line = output.stdout_lines().last().map(|line| line.trim().to_owned()).unwrap_or_default();
        if output.exit_code != Some(0) || line.is_empty() {
            return Err(ConnectorError::Io {
                context: self.failure(&format!("commit of container `{id}`"), &output),
                source: std::io::Error::other("the container was not committed"),
            });
        }
        let full = line.strip_prefix("sha256:").unwrap_or(&line);
        Ok(full.chars().take(12).collect())
    }
}

impl std::fmt::Debug for DockerConnector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SSH options may hold passwords: show only the name.
        formatter.debug_struct("DockerConnector").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Target for DockerConnector {
    fn host(&self) -> &str {
        &self.name
    }

    fn runner(&self) -> &dyn Runner {
        match &self.runner {
            Place::Here(runner) => runner,
            Place::Ssh(runner) => runner.as_ref(),
        }
    }

    fn entry(&self, pty: bool, input: bool) -> Result<StringCommand, ConnectorError> {
        let container = self
            .current()
            .ok_or_else(|| ConnectorError::Connect(format!("`{}`: not connected", self.name)))?;
        // `-i` keeps standard input open; `-t` without it, since `-it` needs a terminal here.
        let flags = match (pty, input) {
            (true, false) => "-t",
            (true, true) => "-it",
            (false, _) => "-i",
        };
        Ok(StringCommand::raw(self.tool.command()).text("exec").text(flags).quoted(container.id))
    }

    fn helpers(&self) -> &Helpers {
        &self.helpers
    }
}

#[async_trait]
impl Connector for DockerConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        if self.current().is_some() {
            return Ok(());
        }
        let container = self.start().await?;
        *self.container.lock().unwrap_or_else(PoisonError::into_inner) = Some(container);
        Ok(())
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
        let Some(container) = self.current() else {
            return self.close_ssh().await;
        };
        container::remove_helpers(self).await;
        let tool = self.tool.command();
        let result = match container.ending {
            Ending::LeaveRunning => {
                notice::report(&self.name, &format!("{tool} build complete, container left running: {}", container.id));
                Ok(())
            }
            Ending::CommitAndRemove | Ending::CommitAndStop => {
                let committed = self.commit(&container.id).await;
                let (verb, command) = if container.ending == Ending::CommitAndRemove {
                    ("removal", self.tool.remove())
                } else {
                    ("stop", StringCommand::raw("stop"))
                };
                let output = self.tool(command.quoted(container.id.clone())).await;
                let image = committed?;
                notice::report(&self.name, &format!("{tool} build complete, image ID: {image}"));
                match output {
                    Ok(output) if output.exit_code == Some(0) => Ok(()),
                    Ok(output) => Err(ConnectorError::Io {
                        context: self.failure(&format!("{verb} of container `{}`", container.id), &output),
                        source: std::io::Error::other("the container is still there"),
                    }),
                    Err(error) => Err(error),
                }
            }
        };
        *self.container.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.close_ssh().await?;
        result
    }
}

impl DockerConnector {
    async fn close_ssh(&self) -> Result<(), ConnectorError> {
        if let Place::Ssh(runner) = &self.runner {
            if let Some(connection) = runner.connection.lock().await.take() {
                connection.close().await;
            }
        }
        Ok(())
    }
}

/// Runs the tool's lines on an SSH host, over one connection opened on first use.
struct SshRunner {
    name: String,
    options: SshOptions,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

impl SshRunner {
    async fn connection(&self) -> Result<Arc<Connection>, ConnectorError> {
        let mut guard = self.connection.lock().await;
        if let Some(connection) = guard.as_ref() {
            return Ok(Arc::clone(connection));
        }
        let connection = Arc::new(session::open(&self.name, &self.options).await?);
        *guard = Some(Arc::clone(&connection));
        Ok(connection)
    }
}

#[async_trait]
impl Runner for SshRunner {
    async fn run(&self, invocation: Invocation<'_>) -> Result<CommandOutput, ConnectorError> {
        let connection = self.connection().await?;
        let input_file = match invocation.input_file {
            Some(path) => Some(tokio::fs::File::open(&path).await.map_err(|source| ConnectorError::Io {
                context: format!("reading `{}`", path.display()),
                source,
            })?),
            None => None,
        };
        let request = Request {
            command: invocation.command,
            input: invocation.input,
            input_file,
            pty: false,
            secret_input: false,
            timeout: invocation.timeout,
            secrets: invocation.secrets,
            stdout: invocation.stdout,
            privilege: None,
        };
        exec::execute(&connection, request).await
    }
}
