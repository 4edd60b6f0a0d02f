//! The `ssh_*` host data keys (pyinfra 3.10's `SSHConnector` data), read and type-checked
//! once when the connector is built. Nothing here touches the ssh configuration or the
//! network: [`super::config`] merges these values over what `ssh -G` resolves.

use std::path::PathBuf;

use serde_json::{Map, Value};

/// `ssh_strict_host_key_checking` (and OpenSSH's `StrictHostKeyChecking`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    /// `yes`: an unknown key is an error.
    Yes,
    /// `accept-new` (pyinfra's default): an unknown key is added, a changed key is an error.
    AcceptNew,
    /// `no` / `off`: an unknown or changed key is accepted with a warning.
    No,
    /// `ask`: there is nobody to ask during a run, so it behaves as `yes`.
    Ask,
}

impl StrictHostKeyChecking {
    /// Parses the values OpenSSH and pyinfra accept.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "yes" | "true" => Some(Self::Yes),
            "accept-new" => Some(Self::AcceptNew),
            "no" | "off" | "false" => Some(Self::No),
            "ask" => Some(Self::Ask),
            _ => None,
        }
    }
}

/// `ssh_file_transfer_protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileTransferProtocol {
    /// SFTP when the server offers the subsystem, else the shell fallback.
    Sftp,
    /// pyinfra's `scp`: here, the shell fallback (`cat` over an exec channel).
    Scp,
}

/// The typed `ssh_*` data of one host. `None` means "not set": the ssh configuration
/// (or OpenSSH's default) decides.
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// `ssh_hostname`: the address (or ssh config alias) to connect to.
    pub hostname: String,
    /// `ssh_port`.
    pub port: Option<u16>,
    /// `ssh_user`.
    pub user: Option<String>,
    /// `ssh_password`: password (or keyboard-interactive) authentication.
    pub password: Option<String>,
    /// `ssh_key`: a private key file; when set, the agent and identity files are not used.
    pub key: Option<PathBuf>,
    /// `ssh_key_password`: the passphrase of `ssh_key` (or of encrypted identity files).
    pub key_password: Option<String>,
    /// `ssh_allow_agent`: try the agent's keys when no `ssh_key` is given.
    pub allow_agent: bool,
    /// `ssh_look_for_keys`: try the identity files when no `ssh_key` is given.
    pub look_for_keys: bool,
    /// `ssh_forward_agent`.
    pub forward_agent: Option<bool>,
    /// `ssh_config_file`: replaces `~/.ssh/config` (as `ssh -F`).
    pub config_file: Option<PathBuf>,
    /// `ssh_known_hosts_file`: replaces `UserKnownHostsFile`.
    pub known_hosts_file: Option<PathBuf>,
    /// `ssh_strict_host_key_checking`.
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    /// `ssh_connect_retries`: further attempts after a network failure.
    pub connect_retries: u32,
    /// `ssh_connect_retry_min_delay`, seconds.
    pub connect_retry_min_delay: f64,
    /// `ssh_connect_retry_max_delay`, seconds.
    pub connect_retry_max_delay: f64,
    /// `ssh_file_transfer_protocol`.
    pub file_transfer_protocol: FileTransferProtocol,
}

/// A host data value of the wrong type or out of range.
#[derive(Debug, thiserror::Error)]
#[error("host data `{key}` must be {expected}, got {got}")]
pub struct OptionsError {
    /// The data key.
    pub key: &'static str,
    /// What it must be.
    pub expected: &'static str,
    /// What it was (the value itself only when it is not a secret).
    pub got: String,
}

impl SshOptions {
    /// Reads the `ssh_*` keys of `data`; `default_hostname` is used when `ssh_hostname`
    /// is not set (the inventory name, or the part after `@ssh/`).
    pub fn from_data(default_hostname: &str, data: &Map<String, Value>) -> Result<Self, OptionsError> {
        let reader = Reader { data };
        let strict = match reader.string("ssh_strict_host_key_checking", false)? {
            None => None,
            Some(text) => Some(StrictHostKeyChecking::parse(&text).ok_or_else(|| OptionsError {
                key: "ssh_strict_host_key_checking",
                expected: "one of `yes`, `no`, `off`, `accept-new`, `ask`",
                got: format!("`{text}`"),
            })?),
        };
        let protocol = match reader.string("ssh_file_transfer_protocol", false)?.as_deref() {
            None | Some("sftp") => FileTransferProtocol::Sftp,
            Some("scp") => FileTransferProtocol::Scp,
            Some(other) => {
                return Err(OptionsError {
                    key: "ssh_file_transfer_protocol",
                    expected: "`sftp` or `scp`",
                    got: format!("`{other}`"),
                });
            }
        };
        let port = match reader.integer("ssh_port")? {
            None => None,
            Some(number) => Some(u16::try_from(number).ok().filter(|port| *port > 0).ok_or_else(|| OptionsError {
                key: "ssh_port",
                expected: "a port number (1 to 65535)",
                got: format!("`{number}`"),
            })?),
        };
        let retries = match reader.integer("ssh_connect_retries")? {
            None => 0,
            Some(number) => u32::try_from(number).map_err(|_| OptionsError {
                key: "ssh_connect_retries",
                expected: "a whole number of at least 0",
                got: format!("`{number}`"),
            })?,
        };
        let min_delay = reader.seconds("ssh_connect_retry_min_delay")?.unwrap_or(0.1);
        let max_delay = reader.seconds("ssh_connect_retry_max_delay")?.unwrap_or(0.5);
        Ok(Self {
            hostname: reader
                .string("ssh_hostname", false)?
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| default_hostname.to_owned()),
            port,
            user: reader.string("ssh_user", false)?,
            password: reader.string("ssh_password", true)?,
            key: reader.string("ssh_key", false)?.map(PathBuf::from),
            key_password: reader.string("ssh_key_password", true)?,
            allow_agent: reader.boolean("ssh_allow_agent")?.unwrap_or(true),
            look_for_keys: reader.boolean("ssh_look_for_keys")?.unwrap_or(true),
            forward_agent: reader.boolean("ssh_forward_agent")?,
            config_file: reader.string("ssh_config_file", false)?.map(PathBuf::from),
            known_hosts_file: reader.string("ssh_known_hosts_file", false)?.map(PathBuf::from),
            strict_host_key_checking: strict,
            connect_retries: retries,
            connect_retry_min_delay: min_delay,
            connect_retry_max_delay: max_delay.max(min_delay),
            file_transfer_protocol: protocol,
        })
    }
}

