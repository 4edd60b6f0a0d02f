//! Operations of `pyinfra/operations/zypper.py`: repositories, `.rpm` files and
//! packages with zypper (openSUSE, SLES). Signing keys are imported with yum's `key`,
//! which pyinfra re-exports here as `zypper.key` and `zypper.yum_key`.

use oxinfra_core::StringCommand;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::dnf::{NoArgs, RpmArgs};
use crate::files::util::truthy;
use crate::packaging::{PackageCommands, PackageList, YumRepo, ensure_packages, ensure_rpm, ensure_yum_repo};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "zypper.key",
        params: &["src"],
        plan: crate::yum::key,
    },
    OperationDef {
        name: "zypper.yum_key",
        params: &["src"],
        plan: crate::yum::key,
    },
    OperationDef {
        name: "zypper.repo",
        params: &["src", "baseurl", "present", "description", "enabled", "gpgcheck", "gpgkey", "type"],
        plan: repo,
    },
    OperationDef {
        name: "zypper.rpm",
        params: &["src", "present"],
        plan: rpm,
    },
    OperationDef {
        name: "zypper.update",
        params: &[],
        plan: update,
    },
    OperationDef {
        name: "zypper.packages",
        params: &[
            "packages",
            "present",
            "latest",
            "update",
            "clean",
            "extra_global_install_args",
            "extra_install_args",
            "extra_global_uninstall_args",
            "extra_uninstall_args",
        ],
        plan: packages,
    },
];

fn yes() -> Value {
    Value::Bool(true)
}

#[expect(clippy::unnecessary_wraps, reason = "the default of an `Option` field, for serde")]
fn rpm_md() -> Option<String> {
    Some("rpm-md".to_owned())
}

/// Upgrades every package, importing new repository keys without asking.
const UPDATE: &str = "zypper --non-interactive --gpg-auto-import-keys update -y";

/// Arguments of `zypper.repo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoArgs {
    /// The repository's name (the file becomes `/etc/zypp/repos.d/<name>.repo`), or
    /// the URL of a `.repo` file to download there.
    pub src: String,
    /// The repository's base URL, for a repository given by name.
    #[serde(default)]
    pub baseurl: Option<String>,
    /// Whether the `.repo` file should exist.
    #[serde(default = "yes")]
    pub present: Value,
    /// A longer name for the repository (the name itself if not given).
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the repository is enabled.
    #[serde(default = "yes")]
    pub enabled: Value,
    /// Whether packages from the repository must have good signatures.
    #[serde(default = "yes")]
    pub gpgcheck: Value,
    /// The signing keys of the repository: URLs or absolute paths, blank-separated.
    #[serde(default)]
    pub gpgkey: Option<String>,
    /// The repository's metadata format, written as its `type=` line.
    #[serde(default = "rpm_md", rename = "type")]
    pub repo_type: Option<String>,
}

/// `zypper.repo`: writes a `.repo` file from the arguments, downloads one from a URL,
/// or removes it.
fn repo(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RepoArgs = parse_arguments("zypper.repo", arguments)?;
    let repo = YumRepo {
        name_or_url: &args.src,
        baseurl: args.baseurl.as_deref(),
        present: truthy(&args.present),
        description: args.description.as_deref(),
        enabled: truthy(&args.enabled),
        gpgcheck: truthy(&args.gpgcheck),
        gpgkey: args.gpgkey.as_deref(),
        repo_directory: "/etc/zypp/repos.d/",
        repo_type: args.repo_type.as_deref(),
    };
    ensure_yum_repo(plan, &repo)
}

/// `zypper.rpm`: installs or removes the package of an `.rpm` file.
fn rpm(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RpmArgs = parse_arguments("zypper.rpm", arguments)?;
    ensure_rpm(plan, &args.src, truthy(&args.present), "zypper --non-interactive")
}

/// `zypper.update`: upgrades every package, on every run.
fn update(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("zypper.update", arguments)?;
    plan.push_raw(UPDATE);
    Ok(())
}

