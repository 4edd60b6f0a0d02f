//! Uploads and downloads that never leave a target half-written.
//!
//! Upload: the bytes go to `<dest>.oxinfra-tmp-<random>` (SFTP when the server offers
//! it, else `cat >` over an exec channel), created `0600`; then one shell command gives
//! it the old target's mode and owner (or the umask's mode for a new file) and `mv`s it
//! over the target. Under sudo/su/doas the bytes first go to a `0600` file in the temp
//! folder owned by the login user (readable by a non-root target user through an ACL or,
//! failing that, `chmod 644`), the wrapped command copies it beside the target and
//! renames it, and the staged file is removed whatever happened.
//!
//! Download: SFTP (or a wrapped `cat` when privileged or without SFTP) into a temporary
//! file beside the local destination, renamed into place once complete.

use std::path::{Path, PathBuf};

use oxinfra_core::command::UploadSource;
use oxinfra_core::{ConnectorArguments, ConnectorError, StringCommand};
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use tokio::io::AsyncWriteExt;

use super::exec::{self, Request};
use super::session::Connection;

/// Writes `source` to `dest` on the host.
pub async fn put(connection: &Connection, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
    if !is_privileged(arguments) {
        let temporary = format!("{dest}.oxinfra-tmp-{}", random_suffix());
        if let Err(error) = write_remote(connection, source, &temporary, dest, false).await {
            remove(connection, &temporary).await;
            return Err(error);
        }
        let output = exec::execute(connection, Request::plain(oxinfra_core::upload::install(&temporary, dest).raw_value())).await?;
        if output.exit_code != Some(0) {
            return Err(failed(connection, dest, &output.stderr_lines()));
        }
        return Ok(());
    }

    let directory = arguments.temp_dir.as_deref().unwrap_or("/tmp");
    let staged = format!("{}/oxinfra-upload-{}", directory.trim_end_matches('/'), random_suffix());
    let result = put_privileged(connection, source, &staged, dest, arguments).await;
    remove(connection, &staged).await;
    result
}

async fn put_privileged(
    connection: &Connection,
    source: &UploadSource,
    staged: &str,
    dest: &str,
    arguments: &ConnectorArguments,
) -> Result<(), ConnectorError> {
    write_remote(connection, source, staged, dest, true).await?;
    if let Some(user) = target_user(arguments).filter(|user| *user != "root") {
        let share = StringCommand::raw("setfacl -m")
            .quoted(format!("u:{user}:r"))
            .quoted(staged.to_owned())
            .text("2>/dev/null || chmod 644")
            .quoted(staged.to_owned());
        exec::execute(connection, Request::plain(share.raw_value())).await?;
    }
    let temporary = format!("{dest}.oxinfra-tmp-{}", random_suffix());
    let copy = StringCommand::raw("cp")
        .quoted(staged.to_owned())
        .quoted(temporary.clone())
        .text("|| { rm -f")
        .quoted(temporary.clone())
        .text("; exit 1; };")
        .nested(oxinfra_core::upload::install(&temporary, dest));
    let copy_arguments = ConnectorArguments {
        stdin: Vec::new(),
        get_pty: false,
        ..arguments.clone()
    };
    let output = exec::run_command(connection, &copy, &copy_arguments).await?;
    if output.exit_code != Some(0) {
        return Err(failed(connection, dest, &output.stderr_lines()));
    }
    Ok(())
}

/// Writes `source` to `path` as the login user, mode `0600`; `exclusive` refuses an
/// existing file (a staged file in a shared temp folder). Errors name `dest`, the file
/// the user asked for.
async fn write_remote(connection: &Connection, source: &UploadSource, path: &str, dest: &str, exclusive: bool) -> Result<(), ConnectorError> {
    if let Some(sftp) = connection.sftp().await {
        let mut flags = OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE;
        if exclusive {
            flags |= OpenFlags::EXCLUDE;
        }
        let attributes = FileAttributes {
            permissions: Some(0o600),
            ..FileAttributes::default()
        };
        let sftp_error =
            |error: &dyn std::fmt::Display| ConnectorError::Transfer(format!("`{}`: could not write `{dest}` (through `{path}`): {error}", connection.host));
        let mut file = sftp
            .open_with_flags_and_attributes(path, flags, attributes)
            .await
            .map_err(|error| sftp_error(&error))?;
        match source {
            UploadSource::Content(bytes) => file.write_all(bytes).await.map_err(|error| sftp_error(&error))?,
            UploadSource::Path(local) => {
                let mut input = tokio::fs::File::open(local).await.map_err(|source| read_error(local, source))?;
                tokio::io::copy(&mut input, &mut file).await.map_err(|error| sftp_error(&error))?;
            }
        }
        // Closing waits for every write to be acknowledged.
        file.shutdown().await.map_err(|error| sftp_error(&error))?;
        return Ok(());
    }

    let mut command = StringCommand::raw("umask 077 &&");
    if exclusive {
        command = command.text("set -C &&");
    }
    let command = command.text("cat >").quoted(path.to_owned());
    let mut request = Request::plain(command.raw_value());
    match source {
        UploadSource::Content(bytes) => request.input.clone_from(bytes),
        UploadSource::Path(local) => request.input_file = Some(tokio::fs::File::open(local).await.map_err(|source| read_error(local, source))?),
    }
    let output = exec::execute(connection, request).await?;
    if output.exit_code == Some(0) {
        Ok(())
    } else {
        Err(failed(connection, dest, &output.stderr_lines()))
    }
}

