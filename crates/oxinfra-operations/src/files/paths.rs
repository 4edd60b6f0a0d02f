//! `files.file`, `files.directory`, `files.link`, `files.put`, `files.get`, `files.copy`
//! and `files.move`.

use crate::registry::OperationDef;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[];
