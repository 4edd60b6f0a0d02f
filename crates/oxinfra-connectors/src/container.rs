//! What the connectors that reach a host through another tool share (`docker exec`,
//! `podman exec`, `kubectl exec`, `chroot`): the command is wrapped with
//! `wrap_for_host` as for any host, then run as `ENTRY sh -c 'WRAPPED'`, where
//! ENTRY (`docker exec -i CID`, `chroot DIR`) comes from the connector and the whole
//! line runs on a [`Runner`] (this machine, or an SSH host for `@dockerssh`).
//!
//! Files travel through the same entry, as a stream: an upload is
//! `cat > DEST.oxinfra-tmp-X` fed from standard input, then a rename over the target
//! (which keeps the old target's mode and owner); a download is `cat SRC` into a
//! temporary file beside the local destination, renamed once complete. Both are
//! wrapped like commands, so `_sudo` and friends apply to them too.
//!
//! Secrets never reach a command line (where the tool's process list would show
//! them). A command holding one travels on standard input (`wrap_for_host`). A sudo
//! password is the first line of
//! standard input, read into a variable by the shell inside the target, and printed
//! to sudo by an askpass helper written into the target on first use (removed at
//! disconnect, before a container is committed). A su password follows it.
//!
//! A timed-out command is killed twice over: the runner kills the local process (or
//! the SSH channel), and the processes inside the target, which the tool does not
//! stop, are found by a variable set in their environment and killed there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use oxinfra_core::command::UploadSource;
use oxinfra_core::wrap::{SUDO_PASSWORD_VARIABLE, wrap_for_host};
use oxinfra_core::{CommandOutput, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::ssh::OptionsError;

/// The variable that marks the processes of a command with a timeout.
const RUN_VARIABLE: &str = "OXINFRA_RUN";

/// One complete shell line to run, with what goes to its standard input.
pub struct Invocation<'a> {
    /// The line, run by a POSIX shell.
    pub command: String,
    /// Bytes written to standard input first.
    pub input: Vec<u8>,
    /// A local file streamed after `input`, then end of input.
    pub input_file: Option<PathBuf>,
    /// Where stdout goes as raw bytes; `None` collects it as lines.
    pub stdout: Option<&'a mut (dyn AsyncWrite + Unpin + Send)>,
    /// Seconds before the line is killed.
    pub timeout: Option<f64>,
    /// Texts shown as `*MASKED*` in the output lines.
    pub secrets: Vec<String>,
}

impl Invocation<'_> {
    /// A line with no input, sink, timeout or secret.
    pub fn line(command: String) -> Self {
        Self {
            command,
            input: Vec::new(),
            input_file: None,
            stdout: None,
            timeout: None,
            secrets: Vec::new(),
        }
    }
}

