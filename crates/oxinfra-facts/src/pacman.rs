//! Facts of `pyinfra/facts/pacman.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
