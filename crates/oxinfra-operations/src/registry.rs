//! The operation registry: every operation oxinfra plans in Rust, its parameters in
//! pyinfra's order, and its planner.

use serde_json::{Map, Value};

use crate::plan::{OperationError, Plan};
use crate::{files, server};

/// An operation: its name, its parameters and how it plans.
#[derive(Debug, Clone, Copy)]
pub struct OperationDef {
    /// `module.function`, as pyinfra names it.
    pub name: &'static str,
    /// Parameter names in pyinfra's order (for positional arguments and signature checks).
    pub params: &'static [&'static str],
    /// Plans the operation from its keyword arguments.
    pub plan: fn(&Map<String, Value>, &mut Plan<'_>) -> Result<(), OperationError>,
}

/// Every operation planned in Rust.
pub fn registry() -> &'static [OperationDef] {
    static REGISTRY: std::sync::OnceLock<Vec<OperationDef>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| [files::paths::OPERATIONS, files::lines::OPERATIONS, server::OPERATIONS].concat())
}

/// The operation called `name`.
pub fn find(name: &str) -> Option<&'static OperationDef> {
    registry().iter().find(|operation| operation.name == name)
}