/// Where a connector's tool runs.
#[async_trait]
pub trait Runner: Send + Sync {
    /// Runs one line to completion.
    async fn run(&self, invocation: Invocation<'_>) -> Result<CommandOutput, ConnectorError>;
}

/// A target reached through a tool: how to get in, and where the tool runs.
#[async_trait]
pub trait Target: Send + Sync {
    /// The inventory name, for messages.
    fn host(&self) -> &str;
    /// Where the tool runs.
    fn runner(&self) -> &dyn Runner;
    /// The line that runs `sh -c SCRIPT` inside the target once `sh -c SCRIPT` is
    /// appended (`docker exec -i CID`). `pty` asks for a terminal, `input` says whether
    /// anything is sent to standard input. Fails before the connection is made.
    fn entry(&self, pty: bool, input: bool) -> Result<StringCommand, ConnectorError>;
    /// The helpers written into the target.
    fn helpers(&self) -> &Helpers;
    /// Whether processes of the target show in the runner's own `/proc` (`chroot`),
    /// so that a timed-out command is killed from outside.
    fn shares_processes(&self) -> bool {
        false
    }
}

/// Files written into a target for this run: the sudo askpass helper.
#[derive(Debug, Default)]
pub struct Helpers {
    askpass: tokio::sync::Mutex<Option<String>>,
}

/// Runs `command` inside the target, wrapped as `arguments` say.
pub async fn run_shell_command(target: &dyn Target, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
    let marker = arguments.timeout.filter(|seconds| *seconds > 0.0).map(|_| random_suffix());
    let mut prepared = prepare(target, command, arguments, marker.as_deref()).await?;
    prepared
        .input
        .extend(arguments.stdin.iter().flat_map(|line| line.bytes().chain(std::iter::once(b'\n'))));
    let pty = arguments.get_pty && prepared.input.is_empty();
    let line = target.entry(pty, !pty)?.text("sh -c").quoted_command(prepared.script);
    let invocation = Invocation {
        command: line.raw_value(),
        input: prepared.input,
        input_file: None,
        stdout: None,
        timeout: arguments.timeout,
        secrets: secrets(arguments),
    };
    let result = target.runner().run(invocation).await;
    if let (Err(ConnectorError::Timeout { .. }), Some(marker)) = (&result, marker) {
        kill_marked(target, &marker).await;
    }
    let mut output = result?;
    if pty {
        for line in &mut output.lines {
            if line.text.ends_with('\r') {
                line.text.pop();
            }
        }
    }
    Ok(output)
}

/// Writes `source` to `dest` inside the target: a temporary file beside it, renamed.
pub async fn put_file(target: &dyn Target, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
    let (input, input_file) = match source {
        UploadSource::Content(bytes) => (bytes.clone(), None),
        UploadSource::Path(path) => {
            // Opened here so that a missing source is reported as such, not as a short file.
            tokio::fs::File::open(path).await.map_err(|source| ConnectorError::Io {
                context: format!("reading `{}`", path.display()),
                source,
            })?;
            (Vec::new(), Some(path.clone()))
        }
    };
    let temporary = format!("{dest}.oxinfra-tmp-{}", random_suffix());
    let arguments = transfer_arguments(arguments);
    let mut prepared = prepare(target, &write_and_install(&temporary, dest), &arguments, None).await?;
    prepared.input.extend(input);
    let line = target.entry(false, true)?.text("sh -c").quoted_command(prepared.script);
    let invocation = Invocation {
        command: line.raw_value(),
        input: prepared.input,
        input_file,
        stdout: None,
        timeout: None,
        secrets: secrets(&arguments),
    };
    let output = target.runner().run(invocation).await?;
    if output.exit_code == Some(0) {
        Ok(())
    } else {
        Err(ConnectorError::Transfer(format!(
            "`{}`: could not write `{dest}`{}",
            target.host(),
            stderr_tail(&output)
        )))
    }
}

/// Copies the target's `src` to the controller's `dest`, atomically on this side.
pub async fn get_file(target: &dyn Target, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
    let directory = dest.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let local_error = |source: std::io::Error| ConnectorError::Io {
        context: format!("writing `{}`", dest.display()),
        source,
    };
    let staged = tempfile::NamedTempFile::new_in(directory).map_err(local_error)?;
    let mut file = tokio::fs::File::create(staged.path()).await.map_err(local_error)?;
    let arguments = transfer_arguments(arguments);
    let prepared = prepare(target, &StringCommand::raw("cat").quoted(src.to_owned()), &arguments, None).await?;
    let line = target.entry(false, !prepared.input.is_empty())?.text("sh -c").quoted_command(prepared.script);
    let invocation = Invocation {
        command: line.raw_value(),
        input: prepared.input,
        input_file: None,
        stdout: Some(&mut file),
        timeout: None,
        secrets: secrets(&arguments),
    };
    let output = target.runner().run(invocation).await?;
    if output.exit_code != Some(0) {
        return Err(ConnectorError::Transfer(format!(
            "`{}`: could not read `{src}`{}",
            target.host(),
            stderr_tail(&output)
        )));
    }
    file.flush().await.map_err(local_error)?;
    drop(file);
    staged.persist(dest).map_err(|error| local_error(error.error))?;
    Ok(())
}

/// Removes the helpers written into the target (before a container is committed).
pub async fn remove_helpers(target: &dyn Target) {
    let Some(path) = target.helpers().askpass.lock().await.take() else { return };
    let Ok(entry) = target.entry(false, false) else { return };
    let line = entry.text("rm -f").quoted(path);
    // The helper holds no secret; a target that is gone keeps it.
    target.runner().run(Invocation::line(line.raw_value())).await.ok();
}

/// A command ready for `sh -c` in the target, and the password lines for its input.
struct Prepared {
    script: StringCommand,
    input: Vec<u8>,
}

async fn prepare(target: &dyn Target, command: &StringCommand, arguments: &ConnectorArguments, marker: Option<&str>) -> Result<Prepared, ConnectorError> {
    let sudo_password = arguments.sudo_password.as_deref().filter(|password| arguments.sudo && !password.is_empty());
    let askpass = match sudo_password {
        Some(_) => Some(askpass(target).await?),
        None => None,
    };
    let wrapped = wrap_for_host(command, arguments, askpass.as_deref());
    let mut script = StringCommand::new();
    if let Some(marker) = marker {
        script = script.text(format!("export {RUN_VARIABLE}={marker};"));
    }
    let mut input = Vec::new();
    if let Some(password) = sudo_password {
        input.extend(password.bytes().chain(std::iter::once(b'\n')));
        script = script.text(format!("IFS= read -r {SUDO_PASSWORD_VARIABLE} && export {SUDO_PASSWORD_VARIABLE} &&"));
    }
    if let Some(password) = arguments
        .su_password
        .as_deref()
        .filter(|password| arguments.su_user.is_some() && !password.is_empty())
    {
        // su reads its password from its input, ahead of the command's own lines.
        input.extend(password.bytes().chain(std::iter::once(b'\n')));
    }
    // A command holding a secret: its text, read by the wrapper, after the passwords.
    input.extend(wrapped.input.iter().flat_map(|line| line.bytes().chain(std::iter::once(b'\n'))));
    Ok(Prepared {
        script: script.nested(wrapped.command),
        input,
    })
}

/// The path of the target's sudo askpass helper, written on first use. It holds no
/// secret: it prints the variable the wrapped command read from its standard input.
async fn askpass(target: &dyn Target) -> Result<String, ConnectorError> {
    let mut guard = target.helpers().askpass.lock().await;
    if let Some(path) = guard.as_ref() {
        return Ok(path.clone());
    }
    let helper = format!("#!/bin/sh\nprintf '%s\\n' \"${SUDO_PASSWORD_VARIABLE}\"\n");
    let script = StringCommand::raw("umask 077 && helper=$(mktemp \"${TMPDIR:-/tmp}/oxinfra-askpass-XXXXXXXXXXXX\") && printf '%s'")
        .quoted(helper)
        .text("> \"$helper\" && chmod 700 \"$helper\" && printf '%s\\n' \"$helper\"");
    let line = target.entry(false, false)?.text("sh -c").quoted_command(script);
    let output = target.runner().run(Invocation::line(line.raw_value())).await?;
    let lines = output.stdout_lines();
    match (output.exit_code, lines.as_slice()) {
        (Some(0), [path]) if !path.is_empty() => {
            *guard = Some(path.clone());
            Ok(path.clone())
        }
        _ => Err(ConnectorError::Transfer(format!(
            "`{}`: could not write the sudo askpass helper{}",
            target.host(),
            stderr_tail(&output)
        ))),
    }
}

/// Kills what is left of a timed-out command: every process whose environment holds
/// its marker, TERM then KILL (one `grep -z` over every process's environment where grep
/// has it: a loop of `tr | grep` per process takes seconds on a busy machine).
async fn kill_marked(target: &dyn Target, marker: &str) {
    let script = format!(
        "if printf 'a\\0' | grep -qz a 2>/dev/null; then pids=$(grep -lzx '{RUN_VARIABLE}={marker}' /proc/[0-9]*/environ 2>/dev/null); \
         else pids=; for p in /proc/[0-9]*; do tr '\\0' '\\n' < \"$p/environ\" 2>/dev/null | grep -qx '{RUN_VARIABLE}={marker}' && pids=\"$pids $p\"; done; fi; \
         pids=$(echo $pids | tr ' ' '\\n' | cut -d/ -f3); [ -n \"$pids\" ] || exit 0; kill -TERM $pids 2>/dev/null; sleep 0.5; kill -KILL $pids 2>/dev/null; true"
    );
    let line = if target.shares_processes() {
        StringCommand::raw("sh -c").quoted(script)
    } else {
        let Ok(entry) = target.entry(false, false) else { return };
        entry.text("sh -c").quoted(script)
    };
    let killing = target.runner().run(Invocation::line(line.raw_value()));
    // Best effort: the target may be gone, or the processes with it.
    let _ = tokio::time::timeout(Duration::from_secs(10), killing).await;
}

/// `cat` standard input into `temporary`, give it the mode and owner of `dest` (or
/// the umask's mode for a new file) and rename it over `dest`; on failure the
/// temporary file goes.
fn write_and_install(temporary: &str, dest: &str) -> StringCommand {
    oxinfra_core::upload::write_and_install(StringCommand::raw("cat"), temporary, dest)
}

/// The arguments of a transfer: the privilege wrapping of the command, without its
/// input, terminal or timeout.
fn transfer_arguments(arguments: &ConnectorArguments) -> ConnectorArguments {
    ConnectorArguments {
        stdin: Vec::new(),
        get_pty: false,
        timeout: None,
        ..arguments.clone()
    }
}

fn secrets(arguments: &ConnectorArguments) -> Vec<String> {
    arguments.secrets().into_iter().map(str::to_owned).collect()
}

/// Checks that `target` can be entered and has a shell (`sh -c true` through its entry
/// command, run on this machine by `tool`); the error names the host and says whether
/// `tool` is missing or, after `entering`, what entering printed.
pub async fn check_entry(target: &dyn Target, tool: &str, entering: &str) -> Result<(), ConnectorError> {
    let line = target.entry(false, false)?.text("sh -c true");
    let output = crate::process::LocalRunner.run(Invocation::line(line.raw_value())).await?;
    if output.exit_code == Some(0) {
        return Ok(());
    }
    let not_found = format!("{tool}: not found");
    let step = if output.exit_code == Some(127) && output.stderr_lines().iter().any(|line| line.contains(&not_found)) {
        format!("`{tool}` is not installed on this machine")
    } else {
        format!("{entering} failed{}", stderr_tail(&output))
    };
    Err(ConnectorError::Connect(format!("`{}`: {step}", target.host())))
}

/// `: LAST STDERR LINES` of a failed step, or nothing when it printed none.
pub fn stderr_tail(output: &CommandOutput) -> String {
    let lines: Vec<String> = output.stderr_lines().into_iter().filter(|line| !line.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(5);
    let tail = lines.get(start..).unwrap_or_default().join(" ");
    let tail = tail.trim();
    if tail.is_empty() {
        match output.exit_code {
            Some(code) => format!(" (exit status {code})"),
            None => " (killed by a signal)".to_owned(),
        }
    } else {
        format!(": {tail}")
    }
}

/// A string from the host data, or `None`; anything else is a typed error.
pub fn data_string(data: &Map<String, Value>, key: &'static str) -> Result<Option<String>, OptionsError> {
    match data.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(OptionsError {
            key,
            expected: "a string",
            got: format!("`{other}`"),
        }),
    }
}

/// Twelve random letters and digits, for names that must not collide.
pub fn random_suffix() -> String {
    (0..12).map(|_| fastrand::alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::LocalRunner;

    /// A target that is this machine's own `sh`, entered with `env` (which runs its
    /// arguments), so the shared code can be tried without a container.
    #[derive(Default)]
    struct Here {
        helpers: Helpers,
    }

    impl Target for Here {
        fn host(&self) -> &'static str {
            "here"
        }

        fn runner(&self) -> &dyn Runner {
            &LocalRunner
        }

        fn entry(&self, _pty: bool, _input: bool) -> Result<StringCommand, ConnectorError> {
            Ok(StringCommand::raw("env"))
        }

        fn helpers(&self) -> &Helpers {
            &self.helpers
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| unreachable!("{error}"))
    }

    #[test]
    fn commands_are_wrapped_with_env_and_directory() {
        let arguments = ConnectorArguments {
            chdir: Some("/".into()),
            env: vec![("GREETING".into(), oxinfra_core::arguments::MaybeSecret::Plain("hello there".into()))],
            stdin: vec!["typed".into()],
            ..ConnectorArguments::default()
        };
        let command = StringCommand::raw("pwd; echo \"$GREETING\"; cat");
        let output = runtime().block_on(run_shell_command(&Here::default(), &command, &arguments));
        let output = output.unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(output.stdout_lines(), vec!["/", "hello there", "typed"]);
    }

    /// [`Here`], remembering every line it runs.
    #[derive(Default)]
    struct Recorded {
        here: Here,
        lines: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Runner for Recorded {
        async fn run(&self, invocation: Invocation<'_>) -> Result<CommandOutput, ConnectorError> {
            self.lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(invocation.command.clone());
            LocalRunner.run(invocation).await
        }
    }

    impl Target for Recorded {
        fn host(&self) -> &'static str {
            "here"
        }

        fn runner(&self) -> &dyn Runner {
            self
        }

        fn entry(&self, pty: bool, input: bool) -> Result<StringCommand, ConnectorError> {
            self.here.entry(pty, input)
        }

        fn helpers(&self) -> &Helpers {
            &self.here.helpers
        }
    }

    #[test]
    fn a_command_holding_a_secret_runs_from_standard_input() {
        let target = Recorded::default();
        let arguments = ConnectorArguments {
            stdin: vec!["after".into()],
            ..ConnectorArguments::default()
        };
        let command = StringCommand::raw("echo").secret("hunter2-container").text("&& cat");
        let output = runtime().block_on(run_shell_command(&target, &command, &arguments));
        let output = output.unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(output.stdout_lines(), vec!["hunter2-container", "after"]);
        let lines = target.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        assert_eq!(lines.len(), 1);
        assert!(!lines.iter().any(|line| line.contains("hunter2-container")), "{lines:?}");
    }

    #[test]
    fn upload_keeps_the_old_mode_and_leaves_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let target = directory.path().join("file");
        std::fs::write(&target, "old").unwrap_or_else(|error| unreachable!("{error}"));
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap_or_else(|error| unreachable!("{error}"));
        let dest = target.display().to_string();
        let result = runtime().block_on(put_file(
            &Here::default(),
            &UploadSource::Content(b"new\0bytes".to_vec()),
            &dest,
            &ConnectorArguments::default(),
        ));
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(std::fs::read(&target).ok().as_deref(), Some(&b"new\0bytes"[..]));
        let mode = std::fs::metadata(&target).map(|meta| meta.permissions().mode() & 0o777).ok();
        assert_eq!(mode, Some(0o640));
        let left: Vec<_> = std::fs::read_dir(directory.path()).into_iter().flatten().flatten().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn upload_into_a_missing_folder_names_host_and_file() {
        let error = runtime()
            .block_on(put_file(
                &Here::default(),
                &UploadSource::Content(b"x".to_vec()),
                "/nonexistent-oxinfra/file",
                &ConnectorArguments::default(),
            ))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            error.starts_with("file transfer failed: `here`: could not write `/nonexistent-oxinfra/file`: "),
            "{error}"
        );
    }

