//! The `@local` connector: commands run in a local `sh`, each in its own process group
//! so that a timeout kills the whole tree. A sudo password reaches sudo through an
//! askpass helper that reads it from the environment, never from the command line.
//! Uploads are written to a temporary file beside the target and renamed into place.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::wrap::{SU_PASSWORD_VARIABLE, SUDO_PASSWORD_VARIABLE, wrap_for_host};
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, OutputLine, Stream, StringCommand};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command as Process;
use tokio::sync::{Mutex, mpsc};

/// Runs commands on the controller itself.
#[derive(Debug, Default)]
pub struct LocalConnector {
    /// The askpass helpers written for this run, removed on disconnect.
    askpass: Mutex<Option<tempfile::TempDir>>,
}

impl LocalConnector {
    /// A connector for `@local`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path of the askpass helper, written on first use.
    async fn askpass_path(&self) -> Result<PathBuf, ConnectorError> {
        let mut guard = self.askpass.lock().await;
        if guard.is_none() {
            let directory = tempfile::Builder::new()
                .prefix("oxinfra-askpass-")
                .tempdir()
                .map_err(|source| io_error("creating the askpass folder", source))?;
            let script = directory.path().join("askpass");
            let text = format!(
                "#!/bin/sh\nif [ -n \"${{{SUDO_PASSWORD_VARIABLE}}}\" ]; then printf '%s\\n' \"${{{SUDO_PASSWORD_VARIABLE}}}\"; else printf '%s\\n' \"${{{SU_PASSWORD_VARIABLE}}}\"; fi\n"
            );
            write_executable(&script, &text).map_err(|source| io_error("writing the askpass helper", source))?;
            *guard = Some(directory);
        }
        Ok(guard.as_ref().map(|directory| directory.path().join("askpass")).unwrap_or_default())
    }

    async fn spawn_and_wait(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        let askpass = if arguments.sudo && arguments.sudo_password.is_some() {
            Some(self.askpass_path().await?)
        } else {
            None
        };
        let askpass_text = askpass.as_ref().map(|path| path.display().to_string());
        // A command holding a secret reaches `sh` on standard input, not in its arguments.
        let wrapped = wrap_for_host(command, arguments, askpass_text.as_deref());

        let mut process = Process::new("sh");
        process.arg("-c").arg(wrapped.command.raw_value());
        process.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        process.process_group(0).kill_on_drop(true);
        if let Some(password) = &arguments.sudo_password {
            process.env(SUDO_PASSWORD_VARIABLE, password);
        }
        let mut stdin_lines = wrapped.input;
        stdin_lines.extend(arguments.stdin.iter().cloned());
        if let Some(password) = &arguments.su_password {
            // su reads its password from the terminal or standard input; give it first.
            stdin_lines.insert(0, password.clone());
        }
        let mut child = process.spawn().map_err(|source| io_error("starting `sh`", source))?;
        let process_group = child.id();
        // Dropped before the command ends (the run cut it after Ctrl-C): stop its group too.
        let mut running = RunningGroup(process_group);

        if let Some(mut stdin) = child.stdin.take() {
            let input: String = stdin_lines.iter().flat_map(|line| [line.as_str(), "\n"]).collect();
            tokio::spawn(async move {
                // A command that exits without reading its input closes the pipe: not an error.
                let _ = stdin.write_all(input.as_bytes()).await;
            });
        }
        let (sender, mut receiver) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            spawn_reader(stdout, Stream::Stdout, sender.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            spawn_reader(stderr, Stream::Stderr, sender.clone());
        }
        drop(sender);

        let collect = async {
            let mut lines = Vec::new();
            while let Some(line) = receiver.recv().await {
                lines.push(line);
            }
            let status = child.wait().await.map_err(|source| io_error("waiting for the command", source))?;
            Ok::<_, ConnectorError>(CommandOutput {
                exit_code: status.code(),
                lines,
            })
        };
        let result = match arguments.timeout {
            Some(seconds) if seconds > 0.0 => {
                if let Ok(result) = tokio::time::timeout(Duration::from_secs_f64(seconds), collect).await {
                    result
                } else {
                    kill_group(process_group);
                    Err(ConnectorError::Timeout { seconds })
                }
            }
            _ => collect.await,
        };
        // Finished: what it left running in the background (a daemon it started) stays.
        running.0 = None;
        result
    }
}

