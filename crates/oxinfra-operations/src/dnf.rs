//! Operations of `pyinfra/operations/dnf.py`.

use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[];
