//! Facts of `pyinfra/facts/server.py`: host name, OS, architecture, users, commands.

use crate::registry::FactDef;

/// The facts of this module.
pub const FACTS: &[FactDef] = &[];