/// The process group of a command still running; killed when dropped unless cleared.
struct RunningGroup(Option<u32>);

impl Drop for RunningGroup {
    fn drop(&mut self) {
        kill_group(self.0.take());
    }
}

fn spawn_reader(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static, which: Stream, sender: mpsc::UnboundedSender<OutputLine>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(text)) = lines.next_line().await {
            if sender.send(OutputLine { stream: which, text }).is_err() {
                break;
            }
        }
    });
}

/// Kills every process of the group a timed-out command started. The group is only
/// signalled when the command really leads its own group, so a mistake can never reach
/// the controller's own processes.
fn kill_group(process_group: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::{Pid, getpgid};

    let Some(pid) = process_group.and_then(|pid| i32::try_from(pid).ok()).map(Pid::from_raw) else {
        return;
    };
    if getpgid(Some(pid)).is_ok_and(|group| group == pid) && getpgid(None).is_ok_and(|own| own != pid) {
        // The group may be gone already; nothing to report then.
        let _ = killpg(pid, Signal::SIGKILL);
    }
}

fn io_error(context: &str, source: std::io::Error) -> ConnectorError {
    ConnectorError::Io {
        context: context.to_owned(),
        source,
    }
}

fn write_executable(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Whether the command needs the privilege wrapping (and so a `cp` as that user)
/// rather than a direct write by this process.
fn is_privileged(arguments: &ConnectorArguments) -> bool {
    arguments.sudo || arguments.su_user.is_some() || arguments.doas || arguments.dzdo
}

#[async_trait]
impl Connector for LocalConnector {
    async fn connect(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        self.spawn_and_wait(command, arguments).await
    }

    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        // Stage the bytes in a private temporary file, then copy them beside the target
        // and rename, through the same privilege wrapping as commands.
        let staged = tempfile::NamedTempFile::new().map_err(|source| io_error("staging the upload", source))?;
        match source {
            UploadSource::Path(path) => {
                tokio::fs::copy(path, staged.path())
                    .await
                    .map_err(|source| io_error(&format!("reading `{}`", path.display()), source))?;
            }
            UploadSource::Content(bytes) => {
                tokio::fs::write(staged.path(), bytes)
                    .await
                    .map_err(|source| io_error("staging the upload", source))?;
            }
        }
        if is_privileged(arguments) {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(staged.path(), std::fs::Permissions::from_mode(0o644)).map_err(|source| io_error("staging the upload", source))?;
        }
        let temporary = format!("{dest}.oxinfra-tmp");
        let command = StringCommand::raw("cp")
            .quoted(staged.path().display().to_string())
            .quoted(temporary.clone())
            .text("&& mv")
            .quoted(temporary.clone())
            .quoted(dest.to_owned())
            .text("|| { rm -f")
            .quoted(temporary)
            .text("; exit 1; }");
        let upload_arguments = ConnectorArguments {
            stdin: Vec::new(),
            ..arguments.clone()
        };
        let output = self.spawn_and_wait(&command, &upload_arguments).await?;
        if output.exit_code == Some(0) {
            Ok(())
        } else {
            Err(ConnectorError::Transfer(format!(
                "could not write `{dest}`: {}",
                output.stderr_lines().join(" ")
            )))
        }
    }

    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        let directory = dest.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let staged = tempfile::NamedTempFile::new_in(directory).map_err(|source| io_error("staging the download", source))?;
        let command = StringCommand::raw("cat").quoted(src.to_owned());
        let output = self
            .spawn_and_wait(
                &command,
                &ConnectorArguments {
                    stdin: Vec::new(),
                    ..arguments.clone()
                },
            )
            .await;
        let output = output?;
        if output.exit_code != Some(0) {
            return Err(ConnectorError::Transfer(format!("could not read `{src}`: {}", output.stderr_lines().join(" "))));
        }
        // Read the bytes directly when no privilege is needed, so binary files stay intact.
        if is_privileged(arguments) {
            let mut text = output.stdout_lines().join("\n");
            text.push('\n');
            tokio::fs::write(staged.path(), text)
                .await
                .map_err(|source| io_error("writing the download", source))?;
        } else {
            tokio::fs::copy(src, staged.path())
                .await
                .map_err(|source| io_error(&format!("reading `{src}`"), source))?;
        }
        staged
            .persist(dest)
            .map_err(|error| io_error(&format!("writing `{}`", dest.display()), error.error))?;
        Ok(())
    }

    async fn rsync(&self, src: &str, dest: &str, flags: &[String], arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        // As pyinfra: `rsync FLAGS SRC DEST` run like any command, privilege wrapping
        // included; the flags are shell text, the paths are quoted.
        let mut command = StringCommand::raw("rsync");
        for flag in flags {
            command = command.text(flag.clone());
        }
        let command = command.quoted(src.to_owned()).quoted(dest.to_owned());
        let arguments = ConnectorArguments {
            stdin: Vec::new(),
            ..arguments.clone()
        };
        self.spawn_and_wait(&command, &arguments).await
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        self.askpass.lock().await.take();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| unreachable!("{error}"))
    }

    #[test]
    fn runs_a_command_and_reads_both_streams() {
        let output = runtime().block_on(async {
            LocalConnector::new()
                .run_shell_command(&StringCommand::raw("echo out; echo err >&2; exit 3"), &ConnectorArguments::default())
                .await
        });
        let output = output.unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(output.exit_code, Some(3));
        assert_eq!(output.stdout_lines(), vec!["out"]);
        assert_eq!(output.stderr_lines(), vec!["err"]);
    }

    #[test]
    fn timeout_kills_the_command() {
        let arguments = ConnectorArguments {
            timeout: Some(0.3),
            ..ConnectorArguments::default()
        };
        let started = std::time::Instant::now();
        let result = runtime().block_on(async { LocalConnector::new().run_shell_command(&StringCommand::raw("sleep 5"), &arguments).await });
        assert!(matches!(result, Err(ConnectorError::Timeout { .. })));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn stdin_lines_reach_the_command() {
        let arguments = ConnectorArguments {
            stdin: vec!["a".into(), "b".into()],
            ..ConnectorArguments::default()
        };
        let output = runtime().block_on(async { LocalConnector::new().run_shell_command(&StringCommand::raw("cat"), &arguments).await });
        assert_eq!(output.map(|output| output.stdout_lines()).ok(), Some(vec!["a".to_owned(), "b".to_owned()]));
    }

    #[test]
    fn rsync_copies_a_folder_content() {
        let source = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let target = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        std::fs::create_dir(source.path().join("sub dir")).unwrap_or_else(|error| unreachable!("{error}"));
        std::fs::write(source.path().join("sub dir/a.txt"), "a").unwrap_or_else(|error| unreachable!("{error}"));
        std::fs::write(target.path().join("stale"), "x").unwrap_or_else(|error| unreachable!("{error}"));
        let src = format!("{}/", source.path().display());
        let dest = target.path().display().to_string();
        let flags = ["-ax".to_owned(), "--delete".to_owned()];
        let output = runtime().block_on(async { LocalConnector::new().rsync(&src, &dest, &flags, &ConnectorArguments::default()).await });
        assert_eq!(output.map(|output| output.exit_code).ok(), Some(Some(0)));
        assert_eq!(std::fs::read_to_string(target.path().join("sub dir/a.txt")).ok().as_deref(), Some("a"));
        assert!(!target.path().join("stale").exists());
    }

    #[test]
    fn upload_replaces_the_target_whole() {
        let directory = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let target = directory.path().join("target.txt");
        std::fs::write(&target, "old").unwrap_or_else(|error| unreachable!("{error}"));
        let dest = target.display().to_string();
        let result = runtime().block_on(async {
            LocalConnector::new()
                .put_file(&UploadSource::Content(b"new content".to_vec()), &dest, &ConnectorArguments::default())
                .await
        });
        assert!(result.is_ok());
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), Some("new content"));
        assert!(!directory.path().join("target.txt.oxinfra-tmp").exists());
    }
}
