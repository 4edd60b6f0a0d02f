//! Shell commands built only from typed parts, as pyinfra's `StringCommand`,
//! `QuoteString` and `MaskString`: a user value enters a command quoted, and a
//! secret is rendered as `*MASKED*` everywhere except in the text sent to the host.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The text shown in place of a secret.
pub const MASK: &str = "*MASKED*";

/// Quotes `text` for a POSIX shell exactly as Python's `shlex.quote` does.
pub fn shell_quote(text: &str) -> String {
    if text.is_empty() {
        return "''".to_owned();
    }
    let safe = text.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\"'\"'"))
    }
}

/// One piece of a [`StringCommand`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CommandPart {
    /// Shell text written by the operation itself, sent as is.
    Raw(String),
    /// A value quoted with [`shell_quote`] after its own parts are rendered.
    Quoted(Vec<CommandPart>),
    /// A secret: sent to the host, shown as `*MASKED*`.
    Secret(String),
    /// A nested command, rendered with its own separator.
    Nested(StringCommand),
}

impl CommandPart {
    fn render(&self, masked: bool) -> String {
        match self {
            Self::Raw(text) => text.clone(),
            Self::Quoted(parts) => shell_quote(&parts.iter().map(|part| part.render(masked)).collect::<String>()),
            Self::Secret(secret) => {
                if masked {
                    MASK.to_owned()
                } else {
                    secret.clone()
                }
            }
            Self::Nested(command) => command.render(masked),
        }
    }

    fn has_secret(&self) -> bool {
        match self {
            Self::Raw(_) => false,
            Self::Secret(_) => true,
            Self::Quoted(parts) => parts.iter().any(Self::has_secret),
            Self::Nested(command) => command.has_secret(),
        }
    }
}

/// A shell command: parts joined by a separator (a space unless said otherwise).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringCommand {
    /// The parts, in order.
    pub parts: Vec<CommandPart>,
    /// What joins the parts.
    #[serde(default = "default_separator")]
    pub separator: String,
}

fn default_separator() -> String {
    " ".to_owned()
}

impl StringCommand {
    /// An empty command joined by spaces.
    pub fn new() -> Self {
        Self {
            parts: Vec::new(),
            separator: default_separator(),
        }
    }

    /// A command of one piece of operation-written shell text.
    pub fn raw(text: impl Into<String>) -> Self {
        Self::new().text(text)
    }

    /// Appends operation-written shell text.
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.parts.push(CommandPart::Raw(text.into()));
        self
    }

    /// Appends a value, quoted.
    #[must_use]
    pub fn quoted(mut self, value: impl Into<String>) -> Self {
        self.parts.push(CommandPart::Quoted(vec![CommandPart::Raw(value.into())]));
        self
    }

    /// Appends a secret, shown masked.
    #[must_use]
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.parts.push(CommandPart::Secret(value.into()));
        self
    }

    /// Appends a nested command.
    #[must_use]
    pub fn nested(mut self, command: StringCommand) -> Self {
        self.parts.push(CommandPart::Nested(command));
        self
    }

    /// Appends a nested command, quoted as one shell word.
    #[must_use]
    pub fn quoted_command(mut self, command: StringCommand) -> Self {
        self.parts.push(CommandPart::Quoted(vec![CommandPart::Nested(command)]));
        self
    }

    /// Appends any part.
    pub fn push(&mut self, part: CommandPart) {
        self.parts.push(part);
    }

    fn render(&self, masked: bool) -> String {
        self.parts.iter().map(|part| part.render(masked)).collect::<Vec<_>>().join(&self.separator)
    }

    /// The text sent to the host, secrets included.
    pub fn raw_value(&self) -> String {
        self.render(false)
    }

    /// The text shown to people, secrets masked.
    pub fn masked_value(&self) -> String {
        self.render(true)
    }

    /// Whether any part is a secret.
    pub fn has_secret(&self) -> bool {
        self.parts.iter().any(CommandPart::has_secret)
    }

    /// Whether the command renders to nothing.
    pub fn is_empty(&self) -> bool {
        self.raw_value().trim().is_empty()
    }
}

impl fmt::Display for StringCommand {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.masked_value())
    }
}

/// What an upload sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum UploadSource {
    /// A file on the controller.
    Path(PathBuf),
    /// Bytes held in memory (a rendered template, a `StringIO`).
    Content(Vec<u8>),
}

