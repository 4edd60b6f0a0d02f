//! The global operation arguments that decide how a command runs on a host
//! (privilege, shell, environment, exit codes, timeout, stdin), as pyinfra's
//! `ConnectorArguments`. The Python front resolves all 32 global arguments in
//! pyinfra's order and type-checks them; this is the part the connectors read.

use serde::{Deserialize, Serialize};

/// A value that may be a secret (pyinfra's `HiddenValue`): sent to the host, never shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaybeSecret {
    /// Shown as it is.
    Plain(String),
    /// Shown as `*MASKED*`.
    Secret {
        /// The hidden text.
        secret: String,
    },
}

impl MaybeSecret {
    /// The real value.
    pub fn reveal(&self) -> &str {
        match self {
            Self::Plain(text) | Self::Secret { secret: text } => text,
        }
    }

    /// Whether it must be masked.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret { .. })
    }
}

/// How a command runs: the connector-facing global arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorArguments {
    /// `_sudo`: run with `sudo -H -n`.
    #[serde(rename = "_sudo")]
    pub sudo: bool,
    /// `_sudo_user`: `sudo -u USER`.
    #[serde(rename = "_sudo_user")]
    pub sudo_user: Option<String>,
    /// `_use_sudo_login`: `sudo -i`.
    #[serde(rename = "_use_sudo_login")]
    pub use_sudo_login: bool,
    /// `_sudo_password`: answer sudo's prompt through an askpass helper.
    #[serde(rename = "_sudo_password")]
    pub sudo_password: Option<String>,
    /// `_preserve_sudo_env`: `sudo -E`.
    #[serde(rename = "_preserve_sudo_env")]
    pub preserve_sudo_env: bool,
    /// `_su_user`: wrap with `su USER -c`.
    #[serde(rename = "_su_user")]
    pub su_user: Option<String>,
    /// `_use_su_login`: `su -l`.
    #[serde(rename = "_use_su_login")]
    pub use_su_login: bool,
    /// `_preserve_su_env`: `su -m`.
    #[serde(rename = "_preserve_su_env")]
    pub preserve_su_env: bool,
    /// `_su_shell`: `su -s $(command -v SHELL)`.
    #[serde(rename = "_su_shell")]
    pub su_shell: Option<String>,
    /// `_su_password`: piped to su through an askpass helper.
    #[serde(rename = "_su_password")]
    pub su_password: Option<String>,
    /// `_doas`: `doas -n`.
    #[serde(rename = "_doas")]
    pub doas: bool,
    /// `_doas_user`: `doas -u USER`.
    #[serde(rename = "_doas_user")]
    pub doas_user: Option<String>,
    /// `_dzdo`: `dzdo -H -n`.
    #[serde(rename = "_dzdo")]
    pub dzdo: bool,
    /// `_dzdo_user`: `dzdo -u USER`.
    #[serde(rename = "_dzdo_user")]
    pub dzdo_user: Option<String>,
    /// `_shell_executable`: the shell that runs the command; `None` runs it unwrapped.
    #[serde(rename = "_shell_executable")]
    pub shell_executable: Option<String>,
    /// `_chdir`: prefix `cd DIR &&`.
    #[serde(rename = "_chdir")]
    pub chdir: Option<String>,
    /// `_env`: exported before the command, in order.
    #[serde(rename = "_env")]
    pub env: Vec<(String, MaybeSecret)>,
    /// `_success_exit_codes`: exit codes that count as success.
    #[serde(rename = "_success_exit_codes")]
    pub success_exit_codes: Vec<i32>,
    /// `_timeout`: seconds before the command is killed.
    #[serde(rename = "_timeout")]
    pub timeout: Option<f64>,
    /// `_get_pty`: ask for a terminal.
    #[serde(rename = "_get_pty")]
    pub get_pty: bool,
    /// `_stdin`: lines written to the command's input, each with a newline.
    #[serde(rename = "_stdin")]
    pub stdin: Vec<String>,
    /// `_temp_dir`: where uploads and helpers are staged on the host.
    #[serde(rename = "_temp_dir")]
    pub temp_dir: Option<String>,
}

impl Default for ConnectorArguments {
    fn default() -> Self {
        Self {
            sudo: false,
            sudo_user: None,
            use_sudo_login: false,
            sudo_password: None,
            preserve_sudo_env: false,
            su_user: None,
            use_su_login: false,
            preserve_su_env: false,
            su_shell: None,
            su_password: None,
            doas: false,
            doas_user: None,
            dzdo: false,
            dzdo_user: None,
            shell_executable: Some("sh".to_owned()),
            chdir: None,
            env: Vec::new(),
            success_exit_codes: vec![0],
            timeout: None,
            get_pty: false,
            stdin: Vec::new(),
            temp_dir: None,
        }
    }
}

impl ConnectorArguments {
    /// Whether `code` counts as success.
    pub fn is_success(&self, code: i32) -> bool {
        self.success_exit_codes.contains(&code)
    }

    /// The secrets these arguments carry, to be masked in anything shown.
    pub fn secrets(&self) -> Vec<&str> {
        let passwords = [self.sudo_password.as_deref(), self.su_password.as_deref()];
        let env = self.env.iter().filter(|(_, value)| value.is_secret()).map(|(_, value)| Some(value.reveal()));
        passwords.into_iter().chain(env).flatten().filter(|secret| !secret.is_empty()).collect()
    }
}
