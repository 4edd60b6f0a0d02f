//! Operations of `pyinfra/operations/npm.py`: npm packages, global or of one project
//! folder (`npm.packages`).

use serde::Deserialize;
use serde_json::json;

use oxinfra_core::StringCommand;

use crate::packaging::{PackageCommands, PackageList, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "npm.packages",
    params: &["packages", "present", "latest", "directory"],
    plan: |arguments, plan| packages(&parse_arguments("npm.packages", arguments)?, plan),
}];

fn yes() -> bool {
    true
}

/// Arguments of `npm.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// Packages to install or remove, pinned as `name@version` when wanted.
    pub packages: Option<PackageList>,
    /// Whether the packages should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Upgrade installed packages that were asked for without a version.
    #[serde(default)]
    pub latest: bool,
    /// The project folder whose packages these are; global packages when absent.
    pub directory: Option<String>,
}

/// `npm.packages`.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let installed = plan.fact("npm.NpmPackages", &[("directory", json!(args.directory))])?;
    let npm = |action: &str| match &args.directory {
        None => StringCommand::raw("npm").text(action).text("-g"),
        Some(directory) => StringCommand::raw("cd").quoted(directory).text("&& npm").text(action),
    };
    let commands = PackageCommands {
        install: npm("install"),
        uninstall: npm("uninstall"),
        upgrade: Some(npm("update")),
        latest: args.latest,
        version_join: Some("@"),
        expand: None,
        expand_match_any: false,
    };
    ensure_packages(plan, args.packages.as_ref(), &installed, Some(args.present), &commands)
}
