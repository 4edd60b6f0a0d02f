//! The effective settings of a host, resolved as OpenSSH resolves them: `ssh -G [-F file]
//! [-l user] [-p port] HOST` prints the configuration after `Host`/`Match` blocks,
//! `Include`s and defaults, and the `ssh_*` host data goes on top. `ssh -G` leaves
//! `~` and `%` tokens in `IdentityFile`/`CertificateFile`/`IdentityAgent` alone, so they
//! are expanded here as ssh expands them when it loads the files.
//!
//! Without an `ssh` client the settings are OpenSSH's defaults plus the host data: the
//! configuration file is not read (a pure-Rust parser is future work).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::error::SshError;
use super::options::{SshOptions, StrictHostKeyChecking};

/// pyinfra's `CONNECT_TIMEOUT`, used when `ConnectTimeout` is not set.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the agent is, as `IdentityAgent` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentSocket {
    /// `SSH_AUTH_SOCK` (the default).
    Environment,
    /// A socket path.
    Path(PathBuf),
    /// `IdentityAgent none`.
    Disabled,
}

/// One hop of a `ProxyJump` list: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JumpSpec {
    /// The user, when given.
    pub user: Option<String>,
    /// The host (an alias resolved through the configuration in turn).
    pub host: String,
    /// The port, when given.
    pub port: Option<u16>,
}

/// How to reach and verify one host.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The name the settings were resolved for (the inventory's `ssh_hostname` or a jump spec).
    pub alias: String,
    /// The address to connect to (`HostName`).
    pub hostname: String,
    /// The port.
    pub port: u16,
    /// The login user.
    pub user: String,
    /// `IdentityFile`s, tokens expanded, in order.
    pub identity_files: Vec<PathBuf>,
    /// `IdentitiesOnly`: offer only the agent keys that match an identity file.
    pub identities_only: bool,
    /// `IdentityAgent`.
    pub identity_agent: AgentSocket,
    /// `CertificateFile`s.
    pub certificate_files: Vec<PathBuf>,
    /// `ProxyJump` hops, first hop first.
    pub proxy_jump: Vec<JumpSpec>,
    /// `ProxyCommand` (tokens not yet expanded).
    pub proxy_command: Option<String>,
    /// Known hosts files that new keys are added to (the first) and read from.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// Known hosts files only read (`GlobalKnownHostsFile`).
    pub global_known_hosts_files: Vec<PathBuf>,
    /// The host key policy.
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// `HashKnownHosts`: write new entries hashed.
    pub hash_known_hosts: bool,
    /// `HostKeyAlias`: the name looked up in `known_hosts` instead of `hostname`.
    pub host_key_alias: Option<String>,
    /// `ConnectTimeout` (pyinfra's 10 s by default).
    pub connect_timeout: Duration,
    /// `ServerAliveInterval`, when set.
    pub server_alive_interval: Option<Duration>,
    /// `ServerAliveCountMax`.
    pub server_alive_count_max: usize,
    /// `ForwardAgent`.
    pub forward_agent: bool,
}

impl Settings {
    /// The name looked up in `known_hosts`: `HostKeyAlias`, else the host name.
    pub fn known_hosts_name(&self) -> &str {
        self.host_key_alias.as_deref().unwrap_or(&self.hostname)
    }
}

/// Resolves the settings of the host `options` describes; `host` is the inventory name
/// errors are reported under.
pub async fn resolve(host: &str, options: &SshOptions) -> Result<Settings, SshError> {
    resolve_alias(host, &options.hostname, options.user.as_deref(), options.port, options).await
}

/// Resolves the settings of one jump host; the jump spec's user and port win over the
/// configuration, the host data (which belongs to the target) does not apply.
pub async fn resolve_jump(host: &str, jump: &JumpSpec, options: &SshOptions) -> Result<Settings, SshError> {
    let mut settings = resolve_alias(
        host,
        &jump.host,
        jump.user.as_deref(),
        jump.port,
        &SshOptions {
            user: None,
            port: None,
            ..options.clone()
        },
    )
    .await?;
    // A hop's own ProxyJump is not followed: the chain is the target's list.
    settings.proxy_jump.clear();
    settings.proxy_command = None;
    Ok(settings)
}

