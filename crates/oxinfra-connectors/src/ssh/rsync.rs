//! `files.rsync` over SSH: the controller's `rsync`, with the system `ssh` as its remote
//! shell (`rsync -e "ssh ..."`), run in a local `sh` as pyinfra runs it. The russh
//! connection is not used; instead the `ssh` command line carries the settings the
//! connector itself connects with, so both reach and verify the same host the same way:
//! the same configuration file, alias (its `Host` blocks, `ProxyJump` and the like
//! apply), port, user, key, known hosts file, host key policy and connect timeout.
//!
//! Three layers of quoting meet here, each done by its own helper: words of the `-e`
//! value as rsync splits it ([`rsync_word`]), values inside an `ssh -o` option as ssh
//! splits them ([`ssh_option_value`]), and the whole command line for the local `sh`
//! (quoted parts of a [`StringCommand`]).

use std::process::Stdio;
use std::time::Duration;

use oxinfra_core::{CommandOutput, ConnectorArguments, ConnectorError, OutputLine, Stream, StringCommand, shell_quote};

use super::config::{self, Settings, expand_home};
use super::options::{SshOptions, StrictHostKeyChecking};

/// Runs `rsync FLAGS -e SSH --rsync-path REMOTE SRC [USER@]HOST:DEST` on the controller.
pub async fn rsync(
    host: &str,
    options: &SshOptions,
    src: &str,
    dest: &str,
    flags: &[String],
    arguments: &ConnectorArguments,
) -> Result<CommandOutput, ConnectorError> {
    // The system ssh runs without a terminal: it cannot be given a password.
    if options.password.is_some() {
        return Err(unsupported("rsync with a password login (`ssh_password`): use a key"));
    }
    if options.key_password.is_some() {
        return Err(unsupported("rsync with an encrypted key (`ssh_key_password`): load the key into an agent"));
    }
    let settings = config::resolve(host, options).await?;
    let command = command_line(options, &settings, src, dest, flags, arguments);
    run_local(&command, arguments.timeout).await
}

fn unsupported(action: &'static str) -> ConnectorError {
    ConnectorError::Unsupported {
        connector: "ssh".to_owned(),
        action,
    }
}

/// The local shell command. `flags` are shell text, as pyinfra writes them into its
/// command (`--exclude '*.pyc'` works); everything else is quoted.
pub fn command_line(options: &SshOptions, settings: &Settings, src: &str, dest: &str, flags: &[String], arguments: &ConnectorArguments) -> StringCommand {
    let mut command = StringCommand::raw("rsync");
    for flag in flags {
        command = command.text(flag.clone());
    }
    let target_host = if options.hostname.contains(':') {
        format!("[{}]", options.hostname)
    } else {
        options.hostname.clone()
    };
    command
        .text("-e")
        .quoted(remote_shell(options, settings))
        .text("--rsync-path")
        .quoted(remote_rsync(arguments))
        .quoted(src.to_owned())
        .quoted(format!("{}@{target_host}:{dest}", settings.user))
}

/// The `ssh` command rsync starts, as one `-e` value.
fn remote_shell(options: &SshOptions, settings: &Settings) -> String {
    let mut words: Vec<String> = vec!["ssh".into()];
    if let Some(file) = &options.config_file {
        words.extend(["-F".into(), expand_home(&file.to_string_lossy())]);
    }
    let mut option = |name: &str, value: &str| words.extend(["-o".into(), format!("{name}={}", ssh_option_value(value))]);
    // Never wait for an answer nobody can give.
    option("BatchMode", "yes");
    option("StrictHostKeyChecking", strict_text(settings.strict_host_key_checking));
    if let Some(file) = &options.known_hosts_file {
        option("UserKnownHostsFile", &expand_home(&file.to_string_lossy()));
    }
    option("ConnectTimeout", &settings.connect_timeout.as_secs().max(1).to_string());
    if options.key.is_some() {
        option("IdentitiesOnly", "yes");
    }
    if let Some(key) = &options.key {
        words.extend(["-i".into(), expand_home(&key.to_string_lossy())]);
    }
    words.extend(["-p".into(), settings.port.to_string()]);
    words.iter().map(|word| rsync_word(word)).collect::<Vec<_>>().join(" ")
}

/// The policy as ssh spells it; `ask` has nobody to ask, so it is `yes`, as for the connector.
fn strict_text(policy: StrictHostKeyChecking) -> &'static str {
    match policy {
        StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => "yes",
        StrictHostKeyChecking::AcceptNew => "accept-new",
        StrictHostKeyChecking::No => "no",
    }
}

/// The command the host's shell runs in place of `rsync`: pyinfra's `sudo rsync` and
/// `sudo -u USER rsync`; the other privilege arguments do not apply.
fn remote_rsync(arguments: &ConnectorArguments) -> String {
    match (&arguments.sudo, &arguments.sudo_user) {
        (true, Some(user)) => format!("sudo -u {} rsync", shell_quote(user)),
        (true, None) => "sudo rsync".to_owned(),
        (false, _) => "rsync".to_owned(),
    }
}

/// A word of rsync's `-e` value: rsync splits it at spaces and keeps quoted text
/// together, a doubled quote inside quotes standing for the quote itself.
fn rsync_word(word: &str) -> String {
    let safe = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_~".contains(c));
    if safe { word.to_owned() } else { format!("'{}'", word.replace('\'', "''")) }
}

