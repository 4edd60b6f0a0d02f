//! `files.download`, `files.sync`, `files.get`, `files.put`, `files.move`, `files.copy`,
//! `files.link`, `files.file`, `files.directory` and `files.flags`: operations on whole
//! files, directories and links, in the order of pyinfra's `operations/files.py`.
//! Line edits live in `lines`, shared command builders in `util`.
//!
//! The controller's files are read only through [`Plan::local_files`]: contents,
//! modes and times (`mode=True`, `atime=True`, `files.sync`'s modes), links and folder
//! listings (`files.sync`). Planning creates nothing locally: `files.get`'s
//! `create_local_dir` travels on the download command for the run to honour.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use oxinfra_core::command::UploadSource;
use oxinfra_core::local_files::LocalMetadata;
use oxinfra_core::{Command, StringCommand};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::util::{
    ChownFlags, DateTime, Mode, ModeArg, TimeField, backup_path, chmod, chown, field, fnmatch, hex, owner_differs, permission_digits, posix_basename,
    posix_dirname, posix_join, temp_filename_in, touch, truthy, unix_path_join, validate_path, wants_owner,
};
use crate::plan::{FileDiff, OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this family.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "files.download",
        params: &[
            "src",
            "dest",
            "user",
            "group",
            "mode",
            "cache_time",
            "force",
            "sha384sum",
            "sha256sum",
            "sha1sum",
            "md5sum",
            "headers",
            "insecure",
            "proxy",
            "limit_rate",
            "temp_dir",
            "extra_curl_args",
            "extra_wget_args",
        ],
        plan: download,
    },
    OperationDef {
        name: "files.sync",
        params: &[
            "src",
            "dest",
            "user",
            "group",
            "mode",
            "dir_mode",
            "delete",
            "exclude",
            "exclude_dir",
            "add_deploy_dir",
        ],
        plan: sync,
    },
    OperationDef {
        name: "files.get",
        params: &["src", "dest", "add_deploy_dir", "create_local_dir", "force"],
        plan: get,
    },
    OperationDef {
        name: "files.put",
        params: &[
            "src",
            "dest",
            "user",
            "group",
            "mode",
            "add_deploy_dir",
            "create_remote_dir",
            "force",
            "assume_exists",
            "atime",
            "mtime",
        ],
        plan: put,
    },
    OperationDef {
        name: "files.move",
        params: &["src", "dest", "overwrite"],
        plan: move_,
    },
    OperationDef {
        name: "files.copy",
        params: &["src", "dest", "overwrite"],
        plan: copy,
    },
    OperationDef {
        name: "files.link",
        params: &[
            "path",
            "target",
            "present",
            "user",
            "group",
            "symbolic",
            "create_remote_dir",
            "force",
            "force_backup",
            "force_backup_dir",
        ],
        plan: link,
    },
    OperationDef {
        name: "files.file",
        params: &[
            "path",
            "present",
            "user",
            "group",
            "mode",
            "touch",
            "create_remote_dir",
            "force",
            "force_backup",
            "force_backup_dir",
        ],
        plan: file,
    },
    OperationDef {
        name: "files.directory",
        params: &[
            "path",
            "present",
            "user",
            "group",
            "mode",
            "recursive",
            "force",
            "force_backup",
            "force_backup_dir",
            "_no_check_owner_mode",
            "_no_fail_on_link",
        ],
        plan: directory,
    },
    OperationDef {
        name: "files.flags",
        params: &["path", "flags", "present"],
        plan: flags,
    },
];

fn yes() -> bool {
    true
}

/// One string or a list of them (pyinfra accepts both for `flags`, `exclude`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(value) if value.is_empty() => Vec::new(),
            Self::One(value) => vec![value],
            Self::Many(values) => values,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Facts and checksums

fn path_fact(plan: &mut Plan<'_>, name: &str, path: &str) -> Result<Value, OperationError> {
    plan.fact(name, &[("path", json!(path))])
}

fn file_fact(plan: &mut Plan<'_>, path: &str) -> Result<Value, OperationError> {
    path_fact(plan, "files.File", path)
}

fn directory_fact(plan: &mut Plan<'_>, path: &str) -> Result<Value, OperationError> {
    path_fact(plan, "files.Directory", path)
}

fn link_fact(plan: &mut Plan<'_>, path: &str) -> Result<Value, OperationError> {
    path_fact(plan, "files.Link", path)
}

/// The checksum facts pyinfra compares files with, in the order it tries them.
const CHECKSUM_FACTS: [&str; 3] = ["files.Sha1File", "files.Md5File", "files.Sha256File"];

fn local_checksum(fact: &str, content: &[u8]) -> String {
    use sha1::Digest;
    match fact {
        "files.Md5File" => hex(&md5::Md5::digest(content)),
        "files.Sha256File" => hex(&sha2::Sha256::digest(content)),
        _ => hex(&sha1::Sha1::digest(content)),
    }
}

/// pyinfra's `_file_equal`: the first checksum the host reports decides.
fn local_equals_remote(plan: &mut Plan<'_>, local: Option<&[u8]>, remote_path: &str) -> Result<bool, OperationError> {
    let Some(content) = local else {
        return Ok(false);
    };
    for fact in CHECKSUM_FACTS {
        let remote = path_fact(plan, fact, remote_path)?;
        if truthy(&remote) {
            return Ok(remote.as_str() == Some(local_checksum(fact, content).as_str()));
        }
    }
    Ok(false)
}

/// pyinfra's `_remote_file_equal`: the first checksum the host reports for both decides.
fn remote_files_equal(plan: &mut Plan<'_>, left: &str, right: &str) -> Result<bool, OperationError> {
    for fact in CHECKSUM_FACTS {
        let (left_sum, right_sum) = (path_fact(plan, fact, left)?, path_fact(plan, fact, right)?);
        if truthy(&left_sum) && truthy(&right_sum) {
            return Ok(left_sum == right_sum);
        }
    }
    Ok(false)
}

/// pyinfra's `get_path_permissions_mode`: a local path's mode as octal digits.
fn local_permissions(plan: &Plan<'_>, path: &Path) -> Result<ModeArg, OperationError> {
    let metadata = local_metadata(plan, path)?;
    Ok(ModeArg::Int(permission_digits(metadata.permissions)))
}

/// `os.stat` of a local path; failing as Python's `OSError`.
fn local_metadata(plan: &Plan<'_>, path: &Path) -> Result<LocalMetadata, OperationError> {
    plan.local_files
        .metadata(path)
        .map_err(|error| OperationError::LocalFile(format!("cannot stat `{}`: {error}", path.display())))
}

/// A mode argument Python finds true (`dir_mode or mode or ...`).
fn given_mode(mode: Option<&ModeArg>) -> Option<&ModeArg> {
    mode.filter(|mode| !matches!(mode, ModeArg::Bool(false) | ModeArg::Int(0)) && *mode != &ModeArg::Text(String::new()))
}

fn read_local(plan: &Plan<'_>, path: &Path) -> Result<Vec<u8>, OperationError> {
    plan.local_files
        .read(path)
        .map_err(|error| OperationError::Operation(format!("cannot read `{}`: {error}", path.display())))
}

fn resolve_local(plan: &Plan<'_>, path: &str, add_deploy_dir: bool) -> PathBuf {
    if add_deploy_dir && !plan.deploy_dir.as_os_str().is_empty() {
        plan.deploy_dir.join(path)
    } else {
        PathBuf::from(path)
    }
}

// ---------------------------------------------------------------------------------------
// files.download

/// Arguments of `files.download`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadArgs {
    /// The URL to download.
    pub src: String,
    /// Where the file goes on the host.
    pub dest: String,
    /// Owner of the downloaded file.
    pub user: Option<String>,
    /// Group of the downloaded file.
    pub group: Option<String>,
    /// Permissions of the downloaded file.
    pub mode: Option<ModeArg>,
    /// Download again once the existing file is older than this many seconds.
    pub cache_time: Option<i64>,
    /// Download even when the file is already there.
    #[serde(default)]
    pub force: bool,
    /// Expected SHA-384 of the file; a mismatch downloads again and fails the check.
    pub sha384sum: Option<String>,
    /// Expected SHA-256 of the file.
    pub sha256sum: Option<String>,
    /// Expected SHA-1 of the file.
    pub sha1sum: Option<String>,
    /// Expected MD5 of the file.
    pub md5sum: Option<String>,
    /// HTTP headers sent with the request.
    pub headers: Option<Map<String, Value>>,
    /// Skip TLS certificate verification.
    #[serde(default)]
    pub insecure: bool,
    /// An HTTP proxy, `http://<proxy>:<port>`.
    pub proxy: Option<String>,
    /// Bandwidth cap in curl/wget notation (`1M`, `500k`).
    pub limit_rate: Option<String>,
    /// Folder on the host for the partial download (else the deploy's temporary folder).
    pub temp_dir: Option<String>,
    /// Extra curl options, option name to value.
    pub extra_curl_args: Option<Map<String, Value>>,
    /// Extra wget options, option name to value.
    pub extra_wget_args: Option<Map<String, Value>>,
}

