//! Facts of `pyinfra/facts/gem.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