async fn resolve_alias(host: &str, alias: &str, user: Option<&str>, port: Option<u16>, options: &SshOptions) -> Result<Settings, SshError> {
    let output = ssh_g(host, alias, user, port, options.config_file.as_deref()).await?;
    let values = output.as_deref().map_or_else(
        || {
            log::debug!("no `ssh` client found: `{alias}` uses OpenSSH's defaults and its host data only");
            HashMap::new()
        },
        parse_ssh_g,
    );
    Ok(settings_from(alias, &values, user, port, options))
}

/// Runs `ssh -G`; `None` when no `ssh` client is installed.
async fn ssh_g(host: &str, alias: &str, user: Option<&str>, port: Option<u16>, config_file: Option<&Path>) -> Result<Option<String>, SshError> {
    let mut command = tokio::process::Command::new("ssh");
    command.arg("-G");
    if let Some(file) = config_file {
        command.arg("-F").arg(expand_home(&file.to_string_lossy()));
    }
    if let Some(user) = user {
        command.arg("-l").arg(user);
    }
    if let Some(port) = port {
        command.arg("-p").arg(port.to_string());
    }
    // `--` keeps a host name that starts with `-` from being read as an option.
    command.arg("--").arg(alias);
    // ssh must never wait on the controller's terminal.
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let output = match command.output().await {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(SshError::Config {
                host: host.to_owned(),
                detail: format!("could not run `ssh -G {alias}`: {error}"),
            });
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(SshError::Config {
            host: host.to_owned(),
            detail: format!("`ssh -G {alias}` failed: {}", stderr.trim()),
        });
    }
    Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Parses `ssh -G` output: one `keyword value` per line, keywords in any case,
/// repeated keywords (`identityfile`) kept in order.
pub fn parse_ssh_g(output: &str) -> HashMap<String, Vec<String>> {
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for line in output.lines() {
        let line = line.trim();
        let Some((keyword, value)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        values.entry(keyword.to_ascii_lowercase()).or_default().push(value.trim().to_owned());
    }
    values
}

fn settings_from(alias: &str, values: &HashMap<String, Vec<String>>, user: Option<&str>, port: Option<u16>, options: &SshOptions) -> Settings {
    let first = |keyword: &str| values.get(keyword).and_then(|list| list.first()).map(String::as_str);
    let is_none = |value: &str| value.eq_ignore_ascii_case("none");
    let yes = |keyword: &str| first(keyword).is_some_and(|value| matches!(value.to_ascii_lowercase().as_str(), "yes" | "true"));

    let hostname = first("hostname").unwrap_or(alias).to_owned();
    let port = port.or_else(|| first("port").and_then(|text| text.parse().ok())).unwrap_or(22);
    let user = user.map(str::to_owned).or_else(|| first("user").map(str::to_owned)).unwrap_or_else(local_user);
    let tokens = Tokens {
        alias,
        hostname: &hostname,
        port,
        user: &user,
    };

    let identity_files = match values.get("identityfile") {
        Some(list) => list
            .iter()
            .filter(|file| !is_none(file))
            .map(|file| PathBuf::from(tokens.expand(file)))
            .collect(),
        None => ["id_rsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .map(|name| PathBuf::from(expand_home(&format!("~/.ssh/{name}"))))
            .collect(),
    };
    let certificate_files = values
        .get("certificatefile")
        .map(|list| list.iter().map(|file| PathBuf::from(tokens.expand(file))).collect())
        .unwrap_or_default();
    let identity_agent = match first("identityagent") {
        Some(value) if is_none(value) => AgentSocket::Disabled,
        None | Some("SSH_AUTH_SOCK") => AgentSocket::Environment,
        Some(value) => match value.strip_prefix('$') {
            Some(variable) => std::env::var_os(variable).map_or(AgentSocket::Disabled, |path| AgentSocket::Path(PathBuf::from(path))),
            None => AgentSocket::Path(PathBuf::from(tokens.expand(value))),
        },
    };
    let proxy_jump = first("proxyjump").filter(|value| !is_none(value)).map(parse_proxy_jump).unwrap_or_default();
    let proxy_command = first("proxycommand").filter(|value| !is_none(value)).map(str::to_owned);

    let user_known_hosts_files = match &options.known_hosts_file {
        Some(file) => vec![PathBuf::from(expand_home(&file.to_string_lossy()))],
        None => match values.get("userknownhostsfile") {
            Some(list) => list
                .iter()
                .flat_map(|line| line.split_whitespace())
                .filter(|file| !is_none(file))
                .map(|file| PathBuf::from(tokens.expand(file)))
                .collect(),
            None => vec![PathBuf::from(expand_home("~/.ssh/known_hosts"))],
        },
    };
    let global_known_hosts_files = match values.get("globalknownhostsfile") {
        Some(list) => list
            .iter()
            .flat_map(|line| line.split_whitespace())
            .filter(|file| !is_none(file))
            .map(PathBuf::from)
            .collect(),
        None => vec![PathBuf::from("/etc/ssh/ssh_known_hosts")],
    };
    // OpenSSH's default `ask` cannot be told from an explicit one; with nobody to ask,
    // pyinfra's default `accept-new` applies unless the host data says otherwise.
    let strict_host_key_checking =
        options
            .strict_host_key_checking
            .unwrap_or_else(|| match first("stricthostkeychecking").and_then(StrictHostKeyChecking::parse) {
                Some(StrictHostKeyChecking::Ask) | None => StrictHostKeyChecking::AcceptNew,
                Some(other) => other,
            });
    let connect_timeout = first("connecttimeout")
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs);
    let server_alive_interval = first("serveraliveinterval")
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs);
    let server_alive_count_max = first("serveralivecountmax").and_then(|text| text.parse().ok()).unwrap_or(3);

    Settings {
        alias: alias.to_owned(),
        hostname: hostname.clone(),
        port,
        user: user.clone(),
        identity_files,
        identities_only: yes("identitiesonly"),
        identity_agent,
        certificate_files,
        proxy_jump,
        proxy_command,
        user_known_hosts_files,
        global_known_hosts_files,
        strict_host_key_checking,
        hash_known_hosts: yes("hashknownhosts"),
        host_key_alias: first("hostkeyalias").filter(|value| !is_none(value)).map(str::to_owned),
        connect_timeout,
        server_alive_interval,
        server_alive_count_max,
        forward_agent: options.forward_agent.unwrap_or_else(|| yes("forwardagent")),
    }
}

/// Parses a `ProxyJump` list (`a,b`, `user@host:port`, `ssh://user@host:port`, `[::1]:22`).
pub fn parse_proxy_jump(text: &str) -> Vec<JumpSpec> {
    text.split(',').map(str::trim).filter(|hop| !hop.is_empty()).map(parse_jump).collect()
}

fn parse_jump(hop: &str) -> JumpSpec {
    let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, rest) = match hop.rsplit_once('@') {
        Some((user, rest)) => (Some(user.to_owned()), rest),
        None => (None, hop),
    };
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((host, tail)) => (host.to_owned(), tail.strip_prefix(':').and_then(|port| port.parse().ok())),
            None => (rest.to_owned(), None),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host.to_owned(), port.parse().ok()),
            _ => (rest.to_owned(), None),
        }
    };
    JumpSpec { user, host, port }
}