fn download(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: DownloadArgs = parse_arguments("files.download", arguments)?;
    let mode = Mode::parse(args.mode.as_ref())?;
    let info = file_fact(plan, &args.dest)?;
    if info == Value::Bool(false) {
        return Err(OperationError::Operation(format!("Destination {} already exists and is not a file", args.dest)));
    }
    let wanted = info.is_null() || download_is_stale(&args, &info, plan)? || args.force;
    if wanted {
        push_download(&args, mode.as_ref(), plan)
    } else {
        reconcile_download(&args, mode.as_ref(), &info, plan)
    }
}

/// Whether an existing download is too old or has the wrong checksum.
fn download_is_stale(args: &DownloadArgs, info: &Value, plan: &mut Plan<'_>) -> Result<bool, OperationError> {
    let mut stale = false;
    if let Some(cache_time) = args.cache_time.filter(|seconds| *seconds != 0) {
        let now = plan.fact("server.Date", &[])?;
        let now = now.as_str().and_then(DateTime::parse_iso).ok_or_else(|| bad_fact("server.Date", &now))?;
        // Wall-clock readings in the host's zone, as pyinfra drops the zone of both;
        // 128 bits so that huge cache times saturate as pyinfra's `OverflowError` path.
        let threshold = i128::from(now.wall_micros()) - i128::from(cache_time) * 1_000_000;
        let modified = field(info, "mtime").and_then(DateTime::parse_iso);
        stale = modified.is_some_and(|modified| i128::from(modified.wall_micros()) < threshold);
    }
    let sums = [
        (&args.sha1sum, "files.Sha1File"),
        (&args.sha256sum, "files.Sha256File"),
        (&args.sha384sum, "files.Sha384File"),
        (&args.md5sum, "files.Md5File"),
    ];
    for (sum, fact) in sums {
        if let Some(sum) = sum.as_deref().filter(|sum| !sum.is_empty()) {
            stale |= path_fact(plan, fact, &args.dest)?.as_str() != Some(sum);
        }
    }
    Ok(stale)
}

fn bad_fact(name: &str, value: &Value) -> OperationError {
    OperationError::Operation(format!("fact `{name}` has an unexpected value: `{value}`"))
}

fn push_download(args: &DownloadArgs, mode: Option<&Mode>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let temp = match &args.temp_dir {
        Some(directory) => temp_filename_in(directory, &args.dest),
        None => plan.temp_filename(&args.dest),
    };
    let (curl, wget) = fetch_commands(args, &temp);
    if truthy(&plan.fact("server.Which", &[("command", json!("curl"))])?) {
        plan.push(curl);
    } else if truthy(&plan.fact("server.Which", &[("command", json!("wget"))])?) {
        plan.push(wget);
    } else {
        plan.push(StringCommand::raw("(").nested(curl).text(") || (").nested(wget).text(")"));
    }
    plan.push(StringCommand::raw("mv").quoted(temp).quoted(&args.dest));
    if wants_owner(args.user.as_deref(), args.group.as_deref()) {
        plan.push(chown(&args.dest, args.user.as_deref(), args.group.as_deref(), ChownFlags::default())?);
    }
    if let Some(mode) = mode {
        plan.push(chmod(&args.dest, mode, false));
    }
    let checks = [
        (&args.sha1sum, &["sha1sum", "shasum", "sha1"][..], "SHA1"),
        (&args.sha256sum, &["sha256sum", "shasum -a 256", "sha256"][..], "SHA256"),
        (&args.sha384sum, &["sha384sum", "shasum -a 384"][..], "SHA384"),
        (&args.md5sum, &["md5sum", "md5"][..], "MD5"),
    ];
    for (sum, programs, label) in checks {
        if let Some(sum) = sum.as_deref().filter(|sum| !sum.is_empty()) {
            plan.push(checksum_check(&args.dest, programs, sum, label));
        }
    }
    Ok(())
}

/// The curl and the wget command that fetch `args.src` into `temp`.
fn fetch_commands(args: &DownloadArgs, temp: &str) -> (StringCommand, StringCommand) {
    let mut curl_options = StringCommand::raw("-sSLf");
    let mut wget_options = StringCommand::raw("-q");
    for (name, value) in args.extra_curl_args.iter().flatten() {
        curl_options = curl_options.nested(option_pair(name, value));
    }
    for (name, value) in args.extra_wget_args.iter().flatten() {
        wget_options = wget_options.nested(option_pair(name, value));
    }
    if let Some(proxy) = args.proxy.as_deref().filter(|proxy| !proxy.is_empty()) {
        curl_options = curl_options.text("--proxy").quoted(proxy);
        wget_options = wget_options.text("-e use_proxy=yes").text("-e").quoted(format!("http_proxy={proxy}"));
    }
    if args.insecure {
        curl_options = curl_options.text("--insecure");
        wget_options = wget_options.text("--no-check-certificate");
    }
    if let Some(rate) = args.limit_rate.as_deref().filter(|rate| !rate.is_empty()) {
        curl_options = curl_options.nested(StringCommand::raw("--limit-rate").quoted(rate));
        wget_options = wget_options.nested(StringCommand::raw("--limit-rate").quoted(rate));
    }
    for (name, value) in args.headers.iter().flatten() {
        let header = StringCommand::raw("--header").quoted(format!("{name}: {}", oxinfra_core::pyrepr::python_str(value)));
        curl_options = curl_options.nested(header.clone());
        wget_options = wget_options.nested(header);
    }
    let curl = StringCommand::raw("curl").nested(curl_options).quoted(&args.src).text("-o").quoted(temp);
    let wget = StringCommand::raw("wget")
        .nested(wget_options)
        .quoted(&args.src)
        .text("-O")
        .quoted(temp)
        .text("|| ( rm -f")
        .quoted(temp)
        .text("; exit 1 )");
    (curl, wget)
}

fn option_pair(name: &str, value: &Value) -> StringCommand {
    StringCommand::new().quoted(name).quoted(oxinfra_core::pyrepr::python_str(value))
}

/// `(( <sum> dest 2> /dev/null || <fallback> dest ) | grep <sum> ) || ( echo ... && exit 1 )`.
fn checksum_check(dest: &str, programs: &[&str], sum: &str, label: &str) -> StringCommand {
    let mut command = StringCommand::raw("((");
    for (index, program) in programs.iter().enumerate() {
        if index > 0 {
            command = command.text("||");
        }
        command = command.text(*program).quoted(dest);
        if index == 0 {
            command = command.text("2> /dev/null");
        }
    }
    command
        .text(") | grep")
        .quoted(sum)
        .text(") || ( echo")
        .quoted(format!("{label} did not match!"))
        .text("&& exit 1 )")
}

