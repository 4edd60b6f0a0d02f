//! `server.group`, `server.user_authorized_keys` and `server.user`: system accounts,
//! managed with the shadow tools (`groupadd`, `useradd`, ...) or FreeBSD's `pw`, and
//! their home directories and SSH keys (through `files.directory`, `files.file`,
//! `files.put` and `files.line`).

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use super::{contains_name, os, truthy, yes};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// `server.group`.
pub const GROUP: OperationDef = OperationDef {
    name: "server.group",
    params: &["group", "present", "system", "gid"],
    plan: |arguments, plan| group(&parse_arguments("server.group", arguments)?, plan),
};

/// Arguments of `server.group`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupArgs {
    /// The group's name.
    pub group: String,
    /// Whether the group should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Create it as a system group (ignored on the BSDs, which have none).
    #[serde(default)]
    pub system: bool,
    /// The group id to create it with.
    #[serde(default)]
    pub gid: Option<Value>,
}

/// `server.group`: adds or deletes a group. An existing group is left as it is.
pub fn group(args: &GroupArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let groups = plan.fact("server.Groups", &[])?;
    let os = os(plan)?;
    let freebsd = os == "FreeBSD";
    let exists = contains_name(&groups, &args.group);
    if !args.present && exists {
        let command = if freebsd {
            StringCommand::raw("pw groupdel -n")
        } else {
            StringCommand::raw("groupdel")
        };
        plan.push(command.quoted(&args.group));
    } else if args.present && !exists {
        let mut command = StringCommand::raw(if freebsd { "pw groupadd" } else { "groupadd" });
        if args.system && !os.contains("BSD") {
            command = command.text("-r");
        }
        if freebsd {
            command = command.text("-n");
        }
        command = command.quoted(&args.group);
        if let Some(gid) = args.gid.as_ref().filter(|gid| truthy(gid)) {
            command = command
                .text(if freebsd { "-g" } else { "--gid" })
                .quoted(python_str(gid));
        }
        plan.push(command);
    }
    Ok(())
}
