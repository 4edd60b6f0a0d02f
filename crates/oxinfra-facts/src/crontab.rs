//! Facts of `pyinfra/facts/crontab.py`.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