/// Keeps an existing download but still applies a changed owner or mode.
fn reconcile_download(args: &DownloadArgs, mode: Option<&Mode>, info: &Value, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    let mut changed = false;
    if owner_differs(info, user, group) {
        plan.push(chown(&args.dest, user, group, ChownFlags::default())?);
        changed = true;
    }
    if let Some(mode) = mode.filter(|mode| !mode.matches(info)) {
        plan.push(chmod(&args.dest, mode, false));
        changed = true;
    }
    if !changed {
        plan.noop(format!("file {} has already been downloaded", args.dest));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// files.sync

/// Arguments of `files.sync`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    /// The local directory to copy from.
    pub src: String,
    /// The directory on the host to copy into.
    pub dest: String,
    /// Owner of the copied files and directories.
    pub user: Option<String>,
    /// Group of the copied files and directories.
    pub group: Option<String>,
    /// Permissions of the copied files, and of directories unless `dir_mode` is given
    /// (else each keeps its local mode).
    pub mode: Option<ModeArg>,
    /// Permissions of the copied directories.
    pub dir_mode: Option<ModeArg>,
    /// Remove files and links on the host that are not in `src` (never directories).
    #[serde(default)]
    pub delete: bool,
    /// `fnmatch` patterns of file paths to leave out.
    pub exclude: Option<OneOrMany>,
    /// `fnmatch` patterns of directory paths, relative to `src`, to leave out.
    pub exclude_dir: Option<OneOrMany>,
    /// Read `src` relative to the deploy directory.
    #[serde(default = "yes")]
    pub add_deploy_dir: bool,
}

/// What `files.sync` found under its source, each in the order of a top-down
/// `os.walk`: folders (relative to the source, `/`-separated, with their local path),
/// links (host path, target as written) and files (local path, host path).
#[derive(Debug, Default)]
struct LocalTree {
    directories: Vec<(String, PathBuf)>,
    links: Vec<(String, String)>,
    files: Vec<(PathBuf, String)>,
}

fn sync(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: SyncArgs = parse_arguments("files.sync", arguments)?;
    // `pathlib` spelling: no trailing `/`, no `.` parts.
    let source: PathBuf = resolve_local(plan, &args.src, args.add_deploy_dir).components().collect();
    if !plan.local_files.is_dir(&source) {
        return Err(OperationError::LocalFile(format!("No such directory: {}", args.src)));
    }
    let exclude = args.exclude.clone().map(OneOrMany::into_vec).unwrap_or_default();
    let exclude_dir = args.exclude_dir.clone().map(OneOrMany::into_vec).unwrap_or_default();
    let tree = walk_local(plan, &source, &args.dest, &exclude, &exclude_dir)?;

    let link = link_fact(plan, &args.dest)?;
    let root = field(&link, "link_target").filter(|_| truthy(&link)).unwrap_or(&args.dest).to_owned();
    let root_mode = match synced_mode(&args, true) {
        Some(mode) => mode.clone(),
        None => local_permissions(plan, &source)?,
    };
    plan_directory(
        &DirectoryArgs {
            mode: Some(root_mode),
            ..DirectoryArgs::owned(&root, args.user.as_deref(), args.group.as_deref())
        },
        plan,
    )?;
    for (relative, local) in &tree.directories {
        let mode = match synced_mode(&args, true) {
            Some(mode) => mode.clone(),
            None => local_permissions(plan, local)?,
        };
        let path = unix_path_join(&[&args.dest, relative]);
        plan_directory(
            &DirectoryArgs {
                mode: Some(mode),
                ..DirectoryArgs::owned(&path, args.user.as_deref(), args.group.as_deref())
            },
            plan,
        )?;
    }
    // Links before files, so that a linked folder exists before files go into it.
    for (remote, target) in &tree.links {
        plan_link(&LinkArgs::synced(remote, target, &args), remote, plan)?;
    }
    for (local, remote) in &tree.files {
        let mode = match synced_mode(&args, false) {
            Some(mode) => mode.clone(),
            None => local_permissions(plan, local)?,
        };
        plan_put(&PutArgs::synced(local, remote, &args, mode), plan)?;
    }
    if args.delete {
        delete_extra(&args, &tree, &exclude, plan)?;
    }
    Ok(())
}

/// The mode the arguments give a synced directory (`dir_mode or mode`) or file (`mode`).
fn synced_mode(args: &SyncArgs, is_directory: bool) -> Option<&ModeArg> {
    let directory_mode = if is_directory { given_mode(args.dir_mode.as_ref()) } else { None };
    directory_mode.or_else(|| given_mode(args.mode.as_ref()))
}

/// Walks `source` as pyinfra's `files.sync` drives `os.walk(topdown=True,
/// followlinks=False)`: a folder, then each kept subfolder's walk in turn. Excluded
/// folders are left before being entered, excluded files skipped; links (to files or
/// folders) are collected as links and never followed.
fn walk_local(plan: &Plan<'_>, source: &Path, dest: &str, exclude: &[String], exclude_dir: &[String]) -> Result<LocalTree, OperationError> {
    let local_files = plan.local_files;
    let remote_path = |relative: &str, name: &str| {
        let parts: Vec<&str> = [dest, relative, name].into_iter().filter(|part| !part.is_empty()).collect();
        unix_path_join(&parts)
    };
    let mut tree = LocalTree::default();
    let mut pending = vec![source.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let relative = posix_relative(source, &folder);
        let entries = local_files
            .read_dir(&folder)
            .map_err(|error| OperationError::LocalFile(format!("cannot list `{}`: {error}", folder.display())))?;
        // `os.walk` puts what is a folder, links followed, in `dirnames`.
        let (folders, files): (Vec<PathBuf>, Vec<PathBuf>) = entries.into_iter().partition(|entry| local_files.is_dir(entry));
        let mut kept = Vec::new();
        for child in folders {
            let name = file_name(&child);
            let child_relative = posix_relative(source, &child);
            if exclude_dir.iter().any(|pattern| fnmatch(&child_relative, pattern)) {
                continue;
            }
            if local_files.is_symlink(&child) {
                let target = read_link(plan, &child)?;
                tree.links.push((remote_path(&relative, &name), target));
            } else {
                kept.push(child);
            }
        }
        if !relative.is_empty() {
            tree.directories.push((relative.clone(), folder.clone()));
        }
        for file in files {
            if exclude.iter().any(|pattern| fnmatch(&file.to_string_lossy(), pattern)) {
                continue;
            }
            let remote = remote_path(&relative, &file_name(&file));
            if local_files.is_symlink(&file) {
                tree.links.push((remote, read_link(plan, &file)?));
            } else {
                tree.files.push((file, remote));
            }
        }
        pending.extend(kept.into_iter().rev());
    }
    Ok(tree)
}

/// `path` relative to `base`, `/`-separated; empty for `base` itself.
fn posix_relative(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `os.readlink`: the target of a local link as written.
fn read_link(plan: &Plan<'_>, path: &Path) -> Result<String, OperationError> {
    let target = plan
        .local_files
        .read_link(path)
        .map_err(|error| OperationError::LocalFile(format!("cannot read link `{}`: {error}", path.display())))?;
    Ok(target.to_string_lossy().into_owned())
}

/// Removes files and links under `dest` that the sync did not write.
fn delete_extra(args: &SyncArgs, tree: &LocalTree, exclude: &[String], plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let wanted_files: BTreeSet<&str> = tree.files.iter().map(|(_, remote)| remote.as_str()).collect();
    let wanted_links: BTreeSet<&str> = tree.links.iter().map(|(remote, _)| remote.as_str()).collect();
    let excluded = |path: &str| exclude.iter().any(|pattern| fnmatch(path, pattern));
    for path in extra_paths(plan, "files.FindFiles", &args.dest, &wanted_files)? {
        if !excluded(&path) {
            plan_file(
                &FileArgs {
                    present: false,
                    ..FileArgs::owned(&path, None, None)
                },
                plan,
            )?;
        }
    }
    for path in extra_paths(plan, "files.FindLinks", &args.dest, &wanted_links)? {
        if !excluded(&path) {
            plan_link(&LinkArgs::removal(&path), &path, plan)?;
        }
    }
    Ok(())
}

/// The paths a `find` fact lists under `dest` that are not `wanted`, in fact order.
fn extra_paths(plan: &mut Plan<'_>, fact: &str, dest: &str, wanted: &BTreeSet<&str>) -> Result<Vec<String>, OperationError> {
    let none = Value::Null;
    let arguments = [
        ("path", json!(dest)),
        ("size", none.clone()),
        ("min_size", none.clone()),
        ("max_size", none.clone()),
        ("maxdepth", none.clone()),
        ("fname", none.clone()),
        ("iname", none.clone()),
        ("regex", none.clone()),
        ("path_match", none.clone()),
        ("args", none),
        ("quote_path", json!(true)),
    ];
    let found = plan.fact(fact, &arguments)?;
    let mut seen = BTreeSet::new();
    let paths = found.as_array().into_iter().flatten().filter_map(Value::as_str);
    Ok(paths.filter(|path| !wanted.contains(path) && seen.insert(*path)).map(str::to_owned).collect())
}

// ---------------------------------------------------------------------------------------
// files.get

/// Arguments of `files.get`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetArgs {
    /// The file on the host.
    pub src: String,
    /// Where it goes on the controller.
    pub dest: String,
    /// Read `dest` relative to the deploy directory.
    #[serde(default = "yes")]
    pub add_deploy_dir: bool,
    /// Create the local folder of `dest` when missing. Planning does no I/O, so the
    /// download command carries this to the run.
    #[serde(default)]
    pub create_local_dir: bool,
    /// Download even when the local copy matches.
    #[serde(default)]
    pub force: bool,
}

fn get(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: GetArgs = parse_arguments("files.get", arguments)?;
    let dest = resolve_local(plan, &args.dest, args.add_deploy_dir);
    let remote = file_fact(plan, &args.src)?;
    let wanted = if !truthy(&remote) || args.force || !(plan.local_files.is_file(&dest) || plan.local_files.is_dir(&dest)) {
        true
    } else {
        let local = read_local(plan, &dest)?;
        !local_equals_remote(plan, Some(&local), &args.src)?
    };
    if wanted {
        plan.push_command(Command::Download {
            src: args.src,
            dest,
            create_local_dir: args.create_local_dir,
        });
    } else {
        plan.noop(format!("file {} has already been downloaded", dest.display()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// files.put

/// What `files.put` uploads: a local path, or text held in memory (pyinfra's `StringIO`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PutSource {
    /// A file on the controller.
    Path(String),
    /// In-memory content.
    Memory {
        /// The text to upload.
        content: String,
    },
}

/// A time for `files.put`'s `atime`/`mtime`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum TimeSpec {
    /// `True`: as the local file (`False`: leave alone).
    Bool(bool),
    /// A POSIX timestamp.
    Number(f64),
    /// An ISO date and time, a POSIX timestamp, or the path of a file on the host.
    Text(String),
}

/// Arguments of `files.put`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutArgs {
    /// The local file, or in-memory content, to upload.
    pub src: PutSource,
    /// The file on the host; an existing directory receives the file under its local name.
    pub dest: String,
    /// Owner of the uploaded file.
    pub user: Option<String>,
    /// Group of the uploaded file.
    pub group: Option<String>,
    /// Permissions of the uploaded file; `True` copies the local file's.
    pub mode: Option<ModeArg>,
    /// Read `src` relative to the deploy directory.
    #[serde(default = "yes")]
    pub add_deploy_dir: bool,
    /// Create the folder of `dest` (with `user` and `group`, not `mode`) when missing.
    #[serde(default = "yes")]
    pub create_remote_dir: bool,
    /// Upload even when the host's copy matches.
    #[serde(default)]
    pub force: bool,
    /// Plan as if the local file exists even when it does not (yet).
    #[serde(default)]
    pub assume_exists: bool,
    /// The access time the file should have (`True`: the local file's).
    pub atime: Option<TimeSpec>,
    /// The modification time the file should have (`True`: the local file's).
    pub mtime: Option<TimeSpec>,
}

impl PutArgs {
    /// The upload of one file of a `files.sync`.
    fn synced(local: &Path, remote: &str, sync: &SyncArgs, mode: ModeArg) -> Self {
        Self {
            src: PutSource::Path(local.to_string_lossy().into_owned()),
            dest: remote.to_owned(),
            user: sync.user.clone(),
            group: sync.group.clone(),
            mode: Some(mode),
            add_deploy_dir: false,
            create_remote_dir: false,
            force: false,
            assume_exists: false,
            atime: None,
            mtime: None,
        }
    }
}

/// The local side of an upload.
struct LocalSource {
    /// What the upload command sends.
    upload: UploadSource,
    /// The local file, when `src` is one.
    path: Option<PathBuf>,
    /// The bytes, when known (not for a missing file with `assume_exists`).
    content: Option<Vec<u8>>,
}

fn put(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: PutArgs = parse_arguments("files.put", arguments)?;
    plan_put(&args, plan)
}

fn plan_put(args: &PutArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let local = local_source(args, plan)?;
    let mode = match &args.mode {
        Some(ModeArg::Bool(true)) => match &local.path {
            Some(path) if plan.local_files.is_file(path) => Mode::parse(Some(&local_permissions(plan, path)?))?,
            _ => None,
        },
        other => Mode::parse(other.as_ref())?,
    };
    let mut dest = args.dest.clone();
    let parent = posix_dirname(&dest).to_owned();
    let mut likely = vec![
        ("files.File", dest.as_str()),
        ("files.Directory", dest.as_str()),
        (CHECKSUM_FACTS[0], dest.as_str()),
    ];
    if args.create_remote_dir && !parent.is_empty() {
        likely.push(("files.Directory", parent.as_str()));
    }
    plan.hint_paths(&likely);
    let mut remote = file_fact(plan, &dest)?;
    if !truthy(&remote) && truthy(&directory_fact(plan, &dest)?) {
        let Some(path) = &local.path else {
            return Err(OperationError::Type(
                "When `src` is a file-like object, `dest` must be a full file path, not a directory".to_owned(),
            ));
        };
        dest = unix_path_join(&[&dest, &path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()]);
        remote = file_fact(plan, &dest)?;
    }
    if args.create_remote_dir {
        create_remote_dir(&dest, args.user.as_deref(), args.group.as_deref(), plan)?;
    }
    if !truthy(&remote) || args.force {
        record_diff(&dest, &local, None, plan);
        push_upload(args, &local, &dest, mode.as_ref(), plan)
    } else if !local_equals_remote(plan, local.content.as_deref(), &dest)? {
        if plan.want_diff {
            let current = path_fact(plan, "files.FileContents", &dest)?;
            let lines = current.as_array().into_iter().flatten().map(|line| line.as_str().unwrap_or_default());
            let before = lines.fold(String::new(), |text, line| text + line + "\n");
            record_diff(&dest, &local, Some(before), plan);
        }
        push_upload(args, &local, &dest, mode.as_ref(), plan)
    } else {
        update_uploaded(args, &local, &dest, mode.as_ref(), &remote, plan)
    }
}

fn local_source(args: &PutArgs, plan: &Plan<'_>) -> Result<LocalSource, OperationError> {
    let path = match &args.src {
        PutSource::Memory { content } => {
            let bytes = content.clone().into_bytes();
            return Ok(LocalSource {
                upload: UploadSource::Content(bytes.clone()),
                path: None,
                content: Some(bytes),
            });
        }
        PutSource::Path(path) => resolve_local(plan, path, args.add_deploy_dir),
    };
    let content = if plan.local_files.is_file(&path) {
        Some(read_local(plan, &path)?)
    } else if args.assume_exists {
        None
    } else {
        return Err(OperationError::LocalFile(format!("No such file: {}", path.display())));
    };
    Ok(LocalSource {
        upload: UploadSource::Path(path.clone()),
        path: Some(path),
        content,
    })
}

/// Records the content change for `--diff` (text files only, as pyinfra shows them).
fn record_diff(dest: &str, local: &LocalSource, before: Option<String>, plan: &mut Plan<'_>) {
    if !plan.want_diff {
        return;
    }
    if let Some(after) = local.content.as_ref().and_then(|content| String::from_utf8(content.clone()).ok()) {
        plan.diffs.push(FileDiff {
            path: dest.to_owned(),
            before,
            after,
        });
    }
}

fn push_upload(args: &PutArgs, local: &LocalSource, dest: &str, mode: Option<&Mode>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push_command(Command::Upload {
        source: local.upload.clone(),
        dest: dest.to_owned(),
    });
    if wants_owner(args.user.as_deref(), args.group.as_deref()) {
        plan.push(chown(dest, args.user.as_deref(), args.group.as_deref(), ChownFlags::default())?);
    }
    if let Some(mode) = mode {
        plan.push(chmod(dest, mode, false));
    }
    // mtime before atime: setting mtime would otherwise undo the atime.
    for (which, spec) in [(TimeField::Modification, &args.mtime), (TimeField::Access, &args.atime)] {
        if let Some(time) = wanted_time(which, spec.as_ref(), local, plan)? {
            plan.push(touch(dest, which, &time));
        }
    }
    Ok(())
}

/// Applies mode, owner and times to an upload whose content already matches.
fn update_uploaded(args: &PutArgs, local: &LocalSource, dest: &str, mode: Option<&Mode>, remote: &Value, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut changed = false;
    if let Some(mode) = mode.filter(|mode| !mode.matches(remote)) {
        plan.push(chmod(dest, mode, false));
        changed = true;
    }
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if owner_differs(remote, user, group) {
        plan.push(chown(dest, user, group, ChownFlags::default())?);
        changed = true;
    }
    for (which, spec) in [(TimeField::Modification, &args.mtime), (TimeField::Access, &args.atime)] {
        let Some(time) = wanted_time(which, spec.as_ref(), local, plan)? else {
            continue;
        };
        let current = fact_time(remote, which);
        if current.is_none_or(|current| time.differs_in_seconds(current)) {
            plan.push(touch(dest, which, &time));
            changed = true;
        }
    }
    if !changed {
        plan.noop(format!("file {dest} is already uploaded"));
    }
    Ok(())
}

/// A file fact's `atime`/`mtime`, read as UTC as pyinfra does.
fn fact_time(info: &Value, which: TimeField) -> Option<DateTime> {
    field(info, which.fact_field())
        .and_then(DateTime::parse_iso)
        .map(|time| time.with_offset(Some(0)))
}

/// pyinfra's `_canonicalize_timespec`: the time an `atime`/`mtime` argument asks for,
/// `None` when it asks for nothing. Naive times are in the host's zone.
fn wanted_time(which: TimeField, spec: Option<&TimeSpec>, local: &LocalSource, plan: &mut Plan<'_>) -> Result<Option<DateTime>, OperationError> {
    let name = which.fact_field();
    let bad = |shown: String| OperationError::Value(format!("`{name}` must be a date, a timestamp or a file on the host, not `{shown}`"));
    match spec {
        None | Some(TimeSpec::Bool(false)) => Ok(None),
        Some(TimeSpec::Number(seconds)) if *seconds == 0.0 => Ok(None),
        Some(TimeSpec::Text(text)) if text.is_empty() => Ok(None),
        Some(TimeSpec::Bool(true)) => {
            let Some(path) = &local.path else {
                return Err(OperationError::Type(format!(
                    "`{name}=True` copies the local file's time, but `src` is not a file"
                )));
            };
            let metadata = local_metadata(plan, path)?;
            let time = match which {
                TimeField::Access => metadata.accessed,
                TimeField::Modification => metadata.modified,
            };
            DateTime::from_system_time(time).map(Some).ok_or_else(|| bad(format!("{time:?}")))
        }
        Some(TimeSpec::Number(seconds)) => DateTime::from_timestamp(*seconds).map(Some).ok_or_else(|| bad(seconds.to_string())),
        Some(TimeSpec::Text(text)) => {
            if let Some(time) = DateTime::parse_iso(text) {
                return Ok(Some(if time.is_naive() { time.with_offset(host_offset(plan)?) } else { time }));
            }
            if let Ok(seconds) = text.trim().parse::<f64>() {
                return DateTime::from_timestamp(seconds).map(Some).ok_or_else(|| bad(text.clone()));
            }
            let reference = file_fact(plan, text)?;
            if truthy(&reference) {
                fact_time(&reference, which).map(Some).ok_or_else(|| bad(text.clone()))
            } else {
                Err(bad(text.clone()))
            }
        }
    }
}

/// The host's UTC offset, from the `server.Date` fact (UTC when it has none).
fn host_offset(plan: &mut Plan<'_>) -> Result<Option<i64>, OperationError> {
    let date = plan.fact("server.Date", &[])?;
    let parsed = date.as_str().and_then(DateTime::parse_iso).ok_or_else(|| bad_fact("server.Date", &date))?;
    Ok(Some(parsed.offset_seconds().unwrap_or_default()))
}

/// pyinfra's `_create_remote_dir`: ensures the folder of `remote_path` exists, without
/// touching an existing one's owner or mode, and accepting a link to a folder.
fn create_remote_dir(remote_path: &str, user: Option<&str>, group: Option<&str>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let folder = posix_dirname(remote_path);
    if folder.is_empty() {
        return Ok(());
    }
    let args = DirectoryArgs {
        no_check_owner_mode: true,
        no_fail_on_link: true,
        ..DirectoryArgs::owned(folder, user, group)
    };
    plan_directory(&args, plan)
}

// ---------------------------------------------------------------------------------------
// files.move and files.copy

/// Arguments of `files.move` and `files.copy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferArgs {
    /// The file, directory or link on the host to move or copy.
    pub src: String,
    /// The existing directory on the host to put it in.
    pub dest: String,
    /// Replace what is already at `dest/<name of src>`.
    #[serde(default)]
    pub overwrite: bool,
}

fn move_(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: TransferArgs = parse_arguments("files.move", arguments)?;
    if file_fact(plan, &args.src)?.is_null() {
        return Err(OperationError::Operation(format!("src {} does not exist", args.src)));
    }
    if !truthy(&directory_fact(plan, &args.dest)?) {
        return Err(OperationError::Operation(format!("dest {} is not an existing directory", args.dest)));
    }
    let target = posix_join(&args.dest, posix_basename(&args.src));
    if !file_fact(plan, &target)?.is_null() {
        if !args.overwrite {
            return Err(OperationError::Operation(format!("dest {target} already exists and `overwrite` is unset")));
        }
        plan.push(StringCommand::raw("rm").text("-rf").quoted(target));
    }
    plan.push(StringCommand::raw("mv").quoted(&args.src).quoted(&args.dest));
    Ok(())
}

fn copy(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: TransferArgs = parse_arguments("files.copy", arguments)?;
    let source_is_directory = truthy(&directory_fact(plan, &args.src)?);
    if !truthy(&file_fact(plan, &args.src)?) && !source_is_directory {
        return Err(OperationError::Operation(format!("src {} does not exist", args.src)));
    }
    if !truthy(&directory_fact(plan, &args.dest)?) {
        return Err(OperationError::Operation(format!("dest {} is not an existing directory", args.dest)));
    }
    let target = posix_join(&args.dest, posix_basename(&args.src));
    if truthy(&file_fact(plan, &target)?) && !args.overwrite {
        if remote_files_equal(plan, &args.src, &target)? {
            plan.noop(format!("{target} already exists"));
            return Ok(());
        }
        return Err(OperationError::Operation(format!("{target} already exists and is different than src")));
    }
    let command = StringCommand::raw("cp -r");
    let command = if args.overwrite { command.text("-f") } else { command };
    plan.push(command.quoted(&args.src).quoted(&args.dest));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// files.link, files.file and files.directory

/// pyinfra's `_raise_or_remove_invalid_path`: something else is at `path`; with `force`
/// move it aside (or delete it), else fail.
fn replace_invalid_path(kind: &str, path: &str, force: bool, force_backup: bool, backup_dir: Option<&str>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if !force {
        return Err(OperationError::Operation(format!("{path} exists and is not a {kind}")));
    }
    if force_backup {
        let backup = backup_path(path, &plan.timestamp, backup_dir.filter(|directory| !directory.is_empty()));
        plan.push(StringCommand::raw("mv").quoted(path).quoted(backup));
    } else {
        plan.push(StringCommand::raw("rm").text("-rf").quoted(path));
    }
    Ok(())
}

/// Arguments of `files.link`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkArgs {
    /// The link's path (a string; anything else is a type error).
    pub path: Value,
    /// What the link points to; required when `present`.
    pub target: Option<String>,
    /// Whether the link should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Owner of the link itself.
    pub user: Option<String>,
    /// Group of the link itself.
    pub group: Option<String>,
    /// A symbolic link (else a hard link).
    #[serde(default = "yes")]
    pub symbolic: bool,
    /// Create the link's folder when missing.
    #[serde(default = "yes")]
    pub create_remote_dir: bool,
    /// When something other than a link is at `path`, move it aside (or delete it).
    #[serde(default)]
    pub force: bool,
    /// With `force`, keep what was there as `<path>.<timestamp>` rather than delete it.
    #[serde(default = "yes")]
    pub force_backup: bool,
    /// With `force`, the folder the backup goes to (else beside `path`).
    pub force_backup_dir: Option<String>,
}

impl LinkArgs {
    /// A local link copied by `files.sync`, its folder made beforehand.
    fn synced(path: &str, target: &str, sync: &SyncArgs) -> Self {
        Self {
            path: json!(path),
            target: Some(target.to_owned()),
            present: true,
            user: sync.user.clone(),
            group: sync.group.clone(),
            symbolic: true,
            create_remote_dir: false,
            force: false,
            force_backup: true,
            force_backup_dir: None,
        }
    }

    /// The removal of a link (`files.sync` with `delete`).
    fn removal(path: &str) -> Self {
        Self {
            path: json!(path),
            target: None,
            present: false,
            user: None,
            group: None,
            symbolic: true,
            create_remote_dir: true,
            force: false,
            force_backup: true,
            force_backup_dir: None,
        }
    }
}

fn link(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: LinkArgs = parse_arguments("files.link", arguments)?;
    let path = validate_path(&args.path)?;
    plan_link(&args, &path, plan)
}

fn plan_link(args: &LinkArgs, path: &str, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = args.target.as_deref().filter(|target| !target.is_empty());
    if args.present && target.is_none() {
        return Err(OperationError::Operation("If present is True target must be provided".to_owned()));
    }
    let parent = posix_dirname(path);
    if args.create_remote_dir && !parent.is_empty() {
        plan.hint_paths(&[("files.Link", path), ("files.Directory", parent)]);
    }
    let mut info = link_fact(plan, path)?;
    if info == Value::Bool(false) {
        replace_invalid_path("link", path, args.force, args.force_backup, args.force_backup_dir.as_deref(), plan)?;
        info = Value::Null;
    }
    let remove = StringCommand::raw("rm").text("-f").quoted(path);
    let Some(target) = target.filter(|_| args.present) else {
        if truthy(&info) {
            plan.push(remove);
        } else {
            // pyinfra's message is not an f-string: the braces are shown as written.
            plan.noop("link {link} does not exist");
        }
        return Ok(());
    };
    let add = StringCommand::raw(if args.symbolic { "ln -s" } else { "ln" }).quoted(target).quoted(path);
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    let link_owner = ChownFlags {
        recursive: false,
        dereference: false,
    };
    if info.is_null() {
        if args.create_remote_dir {
            create_remote_dir(path, args.user.as_deref(), args.group.as_deref(), plan)?;
        }
        plan.push(add);
        if wants_owner(user, group) {
            plan.push(chown(path, user, group, link_owner)?);
        }
        return Ok(());
    }
    let mut changed = false;
    if !truthy(&info) || field(&info, "link_target") != Some(target) {
        plan.push(remove);
        plan.push(add);
        changed = true;
    }
    if owner_differs(&info, user, group) {
        plan.push(chown(path, user, group, link_owner)?);
        changed = true;
    }
    if !changed {
        plan.noop(format!("link {path} already exists"));
    }
    Ok(())
}

/// Arguments of `files.file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArgs {
    /// The file's path (a string; anything else is a type error).
    pub path: Value,
    /// Whether the file should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Owner of the file.
    pub user: Option<String>,
    /// Group of the file.
    pub group: Option<String>,
    /// Permissions of the file (`644`, `"0644"`, `"u+x"`).
    pub mode: Option<ModeArg>,
    /// Touch an existing file (update its times) on every run.
    #[serde(default)]
    pub touch: bool,
    /// Create the file's folder when missing.
    #[serde(default = "yes")]
    pub create_remote_dir: bool,
    /// When something other than a file is at `path`, move it aside (or delete it).
    #[serde(default)]
    pub force: bool,
    /// With `force`, keep what was there as `<path>.<timestamp>` rather than delete it.
    #[serde(default = "yes")]
    pub force_backup: bool,
    /// With `force`, the folder the backup goes to (else beside `path`).
    pub force_backup_dir: Option<String>,
}

