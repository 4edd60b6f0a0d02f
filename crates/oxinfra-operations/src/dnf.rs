//! Operations of `pyinfra/operations/dnf.py`: signing keys, repositories, `.rpm`
//! files, packages and module streams with dnf. Package names are case-sensitive.
//!
//! The package, `.rpm` and `.repo` logic is shared with yum and zypper in
//! [`crate::packaging`].

use oxinfra_core::StringCommand;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::files::util::truthy;
use crate::packaging::{ExpandFact, PackageCommands, PackageList, YumRepo, ensure_packages, ensure_rpm, ensure_yum_repo};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "dnf.key",
        params: &["src"],
        plan: key,
    },
    OperationDef {
        name: "dnf.repo",
        params: &["src", "present", "baseurl", "description", "enabled", "gpgcheck", "gpgkey"],
        plan: repo,
    },
    OperationDef {
        name: "dnf.rpm",
        params: &["src", "present"],
        plan: rpm,
    },
    OperationDef {
        name: "dnf.update",
        params: &[],
        plan: update,
    },
    OperationDef {
        name: "dnf.packages",
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
    OperationDef {
        name: "dnf.module",
        params: &["module", "stream", "enabled"],
        plan: module,
    },
];

fn yes() -> Value {
    Value::Bool(true)
}

/// Arguments of `dnf.key` (and `yum.key`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyArgs {
    /// Path on the host or URL of the GPG key to import into rpm's keyring.
    pub src: String,
}

/// `dnf.key`: imports a GPG key with `rpm --import`, on every run.
fn key(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: KeyArgs = parse_arguments("dnf.key", arguments)?;
    plan.push(StringCommand::raw("rpm --import").quoted(&args.src));
    Ok(())
}

/// Arguments of `dnf.repo` (and `yum.repo`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoArgs {
    /// The repository's name (the file becomes `/etc/yum.repos.d/<name>.repo`), or the
    /// URL of a `.repo` file to download there.
    pub src: String,
    /// Whether the `.repo` file should exist.
    #[serde(default = "yes")]
    pub present: Value,
    /// The repository's base URL, for a repository given by name.
    #[serde(default)]
    pub baseurl: Option<String>,
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
}

impl RepoArgs {
    /// The file these arguments describe, in `repo_directory`.
    pub(crate) fn yum_repo<'a>(&'a self, repo_directory: &'a str, repo_type: Option<&'a str>) -> YumRepo<'a> {
        YumRepo {
            name_or_url: &self.src,
            baseurl: self.baseurl.as_deref(),
            present: truthy(&self.present),
            description: self.description.as_deref(),
            enabled: truthy(&self.enabled),
            gpgcheck: truthy(&self.gpgcheck),
            gpgkey: self.gpgkey.as_deref(),
            repo_directory,
            repo_type,
        }
    }
}

/// `dnf.repo`: writes a `.repo` file from the arguments, downloads one from a URL, or
/// removes it.
fn repo(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RepoArgs = parse_arguments("dnf.repo", arguments)?;
    ensure_yum_repo(plan, &args.yum_repo("/etc/yum.repos.d/", None))
}

/// Arguments of `dnf.rpm` (and `yum.rpm`, `zypper.rpm`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpmArgs {
    /// Path on the host or URL of the `.rpm` file.
    pub src: String,
    /// Whether the file's package should be installed. A URL's package can only be
    /// removed once the file has been downloaded by an earlier run.
    #[serde(default = "yes")]
    pub present: Value,
}

/// `dnf.rpm`: installs or removes the package of an `.rpm` file.
fn rpm(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RpmArgs = parse_arguments("dnf.rpm", arguments)?;
    ensure_rpm(plan, &args.src, truthy(&args.present), "dnf")
}

/// `dnf.update`: upgrades every package, on every run.
fn update(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    parse_arguments::<NoArgs>("dnf.update", arguments)?;
    push_update(plan);
    Ok(())
}

/// No arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

fn push_update(plan: &mut Plan<'_>) {
    plan.push_raw("dnf update -y");
}

/// Arguments of `dnf.packages` (and `yum.packages`).
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
    /// Clear the package manager's caches first.
    #[serde(default)]
    pub clean: Value,
    /// Pass `--nobest` to the install, accepting older versions when the newest ones
    /// cannot be installed.
    #[serde(default)]
    pub nobest: Value,
    /// Extra options for the install command, as shell text.
    #[serde(default)]
    pub extra_install_args: Option<String>,
    /// Extra options for the removal command, as shell text.
    #[serde(default)]
    pub extra_uninstall_args: Option<String>,
}

impl PackagesArgs {
    /// Plans the packages for `manager` (`dnf` or `yum`), which share everything but
    /// their name and whether one installed provider of a name is enough.
    pub(crate) fn plan(&self, plan: &mut Plan<'_>, manager: &str, expand_match_any: bool) -> Result<(), OperationError> {
        if truthy(&self.clean) {
            plan.push(StringCommand::raw(manager).text("clean all"));
        }
        if truthy(&self.update) {
            plan.push(StringCommand::raw(manager).text("update -y"));
        }
        let mut install = StringCommand::raw(manager).text("install -y");
        if truthy(&self.nobest) {
            install = install.text("--nobest");
        }
        // Extra arguments are the user's own shell text, as in pyinfra.
        if let Some(extra) = self.extra_install_args.as_deref().filter(|extra| !extra.is_empty()) {
            install = install.text(extra);
        }
        let mut uninstall = StringCommand::raw(manager).text("remove -y");
        if let Some(extra) = self.extra_uninstall_args.as_deref().filter(|extra| !extra.is_empty()) {
            uninstall = uninstall.text(extra);
        }
        let commands = PackageCommands {
            install,
            uninstall,
            upgrade: Some(StringCommand::raw(manager).text("update -y")),
            latest: truthy(&self.latest),
            version_join: Some("="),
            expand: Some(ExpandFact {
                fact: "rpm.RpmPackageProvides",
                argument: "package",
            }),
            expand_match_any,
        };
        let current = plan.fact("rpm.RpmPackages", &[])?;
        ensure_packages(plan, self.packages.as_ref(), &current, self.present.as_bool(), &commands)
    }
}

