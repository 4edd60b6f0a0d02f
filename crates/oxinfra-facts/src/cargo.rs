//! Facts of `pyinfra/facts/cargo.py`: the crates installed with `cargo install`
//! (`CargoPackages`).

use oxinfra_core::StringCommand;

use crate::pip::parse_packages;
use crate::registry::{FactDef, default_dict};

/// A crate line of `cargo install --list`: `name v1.2.3:` (its binaries follow, indented).
const CARGO_LINE: &str = r"^([a-zA-Z0-9\-]+)\sv([0-9\.]+)";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "cargo.CargoPackages",
    params: &[],
    command: |_| StringCommand::raw("cargo install --list"),
    requires_command: Some(|_| "cargo".to_owned()),
    process: |_, output| parse_packages(CARGO_LINE, output),
    default: default_dict,
    shell_executable: None,
}];