/// The values `%` tokens stand for, as in `ssh_config(5)` TOKENS.
pub struct Tokens<'a> {
    /// `%n`: the name as given.
    pub alias: &'a str,
    /// `%h`: the host name after `HostName`.
    pub hostname: &'a str,
    /// `%p`.
    pub port: u16,
    /// `%r`: the remote user.
    pub user: &'a str,
}

impl Tokens<'_> {
    /// Expands a leading `~` and the `%` tokens of `text`.
    pub fn expand(&self, text: &str) -> String {
        let text = expand_home(text);
        let mut expanded = String::with_capacity(text.len());
        let mut characters = text.chars();
        while let Some(character) = characters.next() {
            if character != '%' {
                expanded.push(character);
                continue;
            }
            match characters.next() {
                Some('%') | None => expanded.push('%'),
                Some('d') => expanded.push_str(&home().to_string_lossy()),
                Some('h') => expanded.push_str(self.hostname),
                Some('n') => expanded.push_str(self.alias),
                Some('p') => expanded.push_str(&self.port.to_string()),
                Some('r') => expanded.push_str(self.user),
                Some('u') => expanded.push_str(&local_user()),
                Some('i') => expanded.push_str(&local_uid()),
                Some('l' | 'L') => expanded.push_str(&local_hostname()),
                Some(other) => {
                    expanded.push('%');
                    expanded.push(other);
                }
            }
        }
        expanded
    }
}

