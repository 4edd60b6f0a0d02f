//! Operations of `pyinfra/operations/runit.py`: `service`, and the steps it is made of:
//! `manage` (link the service into the service directory, so that `runsvdir` runs a
//! `runsv` for it), `wait_runsv` (wait for that `runsv`) and `auto` (the `down` file
//! that keeps a service from starting by itself).
//!
//! Names and folders are quoted in the commands, which pyinfra writes bare: the same
//! text for any value a shell would not split.

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::command::shell_quote;
use oxinfra_core::pyrepr::python_str;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};
use crate::server::services::{ServiceControl, running_by_default, service_control};
use crate::server::{contains_name, unspaced};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "runit.service",
        params: &[
            "service",
            "running",
            "restarted",
            "reloaded",
            "command",
            "enabled",
            "managed",
            "svdir",
            "sourcedir",
        ],
        plan: |arguments, plan| service(&parse_arguments("runit.service", arguments)?, plan),
    },
    OperationDef {
        name: "runit.manage",
        params: &["service", "managed", "svdir", "sourcedir"],
        plan: |arguments, plan| manage(&parse_arguments("runit.manage", arguments)?, plan),
    },
    OperationDef {
        name: "runit.wait_runsv",
        params: &["service", "svdir", "timeout"],
        plan: |arguments, plan| {
            wait_runsv(&parse_arguments("runit.wait_runsv", arguments)?, plan);
            Ok(())
        },
    },
    OperationDef {
        name: "runit.auto",
        params: &["service", "auto", "sourcedir"],
        plan: |arguments, plan| auto(&parse_arguments("runit.auto", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

fn default_svdir() -> String {
    "/var/service".to_owned()
}

fn default_sourcedir() -> String {
    "/etc/sv".to_owned()
}

fn default_timeout() -> Value {
    json!(10)
}

/// Arguments of `runit.service`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The service's folder name in `sourcedir`.
    pub service: String,
    /// Whether the service should be up; `None` leaves it alone.
    #[serde(default = "running_by_default")]
    pub running: Option<bool>,
    /// Restart the service if it is up.
    #[serde(default)]
    pub restarted: Option<bool>,
    /// Reload the service if it is up.
    #[serde(default)]
    pub reloaded: Option<bool>,
    /// An `sv` command to run on the service every time.
    #[serde(default)]
    pub command: Option<String>,
    /// Whether the service should start by itself (no `down` file); `None` keeps
    /// what it was.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Whether runit should manage the service; the other settings but `enabled`
    /// only act on managed services.
    #[serde(default = "yes")]
    pub managed: bool,
    /// The service directory runit watches (another one for user services).
    #[serde(default = "default_svdir")]
    pub svdir: String,
    /// Where the service's folder is.
    #[serde(default = "default_sourcedir")]
    pub sourcedir: String,
}

/// `runit.service`: makes runit manage (or forget) a service, sets whether it starts
/// by itself, and starts, stops, restarts or reloads it.
pub fn service(args: &ServiceArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let service_in = [("service", json!(args.service)), ("svdir", json!(args.svdir))];
    let was_managed = contains_name(&plan.fact("runit.RunitManaged", &service_in)?, &args.service);
    let down_file = format!("{}/{}/down", args.sourcedir, args.service);
    let was_auto = !truthy(&plan.fact("files.File", &[("path", json!(down_file))])?);
    let automatic = |auto: bool| AutoArgs {
        service: args.service.clone(),
        auto,
        sourcedir: args.sourcedir.clone(),
    };
    let newly_managed = !was_managed && args.managed;
    // A service runit starts managing stays down until told otherwise, so that one
    // that should not run is never started and stopped again.
    if newly_managed && was_auto {
        auto(&automatic(false), plan)?;
    }
    let management = ManageArgs {
        service: args.service.clone(),
        managed: args.managed,
        svdir: args.svdir.clone(),
        sourcedir: args.sourcedir.clone(),
    };
    manage(&management, plan)?;
    if newly_managed {
        let wait = WaitRunsvArgs {
            service: args.service.clone(),
            svdir: args.svdir.clone(),
            timeout: default_timeout(),
        };
        wait_runsv(&wait, plan);
    }
    auto(&automatic(args.enabled.unwrap_or(was_auto)), plan)?;
    if !args.managed {
        return Ok(());
    }
    let statuses = plan.fact("runit.RunitStatus", &service_in)?;
    let control = ServiceControl {
        running: args.running,
        restarted: args.restarted.unwrap_or(false),
        reloaded: args.reloaded.unwrap_or(false),
        command: args.command.as_deref(),
    };
    service_control(plan, &args.service, &statuses, &control, &|name, action| {
        StringCommand::new()
            .nested(unspaced(StringCommand::raw("SVDIR=").quoted(&args.svdir)))
            .text("sv")
            .text(action)
            .quoted(name)
    });
    Ok(())
}

/// Arguments of `runit.manage`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManageArgs {
    /// The service's folder name in `sourcedir`.
    pub service: String,
    /// Whether the service's link in `svdir` should be there.
    #[serde(default = "yes")]
    pub managed: bool,
    /// The service directory runit watches.
    #[serde(default = "default_svdir")]
    pub svdir: String,
    /// Where the service's folder is.
    #[serde(default = "default_sourcedir")]
    pub sourcedir: String,
}

/// `runit.manage`: links the service's folder into the service directory, or removes
/// the link.
pub fn manage(args: &ManageArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let link = json!({
        "path": format!("{}/{}", args.svdir, args.service),
        "target": format!("{}/{}", args.sourcedir, args.service),
        "present": args.managed,
        "create_remote_dir": false,
    });
    call(plan, "files.link", link)
}

/// Arguments of `runit.wait_runsv`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitRunsvArgs {
    /// The service to wait for.
    pub service: String,
    /// The service directory runit watches.
    #[serde(default = "default_svdir")]
    pub svdir: String,
    /// How many seconds to wait at most.
    #[serde(default = "default_timeout")]
    pub timeout: Value,
}

