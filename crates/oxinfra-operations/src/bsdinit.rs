//! Operations of `pyinfra/operations/bsdinit.py`: `service`, for the scripts in
//! `/etc/rc.d` and `/usr/local/etc/rc.d`, enabled with a `<service>_enable="YES"` line
//! in `/etc/rc.conf.local`.

use serde_json::json;

use oxinfra_core::StringCommand;

use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};
use crate::server::services::{ServiceArgs, service_control};
use crate::server::unspaced;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "bsdinit.service",
    params: &["service", "running", "restarted", "reloaded", "command", "enabled"],
    plan: |arguments, plan| service(&parse_arguments("bsdinit.service", arguments)?, plan),
}];

/// `bsdinit.service`: starts, stops, restarts or reloads a service through its rc.d
/// script (the base system's, else the one installed under `/usr/local`), and enables
/// or disables it.
///
/// pyinfra also reads `server.Os` here, to pick OpenBSD's `check` over `status`, but
/// nothing it plans uses the answer; it is not read.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let statuses = plan.fact("bsdinit.RcdStatus", &[])?;
    service_control(plan, &args.service, &statuses, &args.control(), &|name, action| {
        let script = |folder: &str| unspaced(StringCommand::raw(folder).quoted(name));
        StringCommand::raw("test -e")
            .nested(script("/etc/rc.d/"))
            .text("&&")
            .nested(script("/etc/rc.d/"))
            .text(action)
            .text("||")
            .nested(script("/usr/local/etc/rc.d/"))
            .text(action)
    });
    let Some(enabled) = args.enabled else {
        return Ok(());
    };
    let service = &args.service;
    call(
        plan,
        "files.line",
        json!({
            "path": "/etc/rc.conf.local",
            "line": format!("^{service}_enable="),
            "replace": format!("{service}_enable=\"YES\""),
            "present": enabled,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn a_custom_command_runs_through_either_script() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("bsdinit.RcdStatus", &[], json!({"ntpd": true}));
        let (commands, _) = run(service, &json!({"service": "ntpd", "running": null, "command": "onestatus"}), &mut facts)?;
        assert_eq!(
            commands,
            ["test -e /etc/rc.d/ntpd && /etc/rc.d/ntpd onestatus || /usr/local/etc/rc.d/ntpd onestatus"]
        );
        Ok(())
    }
}
