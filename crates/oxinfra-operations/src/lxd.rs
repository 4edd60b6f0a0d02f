//! Operations of `pyinfra/operations/lxd.py`.

use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[];
