//! Running one command on its own session channel of the host's connection: wrapping
//! with `make_unix_command`, standard input (the `_stdin` lines, a password line read
//! by the wrapper), `_get_pty`, `_timeout`, and stdout/stderr as separate lines in
//! arrival order, or stdout as raw bytes for a download.
//!
//! A command with a timeout runs as `echo $$; exec COMMAND`: sshd makes every session
//! its own process group, so the first stdout line (taken out of the output) is the
//! group to kill when the time is up. sshd's own `signal` request is sent too, but
//! OpenSSH refuses it for root logins, and it reaches one process, not the group.
//!
//! A sudo password never reaches a command line. The exec string is
//! `sh -c 'IFS= read -r OXINFRA_SUDO_PASSWORD && export OXINFRA_SUDO_PASSWORD && env SUDO_ASKPASS=<helper> sudo -H -A -k ...'`
//! and the password is the first line of standard input: the shell builtin `read`
//! takes exactly that line (it reads a pipe byte by byte), the helper prints the
//! variable, and the command gets the rest of the input.

use std::io::Cursor;
use std::time::Duration;

use oxinfra_core::command::MASK;
use oxinfra_core::wrap::{SUDO_PASSWORD_VARIABLE, wrap_for_host};
use oxinfra_core::{CommandOutput, ConnectorArguments, ConnectorError, OutputLine, Stream, StringCommand};
use russh::{ChannelMsg, Pty, Sig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::SshError;
use super::session::Connection;

/// One command to run.
pub struct Request<'a> {
    /// The text sent to the host (secrets in it are the caller's business).
    pub command: String,
    /// Bytes written to standard input, then `input_file`, then end of input.
    pub input: Vec<u8>,
    /// A local file streamed after `input` (uploads without SFTP).
    pub input_file: Option<tokio::fs::File>,
    /// Ask for a terminal.
    pub pty: bool,
    /// Whether `input` holds a password (the terminal must not echo it).
    pub secret_input: bool,
    /// Seconds before the command is killed.
    pub timeout: Option<f64>,
    /// Texts replaced by `*MASKED*` in the output lines.
    pub secrets: Vec<String>,
    /// Where stdout goes as raw bytes; `None` collects it as lines.
    pub stdout: Option<&'a mut (dyn AsyncWrite + Unpin + Send)>,
    /// The privilege wrapping of the command, which a timed-out command's group is
    /// killed through too (a login user cannot signal a root `sudo`).
    pub privilege: Option<ConnectorArguments>,
}

impl Request<'_> {
    /// A command with no input, terminal or timeout.
    pub fn plain(command: String) -> Self {
        Self {
            command,
            input: Vec::new(),
            input_file: None,
            pty: false,
            secret_input: false,
            timeout: None,
            secrets: Vec::new(),
            stdout: None,
            privilege: None,
        }
    }

    /// A prepared command with the terminal, timeout and secrets of `arguments`.
    pub fn wrapped(prepared: Prepared, arguments: &ConnectorArguments) -> Self {
        let privileged = arguments.sudo || arguments.su_user.is_some() || arguments.doas || arguments.dzdo;
        let privilege = privileged.then(|| ConnectorArguments {
            stdin: Vec::new(),
            timeout: None,
            get_pty: false,
            chdir: None,
            env: Vec::new(),
            ..arguments.clone()
        });
        Self {
            command: prepared.command,
            input: prepared.input,
            input_file: None,
            pty: arguments.get_pty,
            secret_input: prepared.secret_input,
            timeout: arguments.timeout,
            secrets: arguments.secrets().into_iter().map(str::to_owned).collect(),
            stdout: None,
            privilege,
        }
    }
}

/// The exec string and standard input of a wrapped command.
pub struct Prepared {
    /// What the host's login shell runs.
    pub command: String,
    /// Password lines first, then the `_stdin` lines.
    pub input: Vec<u8>,
    /// Whether `input` holds a password.
    pub secret_input: bool,
}

