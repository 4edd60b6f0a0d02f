//! Operations of `pyinfra/operations/sysvinit.py`: `service`, which drives
//! `/etc/init.d` scripts and enables them with the distribution's tool, and `enable`,
//! which makes the `/etc/rcN.d` links itself (through `files.link`).

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};
use crate::server::services::{ServiceControl, running_by_default, service_control};
use crate::server::unspaced;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "sysvinit.service",
        params: &["service", "running", "restarted", "reloaded", "enabled", "command"],
        plan: |arguments, plan| service(&parse_arguments("sysvinit.service", arguments)?, plan),
    },
    OperationDef {
        name: "sysvinit.enable",
        params: &["service", "start_priority", "stop_priority", "start_levels", "stop_levels"],
        plan: |arguments, plan| enable(&parse_arguments("sysvinit.enable", arguments)?, plan),
    },
];

/// Arguments of `sysvinit.service`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The script's name in `/etc/init.d`.
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
    /// Whether the service should start at boot: enabling uses the distribution's
    /// tool (`update-rc.d`, `chkconfig` or `rc-update`; where there is none, see
    /// `sysvinit.enable`); disabling removes the start links.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// An action of the script to run every time (`/etc/init.d/<service> <command>`).
    #[serde(default)]
    pub command: Option<String>,
}

/// `sysvinit.service`: starts, stops, restarts or reloads an init script's service
/// and enables or disables it at boot.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let statuses = plan.fact("sysvinit.InitdStatus", &[])?;
    let control = ServiceControl {
        running: args.running,
        restarted: args.restarted.unwrap_or(false),
        reloaded: args.reloaded.unwrap_or(false),
        command: args.command.as_deref(),
    };
    service_control(plan, &args.service, &statuses, &control, &|name, action| {
        let script = StringCommand::raw("/etc/init.d/").quoted(name);
        StringCommand::new().nested(unspaced(script)).text(action)
    });
    let Some(enabled) = args.enabled else {
        return Ok(());
    };
    let start_links = plan.fact(
        "files.FindLinks",
        &[("path", json!("/etc")), ("path_match", json!(format!("/etc/rc*.d/S*{}", args.service)))],
    )?;
    let start_links = start_links.as_array().cloned().unwrap_or_default();
    if enabled && start_links.is_empty() {
        let distribution = plan.fact("server.LinuxDistribution", &[])?;
        let name = distribution.get("name").and_then(Value::as_str).unwrap_or_default();
        match name {
            "Ubuntu" | "Debian" => {
                plan.push(StringCommand::raw("update-rc.d").quoted(&args.service).text("defaults"));
            }
            "CentOS" | "Fedora" | "Red Hat Enterprise Linux" => {
                plan.push(StringCommand::raw("chkconfig").quoted(&args.service).text("--add"));
                plan.push(StringCommand::raw("chkconfig").quoted(&args.service).text("on"));
            }
            "Gentoo" => {
                plan.push(StringCommand::raw("rc-update add").quoted(&args.service).text("default"));
            }
            _ => {}
        }
    } else if !enabled {
        // Every start link goes, whatever it points to.
        for link in &start_links {
            plan.push(StringCommand::raw("rm -f").quoted(python_str(link)));
        }
    }
    Ok(())
}

fn default_start_priority() -> Value {
    json!(20)
}

fn default_stop_priority() -> Value {
    json!(80)
}

fn default_start_levels() -> Vec<Value> {
    vec![json!(2), json!(3), json!(4), json!(5)]
}

fn default_stop_levels() -> Vec<Value> {
    vec![json!(0), json!(1), json!(6)]
}

/// Arguments of `sysvinit.enable`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableArgs {
    /// The script's name in `/etc/init.d`.
    pub service: String,
    /// The number in the start links' names, which orders the start.
    #[serde(default = "default_start_priority")]
    pub start_priority: Value,
    /// The number in the stop links' names, which orders the stop.
    #[serde(default = "default_stop_priority")]
    pub stop_priority: Value,
    /// The runlevels that start the service (`/etc/rcN.d/S<priority><service>`).
    #[serde(default = "default_start_levels")]
    pub start_levels: Vec<Value>,
    /// The runlevels that stop the service (`/etc/rcN.d/K<priority><service>`).
    #[serde(default = "default_stop_levels")]
    pub stop_levels: Vec<Value>,
}

/// `sysvinit.enable`: links the script into each runlevel's folder, start links first.
pub fn enable(args: &EnableArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let links = |kind: char, priority: &Value, levels: &[Value]| -> Vec<String> {
        levels
            .iter()
            .map(|level| format!("/etc/rc{}.d/{kind}{}{}", python_str(level), python_str(priority), args.service))
            .collect()
    };
    let mut all = links('S', &args.start_priority, &args.start_levels);
    all.extend(links('K', &args.stop_priority, &args.stop_levels));
    let target = format!("/etc/init.d/{}", args.service);
    for link in all {
        call(plan, "files.link", json!({"path": link, "target": target}))?;
    }
    Ok(())
}
