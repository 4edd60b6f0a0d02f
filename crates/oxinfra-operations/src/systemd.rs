//! Operations of `pyinfra/operations/systemd.py`: `daemon_reload` and `service`, for
//! the system manager, a user's manager, or the manager of another machine.

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_facts::systemd::systemctl;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use crate::server::services::{ServiceControl, running_by_default, service_control};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "systemd.daemon_reload",
        params: &["user_mode", "machine", "user_name"],
        plan: |arguments, plan| {
            daemon_reload(&parse_arguments("systemd.daemon_reload", arguments)?, plan);
            Ok(())
        },
    },
    OperationDef {
        name: "systemd.service",
        params: &[
            "service",
            "running",
            "restarted",
            "reloaded",
            "command",
            "enabled",
            "daemon_reload",
            "user_mode",
            "machine",
            "user_name",
        ],
        plan: |arguments, plan| service(&parse_arguments("systemd.service", arguments)?, plan),
    },
];

/// Which systemd manager to talk to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonReloadArgs {
    /// Talk to the connecting user's own manager (`systemctl --user`).
    #[serde(default)]
    pub user_mode: bool,
    /// The container or machine whose manager to talk to (`--machine`).
    #[serde(default)]
    pub machine: Option<String>,
    /// Talk to this user's manager, on `machine` or on this host.
    #[serde(default)]
    pub user_name: Option<String>,
}

impl DaemonReloadArgs {
    fn systemctl(&self) -> StringCommand {
        systemctl(self.user_mode, self.machine.as_deref(), self.user_name.as_deref())
    }

    /// The manager as the `systemd` facts take it.
    fn fact_arguments(&self, service: &str) -> [(&'static str, Value); 4] {
        [
            ("user_mode", json!(self.user_mode)),
            ("machine", json!(self.machine)),
            ("user_name", json!(self.user_name)),
            ("services", json!([service])),
        ]
    }
}

/// `systemd.daemon_reload`: makes the manager read unit files again.
pub fn daemon_reload(args: &DaemonReloadArgs, plan: &mut Plan<'_>) {
    plan.push(StringCommand::new().nested(args.systemctl()).text("daemon-reload"));
}

/// Arguments of `systemd.service`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The unit; a name without a unit type suffix is taken as a `.service`.
    pub service: String,
    /// Whether the unit should be active; `None` leaves it alone.
    #[serde(default = "running_by_default")]
    pub running: Option<bool>,
    /// Restart the unit if it is active.
    #[serde(default)]
    pub restarted: Option<bool>,
    /// Reload the unit if it is active.
    #[serde(default)]
    pub reloaded: Option<bool>,
    /// A `systemctl` verb to run on the unit every time.
    #[serde(default)]
    pub command: Option<String>,
    /// Whether the unit should start at boot; `None` leaves that alone.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Reload the manager first, so that changed unit files are read.
    #[serde(default)]
    pub daemon_reload: bool,
    /// Talk to the connecting user's own manager (`systemctl --user`).
    #[serde(default)]
    pub user_mode: bool,
    /// The container or machine whose manager to talk to (`--machine`).
    #[serde(default)]
    pub machine: Option<String>,
    /// Talk to this user's manager, on `machine` or on this host.
    #[serde(default)]
    pub user_name: Option<String>,
}

impl ServiceArgs {
    /// The manager this unit belongs to.
    fn manager(&self) -> DaemonReloadArgs {
        DaemonReloadArgs {
            user_mode: self.user_mode,
            machine: self.machine.clone(),
            user_name: self.user_name.clone(),
        }
    }
}

/// The unit types systemd knows; a name ending in none of them is a service.
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".slice",
    ".scope",
];

/// `systemd.service`: starts, stops, restarts or reloads a unit and enables or
/// disables it.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let unit = if UNIT_SUFFIXES.iter().any(|suffix| args.service.ends_with(suffix)) {
        args.service.clone()
    } else {
        format!("{}.service", args.service)
    };
    let manager = args.manager();
    if args.daemon_reload {
        daemon_reload(&manager, plan);
    }
    let statuses = plan.fact("systemd.SystemdStatus", &manager.fact_arguments(&unit))?;
    let prefix = manager.systemctl().raw_value();
    let control = ServiceControl {
        running: args.running,
        restarted: args.restarted.unwrap_or(false),
        reloaded: args.reloaded.unwrap_or(false),
        command: args.command.as_deref(),
    };
    service_control(plan, &unit, &statuses, &control, &|unit, action| {
        StringCommand::raw(prefix.as_str()).text(action).quoted(unit)
    });
    if let Some(enabled) = args.enabled {
        let states = plan.fact("systemd.SystemdEnabled", &manager.fact_arguments(&unit))?;
        let is_enabled = states.get(&unit).is_some_and(truthy);
        let verb = match (is_enabled, enabled) {
            (false, true) => "enable",
            (true, false) => "disable",
            _ => return Ok(()),
        };
        plan.push(StringCommand::new().nested(manager.systemctl()).text(verb).quoted(unit));
    }
    Ok(())
}
