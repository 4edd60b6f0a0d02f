//! pyinfra's operations as pure planners, one file per pyinfra operation module
//! (`files.rs` is `pyinfra/operations/files.py`): arguments and facts in, commands or
//! a no-op reason out. No I/O: facts come through a [`oxinfra_core::FactSource`], the
//! controller's files through [`oxinfra_core::LocalFiles`].
//!
//! Every operation is an [`OperationDef`] in the one [`registry`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod apk;
pub mod apt;
pub mod brew;
pub mod bsdinit;
pub mod cargo;
pub mod crontab;
pub mod dnf;
pub mod files;
pub mod footprint;
pub mod gem;
pub mod git;
pub mod gpg;
pub mod iptables;
pub mod launchd;
pub mod lxd;
pub mod mysql;
pub mod npm;
pub mod openrc;
pub mod packaging;
pub mod pacman;
pub mod pip;
pub mod plan;
pub mod postgres;
pub mod puppet;
pub mod registry;
pub mod runit;
pub mod selinux;
pub mod server;
pub mod snap;
pub mod ssh;
pub mod systemd;
pub mod sysvinit;
pub mod upstart;
pub mod yum;
pub mod zypper;

pub use plan::{FileDiff, OperationError, Plan};
pub use registry::{OperationDef, find, registry};
