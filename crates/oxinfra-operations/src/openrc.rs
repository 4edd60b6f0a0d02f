//! Operations of `pyinfra/operations/openrc.py`: `service`, with `rc-service` and
//! `rc-update`, in one runlevel.

use serde::Deserialize;
use serde_json::json;

use oxinfra_core::StringCommand;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use crate::server::services::{ServiceControl, running_by_default, service_control};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "openrc.service",
    params: &["service", "running", "restarted", "reloaded", "command", "enabled", "runlevel"],
    plan: |arguments, plan| service(&parse_arguments("openrc.service", arguments)?, plan),
}];

fn default_runlevel() -> String {
    "default".to_owned()
}

/// Arguments of `openrc.service`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The service's name in `/etc/init.d`.
    pub service: String,
    /// Whether the service should be started; `None` leaves it alone.
    #[serde(default = "running_by_default")]
    pub running: Option<bool>,
    /// Restart the service if it is started.
    #[serde(default)]
    pub restarted: Option<bool>,
    /// Reload the service if it is started.
    #[serde(default)]
    pub reloaded: Option<bool>,
    /// An action for `rc-service <service>` to run every time.
    #[serde(default)]
    pub command: Option<String>,
    /// Whether the service should be in `runlevel`; `None` leaves that alone.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The runlevel whose services are read and changed.
    #[serde(default = "default_runlevel")]
    pub runlevel: String,
}

/// `openrc.service`: starts, stops, restarts or reloads a service and adds it to or
/// removes it from a runlevel.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let runlevel = [("runlevel", json!(args.runlevel))];
    let statuses = plan.fact("openrc.OpenrcStatus", &runlevel)?;
    let control = ServiceControl {
        running: args.running,
        restarted: args.restarted.unwrap_or(false),
        reloaded: args.reloaded.unwrap_or(false),
        command: args.command.as_deref(),
    };
    service_control(plan, &args.service, &statuses, &control, &|name, action| {
        StringCommand::raw("rc-service").quoted(name).text(action)
    });
    let Some(enabled) = args.enabled else {
        return Ok(());
    };
    let members = plan.fact("openrc.OpenrcEnabled", &runlevel)?;
    let is_enabled = members.get(&args.service).is_some_and(truthy);
    match (enabled, is_enabled) {
        (true, false) => plan.push(StringCommand::raw("rc-update add").quoted(&args.service).quoted(&args.runlevel)),
        (false, true) => plan.push(StringCommand::raw("rc-update del").quoted(&args.service).quoted(&args.runlevel)),
        (true, true) => plan.noop(format!("service {} is enabled", args.service)),
        (false, false) => plan.noop(format!("service {} is disabled", args.service)),
    }
    Ok(())
}