/// Arguments of `zypper.packages`.
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
    /// Upgrade every package first.
    #[serde(default)]
    pub update: Value,
    /// Clear zypper's caches first.
    #[serde(default)]
    pub clean: Value,
    /// Options for zypper itself (before `install`), as shell text.
    #[serde(default)]
    pub extra_global_install_args: Option<String>,
    /// Options for the install command (after `install -y`), as shell text.
    #[serde(default)]
    pub extra_install_args: Option<String>,
    /// Options for zypper itself (before `remove`), as shell text.
    #[serde(default)]
    pub extra_global_uninstall_args: Option<String>,
    /// Options for the removal command (after `remove -y`), as shell text.
    #[serde(default)]
    pub extra_uninstall_args: Option<String>,
}

/// `zypper [global] <fixed> [extra]`; the extras are the user's own shell text.
fn zypper_command(global: Option<&str>, fixed: &str, extra: Option<&str>) -> StringCommand {
    let mut command = StringCommand::raw("zypper");
    if let Some(global) = global.filter(|global| !global.is_empty()) {
        command = command.text(global);
    }
    command = command.text(fixed);
    if let Some(extra) = extra.filter(|extra| !extra.is_empty()) {
        command = command.text(extra);
    }
    command
}

/// `zypper.packages`: installs, removes or upgrades packages.
fn packages(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PackagesArgs = parse_arguments("zypper.packages", arguments)?;
    if truthy(&args.clean) {
        plan.push_raw("zypper clean --all");
    }
    if truthy(&args.update) {
        plan.push_raw(UPDATE);
    }
    let commands = PackageCommands {
        install: zypper_command(
            args.extra_global_install_args.as_deref(),
            "--non-interactive --gpg-auto-import-keys install -y",
            args.extra_install_args.as_deref(),
        ),
        uninstall: zypper_command(
            args.extra_global_uninstall_args.as_deref(),
            "--non-interactive remove -y",
            args.extra_uninstall_args.as_deref(),
        ),
        upgrade: Some(StringCommand::raw(UPDATE)),
        latest: truthy(&args.latest),
        version_join: Some("="),
        ..PackageCommands::default()
    };
    let current = plan.fact("rpm.RpmPackages", &[])?;
    ensure_packages(plan, args.packages.as_ref(), &current, args.present.as_bool(), &commands)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::packaging::testing::run;

    #[test]
    fn global_and_command_arguments_take_their_places() {
        let arguments = json!({"packages": "git", "present": false, "extra_global_uninstall_args": "--quiet", "extra_uninstall_args": "--clean-deps"});
        let result = run("zypper.packages", arguments, json!({"rpm.RpmPackages": {"git": ["2.4"]}}));
        assert_eq!(
            result,
            Ok((vec!["zypper --quiet --non-interactive remove -y --clean-deps git".to_owned()], None))
        );
    }

    #[test]
    fn repo_without_type_writes_no_type_line() {
        let arguments = json!({"src": "r", "baseurl": "http://b", "type": null, "gpgcheck": 0, "enabled": "yes"});
        let result = run(
            "zypper.repo",
            arguments,
            json!({"files.File": null, "files.Directory": {"path=/etc/zypp/repos.d": true, "path=/etc/zypp/repos.d/r.repo": null}}),
        );
        let upload = "upload /etc/zypp/repos.d/r.repo:\n[r]\nname=r\nbaseurl=http://b\nenabled=1\ngpgcheck=0\n";
        assert_eq!(result, Ok((vec![upload.to_owned(), "chmod 644 /etc/zypp/repos.d/r.repo".to_owned()], None)));
    }

    #[test]
    fn removing_a_missing_repo_is_a_noop() {
        // pyinfra's `files.file` leaves `{0}` unformatted in this message.
        let result = run("zypper.repo", json!({"src": "r", "present": false}), json!({"files.File": null}));
        assert_eq!(result, Ok((Vec::new(), Some("file {0} does not exist".to_owned()))));
    }
}
