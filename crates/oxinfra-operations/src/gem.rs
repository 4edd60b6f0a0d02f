//! Operations of `pyinfra/operations/gem.py`: Ruby gems (`gem.packages`).

use serde::Deserialize;

use oxinfra_core::StringCommand;

use crate::packaging::{PackageCommands, PackageList, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "gem.packages",
    params: &["packages", "present", "latest"],
    plan: |arguments, plan| packages(&parse_arguments("gem.packages", arguments)?, plan),
}];

fn yes() -> bool {
    true
}

/// Arguments of `gem.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// Gems to install or remove, pinned as `name:version` when wanted.
    pub packages: Option<PackageList>,
    /// Whether the gems should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Update installed gems that were asked for without a version.
    #[serde(default)]
    pub latest: bool,
}

/// `gem.packages`.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let installed = plan.fact("gem.GemPackages", &[])?;
    let commands = PackageCommands {
        install: StringCommand::raw("gem install"),
        uninstall: StringCommand::raw("gem uninstall"),
        upgrade: Some(StringCommand::raw("gem update")),
        latest: args.latest,
        version_join: Some(":"),
        expand: None,
        expand_match_any: false,
    };
    ensure_packages(plan, args.packages.as_ref(), &installed, Some(args.present), &commands)
}
