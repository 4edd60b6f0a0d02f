//! Operations of `pyinfra/operations/yum.py`: signing keys, repositories, `.rpm` files
//! and packages with yum. Package names are case-sensitive.
//!
//! yum takes the same arguments as dnf, so the argument structs are dnf's; the
//! differences are the command name and that every package providing a name must be
//! installed (dnf is satisfied by one).

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::dnf::{KeyArgs, NoArgs, PackagesArgs, RepoArgs, RpmArgs};
use crate::files::util::truthy;
use crate::packaging::{ensure_rpm, ensure_yum_repo};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "yum.key",
        params: &["src"],
        plan: key,
    },
    OperationDef {
        name: "yum.repo",
        params: &["src", "present", "baseurl", "description", "enabled", "gpgcheck", "gpgkey"],
        plan: repo,
    },
    OperationDef {
        name: "yum.rpm",
        params: &["src", "present"],
        plan: rpm,
    },
    OperationDef {
        name: "yum.update",
        params: &[],
        plan: update,
    },
    OperationDef {
        name: "yum.packages",
        params: &[
            "packages",
            "present",
            "latest",
            "update",
            "clean",
            "nobest",
            "extra_install_args",
            "extra_uninstall_args",
        ],
        plan: packages,
    },
];

/// `yum.key`: imports a GPG key with `rpm --import`, on every run. Also
/// `zypper.key`.
pub(crate) fn key(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: KeyArgs = parse_arguments("yum.key", arguments)?;
    plan.push(StringCommand::raw("rpm --import").quoted(&args.src));
    Ok(())
}

/// `yum.repo`: writes a `.repo` file from the arguments, downloads one from a URL, or
/// removes it.
fn repo(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RepoArgs = parse_arguments("yum.repo", arguments)?;
    ensure_yum_repo(plan, &args.yum_repo("/etc/yum.repos.d/", None))
}

/// `yum.rpm`: installs or removes the package of an `.rpm` file.
fn rpm(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RpmArgs = parse_arguments("yum.rpm", arguments)?;
    ensure_rpm(plan, &args.src, truthy(&args.present), "yum")
}

/// `yum.update`: upgrades every package, on every run.
fn update(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("yum.update", arguments)?;
    plan.push_raw("yum update -y");
    Ok(())
}

/// `yum.packages`: installs, removes or upgrades packages. A name counts as installed
/// when every package providing it is.
fn packages(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PackagesArgs = parse_arguments("yum.packages", arguments)?;
    args.plan(plan, "yum", false)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::packaging::testing::run;

    #[test]
    fn every_provider_must_be_installed() {
        let facts = json!({"rpm.RpmPackages": {"kernel": ["5.14"]}, "rpm.RpmPackageProvides": [["kernel", "5.14"], ["kernel-core", "5.14"]]});
        assert_eq!(
            run("yum.packages", json!({"packages": "kernel"}), facts.clone()),
            Ok((vec!["yum install -y kernel".to_owned()], None))
        );
        assert_eq!(
            run("dnf.packages", json!({"packages": "kernel"}), facts),
            Ok((Vec::new(), Some("package kernel is installed (5.14)".to_owned())))
        );
    }

    #[test]
    fn removal_needs_one_provider_installed() {
        let facts = json!({"rpm.RpmPackages": {"kernel": ["5.14"]}, "rpm.RpmPackageProvides": [["kernel", "5.14"], ["kernel-core", "5.14"]]});
        assert_eq!(
            run("yum.packages", json!({"packages": "kernel", "present": false}), facts),
            Ok((vec!["yum remove -y kernel".to_owned()], None))
        );
    }
}