impl FileArgs {
    /// A wanted file at `path` with an owner and pyinfra's defaults otherwise.
    fn owned(path: &str, user: Option<&str>, group: Option<&str>) -> Self {
        Self {
            path: json!(path),
            present: true,
            user: user.map(str::to_owned),
            group: group.map(str::to_owned),
            mode: None,
            touch: false,
            create_remote_dir: true,
            force: false,
            force_backup: true,
            force_backup_dir: None,
        }
    }
}

fn file(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: FileArgs = parse_arguments("files.file", arguments)?;
    plan_file(&args, plan)
}

fn plan_file(args: &FileArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let path = validate_path(&args.path)?;
    let mode = Mode::parse(args.mode.as_ref())?;
    let parent = posix_dirname(&path);
    if args.create_remote_dir && !parent.is_empty() {
        plan.hint_paths(&[("files.File", &path), ("files.Directory", parent)]);
    }
    let mut info = file_fact(plan, &path)?;
    if info == Value::Bool(false) {
        replace_invalid_path("file", &path, args.force, args.force_backup, args.force_backup_dir.as_deref(), plan)?;
        info = Value::Null;
    }
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if !args.present {
        if truthy(&info) {
            plan.push(StringCommand::raw("rm").text("-f").quoted(&path));
        } else {
            // pyinfra's message is not an f-string: the braces are shown as written.
            plan.noop("file {0} does not exist");
        }
        return Ok(());
    }
    if info.is_null() {
        if args.create_remote_dir {
            create_remote_dir(&path, args.user.as_deref(), args.group.as_deref(), plan)?;
        }
        plan.push(StringCommand::raw("touch").quoted(&path));
        if let Some(mode) = &mode {
            plan.push(chmod(&path, mode, false));
        }
        if wants_owner(user, group) {
            plan.push(chown(&path, user, group, ChownFlags::default())?);
        }
        return Ok(());
    }
    let mut changed = false;
    if args.touch {
        plan.push(StringCommand::raw("touch").quoted(&path));
        changed = true;
    }
    if let Some(mode) = mode.filter(|mode| !truthy(&info) || !mode.matches(&info)) {
        plan.push(chmod(&path, &mode, false));
        changed = true;
    }
    if owner_differs(&info, user, group) {
        plan.push(chown(&path, user, group, ChownFlags::default())?);
        changed = true;
    }
    if !changed {
        plan.noop(format!("file {path} already exists"));
    }
    Ok(())
}

