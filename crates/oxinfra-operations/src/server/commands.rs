//! `server.wait`, `server.shell`, `server.script` and `server.kill`: commands that run
//! every time, whatever the host's state.

use serde::Deserialize;

use oxinfra_core::StringCommand;

use super::{one_or_many, python_text};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// `server.wait`.
pub const WAIT: OperationDef = OperationDef {
    name: "server.wait",
    params: &["port"],
    plan: |arguments, plan| wait(&parse_arguments("server.wait", arguments)?, plan),
};

/// `server.shell`.
pub const SHELL: OperationDef = OperationDef {
    name: "server.shell",
    params: &["commands"],
    plan: |arguments, plan| shell(&parse_arguments("server.shell", arguments)?, plan),
};

/// `server.kill`.
pub const KILL: OperationDef = OperationDef {
    name: "server.kill",
    params: &["pid", "signal"],
    plan: |arguments, plan| kill(&parse_arguments("server.kill", arguments)?, plan),
};

/// Arguments of `server.wait`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitArgs {
    /// The port that must be listening before the deploy goes on.
    #[serde(deserialize_with = "python_text")]
    pub port: Option<String>,
}

/// `server.wait`: polls `netstat` every second until something listens on the port.
pub fn wait(args: &WaitArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let port = args.port.as_deref().unwrap_or("None");
    // pyinfra writes the port into its script as is.
    plan.push_raw(format!(
        "
        while ! (netstat -an | grep LISTEN | grep -e \"\\.{port}\" -e \":{port}\"); do
            echo \"waiting for port {port}...\"
            sleep 1
        done
    "
    ));
    Ok(())
}

/// Arguments of `server.shell`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellArgs {
    /// The shell code to run: one command, or a list run one after the other.
    #[serde(deserialize_with = "one_or_many")]
    pub commands: Vec<String>,
}

/// `server.shell`: runs the given shell code as written.
pub fn shell(args: &ShellArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    for command in &args.commands {
        plan.push_raw(command);
    }
    Ok(())
}

fn default_signal() -> Option<String> {
    Some("TERM".to_owned())
}

/// Arguments of `server.kill`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillArgs {
    /// The id of the process to signal.
    #[serde(deserialize_with = "python_text")]
    pub pid: Option<String>,
    /// The signal's name or number, without the dash (`TERM` by default).
    #[serde(default = "default_signal", deserialize_with = "python_text")]
    pub signal: Option<String>,
}

/// `server.kill`: sends a signal to a process.
pub fn kill(args: &KillArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let signal = args.signal.as_deref().unwrap_or("None");
    let pid = args.pid.as_deref().unwrap_or("None");
    plan.push(
        StringCommand::raw("kill")
            .quoted(format!("-{signal}"))
            .quoted(pid),
    );
    Ok(())
}
