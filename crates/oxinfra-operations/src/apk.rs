//! Operations of `pyinfra/operations/apk.py`: packages with apk (Alpine Linux).

use oxinfra_core::StringCommand;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::dnf::NoArgs;
use crate::files::util::truthy;
use crate::packaging::{PackageCommands, PackageList, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "apk.upgrade",
        params: &["available"],
        plan: upgrade,
    },
    OperationDef {
        name: "apk.update",
        params: &[],
        plan: update,
    },
    OperationDef {
        name: "apk.packages",
        params: &["packages", "present", "latest", "update", "upgrade"],
        plan: packages,
    },
];

fn yes() -> Value {
    Value::Bool(true)
}

/// Arguments of `apk.upgrade`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeArgs {
    /// Replace every package with the repositories' version, even older ones (for
    /// moving to a new Alpine release).
    #[serde(default)]
    pub available: Value,
}

/// `apk.upgrade`: upgrades every package, on every run.
fn upgrade(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: UpgradeArgs = parse_arguments("apk.upgrade", arguments)?;
    push_upgrade(plan, truthy(&args.available));
    Ok(())
}

fn push_upgrade(plan: &mut Plan<'_>, available: bool) {
    plan.push_raw(if available { "apk upgrade --available" } else { "apk upgrade" });
}

/// `apk.update`: refreshes the package indexes, on every run.
fn update(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("apk.update", arguments)?;
    plan.push_raw("apk update");
    Ok(())
}

/// Arguments of `apk.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// The packages to install or remove; `name=version` pins a version.
    #[serde(default)]
    pub packages: Option<PackageList>,
    /// Install (`True`) or remove (`False`) them.
    #[serde(default = "yes")]
    pub present: Value,
    /// Also upgrade those already installed that name no version.
    #[serde(default)]
    pub latest: Value,
    /// Refresh the package indexes first.
    #[serde(default)]
    pub update: Value,
    /// Upgrade every package first.
    #[serde(default)]
    pub upgrade: Value,
}

/// `apk.packages`: installs, removes or upgrades packages.
fn packages(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PackagesArgs = parse_arguments("apk.packages", arguments)?;
    if truthy(&args.update) {
        plan.push_raw("apk update");
    }
    if truthy(&args.upgrade) {
        push_upgrade(plan, false);
    }
    let commands = PackageCommands {
        install: StringCommand::raw("apk add"),
        uninstall: StringCommand::raw("apk del"),
        upgrade: Some(StringCommand::raw("apk upgrade")),
        latest: truthy(&args.latest),
        version_join: Some("="),
        ..PackageCommands::default()
    };
    let current = plan.fact("apk.ApkPackages", &[])?;
    ensure_packages(plan, args.packages.as_ref(), &current, args.present.as_bool(), &commands)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::packaging::testing::run;

    #[test]
    fn names_are_quoted() {
        let result = run("apk.packages", json!({"packages": ["curl=8.5.0-r0", "a b"]}), json!({"apk.ApkPackages": {}}));
        assert_eq!(result, Ok((vec!["apk add curl=8.5.0-r0 'a b'".to_owned()], None)));
    }

    #[test]
    fn latest_upgrades_installed_packages() {
        let result = run(
            "apk.packages",
            json!({"packages": "curl", "latest": true}),
            json!({"apk.ApkPackages": {"curl": ["8.5.0-r0"]}}),
        );
        assert_eq!(result, Ok((vec!["apk upgrade curl".to_owned()], None)));
    }
}
