//! Operations of `pyinfra/operations/upstart.py`: `service`, with `initctl`.
//!
//! Upstart jobs name their runlevels in their own configuration, so enabling and
//! disabling is done, as in pyinfra, with an override file: `/etc/init/<job>.override`
//! holding `manual` keeps the job from starting at boot; no override lets it.

use serde_json::json;

use oxinfra_core::StringCommand;

use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};
use crate::server::services::{ServiceArgs, service_control};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "upstart.service",
    params: &["service", "running", "restarted", "reloaded", "command", "enabled"],
    plan: |arguments, plan| service(&parse_arguments("upstart.service", arguments)?, plan),
}];

/// `upstart.service`: starts, stops, restarts or reloads a job, and lets it start at
/// boot or not through its override file.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let statuses = plan.fact("upstart.UpstartStatus", &[])?;
    service_control(plan, &args.service, &statuses, &args.control(), &|name, action| {
        StringCommand::raw("initctl").text(action).quoted(name)
    });
    let path = format!("/etc/init/{}.override", args.service);
    match args.enabled {
        Some(true) => call(plan, "files.file", json!({"path": path, "present": false})),
        Some(false) => call(plan, "files.put", json!({"src": {"content": "manual\n"}, "dest": path})),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn a_running_job_is_reloaded_and_its_boot_setting_left_alone() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("upstart.UpstartStatus", &[], json!({"web": true}));
        let (commands, _) = run(service, &json!({"service": "web", "reloaded": true}), &mut facts)?;
        assert_eq!(commands, ["initctl reload web"]);
        Ok(())
    }
}
