//! pyinfra's operations as pure planners, one file per pyinfra operation module
//! (`files.rs` is `pyinfra/operations/files.py`): arguments and facts in, commands or
//! a no-op reason out. No I/O: facts come through a [`oxinfra_core::FactSource`], the
//! controller's files through [`oxinfra_core::LocalFiles`].
//!
//! Every operation is an [`OperationDef`] in the one [`registry`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod files;
pub mod plan;
pub mod registry;
pub mod server;

pub use plan::{FileDiff, OperationError, Plan};
pub use registry::{OperationDef, find, registry};
