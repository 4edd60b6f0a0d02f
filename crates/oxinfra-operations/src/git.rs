//! Operations of `pyinfra/operations/git.py`.

use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[];