    #[test]
    fn download_copies_bytes_exactly() {
        let directory = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let source = directory.path().join("source");
        std::fs::write(&source, b"a\0b\nno newline").unwrap_or_else(|error| unreachable!("{error}"));
        let dest = directory.path().join("copy");
        let result = runtime().block_on(get_file(&Here::default(), &source.display().to_string(), &dest, &ConnectorArguments::default()));
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(std::fs::read(&dest).ok().as_deref(), Some(&b"a\0b\nno newline"[..]));
    }

    #[test]
    fn timeout_kills_the_marked_processes() {
        let arguments = ConnectorArguments {
            // Long enough for the process to have started on a loaded machine.
            timeout: Some(1.5),
            ..ConnectorArguments::default()
        };
        let directory = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let flag = directory.path().join("flag");
        // A process that leaves the line's process group: only the marker finds it.
        let command = StringCommand::raw("setsid sh -c")
            .quoted(format!("sleep 3; touch {}", flag.display()))
            .text("& wait");
        let result = runtime().block_on(run_shell_command(&Here::default(), &command, &arguments));
        assert!(matches!(result, Err(ConnectorError::Timeout { .. })), "{result:?}");
        std::thread::sleep(Duration::from_millis(3500));
        assert!(!flag.exists());
    }
}
