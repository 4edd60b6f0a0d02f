//! pyinfra's facts, one file per pyinfra fact module (`files.rs` is
//! `pyinfra/facts/files.py`): for each fact, the command that reads it and a pure
//! parser of that command's output. No I/O: the engine runs the commands.
//!
//! Every fact is a [`FactDef`] in the one [`registry`]. Fact values are plain data
//! (`serde_json::Value`) shaped as pyinfra's: what Python deploy code receives, what the
//! fixtures compare, what operations read.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod apk;
pub mod apt;
pub mod brew;
pub mod bsdinit;
pub mod cargo;
pub mod crontab;
pub mod deb;
pub mod dnf;
pub mod files;
pub mod gem;
pub mod git;
pub mod gpg;
pub mod iptables;
pub mod launchd;
pub mod lxd;
pub mod mysql;
pub mod npm;
pub mod openrc;
pub mod pacman;
pub mod pip;
pub mod postgres;
pub mod quick;
pub mod registry;
pub mod rpm;
pub mod runit;
pub mod selinux;
pub mod server;
pub mod snap;
pub mod systemd;
pub mod sysvinit;
pub mod upstart;
pub mod yum;
pub mod zypper;

pub use registry::{FactDef, FactError, Param, Prepare, bind_arguments, find, prepare, reads_other_facts, registry};
