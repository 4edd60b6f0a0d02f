//! Operations of `pyinfra/operations/ssh.py`: from the host, reach a third machine over
//! SSH: record its host key (`ssh.keyscan`), run a command on it (`ssh.command`) and
//! copy files to and from it with `scp` (`ssh.upload`, `ssh.download`).
//!
//! The SSH client, its keys and its `known_hosts` are the host's, not the controller's.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use oxinfra_core::pyrepr::python_str;
use oxinfra_core::{FactKey, StringCommand};

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "ssh.keyscan",
        params: &["hostname", "force", "port"],
        plan: |arguments, plan| keyscan(&parse_arguments("ssh.keyscan", arguments)?, plan),
    },
    OperationDef {
        name: "ssh.command",
        params: &["hostname", "command", "user", "port"],
        plan: |arguments, plan| command(&parse_arguments("ssh.command", arguments)?, plan),
    },
    OperationDef {
        name: "ssh.upload",
        params: &["hostname", "filename", "remote_filename", "port", "user", "use_remote_sudo", "ssh_keyscan"],
        plan: |arguments, plan| upload(&parse_arguments("ssh.upload", arguments)?, plan),
    },
    OperationDef {
        name: "ssh.download",
        params: &["hostname", "filename", "local_filename", "force", "port", "user", "ssh_keyscan"],
        plan: |arguments, plan| download(&parse_arguments("ssh.download", arguments)?, plan),
    },
];

fn default_port() -> Value {
    json!(22)
}

/// Arguments of `ssh.keyscan`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyscanArgs {
    /// The machine whose host key should be in the user's `known_hosts`.
    pub hostname: String,
    /// When a key is already recorded, remove it and scan again.
    #[serde(default)]
    pub force: bool,
    /// The machine's SSH port.
    #[serde(default = "default_port")]
    pub port: Value,
}

/// The home directory of the user the operation runs as, read as pyinfra's
/// `host.get_fact(Home)` reads it: without arguments, so the key has none (pyinfra's
/// fixtures give such facts as one value, not by argument).
fn home(plan: &mut Plan<'_>) -> Result<String, OperationError> {
    let home = plan.fact_by_key(&FactKey::new("server.Home", &Map::new()))?;
    Ok(python_str(&home))
}

/// `ssh.keyscan`: makes sure `~/.ssh` exists, then appends the machine's host key to
/// `~/.ssh/known_hosts` unless it is there (or replaces it with `force`).
pub fn keyscan(args: &KeyscanArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let home = home(plan)?;
    call(plan, "files.directory", json!({"path": format!("{home}/.ssh"), "mode": 700}))?;
    let known_hosts = format!("{home}/.ssh/known_hosts");
    let present = plan.fact(
        "files.FindInFile",
        &[
            ("path", json!(known_hosts)),
            ("pattern", json!(args.hostname)),
            ("interpolate_variables", json!(false)),
            ("extended_regex", json!(false)),
        ],
    )?;
    // The home directory is quoted on its own so the fixed part stays readable.
    let mut known_hosts = StringCommand::new().quoted(&home).text("/.ssh/known_hosts");
    known_hosts.separator = String::new();
    let scan = StringCommand::raw("ssh-keyscan -p")
        .quoted(python_str(&args.port))
        .quoted(&args.hostname)
        .text(">>")
        .nested(known_hosts);
    if !truthy(&present) {
        plan.push(scan);
    } else if args.force {
        plan.push(StringCommand::raw("ssh-keygen -R").quoted(&args.hostname));
        plan.push(scan);
    } else {
        plan.noop(format!("host key for {} already exists", args.hostname));
    }
    Ok(())
}

/// Arguments of `ssh.command`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandArgs {
    /// The machine to connect to.
    pub hostname: String,
    /// The shell command to run there.
    pub command: String,
    /// The user to connect as, instead of the SSH client's default.
    #[serde(default)]
    pub user: Option<String>,
    /// The machine's SSH port.
    #[serde(default = "default_port")]
    pub port: Value,
}

