//! `files.line`, `files.replace` and `files.block`: edits of lines inside a file.

use crate::registry::OperationDef;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[];
