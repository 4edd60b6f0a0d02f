//! Operations of `pyinfra/operations/systemd.py`.

use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[];