/// `user@hostname`, or the host name alone without a user.
fn target(hostname: &str, user: Option<&str>) -> String {
    match user.filter(|user| !user.is_empty()) {
        Some(user) => format!("{user}@{hostname}"),
        None => hostname.to_owned(),
    }
}

/// `target:path` for `scp`, each side quoted.
fn remote_path(target: &str, path: &str) -> StringCommand {
    let mut command = StringCommand::new().quoted(target).text(":").quoted(path);
    command.separator = String::new();
    command
}

/// `ssh.command`: runs a command on the machine, every time.
pub fn command(args: &CommandArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push(
        StringCommand::raw("ssh -p")
            .quoted(python_str(&args.port))
            .quoted(target(&args.hostname, args.user.as_deref()))
            .quoted(&args.command),
    );
    Ok(())
}

/// Arguments of `ssh.upload`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadArgs {
    /// The machine to copy to.
    pub hostname: String,
    /// The file on the host to copy.
    pub filename: String,
    /// Where it goes on the machine (`filename` when not given).
    #[serde(default)]
    pub remote_filename: Option<String>,
    /// The machine's SSH port.
    #[serde(default = "default_port")]
    pub port: Value,
    /// The user to connect as, instead of the SSH client's default.
    #[serde(default)]
    pub user: Option<String>,
    /// Copy to a temporary file, then move it into place with `sudo` on the machine.
    #[serde(default)]
    pub use_remote_sudo: bool,
    /// Record the machine's host key first, as `ssh.keyscan`.
    #[serde(default)]
    pub ssh_keyscan: bool,
}

/// `ssh.upload`: copies a file from the host to the machine with `scp`, every time.
pub fn upload(args: &UploadArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let remote_filename = args.remote_filename.as_deref().filter(|name| !name.is_empty()).unwrap_or(&args.filename);
    let target = target(&args.hostname, args.user.as_deref());
    if args.ssh_keyscan {
        call(plan, "ssh.keyscan", json!({"hostname": args.hostname}))?;
    }
    let scp = |destination: &str| {
        StringCommand::raw("scp -P")
            .quoted(python_str(&args.port))
            .quoted(&args.filename)
            .nested(remote_path(&target, destination))
    };
    if !args.use_remote_sudo {
        plan.push(scp(remote_filename));
        return Ok(());
    }
    // pyinfra names the temporary file at random; the transfer itself serves as well.
    let seed = format!("ssh.upload {target} {} {remote_filename}", args.filename);
    let temporary = plan.temp_filename(&seed);
    plan.push(scp(&temporary));
    let move_into_place = StringCommand::raw("sudo mv").quoted(&temporary).quoted(remote_filename);
    call(
        plan,
        "ssh.command",
        json!({
            "hostname": args.hostname,
            "command": move_into_place.raw_value(),
            "port": args.port,
            "user": args.user,
        }),
    )
}

/// Arguments of `ssh.download`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadArgs {
    /// The machine to copy from.
    pub hostname: String,
    /// The file on the machine.
    pub filename: String,
    /// Where it goes on the host (`filename` when not given).
    #[serde(default)]
    pub local_filename: Option<String>,
    /// Copy even when the file is already on the host.
    #[serde(default)]
    pub force: bool,
    /// The machine's SSH port.
    #[serde(default = "default_port")]
    pub port: Value,
    /// The user to connect as, instead of the SSH client's default.
    #[serde(default)]
    pub user: Option<String>,
    /// Record the machine's host key first, as `ssh.keyscan`.
    #[serde(default)]
    pub ssh_keyscan: bool,
}

