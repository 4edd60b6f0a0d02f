//! Facts of `pyinfra/facts/postgres.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
