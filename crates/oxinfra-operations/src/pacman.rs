//! Operations of `pyinfra/operations/pacman.py`: packages with pacman (Arch Linux).
//! A name may be a group or a virtual package, expanded through
//! `pacman.PacmanUnpackGroup`.

use oxinfra_core::StringCommand;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::dnf::NoArgs;
use crate::files::util::truthy;
use crate::packaging::{ExpandFact, PackageCommands, PackageList, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "pacman.upgrade",
        params: &[],
        plan: upgrade,
    },
    OperationDef {
        name: "pacman.update",
        params: &[],
        plan: update,
    },
    OperationDef {
        name: "pacman.packages",
        params: &["packages", "present", "update", "upgrade"],
        plan: packages,
    },
];

fn yes() -> Value {
    Value::Bool(true)
}

/// `pacman.upgrade`: upgrades every package, on every run.
fn upgrade(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("pacman.upgrade", arguments)?;
    plan.push_raw("pacman --noconfirm -Su");
    Ok(())
}

/// `pacman.update`: refreshes the package databases, on every run.
fn update(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("pacman.update", arguments)?;
    plan.push_raw("pacman -Sy");
    Ok(())
}

/// Arguments of `pacman.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// The packages (or groups) to install or remove.
    #[serde(default)]
    pub packages: Option<PackageList>,
    /// Install (`True`) or remove (`False`) them.
    #[serde(default = "yes")]
    pub present: Value,
    /// Refresh the package databases first.
    #[serde(default)]
    pub update: Value,
    /// Upgrade every package first.
    #[serde(default)]
    pub upgrade: Value,
}

/// `pacman.packages`: installs or removes packages. A group counts as installed when
/// all its packages are, and as removable when one of them is.
fn packages(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PackagesArgs = parse_arguments("pacman.packages", arguments)?;
    if truthy(&args.update) {
        plan.push_raw("pacman -Sy");
    }
    if truthy(&args.upgrade) {
        plan.push_raw("pacman --noconfirm -Su");
    }
    let commands = PackageCommands {
        install: StringCommand::raw("pacman --noconfirm -S"),
        uninstall: StringCommand::raw("pacman --noconfirm -R"),
        expand: Some(ExpandFact {
            fact: "pacman.PacmanUnpackGroup",
            argument: "package",
        }),
        ..PackageCommands::default()
    };
    let current = plan.fact("pacman.PacmanPackages", &[])?;
    ensure_packages(plan, args.packages.as_ref(), &current, args.present.as_bool(), &commands)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::packaging::testing::run;

    #[test]
    fn group_with_every_member_installed_is_a_noop() {
        let facts = json!({"pacman.PacmanUnpackGroup": ["xorg-font-util", "xorg-fonts-encodings"], "pacman.PacmanPackages": {"xorg-font-util": ["1"], "xorg-fonts-encodings": ["2"]}});
        assert_eq!(
            run("pacman.packages", json!({"packages": "xorg-fonts"}), facts),
            Ok((Vec::new(), Some("package xorg-fonts is installed".to_owned())))
        );
    }

    #[test]
    fn versions_are_not_split_from_names() {
        let facts = json!({"pacman.PacmanUnpackGroup": [], "pacman.PacmanPackages": {"vim": ["9.0"]}});
        assert_eq!(
            run("pacman.packages", json!({"packages": "vim=9.0"}), facts),
            Ok((vec!["pacman --noconfirm -S vim=9.0".to_owned()], None))
        );
    }
}
