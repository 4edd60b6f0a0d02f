//! `files.rsync`: copies a controller folder to the host with the controller's `rsync`.
//! Planning only hands the paths and flags on as one [`Command::Rsync`]; the connector
//! decides how `rsync` reaches the host (over SSH, `rsync -e ssh`; on `@local`, a plain
//! `rsync`) and says so when it cannot. It runs on every deploy, as in pyinfra: `rsync`
//! itself works out what to copy.

use oxinfra_core::Command;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "files.rsync",
    params: &["src", "dest", "flags"],
    plan: rsync,
}];

/// The options `rsync` gets when `flags` is not given: archive mode, one file system,
/// and removal of what the source does not have.
pub const DEFAULT_FLAGS: &[&str] = &["-ax", "--delete"];

/// Arguments of `files.rsync`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RsyncArgs {
    /// The local folder to copy (relative to the deploy directory; a trailing `/` copies
    /// its content rather than the folder itself).
    pub src: String,
    /// The remote path to copy into.
    pub dest: String,
    /// Options for `rsync`, written into its command line as given; `-ax --delete` when
    /// not given.
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

fn rsync(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: RsyncArgs = parse_arguments("files.rsync", arguments)?;
    plan_rsync(&args, plan);
    Ok(())
}

/// `files.rsync`: one rsync command, every time.
pub fn plan_rsync(args: &RsyncArgs, plan: &mut Plan<'_>) {
    let flags = args
        .flags
        .clone()
        .unwrap_or_else(|| DEFAULT_FLAGS.iter().map(|flag| (*flag).to_owned()).collect());
    plan.push_command(Command::Rsync {
        src: args.src.clone(),
        dest: args.dest.clone(),
        flags,
    });
}
