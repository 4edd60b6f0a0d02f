//! Wrapping a command for the host as pyinfra's `make_unix_command` does: environment
//! and directory first, then the shell (`sh -c '...'`), then privilege in the fixed
//! order doas, dzdo, sudo, su. Passwords never enter the command line: the connector
//! passes them through the environment or standard input.
//!
//! Nor do secrets inside a command (`MaskString`/`HiddenValue` parts, secret `_env`
//! values): [`wrap_for_host`] sends such a command's text on standard input, where a
//! small reader in the shell takes exactly its lines and `eval`s them, so that the
//! process list of the host shows the reader, never the secret.

use crate::arguments::ConnectorArguments;
use crate::command::{CommandPart, StringCommand};

/// The environment variable a sudo askpass helper reads the password from.
pub const SUDO_PASSWORD_VARIABLE: &str = "OXINFRA_SUDO_PASSWORD";
/// The environment variable a su askpass helper reads the password from.
pub const SU_PASSWORD_VARIABLE: &str = "OXINFRA_SU_PASSWORD";

/// Wraps `command` as the arguments say. `askpass` is the path of the helper that
/// prints a sudo password held in [`SUDO_PASSWORD_VARIABLE`], when one is in use.
pub fn make_unix_command(command: &StringCommand, arguments: &ConnectorArguments, askpass: Option<&str>) -> StringCommand {
    let inner = with_directory_and_env(command, arguments);
    let wrapped = match &arguments.shell_executable {
        Some(shell) if !shell.is_empty() => StringCommand::raw(shell.clone()).text("-c").quoted_command(inner),
        _ => inner,
    };
    with_privilege(wrapped, arguments, askpass)
}

/// A command ready to send: the command line, and lines to write first to its standard
/// input (before the `_stdin` lines and after any password lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapped {
    /// The command line: never holds a secret.
    pub command: StringCommand,
    /// Lines the command reads first from standard input (each sent with a newline).
    pub input: Vec<String>,
}

/// The shell code that reads a script sent on standard input (a line count, then its
/// lines) and runs it in the same shell. `read` takes a pipe byte by byte, so the
/// command still finds the rest of the input, unread.
const STDIN_SCRIPT_READER: &str = "IFS= read -r oxinfra_lines && oxinfra_script= && while [ \"$oxinfra_lines\" -gt 0 ]; do \
IFS= read -r oxinfra_line; oxinfra_script=\"$oxinfra_script$oxinfra_line\n\"; oxinfra_lines=$((oxinfra_lines - 1)); done && \
unset oxinfra_lines oxinfra_line && eval \"$oxinfra_script\"";

/// Wraps `command` as [`make_unix_command`] does, keeping secrets off the command line:
/// when the command or its environment holds a secret, the command line carries the
/// stdin reader and the command's text goes in [`Wrapped::input`].
pub fn wrap_for_host(command: &StringCommand, arguments: &ConnectorArguments, askpass: Option<&str>) -> Wrapped {
    let secret_env = arguments.env.iter().any(|(_, value)| value.is_secret());
    if !command.has_secret() && !secret_env {
        return Wrapped {
            command: make_unix_command(command, arguments, askpass),
            input: Vec::new(),
        };
    }
    let script = with_directory_and_env(command, arguments).raw_value();
    let lines: Vec<String> = script.split('\n').map(str::to_owned).collect();
    let mut input = Vec::with_capacity(lines.len() + 1);
    input.push(lines.len().to_string());
    input.extend(lines);
    let reader = StringCommand::raw(STDIN_SCRIPT_READER);
    let wrapped = match &arguments.shell_executable {
        Some(shell) if !shell.is_empty() => StringCommand::raw(shell.clone()).text("-c").quoted_command(reader),
        _ => reader,
    };
    Wrapped {
        command: with_privilege(wrapped, arguments, askpass),
        input,
    }
}

/// `cd DIR && export K=V ... && COMMAND`, as the arguments say.
fn with_directory_and_env(command: &StringCommand, arguments: &ConnectorArguments) -> StringCommand {
    let mut inner = StringCommand::new();
    if let Some(directory) = &arguments.chdir {
        inner = inner.text("cd").quoted(directory.clone()).text("&&");
    }
    if !arguments.env.is_empty() {
        inner = inner.text("export");
        for (key, value) in &arguments.env {
            let pair = if value.is_secret() {
                CommandPart::Quoted(vec![CommandPart::Raw(format!("{key}=")), CommandPart::Secret(value.reveal().to_owned())])
            } else {
                CommandPart::Quoted(vec![CommandPart::Raw(format!("{key}={}", value.reveal()))])
            };
            inner.push(pair);
        }
        inner = inner.text("&&");
    }
    inner.nested(command.clone())
}