/// Wraps `command` as `arguments` say, writing the askpass helper when a sudo password
/// is given; `extra_input` lines follow the password lines instead of `_stdin`.
pub async fn prepare(connection: &Connection, command: &StringCommand, arguments: &ConnectorArguments) -> Result<Prepared, ConnectorError> {
    let sudo_password = arguments.sudo_password.as_deref().filter(|password| arguments.sudo && !password.is_empty());
    let askpass = match sudo_password {
        Some(_) => Some(connection.askpass(arguments.temp_dir.as_deref()).await?),
        None => None,
    };
    // A command holding a secret travels on standard input, after the password lines,
    // so the host's process list never shows it.
    let wrapped = wrap_for_host(command, arguments, askpass.as_deref());
    let script = wrapped.input;
    let wrapped = wrapped.command;
    let mut lines: Vec<&str> = Vec::new();
    let command = match sudo_password {
        Some(password) => {
            lines.push(password);
            let reader = format!("IFS= read -r {SUDO_PASSWORD_VARIABLE} && export {SUDO_PASSWORD_VARIABLE} &&");
            StringCommand::raw("sh -c").quoted_command(StringCommand::raw(reader).nested(wrapped))
        }
        None => wrapped,
    };
    if let Some(password) = arguments
        .su_password
        .as_deref()
        .filter(|password| arguments.su_user.is_some() && !password.is_empty())
    {
        // su reads its password from its input, ahead of the command's own lines.
        lines.push(password);
    }
    lines.extend(script.iter().map(String::as_str));
    let secret_input = !lines.is_empty();
    lines.extend(arguments.stdin.iter().map(String::as_str));
    let input = lines.iter().flat_map(|line| line.bytes().chain(std::iter::once(b'\n'))).collect();
    Ok(Prepared {
        command: command.raw_value(),
        input,
        secret_input,
    })
}

/// Runs a pyinfra command: wrapped, with `_stdin`, `_get_pty` and `_timeout`.
pub async fn run_command(connection: &Connection, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
    let prepared = prepare(connection, command, arguments).await?;
    execute(connection, Request::wrapped(prepared, arguments)).await
}

