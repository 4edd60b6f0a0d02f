//! `files.unarchive`: unpacks a `tar` or `zip` archive, local or already on the host,
//! into an existing directory on the host. The format is chosen by the file name.

use std::path::PathBuf;

use oxinfra_core::command::UploadSource;
use oxinfra_core::{Command, StringCommand};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::util::{ChownFlags, chown, truthy, wants_owner};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "files.unarchive",
    params: &["src", "dest", "remote_src", "creates", "extra_opts", "user", "group"],
    plan: unarchive,
}];

/// The `tar` archives by file ending, with the options that unpack each; checked in
/// this order, and listed in this order (then `.zip`) when a name fits none.
const TAR_FORMATS: &[(&str, &[&str])] = &[
    (".tar", &["-x"]),
    (".tar.gz", &["-xz"]),
    (".tgz", &["-xz"]),
    (".tar.bz2", &["-xj"]),
    (".tbz2", &["-xj"]),
    (".tar.xz", &["-xJ"]),
    (".txz", &["-xJ"]),
    (".tar.zst", &["-x", "--zstd"]),
];

/// The `zip` archives' ending.
const ZIP_FORMAT: &str = ".zip";

/// Arguments of `files.unarchive`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnarchiveArgs {
    /// The archive: a local file (relative to the deploy directory), or a file on the
    /// host with `remote_src`.
    pub src: String,
    /// The directory on the host to unpack into; it must exist.
    pub dest: String,
    /// `src` is on the host already; otherwise it is uploaded to a temporary file first
    /// and removed after unpacking.
    #[serde(default)]
    pub remote_src: bool,
    /// A path on the host whose existence means the archive is unpacked already.
    #[serde(default)]
    pub creates: Option<String>,
    /// More options for `tar` or `unzip`, written into the command as shell text, as
    /// given, before the archive.
    #[serde(default)]
    pub extra_opts: Option<Vec<String>>,
    /// Owner given to `dest` and everything in it afterwards.
    #[serde(default)]
    pub user: Option<String>,
    /// Group given to `dest` and everything in it afterwards.
    #[serde(default)]
    pub group: Option<String>,
}

fn unarchive(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: UnarchiveArgs = parse_arguments("files.unarchive", arguments)?;
    plan_unarchive(&args, plan)
}

/// The unpacking program and its options for an archive, by its name.
fn archive_format(src: &str) -> Option<(&'static str, &'static [&'static str])> {
    let lower = src.to_lowercase();
    if let Some((_, flags)) = TAR_FORMATS.iter().find(|(ending, _)| lower.ends_with(ending)) {
        return Some(("tar", flags));
    }
    lower.ends_with(ZIP_FORMAT).then_some(("unzip", &["-o"]))
}

/// `files.unarchive`: unpacks every time, unless `creates` exists.
pub fn plan_unarchive(args: &UnarchiveArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if let Some(creates) = args.creates.as_deref().filter(|creates| !creates.is_empty()) {
        if !plan.fact("files.File", &[("path", json!(creates))])?.is_null() {
            plan.noop(format!("archive already extracted ({creates} exists)"));
            return Ok(());
        }
    }
    if !truthy(&plan.fact("files.Directory", &[("path", json!(args.dest))])?) {
        return Err(OperationError::Operation(format!("Destination {} is not an existing directory", args.dest)));
    }
    let Some((program, flags)) = archive_format(&args.src) else {
        let supported: Vec<&str> = TAR_FORMATS.iter().map(|(ending, _)| *ending).chain([ZIP_FORMAT]).collect();
        return Err(OperationError::Value(format!(
            "Unsupported archive format for {}. Supported: {}",
            args.src,
            supported.join(", ")
        )));
    };
    let archive = if args.remote_src {
        if plan.fact("files.File", &[("path", json!(args.src))])?.is_null() {
            return Err(OperationError::Operation(format!("Remote archive {} does not exist", args.src)));
        }
        args.src.clone()
    } else {
        let temporary = plan.temp_filename(&args.src);
        plan.push_command(Command::Upload {
            source: UploadSource::Path(PathBuf::from(&args.src)),
            dest: temporary.clone(),
        });
        temporary
    };
    let mut command = StringCommand::raw(program);
    for part in flags.iter().copied().chain(args.extra_opts.iter().flatten().map(String::as_str)) {
        command = command.text(part);
    }
    // `-f` stays next to the archive so an extra option cannot take its place.
    command = if program == "tar" {
        command.text("-f").quoted(&archive).text("-C").quoted(&args.dest)
    } else {
        command.quoted(&archive).text("-d").quoted(&args.dest)
    };
    plan.push(command);
    if !args.remote_src {
        plan.push(StringCommand::raw("rm -f").quoted(&archive));
    }
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if wants_owner(user, group) {
        plan.push(chown(
            &args.dest,
            user,
            group,
            ChownFlags {
                recursive: true,
                dereference: true,
            },
        )?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn upper_case_endings_are_recognised() {
        assert_eq!(archive_format("/tmp/APP.TGZ"), Some(("tar", &["-xz"][..])));
        assert_eq!(archive_format("/tmp/app.Zip"), Some(("unzip", &["-o"][..])));
        assert_eq!(archive_format("/tmp/app.rar"), None);
    }

    #[test]
    fn local_archive_is_uploaded_unpacked_and_removed() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("files.Directory", &[("path", json!("/srv"))], json!({"mode": 755}));
        let arguments = json!({"src": "dist/app.tar.xz", "dest": "/srv", "extra_opts": ["--strip-components=1"], "group": "app"});
        let (commands, _) = plan_run(&arguments, &mut facts)?;
        assert_eq!(
            commands,
            [
                "upload _tempfile_",
                "tar -xJ --strip-components=1 -f _tempfile_ -C /srv",
                "rm -f _tempfile_",
                "chgrp -R app /srv"
            ]
        );
        Ok(())
    }

    #[test]
    fn missing_creates_path_unpacks() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with("files.File", &[("path", json!("/srv/bin/app"))], Value::Null)
            .with("files.File", &[("path", json!("/tmp/a.zip"))], json!({"size": 1}))
            .with("files.Directory", &[("path", json!("/srv"))], json!({"mode": 755}));
        let arguments = json!({"src": "/tmp/a.zip", "dest": "/srv", "remote_src": true, "creates": "/srv/bin/app"});
        let (commands, _) = plan_run(&arguments, &mut facts)?;
        assert_eq!(commands, ["unzip -o /tmp/a.zip -d /srv"]);
        Ok(())
    }

    fn plan_run(arguments: &Value, facts: &mut TableFacts) -> Result<(Vec<String>, Option<String>), OperationError> {
        run(plan_unarchive, arguments, facts)
    }
}
