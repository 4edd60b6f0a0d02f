//! Operations of `pyinfra/operations/snap.py`: `snap.package` installs, removes and
//! switches the channel of snaps.

use serde::{Deserialize, Deserializer};
use serde_json::json;

use oxinfra_core::StringCommand;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "snap.package",
    params: &["packages", "channel", "classic", "present"],
    plan: |arguments, plan| package(&parse_arguments("snap.package", arguments)?, plan),
}];

fn default_channel() -> String {
    "latest/stable".to_owned()
}

fn yes() -> bool {
    true
}

/// Arguments of `snap.package`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageArgs {
    /// The snaps to manage: one name or a list; nothing happens without any.
    #[serde(default, deserialize_with = "optional_names")]
    pub packages: Option<Vec<String>>,
    /// The channel installed snaps should follow (`track/risk`).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Install with `--classic`: without the sandbox, like a traditional package.
    #[serde(default)]
    pub classic: bool,
    /// Whether the snaps should be installed (else removed).
    #[serde(default = "yes")]
    pub present: bool,
}

/// `snap.package`: installs the missing snaps, removes unwanted ones and moves installed
/// snaps that follow another channel to the wanted one.
pub fn package(args: &PackageArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let Some(packages) = &args.packages else {
        return Ok(());
    };
    let installed = plan.fact("snap.SnapPackages", &[])?;
    let is_installed = |name: &str| installed.as_array().is_some_and(|names| names.iter().any(|item| item.as_str() == Some(name)));
    let (mut install, mut remove, mut refresh) = (Vec::new(), Vec::new(), Vec::new());
    for name in packages {
        match (is_installed(name), args.present) {
            (true, true) => {
                let info = plan.fact("snap.SnapPackage", &[("package", json!(name))])?;
                let current = info.get("channel").filter(|_| truthy(&info));
                if current.is_some_and(|current| current.as_str() != Some(args.channel.as_str())) {
                    refresh.push(name);
                }
            }
            (true, false) => remove.push(name),
            (false, true) => install.push(name),
            (false, false) => plan.noop(format!("snap package {name} is not installed")),
        }
    }
    let channel = format!("--channel={}", args.channel);
    if !install.is_empty() {
        let mut command = StringCommand::raw("snap install");
        if args.classic {
            command = command.text("--classic");
        }
        plan.push(with_names(command, &install).quoted(&channel));
    }
    if !remove.is_empty() {
        plan.push(with_names(StringCommand::raw("snap remove"), &remove));
    }
    if !refresh.is_empty() {
        plan.push(with_names(StringCommand::raw("snap refresh"), &refresh).quoted(&channel));
    }
    Ok(())
}

/// `command` followed by each name, quoted.
fn with_names(command: StringCommand, names: &[&String]) -> StringCommand {
    names.iter().fold(command, |command, name| command.quoted(*name))
}

/// Reads `None`, one name or a list of names.
fn optional_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<Names>::deserialize(deserializer)?.map(|names| match names {
        Names::One(name) => vec![name],
        Names::Many(names) => names,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    fn facts(installed: Value) -> TableFacts {
        TableFacts::default().with("snap.SnapPackages", &[], installed)
    }

    #[test]
    fn one_name_is_installed_on_the_default_channel() -> Result<(), OperationError> {
        let (commands, _) = run(package, &json!({"packages": "vlc"}), &mut facts(json!(["core"])))?;
        assert_eq!(commands, ["snap install vlc --channel=latest/stable"]);
        Ok(())
    }

    #[test]
    fn installed_snap_on_another_channel_is_refreshed() -> Result<(), OperationError> {
        let mut facts = facts(json!(["lxd"])).with(
            "snap.SnapPackage",
            &[("package", json!("lxd"))],
            json!({"name": "lxd", "channel": "4.0/stable"}),
        );
        let arguments = json!({"packages": ["lxd"], "channel": "5.0/stable"});
        let (commands, _) = run(package, &arguments, &mut facts)?;
        assert_eq!(commands, ["snap refresh lxd --channel=5.0/stable"]);
        Ok(())
    }

    #[test]
    fn installed_snap_on_the_wanted_channel_changes_nothing() -> Result<(), OperationError> {
        let mut facts = facts(json!(["lxd"])).with("snap.SnapPackage", &[("package", json!("lxd"))], json!({"channel": "latest/stable"}));
        let (commands, _) = run(package, &json!({"packages": "lxd"}), &mut facts)?;
        assert!(commands.is_empty());
        Ok(())
    }

    #[test]
    fn no_packages_plan_nothing() -> Result<(), OperationError> {
        let (commands, noop) = run(package, &json!({}), &mut TableFacts::default())?;
        assert!(commands.is_empty() && noop.is_none());
        Ok(())
    }
}