/// Runs one request on a new session channel.
pub async fn execute(connection: &Connection, request: Request<'_>) -> Result<CommandOutput, ConnectorError> {
    let channel = connection.open_session().await?;
    let channel_error = |what: &str, error: russh::Error| {
        ConnectorError::from(SshError::Channel {
            host: connection.host.clone(),
            what: what.to_owned(),
            detail: error.to_string(),
        })
    };
    if request.pty {
        // With echo on, a terminal would repeat a password written to it into the output.
        let modes: &[(Pty, u32)] = if request.secret_input { &[(Pty::ECHO, 0)] } else { &[] };
        channel
            .request_pty(false, "xterm", 80, 24, 0, 0, modes)
            .await
            .map_err(|error| channel_error("a terminal", error))?;
    }
    let limit = request.timeout.filter(|seconds| *seconds > 0.0);
    let command = if limit.is_some() {
        format!("echo $$; exec {}", request.command)
    } else {
        request.command
    };
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(|error| channel_error("an exec request", error))?;
    let (mut reader, writer) = channel.split();
    // The remote process group, once its first line has arrived.
    let mut group: Option<Vec<u8>> = limit.map(|_| Vec::new());
    let mut group_id: Option<u32> = None;

    let mut input: Box<dyn AsyncRead + Unpin + Send> = Box::new(Cursor::new(request.input));
    if let Some(file) = request.input_file {
        input = Box::new(input.chain(file));
    }
    let write = async {
        // A command that exits without reading its input closes the channel: not an error.
        writer.data(input).await.ok();
        writer.eof().await.ok();
    };

    let pty = request.pty;
    let secrets = request.secrets;
    let mut stdout_sink = request.stdout;
    let read = async {
        let mut output = CommandOutput::default();
        let mut stdout = LineBuffer::new(Stream::Stdout, pty);
        let mut stderr = LineBuffer::new(Stream::Stderr, pty);
        let mut finished = false;
        while let Some(message) = reader.wait().await {
            match message {
                ChannelMsg::Data { data } if group.is_some() => {
                    // Everything up to the first newline is the process group id.
                    let pending = group.get_or_insert_with(Vec::new);
                    pending.extend_from_slice(&data);
                    if let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                        let rest = pending.split_off(end + 1);
                        group_id = String::from_utf8_lossy(pending).trim().parse().ok();
                        group = None;
                        match stdout_sink.as_mut() {
                            Some(sink) => sink.write_all(&rest).await.map_err(|source| ConnectorError::Io {
                                context: "writing the download".to_owned(),
                                source,
                            })?,
                            None => stdout.push(&rest, &secrets, &mut output.lines),
                        }
                    }
                }
                ChannelMsg::Data { data } => match stdout_sink.as_mut() {
                    Some(sink) => sink.write_all(&data).await.map_err(|source| ConnectorError::Io {
                        context: "writing the download".to_owned(),
                        source,
                    })?,
                    None => stdout.push(&data, &secrets, &mut output.lines),
                },
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.push(&data, &secrets, &mut output.lines),
                ChannelMsg::ExitStatus { exit_status } => {
                    output.exit_code = Some(i32::try_from(exit_status).unwrap_or(i32::MAX));
                    finished = true;
                }
                ChannelMsg::ExitSignal { .. } => finished = true,
                ChannelMsg::Failure => {
                    return Err(ConnectorError::from(SshError::Channel {
                        host: connection.host.clone(),
                        what: "an exec request".to_owned(),
                        detail: "the server refused to run the command".to_owned(),
                    }));
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        stdout.finish(&secrets, &mut output.lines);
        stderr.finish(&secrets, &mut output.lines);
        if !finished && connection.is_closed() {
            return Err(ConnectorError::from(connection.lost("while the command ran")));
        }
        Ok(output)
    };

    let work = async {
        tokio::pin!(read, write);
        let mut written = false;
        loop {
            tokio::select! {
                result = &mut read => return result,
                () = &mut write, if !written => written = true,
            }
        }
    };
    let Some(seconds) = limit else { return work.await };
    if let Ok(result) = tokio::time::timeout(Duration::from_secs_f64(seconds), work).await {
        return result;
    }
    writer.signal(Sig::TERM).await.ok();
    if let Some(group) = group_id {
        kill_group(connection, group, request.privilege.as_ref()).await;
    }
    // Closing the channel also hangs up a terminal's process group.
    writer.close().await.ok();
    Err(ConnectorError::Timeout { seconds })
}

/// Stops a timed-out command: its process group and every descendant (a `sudo` puts
/// its command in a session of its own), TERM then KILL, with the command's own
/// privilege since a login user cannot signal a root `sudo` or its command.
async fn kill_group(connection: &Connection, group: u32, privilege: Option<&ConnectorArguments>) {
    // dash's `kill` takes no `--`: `-N` alone names the group.
    let command = StringCommand::raw(format!(
        "tree() {{ for child in $(pgrep -P \"$1\" 2>/dev/null); do tree \"$child\"; echo \"$child\"; done; }}; pids=$(tree {group}); \
         for signal in TERM KILL; do kill -$signal -{group} 2>/dev/null; for pid in $pids; do kill -$signal $pid 2>/dev/null; done; \
         [ $signal = TERM ] && sleep 0.5; done; true"
    ));
    let killing = async {
        match privilege {
            Some(arguments) => Box::pin(run_command(connection, &command, arguments)).await,
            None => Box::pin(execute(connection, Request::plain(command.raw_value()))).await,
        }
    };
    // Best effort: the group may be gone, or the connection with it.
    let _ = tokio::time::timeout(Duration::from_secs(5), killing).await;
}

/// Splits one stream's bytes into lines as they arrive.
struct LineBuffer {
    stream: Stream,
    pending: Vec<u8>,
    pty: bool,
}

impl LineBuffer {
    fn new(stream: Stream, pty: bool) -> Self {
        Self {
            stream,
            pending: Vec::new(),
            pty,
        }
    }

    fn push(&mut self, data: &[u8], secrets: &[String], lines: &mut Vec<OutputLine>) {
        self.pending.extend_from_slice(data);
        while let Some(end) = self.pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            lines.push(self.line(&line[..end], secrets));
        }
    }

    fn finish(&mut self, secrets: &[String], lines: &mut Vec<OutputLine>) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            lines.push(self.line(&rest, secrets));
        }
    }

    fn line(&self, bytes: &[u8], secrets: &[String]) -> OutputLine {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        if self.pty && text.ends_with('\r') {
            text.pop();
        }
        for secret in secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        OutputLine { stream: self.stream, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_packets_and_mask_secrets() {
        let mut lines = Vec::new();
        let mut buffer = LineBuffer::new(Stream::Stdout, true);
        let secrets = vec!["hunter2".to_owned()];
        buffer.push(b"one\r\ntw", &secrets, &mut lines);
        buffer.push(b"o hunter2\nthree", &secrets, &mut lines);
        buffer.finish(&secrets, &mut lines);
        let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts, vec!["one", "two *MASKED*", "three"]);
    }
}
