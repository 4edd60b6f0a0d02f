//! `server.wait`, `server.shell`, `server.script`, `server.kill` and `server.reboot`:
//! commands that run every time, whatever the host's state. (`server.script_template`
//! needs a template engine; it is in the Python front.)

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::command::{Command, RebootStep};
use oxinfra_core::pyrepr::python_str;

use super::python_text;
use crate::files::util::{Mode, chmod};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use crate::registry::call;

/// `server.wait`.
pub const WAIT: OperationDef = OperationDef {
    name: "server.wait",
    params: &["port"],
    plan: |arguments, plan| wait(&parse_arguments("server.wait", arguments)?, plan),
};

/// `server.reboot`.
pub const REBOOT: OperationDef = OperationDef {
    name: "server.reboot",
    params: &["delay", "interval", "reboot_timeout"],
    plan: |arguments, plan| reboot(&parse_arguments("server.reboot", arguments)?, plan),
};

/// Arguments of `server.reboot`, in seconds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebootArgs {
    /// How long to wait before the first reconnection attempt.
    #[serde(default = "default_reboot_delay")]
    pub delay: f64,
    /// How long to wait between reconnection attempts.
    #[serde(default = "default_reboot_interval")]
    pub interval: f64,
    /// How long to try to reconnect before failing.
    #[serde(default = "default_reboot_timeout")]
    pub reboot_timeout: f64,
}

fn default_reboot_delay() -> f64 {
    10.0
}

fn default_reboot_interval() -> f64 {
    1.0
}

fn default_reboot_timeout() -> f64 {
    300.0
}

/// `server.reboot`: notes the uptime, starts a reboot detached from the session (so
/// the command returns before the connection drops), then waits until the host answers
/// again with a smaller uptime.
pub fn reboot(args: &RebootArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let seconds = |name: &str, value: f64| {
        std::time::Duration::try_from_secs_f64(value).map_err(|_| OperationError::Value(format!("`{name}` must be a number of seconds >= 0, got {value}")))
    };
    let wait = RebootStep::WaitAndReconnect {
        delay: seconds("delay", args.delay)?,
        interval: seconds("interval", args.interval)?,
        reboot_timeout: seconds("reboot_timeout", args.reboot_timeout)?,
    };
    plan.push_command(Command::Reboot {
        step: RebootStep::RemoveAnyAskpassFile,
    });
    plan.push_command(Command::Reboot {
        step: RebootStep::CaptureUptime,
    });
    plan.push_raw("( sleep 1 && reboot ) </dev/null >/dev/null 2>&1 &");
    plan.push_command(Command::Reboot { step: wait });
    plan.push_command(Command::Reboot {
        step: RebootStep::CleanSudoInfo,
    });
    Ok(())
}

/// `server.shell`.
pub const SHELL: OperationDef = OperationDef {
    name: "server.shell",
    params: &["commands"],
    plan: |arguments, plan| shell(&parse_arguments("server.shell", arguments)?, plan),
};

/// `server.script`.
pub const SCRIPT: OperationDef = OperationDef {
    name: "server.script",
    params: &["src", "args"],
    plan: |arguments, plan| script(&parse_arguments("server.script", arguments)?, plan),
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
    pub port: String,
}

/// `server.wait`: polls `netstat` every second until something listens on the port.
pub fn wait(args: &WaitArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let port = &args.port;
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

/// One command of `server.shell`: shell text, or a `StringCommand` the deploy built
/// from parts (the Python front sends those as their parts, so that `MaskString` and
/// `HiddenValue` parts stay secrets: shown masked, sent on standard input).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ShellCommand {
    /// Shell text, stripped of surrounding blanks as pyinfra strips a yielded string.
    Text(String),
    /// A command from parts, run as built.
    Parts(StringCommand),
}

/// Reads one command or a list of them.
fn one_or_many_commands<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ShellCommand>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(ShellCommand),
        Many(Vec<ShellCommand>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(command) => vec![command],
        OneOrMany::Many(commands) => commands,
    })
}

/// Arguments of `server.shell`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellArgs {
    /// The shell code to run: one command, or a list run one after the other.
    #[serde(deserialize_with = "one_or_many_commands")]
    pub commands: Vec<ShellCommand>,
}