/// Arguments of `files.directory`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryArgs {
    /// The directory's path (a string; anything else is a type error).
    pub path: Value,
    /// Whether the directory should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Owner of the directory.
    pub user: Option<String>,
    /// Group of the directory.
    pub group: Option<String>,
    /// Permissions of the directory.
    pub mode: Option<ModeArg>,
    /// Apply owner and mode to the whole tree (only when the top directory differs).
    #[serde(default)]
    pub recursive: bool,
    /// When something other than a directory is at `path`, move it aside (or delete it).
    #[serde(default)]
    pub force: bool,
    /// With `force`, keep what was there as `<path>.<timestamp>` rather than delete it.
    #[serde(default = "yes")]
    pub force_backup: bool,
    /// With `force`, the folder the backup goes to (else beside `path`).
    pub force_backup_dir: Option<String>,
    /// Internal: leave an existing directory's owner and mode alone.
    #[serde(default, rename = "_no_check_owner_mode")]
    pub no_check_owner_mode: bool,
    /// Internal: accept a link where the directory should be.
    #[serde(default, rename = "_no_fail_on_link")]
    pub no_fail_on_link: bool,
}

impl DirectoryArgs {
    /// A wanted directory at `path` with an owner and pyinfra's defaults otherwise.
    fn owned(path: &str, user: Option<&str>, group: Option<&str>) -> Self {
        Self {
            path: json!(path),
            present: true,
            user: user.map(str::to_owned),
            group: group.map(str::to_owned),
            mode: None,
            recursive: false,
            force: false,
            force_backup: true,
            force_backup_dir: None,
            no_check_owner_mode: false,
            no_fail_on_link: false,
        }
    }
}