struct Reader<'a> {
    data: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.data.get(key).filter(|value| !value.is_null())
    }

    /// A string; a secret may also come as `{"secret": "..."}` (a masked value).
    fn string(&self, key: &'static str, secret: bool) -> Result<Option<String>, OptionsError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Object(object)) if secret => match object.get("secret") {
                Some(Value::String(text)) => Ok(Some(text.clone())),
                _ => Err(wrong(key, "a string", &Value::Object(object.clone()), secret)),
            },
            Some(other) => Err(wrong(key, "a string", other, secret)),
        }
    }

    fn boolean(&self, key: &'static str) -> Result<Option<bool>, OptionsError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong(key, "a boolean (`True` or `False`)", other, false)),
        }
    }

    fn integer(&self, key: &'static str) -> Result<Option<i64>, OptionsError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(number)) if number.is_i64() => Ok(number.as_i64()),
            Some(other) => Err(wrong(key, "an integer", other, false)),
        }
    }

    fn seconds(&self, key: &'static str) -> Result<Option<f64>, OptionsError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_f64() {
                Some(seconds) if seconds >= 0.0 && seconds.is_finite() => Ok(Some(seconds)),
                _ => Err(wrong(key, "a number of seconds of at least 0", &Value::Number(number.clone()), false)),
            },
            Some(other) => Err(wrong(key, "a number of seconds", other, false)),
        }
    }
}

fn wrong(key: &'static str, expected: &'static str, value: &Value, secret: bool) -> OptionsError {
    let kind = match value {
        Value::Null => "None",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
    };
    let got = if secret || matches!(value, Value::Array(_) | Value::Object(_)) {
        kind.to_owned()
    } else {
        format!("{kind} `{value}`")
    };
    OptionsError { key, expected, got }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap_or_default()
    }

    #[test]
    fn defaults_follow_pyinfra() {
        let options = SshOptions::from_data("web1", &Map::new()).unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(options.hostname, "web1");
        assert!(options.allow_agent && options.look_for_keys);
        assert_eq!(options.connect_retries, 0);
        assert!((options.connect_retry_min_delay - 0.1).abs() < f64::EPSILON);
        assert_eq!(options.file_transfer_protocol, FileTransferProtocol::Sftp);
        assert_eq!(options.strict_host_key_checking, None);
    }

    #[test]
    fn typed_values_are_read() {
        let options = SshOptions::from_data(
            "web1",
            &data(
                r#"{"ssh_hostname": "10.0.0.1", "ssh_port": 2222, "ssh_user": "deploy", "ssh_allow_agent": false,
                     "ssh_strict_host_key_checking": "off", "ssh_connect_retries": 2, "ssh_connect_retry_max_delay": 1}"#,
            ),
        )
        .unwrap_or_else(|error| unreachable!("{error}"));
        assert_eq!(options.hostname, "10.0.0.1");
        assert_eq!(options.port, Some(2222));
        assert_eq!(options.user.as_deref(), Some("deploy"));
        assert!(!options.allow_agent);
        assert_eq!(options.strict_host_key_checking, Some(StrictHostKeyChecking::No));
        assert_eq!(options.connect_retries, 2);
    }

    #[test]
    fn wrong_type_names_the_key_and_the_type() {
        let error = SshOptions::from_data("web1", &data(r#"{"ssh_port": "22"}"#))
            .err()
            .map(|error| error.to_string());
        assert_eq!(error.as_deref(), Some("host data `ssh_port` must be an integer, got a string `\"22\"`"));
        let error = SshOptions::from_data("web1", &data(r#"{"ssh_allow_agent": "yes"}"#))
            .err()
            .map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some("host data `ssh_allow_agent` must be a boolean (`True` or `False`), got a string `\"yes\"`")
        );
    }

    #[test]
    fn a_wrong_password_type_does_not_show_the_value() {
        let error = SshOptions::from_data("web1", &data(r#"{"ssh_password": 123456}"#))
            .err()
            .map(|error| error.to_string());
        assert_eq!(error.as_deref(), Some("host data `ssh_password` must be a string, got an integer"));
    }

    #[test]
    fn unknown_strict_mode_is_refused() {
        let error = SshOptions::from_data("web1", &data(r#"{"ssh_strict_host_key_checking": "maybe"}"#)).err();
        assert!(error.is_some_and(|error| error.key == "ssh_strict_host_key_checking"));
    }
}