/// A value inside an `ssh -o NAME=VALUE` option: ssh splits values at whitespace (a
/// known hosts file list) unless double-quoted, with `\` escaping inside the quotes.
fn ssh_option_value(value: &str) -> String {
    if value.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// Runs `command` in a local `sh` without standard input; `timeout` (`_timeout`) kills it.
async fn run_local(command: &StringCommand, timeout: Option<f64>) -> Result<CommandOutput, ConnectorError> {
    let mut process = tokio::process::Command::new("sh");
    process.arg("-c").arg(command.raw_value());
    process.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let run = process.output();
    let output = match timeout {
        Some(seconds) if seconds > 0.0 => tokio::time::timeout(Duration::from_secs_f64(seconds), run)
            .await
            .map_err(|_| ConnectorError::Timeout { seconds })?,
        _ => run.await,
    }
    .map_err(|source| ConnectorError::Io {
        context: "starting `rsync`".to_owned(),
        source,
    })?;
    let lines = |bytes: &[u8], stream: Stream| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(|text| OutputLine { stream, text: text.to_owned() })
            .collect::<Vec<_>>()
    };
    let mut all = lines(&output.stdout, Stream::Stdout);
    all.extend(lines(&output.stderr, Stream::Stderr));
    Ok(CommandOutput {
        exit_code: output.status.code(),
        lines: all,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{Map, Value};

    use super::*;
    use crate::ssh::config::{AgentSocket, DEFAULT_CONNECT_TIMEOUT};

    fn options(json: &str) -> SshOptions {
        let data: Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
        SshOptions::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"))
    }

    fn settings(user: &str, port: u16, strict: StrictHostKeyChecking) -> Settings {
        Settings {
            alias: "web1".into(),
            hostname: "10.0.0.1".into(),
            port,
            user: user.into(),
            identity_files: Vec::new(),
            identities_only: false,
            identity_agent: AgentSocket::Environment,
            certificate_files: Vec::new(),
            proxy_jump: Vec::new(),
            proxy_command: None,
            user_known_hosts_files: vec![PathBuf::from("/root/.ssh/known_hosts")],
            global_known_hosts_files: Vec::new(),
            strict_host_key_checking: strict,
            hash_known_hosts: false,
            host_key_alias: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            server_alive_interval: None,
            server_alive_count_max: 3,
            forward_agent: false,
        }
    }

    #[test]
    fn ssh_settings_ride_in_the_remote_shell() {
        let options = options(
            r#"{"ssh_hostname": "web1.internal", "ssh_key": "/keys/id ed25519", "ssh_known_hosts_file": "/etc/lab/known hosts",
                "ssh_strict_host_key_checking": "yes", "ssh_config_file": "/etc/lab/ssh_config"}"#,
        );
        assert_eq!(
            remote_shell(&options, &settings("deploy", 2222, StrictHostKeyChecking::Yes)),
            "ssh -F /etc/lab/ssh_config -o BatchMode=yes -o StrictHostKeyChecking=yes \
             -o 'UserKnownHostsFile=\"/etc/lab/known hosts\"' -o ConnectTimeout=10 -o IdentitiesOnly=yes \
             -i '/keys/id ed25519' -p 2222"
        );
    }

    #[test]
    fn command_quotes_all_but_the_flags() {
        let command = command_line(
            &options(r#"{"ssh_hostname": "web1.internal"}"#),
            &settings("deploy", 22, StrictHostKeyChecking::AcceptNew),
            "my site/",
            "/srv/site",
            &["-ax".into(), "--exclude '*.pyc'".into()],
            &ConnectorArguments::default(),
        );
        assert_eq!(
            command.raw_value(),
            "rsync -ax --exclude '*.pyc' -e 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 -p 22' \
             --rsync-path rsync 'my site/' deploy@web1.internal:/srv/site"
        );
    }

    #[test]
    fn sudo_runs_the_remote_rsync() {
        let sudo = ConnectorArguments {
            sudo: true,
            ..ConnectorArguments::default()
        };
        assert_eq!(remote_rsync(&sudo), "sudo rsync");
        let as_user = ConnectorArguments {
            sudo: true,
            sudo_user: Some("web data".into()),
            ..ConnectorArguments::default()
        };
        assert_eq!(remote_rsync(&as_user), "sudo -u 'web data' rsync");
        assert_eq!(remote_rsync(&ConnectorArguments::default()), "rsync");
    }

    #[test]
    fn quoting_for_rsync_doubles_quotes() {
        assert_eq!(rsync_word("-p"), "-p");
        assert_eq!(rsync_word("it's here"), "'it''s here'");
        assert_eq!(ssh_option_value("/a b/\"c\""), "\"/a b/\\\"c\\\"\"");
    }

    #[test]
    fn ipv6_hosts_are_bracketed_and_ask_is_yes() {
        let command = command_line(
            &options(r#"{"ssh_hostname": "::1"}"#),
            &settings("root", 22, StrictHostKeyChecking::Ask),
            "a",
            "b",
            &[],
            &ConnectorArguments::default(),
        );
        let text = command.raw_value();
        assert!(text.ends_with(" a 'root@[::1]:b'"), "{text}");
        assert!(text.contains("StrictHostKeyChecking=yes"), "{text}");
    }
}