/// The privilege wrapping around a command: su, then sudo, dzdo and doas outside it.
fn with_privilege(mut wrapped: StringCommand, arguments: &ConnectorArguments, askpass: Option<&str>) -> StringCommand {
    if let Some(user) = &arguments.su_user {
        let mut su = StringCommand::raw("su");
        if arguments.use_su_login {
            su = su.text("-l");
        }
        if arguments.preserve_su_env {
            su = su.text("-m");
        }
        if let Some(shell) = &arguments.su_shell {
            su = su.text(format!("-s $(command -v {shell})"));
        }
        wrapped = su.quoted(user.clone()).text("-c").quoted_command(wrapped);
    }

    if arguments.sudo {
        let mut sudo = StringCommand::new();
        if arguments.sudo_password.is_some() {
            if let Some(askpass) = askpass {
                sudo = sudo.text("env").text(format!("SUDO_ASKPASS={}", crate::command::shell_quote(askpass)));
            }
            sudo = sudo.text("sudo -H -A -k");
        } else {
            sudo = sudo.text("sudo -H -n");
        }
        if arguments.use_sudo_login {
            sudo = sudo.text("-i");
        }
        if arguments.preserve_sudo_env {
            sudo = sudo.text("-E");
        }
        if let Some(user) = &arguments.sudo_user {
            sudo = sudo.text("-u").quoted(user.clone());
        }
        wrapped = sudo.nested(wrapped);
    }

    if arguments.dzdo {
        let mut dzdo = StringCommand::raw("dzdo -H -n");
        if let Some(user) = &arguments.dzdo_user {
            dzdo = dzdo.text("-u").quoted(user.clone());
        }
        wrapped = dzdo.nested(wrapped);
    }

    if arguments.doas {
        let mut doas = StringCommand::raw("doas -n");
        if let Some(user) = &arguments.doas_user {
            doas = doas.text("-u").quoted(user.clone());
        }
        wrapped = doas.nested(wrapped);
    }
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arguments::MaybeSecret;

    fn echo() -> StringCommand {
        StringCommand::raw("echo").quoted("hello world")
    }

    #[test]
    fn default_wraps_in_sh() {
        let wrapped = make_unix_command(&echo(), &ConnectorArguments::default(), None);
        assert_eq!(wrapped.raw_value(), "sh -c 'echo '\"'\"'hello world'\"'\"''");
    }

    #[test]
    fn sudo_with_user_login_and_env() {
        let arguments = ConnectorArguments {
            sudo: true,
            sudo_user: Some("www".into()),
            use_sudo_login: true,
            preserve_sudo_env: true,
            ..ConnectorArguments::default()
        };
        let wrapped = make_unix_command(&StringCommand::raw("id"), &arguments, None);
        assert_eq!(wrapped.raw_value(), "sudo -H -n -i -E -u www sh -c id");
    }

    #[test]
    fn sudo_then_su() {
        let arguments = ConnectorArguments {
            sudo: true,
            su_user: Some("app".into()),
            ..ConnectorArguments::default()
        };
        let wrapped = make_unix_command(&StringCommand::raw("id"), &arguments, None);
        assert_eq!(wrapped.raw_value(), "sudo -H -n su app -c 'sh -c id'");
    }

    #[test]
    fn env_and_chdir_prefix_the_command() {
        let arguments = ConnectorArguments {
            chdir: Some("/srv/app".into()),
            env: vec![("A".into(), MaybeSecret::Plain("1".into())), ("B".into(), MaybeSecret::Plain("x y".into()))],
            ..ConnectorArguments::default()
        };
        let wrapped = make_unix_command(&echo(), &arguments, None);
        assert_eq!(
            wrapped.raw_value(),
            "sh -c 'cd /srv/app && export A=1 '\"'\"'B=x y'\"'\"' && echo '\"'\"'hello world'\"'\"''"
        );
    }

    #[test]
    fn no_shell_runs_unwrapped() {
        let arguments = ConnectorArguments {
            shell_executable: None,
            ..ConnectorArguments::default()
        };
        assert_eq!(make_unix_command(&echo(), &arguments, None).raw_value(), "echo 'hello world'");
    }

    #[test]
    fn commands_without_secrets_need_no_input() {
        let wrapped = wrap_for_host(&echo(), &ConnectorArguments::default(), None);
        assert_eq!(wrapped.command, make_unix_command(&echo(), &ConnectorArguments::default(), None));
        assert!(wrapped.input.is_empty());
    }

    #[test]
    fn a_secret_goes_on_standard_input_not_the_command_line() {
        let command = StringCommand::raw("echo").secret("hunter2-wrap").text("&&").text("cat");
        let arguments = ConnectorArguments {
            sudo: true,
            env: vec![("TOKEN".into(), MaybeSecret::Secret { secret: "s3cret-env".into() })],
            ..ConnectorArguments::default()
        };
        let wrapped = wrap_for_host(&command, &arguments, None);
        let line = wrapped.command.raw_value();
        assert!(!line.contains("hunter2-wrap") && !line.contains("s3cret-env"), "{line}");
        assert!(line.starts_with("sudo -H -n sh -c "), "{line}");
        assert_eq!(wrapped.input[0], "1");
        assert_eq!(wrapped.input[1], "export TOKEN=s3cret-env && echo hunter2-wrap && cat");
    }

    #[test]
    fn the_stdin_reader_runs_the_script_and_leaves_the_rest_of_the_input() {
        let mut command = StringCommand::raw("printf '%s|' \"$(cat)\"").text("&& echo");
        command.push(CommandPart::Quoted(vec![CommandPart::Secret("two\nlines".into())]));
        let wrapped = wrap_for_host(&command, &ConnectorArguments::default(), None);
        let mut input: String = wrapped.input.iter().map(|line| format!("{line}\n")).collect();
        input.push_str("rest of input\n");
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(wrapped.command.raw_value())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().map(|mut stdin| stdin.write_all(input.as_bytes())).transpose()?;
                child.wait_with_output()
            })
            .unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "rest of input|two\nlines\n");
        assert!(output.status.success());
    }

    #[test]
    fn secret_env_is_masked() {
        let arguments = ConnectorArguments {
            env: vec![("TOKEN".into(), MaybeSecret::Secret { secret: "hunter2".into() })],
            ..ConnectorArguments::default()
        };
        let wrapped = make_unix_command(&StringCommand::raw("true"), &arguments, None);
        assert!(wrapped.raw_value().contains("hunter2"));
        assert!(!wrapped.masked_value().contains("hunter2"));
    }
}
