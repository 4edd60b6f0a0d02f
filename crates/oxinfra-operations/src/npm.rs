//! Operations of `pyinfra/operations/npm.py`.

use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[];
