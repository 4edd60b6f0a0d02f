//! Facts of `pyinfra/facts/sysvinit.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