/// Replaces a leading `~` or `~/` with the home directory.
pub fn expand_home(text: &str) -> String {
    if text == "~" {
        return home().to_string_lossy().into_owned();
    }
    match text.strip_prefix("~/") {
        Some(rest) => home().join(rest).to_string_lossy().into_owned(),
        None => text.to_owned(),
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// The controller's user name, OpenSSH's default `User`.
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_owned())
}

fn local_uid() -> String {
    nix::unistd::getuid().to_string()
}

fn local_hostname() -> String {
    nix::unistd::gethostname().ok().and_then(|name| name.into_string().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn options() -> SshOptions {
        SshOptions::from_data("web1", &Map::new()).unwrap_or_else(|error| unreachable!("{error}"))
    }

    const SSH_G: &str = "User bob\nhostname 10.0.0.5\nport 2200\nidentitiesonly yes\nstricthostkeychecking ask\n\
        identityfile ~/keys/id_%r\nidentityfile /k/%h-%p\nuserknownhostsfile /root/kh1 /tmp/kh2\n\
        proxyjump jump@bastion:2022,ssh://other\nconnecttimeout none\nserveraliveinterval 15\nhashknownhosts yes\n";

    #[test]
    fn ssh_g_output_becomes_settings() {
        let settings = settings_from("alias", &parse_ssh_g(SSH_G), None, None, &options());
        assert_eq!(settings.hostname, "10.0.0.5");
        assert_eq!(settings.port, 2200);
        assert_eq!(settings.user, "bob");
        assert!(settings.identities_only);
        assert!(settings.hash_known_hosts);
        assert_eq!(settings.identity_files[0], PathBuf::from(expand_home("~/keys/id_bob")));
        assert_eq!(settings.identity_files[1], PathBuf::from("/k/10.0.0.5-2200"));
        assert_eq!(settings.user_known_hosts_files, vec![PathBuf::from("/root/kh1"), PathBuf::from("/tmp/kh2")]);
        assert_eq!(settings.strict_host_key_checking, StrictHostKeyChecking::AcceptNew);
        assert_eq!(settings.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(settings.server_alive_interval, Some(Duration::from_secs(15)));
        assert_eq!(settings.proxy_jump.len(), 2);
    }

    #[test]
    fn host_data_wins_over_the_configuration() {
        let options = SshOptions {
            known_hosts_file: Some(PathBuf::from("/data/kh")),
            strict_host_key_checking: Some(StrictHostKeyChecking::Yes),
            ..options()
        };
        let settings = settings_from("alias", &parse_ssh_g(SSH_G), Some("deploy"), Some(22), &options);
        assert_eq!(settings.user, "deploy");
        assert_eq!(settings.port, 22);
        assert_eq!(settings.user_known_hosts_files, vec![PathBuf::from("/data/kh")]);
        assert_eq!(settings.strict_host_key_checking, StrictHostKeyChecking::Yes);
    }

    #[test]
    fn proxy_jump_forms() {
        assert_eq!(
            parse_proxy_jump("a,user@b:2022,ssh://c:23,[::1]:24"),
            vec![
                JumpSpec {
                    user: None,
                    host: "a".into(),
                    port: None
                },
                JumpSpec {
                    user: Some("user".into()),
                    host: "b".into(),
                    port: Some(2022)
                },
                JumpSpec {
                    user: None,
                    host: "c".into(),
                    port: Some(23)
                },
                JumpSpec {
                    user: None,
                    host: "::1".into(),
                    port: Some(24)
                },
            ]
        );
    }

    #[test]
    fn tokens_expand_as_ssh_does() {
        let tokens = Tokens {
            alias: "web",
            hostname: "10.1.1.1",
            port: 22,
            user: "app",
        };
        assert_eq!(tokens.expand("/k/%n-%h-%p-%r-%%"), "/k/web-10.1.1.1-22-app-%");
    }
}
