//! Facts of `pyinfra/facts/gem.py`: the Ruby gems installed (`GemPackages`).

use oxinfra_core::StringCommand;

use crate::pip::parse_packages;
use crate::registry::{FactDef, default_dict};

/// A line of `gem list --local` with one plain version: `name (1.2.3)`. Lines listing
/// several versions or a `default:` one do not match, as in pyinfra.
const GEM_LINE: &str = r"^([a-zA-Z0-9\-\+\_]+)\s\(([0-9\.]+)\)$";

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "gem.GemPackages",
    params: &[],
    command: |_| StringCommand::raw("gem list --local"),
    requires_command: Some(|_| "gem".to_owned()),
    process: |_, output| parse_packages(GEM_LINE, output),
    default: default_dict,
    shell_executable: None,
}];
