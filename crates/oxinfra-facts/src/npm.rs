//! Facts of `pyinfra/facts/npm.py`: the npm packages installed globally, or as listed
//! from a project folder (`NpmPackages`).
//!
//! As in pyinfra, the folder form still runs `npm list -g`; the folder only decides
//! whether anything is listed at all. The folder is quoted here, unquoted in pyinfra.

use oxinfra_core::StringCommand;
use serde_json::Value;

use crate::pip::parse_packages;
use crate::registry::{FactDef, Param, default_dict};

/// A top-level line of `npm list --depth=0`: `├── name@version` or `└── name@version`.
const NPM_LINE: &str = r"^[└├]──\s([a-zA-Z0-9\-]+)@([0-9\.]+)$";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "npm.NpmPackages",
    params: &[Param::optional("directory", "null")],
    command: |arguments| {
        let list = StringCommand::raw("npm list -g --depth=0");
        match arguments.get("directory").and_then(Value::as_str).filter(|directory| !directory.is_empty()) {
            Some(directory) => {
                let inner = StringCommand::raw("cd").quoted(directory).text("&&").nested(list);
                let mut subshell = StringCommand::raw("(").nested(inner).text(")");
                subshell.separator = String::new();
                StringCommand::raw("! test -d").quoted(directory).text("||").nested(subshell)
            }
            None => list,
        }
    },
    requires_command: Some(|_| "npm".to_owned()),
    process: |_, output| parse_packages(NPM_LINE, output),
    default: default_dict,
    shell_executable: None,
}];
