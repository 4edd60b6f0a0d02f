//! `server.service` and `server.packages`: the operations that find the host's init
//! system or package manager and plan that system's own operation (through the
//! registry, so a system whose module oxinfra lacks is a clear error). Also
//! [`service_control`], the start/stop/restart/reload logic every init system's
//! `service` operation shares (pyinfra's `operations/util/service.py`).
//!
//! `server.reboot` is not here: it disconnects, waits and reconnects between commands,
//! which planning cannot express.

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;

use super::{os, which};
use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call, find};

/// `server.service`.
pub const SERVICE: OperationDef = OperationDef {
    name: "server.service",
    params: &["service", "running", "restarted", "reloaded", "command", "enabled"],
    plan: |arguments, plan| service(&parse_arguments("server.service", arguments)?, plan),
};

/// `server.packages`.
pub const PACKAGES: OperationDef = OperationDef {
    name: "server.packages",
    params: &["packages", "present"],
    plan: |arguments, plan| packages(&parse_arguments("server.packages", arguments)?, plan),
};

/// The wanted state of a service, as every init system's `service` operation takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceControl<'a> {
    /// Whether the service should run (`None`: leave it as it is).
    pub running: Option<bool>,
    /// Restart it, when it runs.
    pub restarted: bool,
    /// Reload it, when it runs.
    pub reloaded: bool,
    /// An action of the service's control command to run every time (`command`).
    pub command: Option<&'a str>,
}

/// Starts, stops, restarts or reloads `name` as `control` asks, given the services'
/// running states (`statuses`, by name). `action` builds the init system's command
/// for the service and an action word (`start`, `stop`, or the custom command).
pub fn service_control(plan: &mut Plan<'_>, name: &str, statuses: &Value, control: &ServiceControl<'_>, action: &dyn Fn(&str, &str) -> StringCommand) {
    let is_running = statuses.get(name).is_some_and(truthy);
    match control.running {
        Some(false) if is_running => plan.push(action(name, "stop")),
        Some(false) => plan.noop(format!("service {name} is stopped")),
        Some(true) if !is_running => plan.push(action(name, "start")),
        Some(true) => plan.noop(format!("service {name} is running")),
        None => {}
    }
    if control.restarted && is_running {
        plan.push(action(name, "restart"));
    }
    if control.reloaded && is_running {
        plan.push(action(name, "reload"));
    }
    // Custom actions may need the service up or down, so they always run.
    if let Some(command) = control.command.filter(|command| !command.is_empty()) {
        plan.push(action(name, command));
    }
}

/// The default of a service operation's `running`: the service should run.
#[expect(clippy::unnecessary_wraps, reason = "serde's default of an optional argument")]
pub(crate) fn running_by_default() -> Option<bool> {
    Some(true)
}

/// Arguments of `server.service`, and of the init systems' `service` operations that
/// take the same ones (`upstart.service`, `bsdinit.service`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The service to manage, as the host's init system names it.
    pub service: String,
    /// Whether the service should be running; `None` leaves it alone.
    #[serde(default = "running_by_default")]
    pub running: Option<bool>,
    /// Restart the service if it is running.
    #[serde(default)]
    pub restarted: Option<bool>,
    /// Reload the service if it is running.
    #[serde(default)]
    pub reloaded: Option<bool>,
    /// An action for the init system's control command, run every time.
    #[serde(default)]
    pub command: Option<String>,
    /// Whether the service should start at boot; `None` leaves that alone.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl ServiceArgs {
    /// The wanted running state, for [`service_control`].
    pub fn control(&self) -> ServiceControl<'_> {
        ServiceControl {
            running: self.running,
            restarted: self.restarted.unwrap_or(false),
            reloaded: self.reloaded.unwrap_or(false),
            command: self.command.as_deref(),
        }
    }
}

/// The BSDs whose `/etc/rc.d` scripts pyinfra drives with `bsdinit`.
const BSD_SYSTEMS: &[&str] = &["FreeBSD", "OpenBSD", "NetBSD", "DragonFly"];

/// `files.<fact>` of `path`, as Python's truth.
fn path_fact(plan: &mut Plan<'_>, fact: &str, path: &str) -> Result<bool, OperationError> {
    Ok(truthy(&plan.fact(fact, &[("path", json!(path))])?))
}

/// The `service` operation of the host's init system, tried in pyinfra's order. The
/// checks run one at a time, so a host reads only the facts its answer needs.
fn init_system(plan: &mut Plan<'_>) -> Result<&'static str, OperationError> {
    for (tool, operation) in [
        ("systemctl", "systemd.service"),
        ("rc-service", "openrc.service"),
        ("initctl", "upstart.service"),
        ("sv", "runit.service"),
    ] {
        if which(plan, tool)? {
            return Ok(operation);
        }
    }
    // Before the `service` check: the BSDs have a `service` command of their own.
    if BSD_SYSTEMS.contains(&os(plan)?.as_str()) && path_fact(plan, "files.Directory", "/etc/rc.d")? {
        return Ok("bsdinit.service");
    }
    if which(plan, "service")? || path_fact(plan, "files.Link", "/etc/init.d")? || path_fact(plan, "files.Directory", "/etc/init.d")? {
        return Ok("sysvinit.service");
    }
    Err(OperationError::Operation(
        "No init system found (no systemctl, initctl, /etc/init.d or /etc/rc.d found)".to_owned(),
    ))
}

/// `server.service`: plans the service with the host's init system's operation.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let operation = init_system(plan)?;
    let arguments = json!({
        "service": args.service,
        "running": args.running,
        "restarted": args.restarted,
        "reloaded": args.reloaded,
        "command": args.command,
        "enabled": args.enabled,
    });
    delegate(plan, "server.service", operation, arguments)
}

