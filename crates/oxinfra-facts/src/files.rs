//! Facts of `pyinfra/facts/files.py`: files, directories, links, checksums, contents.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
