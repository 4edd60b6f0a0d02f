//! The operation registry: every operation oxinfra plans in Rust, its parameters in
//! pyinfra's order, and its planner.

use serde_json::{Map, Value};

use crate::plan::{OperationError, Plan};
use crate::{
    apk, apt, brew, bsdinit, cargo, crontab, dnf, files, gem, git, gpg, iptables, launchd, lxd, mysql, npm, openrc, pacman, pip, postgres, puppet, runit,
    selinux, server, snap, ssh, systemd, sysvinit, upstart, yum, zypper,
};

/// An operation: its name, its parameters and how it plans.
#[derive(Debug, Clone, Copy)]
pub struct OperationDef {
    /// `module.function`, as pyinfra names it.
    pub name: &'static str,
    /// Parameter names in pyinfra's order (for positional arguments and signature checks).
    pub params: &'static [&'static str],
    /// Plans the operation from its keyword arguments.
    pub plan: fn(&Map<String, Value>, &mut Plan<'_>) -> Result<(), OperationError>,
}

/// Every operation planned in Rust.
pub fn registry() -> &'static [OperationDef] {
    static REGISTRY: std::sync::OnceLock<Vec<OperationDef>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        [
            apk::OPERATIONS,
            apt::OPERATIONS,
            brew::OPERATIONS,
            bsdinit::OPERATIONS,
            cargo::OPERATIONS,
            crontab::OPERATIONS,
            dnf::OPERATIONS,
            files::paths::OPERATIONS,
            files::archive::OPERATIONS,
            files::lines::OPERATIONS,
            files::rsync::OPERATIONS,
            gem::OPERATIONS,
            git::OPERATIONS,
            gpg::OPERATIONS,
            iptables::OPERATIONS,
            launchd::OPERATIONS,
            lxd::OPERATIONS,
            mysql::OPERATIONS,
            npm::OPERATIONS,
            openrc::OPERATIONS,
            pacman::OPERATIONS,
            pip::OPERATIONS,
            postgres::OPERATIONS,
            puppet::OPERATIONS,
            runit::OPERATIONS,
            selinux::OPERATIONS,
            server::OPERATIONS,
            snap::OPERATIONS,
            ssh::OPERATIONS,
            systemd::OPERATIONS,
            sysvinit::OPERATIONS,
            upstart::OPERATIONS,
            yum::OPERATIONS,
            zypper::OPERATIONS,
        ]
        .concat()
    })
}

/// The operation called `name`.
pub fn find(name: &str) -> Option<&'static OperationDef> {
    registry().iter().find(|operation| operation.name == name)
}

/// Plans another operation inline, by name and keyword arguments, as pyinfra's
/// `yield from files.put._inner(...)`: its commands and no-op reason join this plan.
pub fn call(plan: &mut Plan<'_>, name: &str, arguments: Value) -> Result<(), OperationError> {
    let operation = find(name).ok_or_else(|| OperationError::Operation(format!("operation `{name}` is not available")))?;
    let Value::Object(arguments) = arguments else {
        return Err(OperationError::Type(format!("{name}: arguments must be keywords")));
    };
    (operation.plan)(&arguments, plan)
}