fn directory(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: DirectoryArgs = parse_arguments("files.directory", arguments)?;
    plan_directory(&args, plan)
}

fn plan_directory(args: &DirectoryArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let path = validate_path(&args.path)?;
    let mode = Mode::parse(args.mode.as_ref())?;
    let mut info = directory_fact(plan, &path)?;
    if info == Value::Bool(false) {
        if args.no_fail_on_link && truthy(&link_fact(plan, &path)?) {
            plan.noop(format!("directory {path} already exists (as a link)"));
            return Ok(());
        }
        replace_invalid_path("directory", &path, args.force, args.force_backup, args.force_backup_dir.as_deref(), plan)?;
        info = Value::Null;
    }
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    let owner_flags = ChownFlags {
        recursive: args.recursive,
        dereference: true,
    };
    if !args.present {
        if truthy(&info) {
            plan.push(StringCommand::raw("rm").text("-rf").quoted(&path));
        } else {
            // pyinfra's message is not an f-string: the braces are shown as written.
            plan.noop("directory {0} does not exist");
        }
        return Ok(());
    }
    if info.is_null() {
        plan.push(StringCommand::raw("mkdir").text("-p").quoted(&path));
        if let Some(mode) = &mode {
            plan.push(chmod(&path, mode, args.recursive));
        }
        if wants_owner(user, group) {
            plan.push(chown(&path, user, group, owner_flags)?);
        }
        return Ok(());
    }
    if args.no_check_owner_mode {
        return Ok(());
    }
    let mut changed = false;
    if let Some(mode) = mode.filter(|mode| !truthy(&info) || !mode.matches(&info)) {
        plan.push(chmod(&path, &mode, args.recursive));
        changed = true;
    }
    if owner_differs(&info, user, group) {
        plan.push(chown(&path, user, group, owner_flags)?);
        changed = true;
    }
    if !changed {
        plan.noop(format!("directory {path} already exists"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// files.flags

/// Arguments of `files.flags`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagsArgs {
    /// The file or directory on the host.
    pub path: String,
    /// The BSD file flags (`chflags`) to set or clear, one or a list.
    pub flags: Option<OneOrMany>,
    /// Set the flags (else clear them).
    #[serde(default = "yes")]
    pub present: bool,
}

fn flags(arguments: &Map<String, Value>, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let args: FlagsArgs = parse_arguments("files.flags", arguments)?;
    let wanted = args.flags.clone().map(OneOrMany::into_vec).unwrap_or_default();
    if wanted.is_empty() {
        plan.noop(format!("no changes requested to flags for '{}'", args.path));
        return Ok(());
    }
    let current = path_fact(plan, "files.Flags", &args.path)?;
    let current: BTreeSet<&str> = current.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let to_change: BTreeSet<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|flag| current.contains(flag) != args.present)
        .collect();
    if to_change.is_empty() {
        let state = if args.present { "set" } else { "clear" };
        plan.noop(format!("'{}' already has '{}' {state}", args.path, wanted.join(",")));
        return Ok(());
    }
    let prefix = if args.present { "" } else { "no" };
    let changes = to_change.iter().map(|flag| format!("{prefix}{flag}")).collect::<Vec<_>>().join(",");
    plan.push(StringCommand::raw("chflags").quoted(changes).quoted(&args.path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io;
    use std::time::{Duration, SystemTime};

    use oxinfra_core::{FactKey, FactSource, LocalFiles, Missing};

    use super::*;

    /// Facts keyed as the engine prints them: `files.File (path=/x)`.
    struct Facts(BTreeMap<String, Value>);

    impl FactSource for Facts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.0.get(&key.to_string()).cloned().ok_or_else(|| Missing(key.clone()))
        }
    }

    /// Controller files in memory: files (mode 644 unless given, fixed times) and
    /// links; every ancestor of an entry is a directory (mode 755), listed sorted.
    #[derive(Default)]
    struct Files {
        files: BTreeMap<PathBuf, (Vec<u8>, LocalMetadata)>,
        links: BTreeMap<PathBuf, PathBuf>,
    }

    const FILE_TIME: Duration = Duration::from_secs(957_139_260);

    impl Files {
        fn file(self, path: &str, content: &str) -> Self {
            self.file_with_mode(path, content, 0o644)
        }

        fn file_with_mode(mut self, path: &str, content: &str, permissions: u32) -> Self {
            let time = SystemTime::UNIX_EPOCH + FILE_TIME;
            let metadata = LocalMetadata {
                permissions,
                accessed: time,
                modified: time,
            };
            self.files.insert(path.into(), (content.as_bytes().to_vec(), metadata));
            self
        }

        fn link(mut self, path: &str, target: &str) -> Self {
            self.links.insert(path.into(), target.into());
            self
        }

        fn entries(&self) -> impl Iterator<Item = &PathBuf> {
            self.files.keys().chain(self.links.keys())
        }
    }

    impl LocalFiles for Files {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.files
                .get(path)
                .map(|(content, _)| content.clone())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn is_file(&self, path: &Path) -> bool {
            self.files.contains_key(path)
        }

        fn is_dir(&self, path: &Path) -> bool {
            path == Path::new("/") || self.entries().any(|entry| entry.starts_with(path) && entry != path)
        }

        fn is_symlink(&self, path: &Path) -> bool {
            self.links.contains_key(path)
        }

        fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
            self.links.get(path).cloned().ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn metadata(&self, path: &Path) -> io::Result<LocalMetadata> {
            match self.files.get(path) {
                Some((_, metadata)) => Ok(*metadata),
                None if self.is_dir(path) => Ok(LocalMetadata {
                    permissions: 0o755,
                    accessed: SystemTime::UNIX_EPOCH,
                    modified: SystemTime::UNIX_EPOCH,
                }),
                None => Err(io::Error::from(io::ErrorKind::NotFound)),
            }
        }

        fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
            let children: BTreeSet<PathBuf> = self
                .entries()
                .filter_map(|entry| entry.strip_prefix(path).ok())
                .filter_map(|relative| relative.components().next())
                .map(|first| path.join(first))
                .collect();
            Ok(children.into_iter().collect())
        }
    }

    /// What planning produced: shown commands, the no-op reason and the diffs.
    struct Planned {
        result: Result<(), OperationError>,
        commands: Vec<String>,
        uploads: Vec<UploadSource>,
        /// Each download's local path and `create_local_dir`.
        downloads: Vec<(PathBuf, bool)>,
        noop: Option<String>,
        diffs: Vec<FileDiff>,
    }

    impl Planned {
        fn failed(message: &str) -> Self {
            let result = Err(OperationError::Value(message.to_owned()));
            Self {
                result,
                commands: Vec::new(),
                uploads: Vec::new(),
                downloads: Vec::new(),
                noop: None,
                diffs: Vec::new(),
            }
        }
    }

    fn plan_with(name: &str, arguments: Value, facts: &[(&str, Value)], files: &[(&str, &str)], want_diff: bool) -> Planned {
        let files = files.iter().fold(Files::default(), |files, (path, content)| files.file(path, content));
        plan_against(name, arguments, facts, &files, want_diff)
    }

    fn plan_against(name: &str, arguments: Value, facts: &[(&str, Value)], files: &Files, want_diff: bool) -> Planned {
        let mut facts = Facts(facts.iter().map(|(key, value)| ((*key).to_owned(), value.clone())).collect());
        let mut plan = Plan::new(&mut facts, files, PathBuf::from("/deploy"), "ts".to_owned());
        plan.want_diff = want_diff;
        let Value::Object(arguments) = arguments else {
            return Planned::failed("arguments must be an object");
        };
        let operation = OPERATIONS.iter().find(|operation| operation.name == name);
        let result = operation.map_or(Err(OperationError::Value(format!("no {name}"))), |operation| {
            (operation.plan)(&arguments, &mut plan)
        });
        let uploads = plan
            .commands
            .iter()
            .filter_map(|command| match command {
                Command::Upload { source, .. } => Some(source.clone()),
                _ => None,
            })
            .collect();
        let downloads = plan
            .commands
            .iter()
            .filter_map(|command| match command {
                Command::Download { dest, create_local_dir, .. } => Some((dest.clone(), *create_local_dir)),
                _ => None,
            })
            .collect();
        let commands = plan.commands.iter().map(Command::display).collect();
        Planned {
            result,
            commands,
            uploads,
            downloads,
            noop: plan.noop_reason.clone(),
            diffs: plan.diffs.clone(),
        }
    }

    fn plan_op(name: &str, arguments: Value, facts: &[(&str, Value)]) -> Planned {
        plan_with(name, arguments, facts, &[], false)
    }

    #[test]
    fn put_memory_content_into_directory_is_type_error() {
        let facts = [("files.File (path=/etc)", json!(false)), ("files.Directory (path=/etc)", json!({"mode": 755}))];
        let planned = plan_op("files.put", json!({"src": {"content": "hello"}, "dest": "/etc"}), &facts);
        assert!(matches!(planned.result, Err(OperationError::Type(message)) if message.contains("file-like object")));
    }

    #[test]
    fn put_memory_content_uploads_its_bytes() {
        let facts = [
            ("files.File (path=/etc/motd)", json!(null)),
            ("files.Directory (path=/etc/motd)", json!(null)),
            ("files.Directory (path=/etc)", json!({"mode": 755})),
        ];
        let planned = plan_op("files.put", json!({"src": {"content": "hello"}, "dest": "/etc/motd", "mode": "0600"}), &facts);
        assert_eq!(planned.result, Ok(()));
        assert_eq!(planned.uploads, vec![UploadSource::Content(b"hello".to_vec())]);
        assert_eq!(planned.commands, vec!["upload /etc/motd", "chmod 600 /etc/motd"]);
    }

    #[test]
    fn put_records_diff_against_current_contents() {
        let facts = [
            ("files.File (path=/etc/motd)", json!({"mode": 644})),
            ("files.Sha1File (path=/etc/motd)", json!("0000")),
            ("files.FileContents (path=/etc/motd)", json!(["old"])),
        ];
        let arguments = json!({"src": "motd", "dest": "/etc/motd", "create_remote_dir": false});
        let planned = plan_with("files.put", arguments, &facts, &[("/deploy/motd", "new\n")], true);
        assert_eq!(planned.result, Ok(()));
        let expected = FileDiff {
            path: "/etc/motd".into(),
            before: Some("old\n".into()),
            after: "new\n".into(),
        };
        assert_eq!(planned.diffs, vec![expected]);
    }

    #[test]
    fn put_sets_mtime_from_timestamp() {
        let facts = [
            ("files.File (path=/x)", json!(null)),
            ("files.Directory (path=/x)", json!(null)),
            ("files.Directory (path=/)", json!(true)),
        ];
        let planned = plan_with("files.put", json!({"src": "/f", "dest": "/x", "mtime": 86400}), &facts, &[("/f", "")], false);
        assert_eq!(planned.commands, vec!["upload /x", "touch -m -d 1970-01-02T00:00:00Z /x"]);
    }

    #[test]
    fn put_time_from_missing_reference_file_is_value_error() {
        let facts = [
            ("files.File (path=/x)", json!(null)),
            ("files.Directory (path=/x)", json!(null)),
            ("files.Directory (path=/)", json!(true)),
            ("files.File (path=/nope)", json!(null)),
        ];
        let planned = plan_with("files.put", json!({"src": "/f", "dest": "/x", "atime": "/nope"}), &facts, &[("/f", "")], false);
        assert!(matches!(planned.result, Err(OperationError::Value(message)) if message.contains("`atime`")));
    }

    #[test]
    fn download_uses_given_temp_dir() {
        let facts = [("files.File (path=/d)", json!(null)), ("server.Which (command=curl)", json!("/usr/bin/curl"))];
        let planned = plan_op("files.download", json!({"src": "http://x", "dest": "/d", "temp_dir": "/var/tmp"}), &facts);
        let temp = temp_filename_in("/var/tmp", "/d");
        assert_eq!(planned.commands, vec![format!("curl -sSLf http://x -o {temp}"), format!("mv {temp} /d")]);
    }

    #[test]
    fn download_again_when_cache_expired() {
        let facts = [
            ("files.File (path=/d)", json!({"mtime": "2015-01-01T00:00:00"})),
            ("server.Date", json!("2015-01-01T02:00:00+01:00")),
            ("server.Which (command=curl)", json!(null)),
            ("server.Which (command=wget)", json!("/usr/bin/wget")),
        ];
        let planned = plan_op("files.download", json!({"src": "http://x", "dest": "/d", "cache_time": 3600}), &facts);
        assert_eq!(
            planned.commands.first().map(String::as_str),
            Some("wget -q http://x -O _tempfile_ || ( rm -f _tempfile_ ; exit 1 )")
        );
    }

    #[test]
    fn nested_directory_check_leaves_existing_owner_alone() {
        let facts = [
            ("files.File (path=/srv/app/f)", json!(null)),
            ("files.Directory (path=/srv/app)", json!({"mode": 700, "user": "root"})),
        ];
        let planned = plan_op("files.file", json!({"path": "/srv/app/f", "user": "app"}), &facts);
        assert_eq!(planned.commands, vec!["touch /srv/app/f", "chown app /srv/app/f"]);
    }

    #[test]
    fn file_symbolic_mode_is_always_applied() {
        let facts = [("files.File (path=/f)", json!({"mode": 755, "user": "root", "group": "root"}))];
        let planned = plan_op("files.file", json!({"path": "/f", "mode": "u+x"}), &facts);
        assert_eq!(planned.commands, vec!["chmod u+x /f"]);
    }

    #[test]
    fn file_already_absent_is_noop() {
        let planned = plan_op("files.file", json!({"path": "/f", "present": false}), &[("files.File (path=/f)", json!(null))]);
        assert_eq!((planned.commands.len(), planned.noop.as_deref()), (0, Some("file {0} does not exist")));
    }

    #[test]
    fn file_mode_with_bad_digits_is_value_error() {
        let planned = plan_op("files.file", json!({"path": "/f", "mode": 800}), &[]);
        assert!(matches!(planned.result, Err(OperationError::Value(_))));
    }

    #[test]
    fn hard_link_uses_plain_ln() {
        let planned = plan_op(
            "files.link",
            json!({"path": "l", "target": "/t", "symbolic": false}),
            &[("files.Link (path=l)", json!(null))],
        );
        assert_eq!(planned.commands, vec!["ln /t l"]);
    }

    #[test]
    fn directory_force_without_backup_removes() {
        let facts = [("files.Directory (path=/d)", json!(false))];
        let planned = plan_op("files.directory", json!({"path": "/d", "force": true, "force_backup": false}), &facts);
        assert_eq!(planned.commands, vec!["rm -rf /d", "mkdir -p /d"]);
    }

    #[test]
    fn sync_applies_dir_mode_and_file_mode() {
        let facts = [
            ("files.Link (path=/dst)", json!(null)),
            ("files.Directory (path=/dst)", json!(null)),
            ("files.Directory (path=/dst/sub)", json!(null)),
            ("files.File (path=/dst/sub/a)", json!(null)),
            ("files.Directory (path=/dst/sub/a)", json!(null)),
        ];
        let arguments = json!({"src": "/src", "dest": "/dst", "mode": 600, "dir_mode": "0700"});
        let planned = plan_with("files.sync", arguments, &facts, &[("/src/sub/a", "a")], false);
        let expected = [
            "mkdir -p /dst",
            "chmod 700 /dst",
            "mkdir -p /dst/sub",
            "chmod 700 /dst/sub",
            "upload /dst/sub/a",
            "chmod 600 /dst/sub/a",
        ];
        assert_eq!(planned.commands, expected);
    }

    /// The key `files.sync` reads `files.FindFiles`/`files.FindLinks` under.
    fn find_key(fact: &str, path: &str) -> String {
        format!(
            "{fact} (args=None, fname=None, iname=None, max_size=None, maxdepth=None, min_size=None, path={path}, path_match=None, quote_path=True, regex=None, size=None)"
        )
    }

    #[test]
    fn sync_copies_local_modes() {
        let facts = [
            ("files.Link (path=/dst)", json!(null)),
            ("files.Directory (path=/dst)", json!({"mode": 755})),
            ("files.Directory (path=/dst/sub)", json!(null)),
            ("files.File (path=/dst/sub/a)", json!(null)),
            ("files.Directory (path=/dst/sub/a)", json!(null)),
        ];
        let files = Files::default().file_with_mode("/src/sub/a", "a", 0o4750);
        let planned = plan_against("files.sync", json!({"src": "/src", "dest": "/dst"}), &facts, &files, false);
        let expected = ["mkdir -p /dst/sub", "chmod 755 /dst/sub", "upload /dst/sub/a", "chmod 750 /dst/sub/a"];
        assert_eq!(planned.commands, expected);
    }

    #[test]
    fn sync_copies_links_and_deletes_only_unknown_ones() {
        let find_files = find_key("files.FindFiles", "/dst");
        let find_links = find_key("files.FindLinks", "/dst");
        let facts = [
            ("files.Link (path=/dst)", json!(null)),
            ("files.Directory (path=/dst)", json!({"mode": 755})),
            ("files.Link (path=/dst/l)", json!(null)),
            ("files.File (path=/dst/f)", json!(null)),
            ("files.Directory (path=/dst/f)", json!(null)),
            (find_files.as_str(), json!([])),
            (find_links.as_str(), json!(["/dst/l", "/dst/old"])),
            ("files.Link (path=/dst/old)", json!({"link_target": "/x"})),
        ];
        let files = Files::default().file("/src/f", "f").link("/src/l", "../t");
        let planned = plan_against("files.sync", json!({"src": "/src/", "dest": "/dst", "delete": true}), &facts, &files, false);
        let expected = ["ln -s ../t /dst/l", "upload /dst/f", "chmod 644 /dst/f", "rm -f /dst/old"];
        assert_eq!((planned.result, planned.commands), (Ok(()), expected.map(String::from).to_vec()));
    }

    #[test]
    fn put_copies_local_mode_and_mtime() {
        let facts = [
            ("files.File (path=/x)", json!(null)),
            ("files.Directory (path=/x)", json!(null)),
            ("files.Directory (path=/)", json!(true)),
        ];
        let files = Files::default().file_with_mode("/f", "", 0o600);
        let planned = plan_against(
            "files.put",
            json!({"src": "/f", "dest": "/x", "mode": true, "mtime": true}),
            &facts,
            &files,
            false,
        );
        let expected = ["upload /x", "chmod 600 /x", "touch -m -d 2000-05-01T00:01:00Z /x"];
        assert_eq!(planned.commands, expected);
    }

    #[test]
    fn put_time_of_memory_content_is_type_error() {
        let facts = [
            ("files.File (path=/x)", json!(null)),
            ("files.Directory (path=/x)", json!(null)),
            ("files.Directory (path=/)", json!(true)),
        ];
        let planned = plan_op("files.put", json!({"src": {"content": "hi"}, "dest": "/x", "atime": true}), &facts);
        assert!(matches!(planned.result, Err(OperationError::Type(_))));
    }

    #[test]
    fn get_carries_create_local_dir_to_the_download() {
        let planned = plan_op(
            "files.get",
            json!({"src": "/r", "dest": "out/r", "create_local_dir": true}),
            &[("files.File (path=/r)", json!(null))],
        );
        assert_eq!(planned.result, Ok(()));
        assert_eq!(planned.downloads, vec![(PathBuf::from("/deploy/out/r"), true)]);
    }

    #[test]
    fn get_matching_local_copy_is_noop() {
        let facts = [
            ("files.File (path=/r)", json!({"mode": 644})),
            ("files.Sha1File (path=/r)", json!(local_checksum("files.Sha1File", b"x"))),
        ];
        let planned = plan_with("files.get", json!({"src": "/r", "dest": "l"}), &facts, &[("/deploy/l", "x")], false);
        assert_eq!(planned.noop.as_deref(), Some("file /deploy/l has already been downloaded"));
    }
}
