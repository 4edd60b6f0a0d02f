//! Wrapping a command for the host as pyinfra's `make_unix_command` does: environment
//! and directory first, then the shell (`sh -c '...'`), then privilege in the fixed
//! order doas, dzdo, sudo, su. Passwords never enter the command line: the connector
//! passes them through the environment or standard input.

use crate::arguments::ConnectorArguments;
use crate::command::{CommandPart, StringCommand};

/// The environment variable a sudo askpass helper reads the password from.
pub const SUDO_PASSWORD_VARIABLE: &str = "OXINFRA_SUDO_PASSWORD";
/// The environment variable a su askpass helper reads the password from.
pub const SU_PASSWORD_VARIABLE: &str = "OXINFRA_SU_PASSWORD";

/// Wraps `command` as the arguments say. `askpass` is the path of the helper that
/// prints a sudo password held in [`SUDO_PASSWORD_VARIABLE`], when one is in use.
pub fn make_unix_command(command: &StringCommand, arguments: &ConnectorArguments, askpass: Option<&str>) -> StringCommand {
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
    inner = inner.nested(command.clone());

    let mut wrapped = match &arguments.shell_executable {
        Some(shell) if !shell.is_empty() => StringCommand::raw(shell.clone()).text("-c").quoted_command(inner),
        _ => inner,
    };

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
