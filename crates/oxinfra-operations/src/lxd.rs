//! Operations of `pyinfra/operations/lxd.py`: `lxd.container` launches and deletes LXD
//! containers by name (an existing container's image is not checked).

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "lxd.container",
    params: &["id", "present", "image"],
    plan: |arguments, plan| container(&parse_arguments("lxd.container", arguments)?, plan),
}];

fn yes() -> bool {
    true
}

fn default_image() -> String {
    "ubuntu:16.04".to_owned()
}

/// Arguments of `lxd.container`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerArgs {
    /// The container's name.
    pub id: String,
    /// Whether the container should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The image a new container is launched from.
    #[serde(default = "default_image")]
    pub image: String,
}

/// `lxd.container`: launches a missing container, or stops (when running) and deletes
/// an unwanted one.
pub fn container(args: &ContainerArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let containers = plan.fact("lxd.LxdContainers", &[])?;
    let existing = containers
        .as_array()
        .and_then(|containers| {
            containers
                .iter()
                .find(|container| container.get("name").and_then(Value::as_str) == Some(args.id.as_str()))
        })
        .filter(|container| truthy(container));
    match (existing, args.present) {
        (Some(container), false) => {
            if container.get("status").and_then(Value::as_str) == Some("Running") {
                plan.push(StringCommand::raw("lxc stop").quoted(&args.id));
            }
            plan.push(StringCommand::raw("lxc delete").quoted(&args.id));
        }
        (None, false) => plan.noop(format!("container {} does not exist", args.id)),
        (None, true) => plan.push(StringCommand::raw("lxc launch").quoted(&args.image).quoted(&args.id).text("< /dev/null")),
        (Some(_), true) => plan.noop(format!("container {} exists", args.id)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn missing_container_to_remove_is_a_noop() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("lxd.LxdContainers", &[], json!([{"name": "other"}]));
        let (commands, noop) = run(container, &json!({"id": "web", "present": false}), &mut facts)?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("container web does not exist"));
        Ok(())
    }

    #[test]
    fn new_container_uses_the_default_image() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("lxd.LxdContainers", &[], json!([]));
        let (commands, _) = run(container, &json!({"id": "web"}), &mut facts)?;
        assert_eq!(commands, ["lxc launch ubuntu:16.04 web < /dev/null"]);
        Ok(())
    }
}
