//! Facts of `pyinfra/facts/pacman.py`: the installed pacman packages, and the packages
//! a group or virtual package stands for (Arch Linux).

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::Value;

use crate::registry::{FactDef, Param, default_dict, default_list, string_argument};
use crate::rpm::parse_packages;

/// `pacman -Q` prints `name version`.
static PACMAN_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\S+)\s(\S+)"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "pacman.PacmanUnpackGroup",
        params: &[Param::required("package")],
        // `|| true`: an unknown name is an empty answer, not a failed fact.
        command: |arguments| {
            StringCommand::raw("pacman -S --print-format %n")
                .quoted(string_argument(arguments, "package"))
                .text("|| true")
        },
        requires_command: Some(|_| "pacman".to_owned()),
        process: |_, output| Ok(Value::Array(output.iter().cloned().map(Value::String).collect())),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "pacman.PacmanPackages",
        params: &[],
        command: |_| StringCommand::raw("pacman -Q"),
        requires_command: Some(|_| "pacman".to_owned()),
        process: |_, output| parse_packages(&PACMAN_LINE, output),
        default: default_dict,
        shell_executable: None,
    },
];
