//! Operations of `pyinfra/operations/pip.py`: Python virtual environments
//! (`pip.virtualenv`, `pip.venv`) and pip packages (`pip.packages`), in pyinfra's order.
//!
//! Package names are PEP 508 requirements, read by [`requirement`]; what to install or
//! remove is decided by the shared [`crate::packaging`].

pub mod requirement;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use oxinfra_core::StringCommand;

use crate::files::util::truthy;
use crate::packaging::{PackageCommands, PackageList, PackageSpec, ensure_package_specs};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "pip.virtualenv",
        params: &["path", "python", "venv", "site_packages", "always_copy", "present"],
        plan: |arguments, plan| virtualenv(&parse_arguments("pip.virtualenv", arguments)?, plan),
    },
    OperationDef {
        name: "pip.venv",
        params: &["path", "python", "site_packages", "always_copy", "present"],
        plan: venv,
    },
    OperationDef {
        name: "pip.packages",
        params: &[
            "packages",
            "present",
            "latest",
            "requirements",
            "pip",
            "virtualenv",
            "virtualenv_kwargs",
            "extra_install_args",
        ],
        plan: |arguments, plan| packages(&parse_arguments("pip.packages", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

fn pip() -> String {
    "pip".to_owned()
}

/// Whether Python finds a `packages` argument true (a non-empty string or list).
fn is_truthy(packages: &PackageList) -> bool {
    match packages {
        PackageList::One(package) => !package.is_empty(),
        PackageList::Many(packages) => !packages.is_empty(),
    }
}

/// Arguments of `pip.virtualenv`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualenvArgs {
    /// Where the environment lives on the host.
    pub path: String,
    /// The Python interpreter to build it from (`virtualenv -p`, or the one running
    /// `-m venv`).
    pub python: Option<String>,
    /// Build it with the standard library's `venv` rather than `virtualenv`.
    #[serde(default)]
    pub venv: bool,
    /// Let the environment see the system's site-packages.
    #[serde(default)]
    pub site_packages: bool,
    /// Copy files into the environment instead of linking them.
    #[serde(default)]
    pub always_copy: bool,
    /// Whether the environment should exist.
    #[serde(default = "yes")]
    pub present: bool,
}

/// `pip.virtualenv`: an environment counts as there when its `bin/activate` is, so an
/// empty folder gets one built into it.
pub fn virtualenv(args: &VirtualenvArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let path = &args.path;
    let activate = plan.fact("files.File", &[("path", json!(format!("{path}/bin/activate")))])?;
    if !args.present {
        if truthy(&activate) {
            call(plan, "files.directory", json!({"path": path, "present": false}))?;
        } else {
            plan.noop(format!("virtualenv {path} does not exist"));
        }
        return Ok(());
    }
    if truthy(&activate) {
        plan.noop(format!("virtualenv {path} exists"));
        return Ok(());
    }
    let python = args.python.as_deref().filter(|python| !python.is_empty());
    let mut command = if args.venv {
        let interpreter = match python {
            Some(python) => StringCommand::new().quoted(python),
            None => StringCommand::raw("python"),
        };
        interpreter.text("-m").text("venv")
    } else {
        let command = StringCommand::raw("virtualenv");
        match python {
            Some(python) => command.text("-p").quoted(python),
            None => command,
        }
    };
    if args.site_packages {
        command = command.text("--system-site-packages");
    }
    if args.always_copy {
        command = command.text(if args.venv { "--copies" } else { "--always-copy" });
    }
    plan.push(command.quoted(path));
    Ok(())
}

/// `pip.venv`: `pip.virtualenv` with the standard library's `venv`.
fn venv(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut arguments = arguments.clone();
    if arguments.contains_key("venv") {
        return Err(OperationError::Type("pip.venv: invalid arguments: unknown field `venv`".to_owned()));
    }
    arguments.insert("venv".to_owned(), Value::Bool(true));
    virtualenv(&parse_arguments("pip.venv", &arguments)?, plan)
}

/// Arguments of `pip.packages`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// Packages to install or remove, as pip takes them (`name`, `name==1.0`,
    /// `name @ url`).
    pub packages: Option<PackageList>,
    /// Whether the packages should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Upgrade installed packages that were asked for without a version.
    #[serde(default)]
    pub latest: bool,
    /// A requirements file on the host, installed (or uninstalled) on every run.
    pub requirements: Option<String>,
    /// The pip command, as a name on the `PATH` or a path; inside `virtualenv`, the
    /// name of its `bin/` entry.
    #[serde(default = "pip")]
    pub pip: String,
    /// A virtualenv to work in, built first when it is missing.
    pub virtualenv: Option<String>,
    /// Arguments for `pip.virtualenv` when it builds `virtualenv`.
    pub virtualenv_kwargs: Option<Map<String, Value>>,
    /// Shell text added after `pip install` (`--no-index --find-links /srv/wheels`).
    pub extra_install_args: Option<String>,
}

/// `pip.packages`: package names are compared in lower case (PEP 426); a
/// `requirements` file is handed to pip every time.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut pip = args.pip.clone();
    if let Some(virtualenv) = args.virtualenv.as_deref().filter(|virtualenv| !virtualenv.is_empty()) {
        let mut arguments = args.virtualenv_kwargs.clone().unwrap_or_default();
        if arguments.contains_key("path") {
            return Err(OperationError::Type("pip.virtualenv: got multiple values for argument `path`".to_owned()));
        }
        arguments.insert("path".to_owned(), json!(virtualenv));
        call(plan, "pip.virtualenv", Value::Object(arguments))?;
        let mut in_virtualenv = StringCommand::new().quoted(virtualenv.trim_end_matches('/')).text("/bin/").text(pip);
        in_virtualenv.separator = String::new();
        pip = in_virtualenv.raw_value();
    }
    // `pip` and `extra_install_args` are shell text given by the user, as in pyinfra.
    let mut install = StringCommand::raw(&pip).text("install");
    if let Some(extra) = args.extra_install_args.as_deref().filter(|extra| !extra.is_empty()) {
        install = install.text(extra);
    }
    let upgrade = install.clone().text("--upgrade");
    if let Some(requirements) = &args.requirements {
        let command = match (args.present, args.latest) {
            (true, true) => upgrade.clone(),
            (true, false) => install.clone(),
            (false, _) => StringCommand::raw(&pip).text("uninstall --yes"),
        };
        plan.push(StringCommand::new().nested(command).text("-r").quoted(requirements));
    }
    let Some(wanted) = args.packages.as_ref().filter(|packages| is_truthy(packages)) else {
        return Ok(());
    };
    let installed = plan.fact("pip.PipPackages", &[("pip", json!(pip))])?;
    let installed: Map<String, Value> = installed
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, versions)| (name.to_lowercase(), versions.clone()))
        .collect();
    let wanted: Vec<PackageSpec> = wanted.names().iter().map(|package| requirement::from_pep508(package)).collect();
    let commands = PackageCommands {
        install,
        uninstall: StringCommand::raw(&pip).text("uninstall --yes"),
        upgrade: Some(upgrade),
        latest: args.latest,
        ..PackageCommands::default()
    };
    ensure_package_specs(plan, &wanted, &Value::Object(installed), Some(args.present), &commands)?;
    Ok(())
}