/// `server.shell`: runs the given shell code as written.
pub fn shell(args: &ShellArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    for command in &args.commands {
        match command {
            ShellCommand::Text(text) => plan.push_raw(text),
            ShellCommand::Parts(command) => plan.push(command.clone()),
        }
    }
    Ok(())
}

/// Arguments of `server.script`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptArgs {
    /// The local script, relative to the deploy directory, or `{"content": text}` for a
    /// script held in memory (a rendered `server.script_template`); given to `files.put`
    /// as it is.
    pub src: Value,
    /// Arguments given to the script, written after it as they are (not quoted).
    #[serde(default)]
    pub args: Vec<Value>,
}

/// `server.script`: uploads a local script to a temporary file (as `files.put`),
/// makes it executable and runs it.
pub fn script(args: &ScriptArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    // pyinfra names the file after a random id; the script and its arguments serve as
    // well, since an operation's commands finish before the next operation's start.
    let seed = format!("server.script {} {}", args.src, json!(args.args));
    let temp_file = plan.temp_filename(&seed);
    call(plan, "files.put", json!({"src": args.src, "dest": temp_file}))?;
    plan.push(chmod(&temp_file, &Mode::Symbolic("+x".to_owned()), false));
    let mut run = StringCommand::raw(&temp_file);
    for argument in &args.args {
        run = run.text(python_str(argument));
    }
    plan.push(run);
    Ok(())
}

fn default_signal() -> String {
    "TERM".to_owned()
}

/// Arguments of `server.kill`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillArgs {
    /// The id of the process to signal.
    #[serde(deserialize_with = "python_text")]
    pub pid: String,
    /// The signal's name or number, without the dash (`TERM` by default).
    #[serde(default = "default_signal", deserialize_with = "python_text")]
    pub signal: String,
}

/// `server.kill`: sends a signal to a process.
pub fn kill(args: &KillArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let signal = format!("-{}", args.signal);
    plan.push(StringCommand::raw("kill").quoted(signal).quoted(&args.pid));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::Value;

    use super::*;
    use crate::files::lines::test_support::{MemoryFiles, TableFacts, run, run_with_files};

    #[test]
    fn shell_runs_each_command_as_written() -> Result<(), OperationError> {
        let arguments = json!({"commands": ["  echo $HOME ", "ls | wc -l"]});
        let (commands, _) = run(shell, &arguments, &mut TableFacts::default())?;
        assert_eq!(commands, ["echo $HOME", "ls | wc -l"]);
        Ok(())
    }

    #[test]
    fn shell_keeps_secret_parts_of_structured_commands() -> Result<(), OperationError> {
        let secret = json!({"parts": [{"kind": "raw", "value": "echo"}, {"kind": "secret", "value": "hunter2"}], "separator": " "});
        let arguments = json!({"commands": [" true ", secret]});
        let args: ShellArgs = crate::plan::parse_arguments(
            "server.shell",
            arguments.as_object().ok_or_else(|| OperationError::Type("not a mapping".to_owned()))?,
        )?;
        assert_eq!(args.commands[1], ShellCommand::Parts(StringCommand::raw("echo").secret("hunter2")));
        let (commands, _) = run(shell, &arguments, &mut TableFacts::default())?;
        assert_eq!(commands, ["true", "echo *MASKED*"]);
        Ok(())
    }

    #[test]
    fn kill_sends_term_by_default() -> Result<(), OperationError> {
        let (commands, _) = run(kill, &json!({"pid": "42"}), &mut TableFacts::default())?;
        assert_eq!(commands, ["kill -TERM 42"]);
        Ok(())
    }

    #[test]
    fn script_arguments_follow_the_script_unquoted() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("files.File", &[("path", json!("_tempfile_"))], Value::Null).with(
            "files.Directory",
            &[("path", json!("_tempfile_"))],
            Value::Null,
        );
        let files = MemoryFiles([(PathBuf::from("/run.sh"), b"echo hi".to_vec())].into());
        let arguments = json!({"src": "run.sh", "args": ["--name", 3]});
        let (commands, _) = run_with_files(script, &arguments, &mut facts, &files)?;
        assert_eq!(commands, ["upload _tempfile_", "chmod +x _tempfile_", "_tempfile_ --name 3"]);
        Ok(())
    }
}