/// One step of an operation, as pyinfra's command classes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// A shell command (`StringCommand`).
    Shell {
        /// The command.
        command: StringCommand,
    },
    /// Send a file to the host (`FileUploadCommand`).
    Upload {
        /// What to send.
        source: UploadSource,
        /// Where it goes on the host.
        dest: String,
    },
    /// Fetch a file from the host (`FileDownloadCommand`).
    Download {
        /// The file on the host.
        src: String,
        /// Where it goes on the controller.
        dest: PathBuf,
        /// Create the missing folders above `dest` first (`files.get`'s
        /// `create_local_dir`); planning does no I/O, so the run does it.
        #[serde(default)]
        create_local_dir: bool,
    },
    /// Run a Python function at execute time (`FunctionCommand`), by the id the
    /// Python front gave it.
    Function {
        /// The Python front's handle on the function and its arguments.
        id: u64,
        /// The function's name, for display.
        name: String,
    },
    /// Copy a controller folder to the host with the controller's `rsync`
    /// (`RsyncCommand`): the connector decides how `rsync` reaches the host.
    Rsync {
        /// The path on the controller, as `rsync` reads it (a trailing `/` copies the
        /// folder's content rather than the folder).
        src: String,
        /// The path on the host.
        dest: String,
        /// Options given to `rsync`, one argument each.
        flags: Vec<String>,
    },
    /// A step of `server.reboot` that the engine carries out itself (pyinfra's function
    /// commands of that operation).
    Reboot {
        /// Which step.
        step: RebootStep,
    },
}

/// The steps of `server.reboot` around its `reboot` command, named as pyinfra's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RebootStep {
    /// Forget a sudo password helper left on the host (oxinfra leaves none: nothing to do).
    RemoveAnyAskpassFile,
    /// Read the host's uptime before the reboot.
    CaptureUptime,
    /// Wait `delay`, then reconnect every `interval` until the host answers with an
    /// uptime showing it rebooted, failing after `reboot_timeout`.
    WaitAndReconnect {
        /// How long to wait before the first attempt.
        delay: Duration,
        /// How long to wait between attempts.
        interval: Duration,
        /// How long to try for.
        reboot_timeout: Duration,
    },
    /// Forget what was known about sudo on the host (a reboot may clear it).
    CleanSudoInfo,
}

impl RebootStep {
    /// pyinfra's name for the step.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RemoveAnyAskpassFile => "remove_any_askpass_file",
            Self::CaptureUptime => "capture_uptime",
            Self::WaitAndReconnect { .. } => "wait_and_reconnect",
            Self::CleanSudoInfo => "clean_sudo_info",
        }
    }
}

impl Command {
    /// A shell command.
    pub fn shell(command: StringCommand) -> Self {
        Self::Shell { command }
    }

    /// How the command is shown to people (secrets masked).
    pub fn display(&self) -> String {
        match self {
            Self::Shell { command } => command.masked_value(),
            Self::Upload { dest, .. } => format!("upload {dest}"),
            Self::Download { src, dest, .. } => format!("download {src} -> {}", dest.display()),
            Self::Function { name, .. } => format!("python function {name}"),
            Self::Reboot { step } => format!("reboot step {}", step.name()),
            Self::Rsync { src, dest, flags } => {
                // The flags are shell text (as pyinfra writes them), the paths values.
                let mut words = vec!["rsync".to_owned()];
                words.extend(flags.iter().cloned());
                words.extend([shell_quote(src), shell_quote(dest)]);
                words.join(" ")
            }
        }
    }
}

impl From<StringCommand> for Command {
    fn from(command: StringCommand) -> Self {
        Self::shell(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_python_shlex() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("abc/d.e-f_g@h%i+j=k:l,m"), "abc/d.e-f_g@h%i+j=k:l,m");
        assert_eq!(shell_quote("hello world"), "'hello world'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
    }

    #[test]
    fn secrets_are_masked_only_for_display() {
        let command = StringCommand::raw("echo")
            .quoted("it's a test")
            .text("&&")
            .text("mysql")
            .text("-p")
            .secret("s3cr3t");
        assert_eq!(command.raw_value(), "echo 'it'\"'\"'s a test' && mysql -p s3cr3t");
        assert_eq!(command.masked_value(), "echo 'it'\"'\"'s a test' && mysql -p *MASKED*");
    }

    #[test]
    fn quoted_secret_is_quoted_then_masked() {
        let mut command = StringCommand::raw("mysql");
        command.push(CommandPart::Quoted(vec![CommandPart::Secret("s3cr3t pw".into())]));
        assert_eq!(command.raw_value(), "mysql 's3cr3t pw'");
        assert_eq!(command.masked_value(), "mysql '*MASKED*'");
    }
}
