//! Operations of `pyinfra/operations/launchd.py`: `service`, with `launchctl`. The
//! restart's stop and start quote the label, which pyinfra writes bare: the same text
//! for any label a shell would not split.

use serde::Deserialize;

use oxinfra_core::StringCommand;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use crate::server::services::{ServiceControl, running_by_default, service_control};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "launchd.service",
    params: &["service", "running", "restarted", "command"],
    plan: |arguments, plan| service(&parse_arguments("launchd.service", arguments)?, plan),
}];

/// Arguments of `launchd.service`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The job's label.
    pub service: String,
    /// Whether the job should be running; `None` leaves it alone.
    #[serde(default = "running_by_default")]
    pub running: Option<bool>,
    /// Restart the job (stop, then start) if it is running.
    #[serde(default)]
    pub restarted: Option<bool>,
    /// Accepted as pyinfra accepts it, and, as there, never run.
    #[serde(default)]
    pub command: Option<String>,
}

/// `launchd.service`: starts or stops a job, and restarts it with a stop and a start
/// (`launchctl` has no restart).
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let statuses = plan.fact("launchd.LaunchdStatus", &[])?;
    let launchctl = |name: &str, action: &str| StringCommand::raw("launchctl").text(action).quoted(name);
    let control = ServiceControl {
        running: args.running,
        restarted: false,
        reloaded: false,
        command: None,
    };
    service_control(plan, &args.service, &statuses, &control, &launchctl);
    // Whether it ran before this operation: a job just started is not restarted.
    let was_running = statuses.get(&args.service).is_some_and(truthy);
    if args.restarted.unwrap_or(false) && was_running {
        plan.push(launchctl(&args.service, "stop"));
        plan.push(launchctl(&args.service, "start"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};
    use serde_json::json;

    #[test]
    fn a_custom_command_is_never_run() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("launchd.LaunchdStatus", &[], json!({"com.example.job": true}));
        let (commands, noop) = run(service, &json!({"service": "com.example.job", "command": "kickstart"}), &mut facts)?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("service com.example.job is running"));
        Ok(())
    }

    #[test]
    fn labels_the_shell_would_split_are_quoted() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("launchd.LaunchdStatus", &[], json!({"my job": true}));
        let (commands, _) = run(service, &json!({"service": "my job", "restarted": true, "running": null}), &mut facts)?;
        assert_eq!(commands, ["launchctl stop 'my job'", "launchctl start 'my job'"]);
        Ok(())
    }
}
