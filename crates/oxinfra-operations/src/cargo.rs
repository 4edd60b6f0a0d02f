//! Operations of `pyinfra/operations/cargo.py`: crates installed with `cargo install`
//! (`cargo.packages`).

use serde::Deserialize;

use oxinfra_core::StringCommand;

use crate::packaging::{PackageCommands, PackageList, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "cargo.packages",
    params: &["packages", "present", "latest"],
    plan: |arguments, plan| packages(&parse_arguments("cargo.packages", arguments)?, plan),
}];

fn yes() -> bool {
    true
}

/// Arguments of `cargo.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// Crates to install or remove, pinned as `name@version` when wanted.
    pub packages: Option<PackageList>,
    /// Whether the crates should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Reinstall installed crates that were asked for without a version, which
    /// `cargo install` upgrades.
    #[serde(default)]
    pub latest: bool,
}

/// `cargo.packages`.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let installed = plan.fact("cargo.CargoPackages", &[])?;
    let commands = PackageCommands {
        install: StringCommand::raw("cargo install"),
        uninstall: StringCommand::raw("cargo uninstall"),
        upgrade: Some(StringCommand::raw("cargo install")),
        latest: args.latest,
        version_join: Some("@"),
        expand: None,
        expand_match_any: false,
    };
    ensure_packages(plan, args.packages.as_ref(), &installed, Some(args.present), &commands)
}
