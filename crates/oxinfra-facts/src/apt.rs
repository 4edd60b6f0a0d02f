//! Facts of `pyinfra/facts/apt.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