/// Arguments of `server.packages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// One package name or a list of them, handed to the package manager's operation.
    pub packages: Value,
    /// Whether the packages should be installed.
    #[serde(default = "yes")]
    pub present: bool,
}

fn yes() -> bool {
    true
}

/// The package managers pyinfra looks for, in its order: the `which` names that
/// reveal each, and its `packages` operation. zypper comes first because openSUSE
/// also ships an `apt` command.
const PACKAGE_MANAGERS: &[(&[&str], &str)] = &[
    (&["zypper"], "zypper.packages"),
    (&["apk"], "apk.packages"),
    (&["apt"], "apt.packages"),
    (&["brew"], "brew.packages"),
    (&["dnf"], "dnf.packages"),
    (&["pacman"], "pacman.packages"),
    (&["xbps-install", "xbps"], "xbps.packages"),
    (&["yum"], "yum.packages"),
    (&["pkg", "pkg_add"], "pkg.packages"),
];

/// `server.packages`: installs or removes packages with the host's package manager's
/// own `packages` operation.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    for (tools, operation) in PACKAGE_MANAGERS {
        for tool in *tools {
            if which(plan, tool)? {
                let arguments = json!({"packages": args.packages, "present": args.present});
                return delegate(plan, "server.packages", operation, arguments);
            }
        }
    }
    Err(OperationError::Operation(
        "No system package manager found (no apk, apt, brew, dnf, pacman, pkg, xbps, yum or zypper found)".to_owned(),
    ))
}

/// Plans `operation` inline for `caller`, or says which operation oxinfra lacks.
fn delegate(plan: &mut Plan<'_>, caller: &str, operation: &str, arguments: Value) -> Result<(), OperationError> {
    if find(operation).is_none() {
        return Err(OperationError::Operation(format!(
            "{caller}: this host needs `{operation}`, which oxinfra does not have yet"
        )));
    }
    call(plan, operation, arguments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    fn which_facts(found: &[&str], absent: &[&str]) -> TableFacts {
        let mut facts = TableFacts::default();
        for tool in found {
            facts = facts.with("server.Which", &[("command", json!(tool))], json!(format!("/usr/bin/{tool}")));
        }
        for tool in absent {
            facts = facts.with("server.Which", &[("command", json!(tool))], Value::Null);
        }
        facts
    }

    fn echo(name: &str, action: &str) -> StringCommand {
        StringCommand::raw("ctl").quoted(name).text(action)
    }

    #[test]
    fn restart_of_a_stopped_service_only_starts_it() {
        let mut facts = TableFacts::default();
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        let control = ServiceControl {
            running: Some(true),
            restarted: true,
            reloaded: true,
            command: Some("check"),
        };
        service_control(&mut plan, "web", &json!({"web": false}), &control, &echo);
        let commands: Vec<String> = plan.commands.iter().map(oxinfra_core::Command::display).collect();
        assert_eq!(commands, ["ctl web start", "ctl web check"]);
    }

    #[test]
    fn unknown_state_counts_as_not_running() {
        let mut facts = TableFacts::default();
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        let control = ServiceControl {
            running: Some(false),
            restarted: false,
            reloaded: false,
            command: None,
        };
        service_control(&mut plan, "web", &json!({"web": null}), &control, &echo);
        assert!(plan.commands.is_empty());
        assert_eq!(plan.noop_reason.as_deref(), Some("service web is stopped"));
    }

    #[test]
    fn an_operation_oxinfra_lacks_is_named() {
        let mut facts = TableFacts::default();
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        let error = delegate(&mut plan, "server.packages", "nothing.packages", json!({})).err();
        assert_eq!(
            error,
            Some(OperationError::Operation(
                "server.packages: this host needs `nothing.packages`, which oxinfra does not have yet".to_owned()
            ))
        );
    }

    #[test]
    fn no_package_manager_is_an_error() {
        let tools = ["zypper", "apk", "apt", "brew", "dnf", "pacman", "xbps-install", "xbps", "yum", "pkg", "pkg_add"];
        let mut facts = which_facts(&[], &tools);
        let error = run(packages, &json!({"packages": "git"}), &mut facts).err();
        assert!(matches!(error, Some(OperationError::Operation(message)) if message.starts_with("No system package manager")));
    }

    #[test]
    fn rc_d_means_bsdinit_only_on_the_bsds() -> Result<(), OperationError> {
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let absent = ["systemctl", "rc-service", "initctl", "sv"];
        let mut facts = which_facts(&["service"], &absent).with("server.Os", &[], json!("SunOS")).with(
            "files.Directory",
            &[("path", json!("/etc/rc.d"))],
            json!({"mode": 755}),
        );
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        assert_eq!(init_system(&mut plan)?, "sysvinit.service");
        let mut facts = which_facts(&["service"], &absent).with("server.Os", &[], json!("OpenBSD")).with(
            "files.Directory",
            &[("path", json!("/etc/rc.d"))],
            json!({"mode": 755}),
        );
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        assert_eq!(init_system(&mut plan)?, "bsdinit.service");
        Ok(())
    }

    #[test]
    fn sysvinit_is_found_by_its_scripts_folder() -> Result<(), OperationError> {
        let mut facts = which_facts(&[], &["systemctl", "rc-service", "initctl", "sv", "service"])
            .with("server.Os", &[], json!("Linux"))
            .with("files.Link", &[("path", json!("/etc/init.d"))], Value::Null)
            .with("files.Directory", &[("path", json!("/etc/init.d"))], json!({"mode": 755}));
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        assert_eq!(init_system(&mut plan)?, "sysvinit.service");
        Ok(())
    }
}