/// Copies `src` on the host to `dest` on the controller.
pub async fn get(connection: &Connection, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
    let (staged, file) = local_temporary(dest).await?;
    let mut file = tokio::fs::File::from_std(file);
    let sftp = if is_privileged(arguments) { None } else { connection.sftp().await };
    if let Some(sftp) = sftp {
        let sftp_error = |error: &dyn std::fmt::Display| ConnectorError::Transfer(format!("`{}`: could not read `{src}`: {error}", connection.host));
        let mut remote = sftp.open(src).await.map_err(|error| sftp_error(&error))?;
        tokio::io::copy(&mut remote, &mut file).await.map_err(|error| sftp_error(&error))?;
    } else {
        let command = StringCommand::raw("cat").quoted(src.to_owned());
        let read_arguments = ConnectorArguments {
            stdin: Vec::new(),
            get_pty: false,
            ..arguments.clone()
        };
        let prepared = exec::prepare(connection, &command, &read_arguments).await?;
        let request = Request {
            stdout: Some(&mut file),
            ..Request::wrapped(prepared, &read_arguments)
        };
        let output = exec::execute(connection, request).await?;
        if output.exit_code != Some(0) {
            return Err(ConnectorError::Transfer(format!(
                "`{}`: could not read `{src}`: {}",
                connection.host,
                output.stderr_lines().join(" ")
            )));
        }
    }
    file.flush().await.map_err(|source| write_error(dest, source))?;
    drop(file);
    let dest_path = dest.to_path_buf();
    tokio::task::spawn_blocking(move || staged.persist(&dest_path).map(drop).map_err(|error| error.error))
        .await
        .map_err(|error| write_error(dest, std::io::Error::other(error)))?
        .map_err(|source| write_error(dest, source))
}

/// A temporary file beside `dest`, removed if dropped before it is persisted.
async fn local_temporary(dest: &Path) -> Result<(tempfile::TempPath, std::fs::File), ConnectorError> {
    let directory = dest
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let prefix = format!(
        "{}.oxinfra-tmp-",
        dest.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
    );
    let created = tokio::task::spawn_blocking(move || tempfile::Builder::new().prefix(&prefix).tempfile_in(directory))
        .await
        .map_err(|error| write_error(dest, std::io::Error::other(error)))?
        .map_err(|source| write_error(dest, source))?;
    let (file, path) = created.into_parts();
    Ok((path, file))
}

async fn remove(connection: &Connection, path: &str) {
    let command = StringCommand::raw("rm -f").quoted(path.to_owned());
    // Best effort: the file may not exist, or the connection may be gone.
    exec::execute(connection, Request::plain(command.raw_value())).await.ok();
}

fn is_privileged(arguments: &ConnectorArguments) -> bool {
    arguments.sudo || arguments.su_user.is_some() || arguments.doas || arguments.dzdo
}

/// The user the privileged command runs as, when not root.
fn target_user(arguments: &ConnectorArguments) -> Option<&str> {
    arguments
        .su_user
        .as_deref()
        .or(arguments.sudo_user.as_deref())
        .or(arguments.doas_user.as_deref())
        .or(arguments.dzdo_user.as_deref())
}

fn random_suffix() -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(12).collect()
}

fn failed(connection: &Connection, path: &str, stderr: &[String]) -> ConnectorError {
    ConnectorError::Transfer(format!("`{}`: could not write `{path}`: {}", connection.host, stderr.join(" ")))
}

fn read_error(path: &Path, source: std::io::Error) -> ConnectorError {
    ConnectorError::Io {
        context: format!("reading `{}`", path.display()),
        source,
    }
}

fn write_error(path: &Path, source: std::io::Error) -> ConnectorError {
    ConnectorError::Io {
        context: format!("writing `{}`", path.display()),
        source,
    }
}
