//! One shell line run on this machine for the connectors that drive a command-line
//! tool (`docker`, `podman`, `kubectl`, `chroot`): `sh -c LINE` in a process group of
//! its own, so that a timeout kills the whole tree; bytes and then a file on standard
//! input; stdout as lines or as raw bytes into a sink; stderr as lines.
//!
//! The `@local` connector has its own runner: it wraps commands for the controller,
//! whereas here the line is already complete.

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use oxinfra_core::command::MASK;
use oxinfra_core::{CommandOutput, ConnectorError, OutputLine, Stream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command as Process;
use tokio::sync::mpsc;

use crate::container::{Invocation, Runner};

/// Runs lines with this machine's `sh`.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalRunner;

#[async_trait]
impl Runner for LocalRunner {
    async fn run(&self, invocation: Invocation<'_>) -> Result<CommandOutput, ConnectorError> {
        run(invocation).await
    }
}

/// Runs one line to completion (or until its timeout, which kills its process group).
pub async fn run(invocation: Invocation<'_>) -> Result<CommandOutput, ConnectorError> {
    let Invocation {
        command,
        input,
        input_file,
        stdout: mut sink,
        timeout,
        secrets,
    } = invocation;
    let mut process = Process::new("sh");
    process.arg("-c").arg(&command);
    process.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    process.process_group(0).kill_on_drop(true);
    let mut child = process.spawn().map_err(|source| io_error("starting `sh`", source))?;
    let process_group = child.id();

    if let Some(mut stdin) = child.stdin.take() {
        tokio::spawn(async move {
            // A command that exits without reading its input closes the pipe: not an error.
            if stdin.write_all(&input).await.is_err() {
                return;
            }
            if let Some(path) = input_file {
                // A file that cannot be opened was checked by the caller; nothing more is sent.
                if let Ok(mut file) = tokio::fs::File::open(&path).await {
                    let _ = tokio::io::copy(&mut file, &mut stdin).await;
                }
            }
            let _ = stdin.shutdown().await;
        });
    }
    let (sender, mut receiver) = mpsc::unbounded_channel();
    if let Some(stderr) = child.stderr.take() {
        spawn_line_reader(stderr, Stream::Stderr, sender.clone());
    }
    let mut stdout = child.stdout.take();
    if sink.is_none() {
        if let Some(stdout) = stdout.take() {
            spawn_line_reader(stdout, Stream::Stdout, sender.clone());
        }
    }
    drop(sender);

    let work = async {
        if let (Some(sink), Some(mut stdout)) = (sink.as_mut(), stdout) {
            let mut buffer = vec![0_u8; 64 * 1024];
            loop {
                let read = stdout.read(&mut buffer).await.map_err(|source| io_error("reading the output", source))?;
                if read == 0 {
                    break;
                }
                let chunk = buffer.get(..read).unwrap_or_default();
                sink.write_all(chunk).await.map_err(|source| io_error("writing the download", source))?;
            }
        }
        let mut lines = Vec::new();
        while let Some(mut line) = receiver.recv().await {
            mask(&mut line.text, &secrets);
            lines.push(line);
        }
        let status = child.wait().await.map_err(|source| io_error("waiting for the command", source))?;
        Ok::<_, ConnectorError>(CommandOutput {
            exit_code: status.code(),
            lines,
        })
    };
    match timeout.filter(|seconds| *seconds > 0.0) {
        Some(seconds) => {
            if let Ok(result) = tokio::time::timeout(Duration::from_secs_f64(seconds), work).await {
                result
            } else {
                kill_group(process_group);
                Err(ConnectorError::Timeout { seconds })
            }
        }
        None => work.await,
    }
}

fn mask(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if !secret.is_empty() && text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), MASK);
        }
    }
}

fn spawn_line_reader(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static, which: Stream, sender: mpsc::UnboundedSender<OutputLine>) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        // Lines are read as bytes: a tool's output need not be UTF-8.
        while let Ok(read) = reader.read_until(b'\n', &mut line).await {
            if read == 0 {
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            if sender.send(OutputLine { stream: which, text }).is_err() {
                break;
            }
        }
    });
}

/// Kills every process of the group a timed-out line started, when the line really
/// leads its own group (so that a mistake can never reach the controller itself).
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
    fn input_bytes_then_file_reach_the_command() {
        let directory = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
        let file = directory.path().join("rest");
        std::fs::write(&file, "from the file\n").unwrap_or_else(|error| unreachable!("{error}"));
        let mut invocation = Invocation::line("cat".to_owned());
        invocation.input = b"first\n".to_vec();
        invocation.input_file = Some(file);
        let output = runtime().block_on(run(invocation)).unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(output.stdout_lines(), vec!["first", "from the file"]);
    }

    #[test]
    fn raw_stdout_goes_to_the_sink_and_secrets_are_masked_in_lines() {
        let mut sink: Vec<u8> = Vec::new();
        let mut invocation = Invocation::line("printf 'a\\0b'; echo hunter2 >&2".to_owned());
        invocation.secrets = vec!["hunter2".to_owned()];
        invocation.stdout = Some(&mut sink);
        let output = runtime().block_on(run(invocation)).unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(output.stderr_lines(), vec![MASK]);
        assert_eq!(sink, b"a\0b");
    }

    #[test]
    fn timeout_kills_the_line() {
        let mut invocation = Invocation::line("sleep 5".to_owned());
        invocation.timeout = Some(0.3);
        let started = std::time::Instant::now();
        let result = runtime().block_on(run(invocation));
        assert!(matches!(result, Err(ConnectorError::Timeout { .. })));
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