/// `runit.wait_runsv`: waits, a second at a time, until `sv status` answers for the
/// service, and fails after `timeout` seconds (`runsvdir` looks for new services every
/// five seconds).
pub fn wait_runsv(args: &WaitRunsvArgs, plan: &mut Plan<'_>) {
    let lines = [
        format!("export SVDIR={}", shell_quote(&args.svdir)),
        format!("for i in $(seq {}); do", shell_quote(&python_str(&args.timeout))),
        format!("    sv status {} > /dev/null && exit 0", shell_quote(&args.service)),
        "    sleep 1;".to_owned(),
        "done".to_owned(),
        "exit 1".to_owned(),
    ];
    let mut script = StringCommand::new();
    script.separator = "\n".to_owned();
    plan.push(lines.into_iter().fold(script, StringCommand::text));
}

/// Arguments of `runit.auto`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoArgs {
    /// The service's folder name in `sourcedir`.
    pub service: String,
    /// Whether the service should start by itself.
    #[serde(default = "yes")]
    pub auto: bool,
    /// Where the service's folder is.
    #[serde(default = "default_sourcedir")]
    pub sourcedir: String,
}

/// `runit.auto`: removes the service's `down` file so that it starts by itself, or
/// creates it so that it does not.
pub fn auto(args: &AutoArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let down = json!({
        "path": format!("{}/{}/down", args.sourcedir, args.service),
        "present": !args.auto,
        "create_remote_dir": false,
    });
    call(plan, "files.file", down)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    fn managed_facts(svdir: &str, running: bool) -> TableFacts {
        let service_in = [("service", json!("web")), ("svdir", json!(svdir))];
        TableFacts::default()
            .with("runit.RunitManaged", &service_in, json!(["web"]))
            .with("runit.RunitStatus", &service_in, json!({"web": running}))
            .with("files.File", &[("path", json!("/etc/sv/web/down"))], Value::Null)
            .with(
                "files.Link",
                &[("path", json!(format!("{svdir}/web")))],
                json!({"link_target": "/etc/sv/web", "user": "root", "group": "root"}),
            )
    }

    #[test]
    fn a_service_directory_with_spaces_is_quoted() -> Result<(), OperationError> {
        let mut facts = managed_facts("/home/me/my services", true);
        let (commands, _) = run(
            service,
            &json!({"service": "web", "svdir": "/home/me/my services", "restarted": true}),
            &mut facts,
        )?;
        assert_eq!(commands, ["SVDIR='/home/me/my services' sv restart web"]);
        Ok(())
    }

    #[test]
    fn a_service_no_longer_managed_is_not_controlled() -> Result<(), OperationError> {
        let mut facts = managed_facts("/var/service", false);
        let (commands, _) = run(service, &json!({"service": "web", "managed": false}), &mut facts)?;
        assert_eq!(commands, ["rm -f /var/service/web"]);
        Ok(())
    }

    #[test]
    fn waiting_quotes_what_it_writes_into_the_script() {
        let mut facts = TableFacts::default();
        let local_files = crate::files::lines::test_support::MemoryFiles::default();
        let mut plan = Plan::new(&mut facts, &local_files, "/".into(), "ts".to_owned());
        let args = WaitRunsvArgs {
            service: "a b".to_owned(),
            svdir: "/var/service".to_owned(),
            timeout: json!(3),
        };
        wait_runsv(&args, &mut plan);
        let commands: Vec<String> = plan.commands.iter().map(oxinfra_core::Command::display).collect();
        assert_eq!(
            commands,
            ["export SVDIR=/var/service\nfor i in $(seq 3); do\n    sv status 'a b' > /dev/null && exit 0\n    sleep 1;\ndone\nexit 1"]
        );
    }
}
