//! Facts of `pyinfra/facts/zypper.py`: the configured zypper repositories.

use crate::registry::{FactDef, default_list};
use crate::yum::{cat_files_command, parse_repositories};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "zypper.ZypperRepositories",
    params: &[],
    command: |_| cat_files_command(&["/etc/zypp/repos.d/*.repo"]),
    requires_command: Some(|_| "zypper".to_owned()),
    process: |_, output| Ok(parse_repositories(output)),
    default: default_list,
    shell_executable: None,
}];