/// `ssh.download`: copies a file from the machine to the host with `scp`, unless the
/// host has it already.
pub fn download(args: &DownloadArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let local_filename = args.local_filename.as_deref().filter(|name| !name.is_empty()).unwrap_or(&args.filename);
    let info = plan.fact("files.File", &[("path", json!(local_filename))])?;
    if info == Value::Bool(false) {
        return Err(OperationError::Operation(format!(
            "Local destination {local_filename} already exists and is not a file"
        )));
    }
    if truthy(&info) && !args.force {
        plan.noop(format!("file {} is already downloaded", args.filename));
        return Ok(());
    }
    let target = target(&args.hostname, args.user.as_deref());
    if args.ssh_keyscan {
        call(plan, "ssh.keyscan", json!({"hostname": args.hostname}))?;
    }
    plan.push(
        StringCommand::raw("scp -P")
            .quoted(python_str(&args.port))
            .nested(remote_path(&target, &args.filename))
            .quoted(local_filename),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use oxinfra_core::{FactSource, Missing};
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::files::lines::test_support::MemoryFiles;

    /// Facts by key, including keys without arguments.
    #[derive(Default)]
    struct Facts(HashMap<FactKey, Value>);

    impl Facts {
        fn with(mut self, name: &str, arguments: &[(&str, Value)], value: Value) -> Self {
            self.0.insert(oxinfra_facts::registry::key(name, arguments), value);
            self
        }
    }

    impl FactSource for Facts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.0.get(key).cloned().ok_or_else(|| Missing(key.clone()))
        }
    }

    fn run<A: DeserializeOwned>(
        operation: fn(&A, &mut Plan<'_>) -> Result<(), OperationError>,
        arguments: &Value,
        mut facts: Facts,
    ) -> Result<(Vec<String>, Option<String>), OperationError> {
        let arguments: A = parse_arguments("test", arguments.as_object().unwrap_or(&Map::new()))?;
        let files = MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &files, PathBuf::from("/"), "ts".to_owned());
        operation(&arguments, &mut plan)?;
        let commands = plan.commands.iter().map(oxinfra_core::Command::display).collect();
        Ok((commands, plan.noop_reason))
    }

    /// Facts of a user whose `~/.ssh` exists and whose `known_hosts` holds `recorded`.
    fn ssh_facts(recorded: Value) -> Facts {
        let mut facts = Facts::default()
            .with("files.Directory", &[("path", json!("/home/u/.ssh"))], json!({"mode": 700}))
            .with(
                "files.FindInFile",
                &[("path", json!("/home/u/.ssh/known_hosts")), ("pattern", json!("git.example.com"))],
                recorded,
            );
        facts.0.insert(FactKey::new("server.Home", &Map::new()), json!("/home/u"));
        facts
    }

    #[test]
    fn keyscan_appends_a_missing_key() -> Result<(), OperationError> {
        let (commands, _) = run(keyscan, &json!({"hostname": "git.example.com"}), ssh_facts(json!([])))?;
        assert_eq!(commands, ["ssh-keyscan -p 22 git.example.com >> /home/u/.ssh/known_hosts"]);
        Ok(())
    }

    #[test]
    fn keyscan_of_a_recorded_key_is_a_noop() -> Result<(), OperationError> {
        let (commands, noop) = run(keyscan, &json!({"hostname": "git.example.com"}), ssh_facts(json!(["line"])))?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("host key for git.example.com already exists"));
        Ok(())
    }

    #[test]
    fn command_with_a_user_and_port() -> Result<(), OperationError> {
        let arguments = json!({"hostname": "db", "command": "uptime", "user": "ops", "port": 2222});
        let (commands, _) = run(command, &arguments, Facts::default())?;
        assert_eq!(commands, ["ssh -p 2222 ops@db uptime"]);
        Ok(())
    }

    #[test]
    fn upload_with_sudo_moves_the_temporary_copy() -> Result<(), OperationError> {
        let arguments = json!({"hostname": "db", "filename": "/etc/app.conf", "use_remote_sudo": true, "user": "ops"});
        let (commands, _) = run(upload, &arguments, Facts::default())?;
        assert_eq!(
            commands,
            [
                "scp -P 22 /etc/app.conf ops@db:_tempfile_",
                "ssh -p 22 ops@db 'sudo mv _tempfile_ /etc/app.conf'"
            ]
        );
        Ok(())
    }

    #[test]
    fn download_to_a_directory_is_an_error() {
        let facts = Facts::default().with("files.File", &[("path", json!("/srv/x"))], json!(false));
        let result = run(download, &json!({"hostname": "db", "filename": "/srv/x"}), facts);
        assert!(matches!(result, Err(OperationError::Operation(_))));
    }
}