/// `dnf.packages`: installs, removes or upgrades packages. A name counts as installed
/// when one of the packages providing it is.
fn packages(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PackagesArgs = parse_arguments("dnf.packages", arguments)?;
    args.plan(plan, "dnf", true)
}

/// Arguments of `dnf.module`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleArgs {
    /// The module (application stream family), e.g. `postgresql`.
    pub module: String,
    /// The stream to enable, e.g. `16`; needed to enable, unused to disable.
    #[serde(default)]
    pub stream: Option<String>,
    /// Enable the stream (`True`) or disable the whole module (`False`).
    #[serde(default = "yes")]
    pub enabled: Value,
}

/// `dnf.module`: enables a module's stream, or disables the module.
fn module(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: ModuleArgs = parse_arguments("dnf.module", arguments)?;
    if truthy(&args.enabled) {
        let Some(stream) = args.stream else {
            return Err(OperationError::Value("stream is required when enabled=True".to_owned()));
        };
        let enabled = plan.fact("dnf.DnfEnabledModules", &[])?;
        if enabled.get(&args.module).and_then(Value::as_str) == Some(stream.as_str()) {
            plan.noop(format!("dnf module {}:{stream} is already enabled", args.module));
        } else {
            plan.push(StringCommand::raw("dnf module enable -y").quoted(format!("{}:{stream}", args.module)));
        }
        return Ok(());
    }
    let disabled = plan.fact("dnf.DnfDisabledModules", &[])?;
    if disabled
        .as_array()
        .is_some_and(|names| names.iter().any(|name| name.as_str() == Some(args.module.as_str())))
    {
        plan.noop(format!("dnf module {} is already disabled", args.module));
    } else {
        plan.push(StringCommand::raw("dnf module disable -y").quoted(&args.module));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::packaging::testing::run;

    #[test]
    fn latest_upgrades_installed_packages() {
        let facts = json!({"rpm.RpmPackages": {"vim": ["9.0"]}, "rpm.RpmPackageProvides": []});
        let result = run("dnf.packages", json!({"packages": ["vim", "git"], "latest": true}), facts);
        assert_eq!(result, Ok((vec!["dnf install -y git".to_owned(), "dnf update -y vim".to_owned()], None)));
    }

    #[test]
    fn pinned_version_is_installed_when_another_is() {
        let facts = json!({"rpm.RpmPackages": {"vim": ["9.0"]}, "rpm.RpmPackageProvides": []});
        let result = run("dnf.packages", json!({"packages": "vim=9.1"}), facts);
        assert_eq!(result, Ok((vec!["dnf install -y vim=9.1".to_owned()], None)));
    }

    #[test]
    fn installed_package_is_a_noop_with_its_versions() {
        let facts = json!({"rpm.RpmPackages": {"vim": ["9.1", "9.0"]}, "rpm.RpmPackageProvides": []});
        let result = run("dnf.packages", json!({"packages": "vim"}), facts);
        assert_eq!(result, Ok((Vec::new(), Some("package vim is installed (9.0,9.1)".to_owned()))));
    }

    #[test]
    fn present_must_be_a_boolean_to_act() {
        let facts = json!({"rpm.RpmPackages": {}, "rpm.RpmPackageProvides": []});
        let result = run("dnf.packages", json!({"packages": "vim", "present": "yes"}), facts);
        assert_eq!(result, Ok((Vec::new(), None)));
    }

    #[test]
    fn module_already_enabled_is_a_noop() {
        let result = run(
            "dnf.module",
            json!({"module": "nodejs", "stream": "20"}),
            json!({"dnf.DnfEnabledModules": {"nodejs": "20"}}),
        );
        assert_eq!(result, Ok((Vec::new(), Some("dnf module nodejs:20 is already enabled".to_owned()))));
    }

    #[test]
    fn repo_by_name_needs_a_baseurl() {
        let result = run("dnf.repo", json!({"src": "local"}), json!({}));
        assert!(matches!(result, Err(OperationError::Value(_))));
    }

    #[test]
    fn repo_from_url_already_there_is_left_alone() {
        let result = run("dnf.repo", json!({"src": "https://x/docker-ce.repo"}), json!({"files.File": {"mode": 644}}));
        assert_eq!(result, Ok((Vec::new(), None)));
    }

    #[test]
    fn rpm_not_installed_is_a_noop_to_remove() {
        let result = run("dnf.rpm", json!({"src": "/tmp/a.rpm", "present": false}), json!({"rpm.RpmPackage": null}));
        assert_eq!(result, Ok((Vec::new(), Some("rpm /tmp/a.rpm is not installed".to_owned()))));
    }
}
