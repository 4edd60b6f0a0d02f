//! Operations of `pyinfra/operations/apt.py`: keys, one-line and deb822 sources, PPAs,
//! `.deb` files, and packages with `apt-get`, in pyinfra's order.
//!
//! `apt.key` delegates to [`gpg::key`]. Files are changed through `files.*` operations
//! (`registry::call`), as pyinfra's `yield from files.X._inner`.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use oxinfra_facts::apt::{APT_KEYRING_DIRS, SourcesEntry, noninteractive_apt, parse_apt_repo};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::files::util::{DateTime, truthy};
use crate::gpg::{self, KeyIds};
use crate::packaging::{PackageCommands, PackageList, UrlParts, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// The file `apt.update` touches after updating, which `cache_time` is measured from.
const APT_UPDATE_FILENAME: &str = "/var/lib/apt/periodic/update-success-stamp";

static KEYRING_UNSAFE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"[^\w.-]+"));
static UNDERSCORES: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"_+"));

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "apt.key",
        params: &["src", "keyserver", "keyid", "dest", "present"],
        plan: |arguments, plan| key(&parse_arguments("apt.key", arguments)?, plan),
    },
    OperationDef {
        name: "apt.repo",
        params: &["src", "present", "filename"],
        plan: |arguments, plan| repo(&parse_arguments("apt.repo", arguments)?, plan),
    },
    OperationDef {
        name: "apt.sources_file",
        params: &["filename", "types", "uris", "suites", "components", "architectures", "signed_by", "present"],
        plan: |arguments, plan| sources_file(&parse_arguments("apt.sources_file", arguments)?, plan),
    },
    OperationDef {
        name: "apt.ppa",
        params: &["src", "present"],
        plan: |arguments, plan| ppa(&parse_arguments("apt.ppa", arguments)?, plan),
    },
    OperationDef {
        name: "apt.deb",
        params: &["src", "present", "force"],
        plan: |arguments, plan| deb(&parse_arguments("apt.deb", arguments)?, plan),
    },
    OperationDef {
        name: "apt.update",
        params: &["cache_time"],
        plan: |arguments, plan| update(&parse_arguments("apt.update", arguments)?, plan),
    },
    OperationDef {
        name: "apt.upgrade",
        params: &["auto_remove"],
        plan: |arguments, plan| upgrade(&parse_arguments("apt.upgrade", arguments)?, plan),
    },
    OperationDef {
        name: "apt.dist_upgrade",
        params: &["auto_remove"],
        plan: |arguments, plan| dist_upgrade(&parse_arguments("apt.dist_upgrade", arguments)?, plan),
    },
    OperationDef {
        name: "apt.packages",
        params: &[
            "packages",
            "present",
            "latest",
            "update",
            "cache_time",
            "upgrade",
            "force",
            "no_recommends",
            "allow_downgrades",
            "purge",
            "extra_install_args",
            "extra_uninstall_args",
        ],
        plan: |arguments, plan| packages(&parse_arguments("apt.packages", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

/// One value or a list of them, as pyinfra's `str | list[str]` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value (for `apt.sources_file`'s fields: space-separated values).
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, a single one split at whitespace (`"deb deb-src"`).
    fn words(&self) -> Vec<String> {
        match self {
            Self::One(value) => value.split_whitespace().map(str::to_owned).collect(),
            Self::Many(values) => values.clone(),
        }
    }
}

/// Python's truth of an optional text argument.
fn given(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

// ---------------------------------------------------------------------------------------
// apt.key

/// Arguments of `apt.key`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyArgs {
    /// A key file on the host, or an `http(s)` URL to fetch it from; armored keys are
    /// converted to binary.
    #[serde(default)]
    pub src: Option<String>,
    /// A keyserver to receive `keyid` from.
    #[serde(default)]
    pub keyserver: Option<String>,
    /// One key id or several: what to fetch from `keyserver`, or which keys to remove.
    #[serde(default)]
    pub keyid: Option<KeyIds>,
    /// The keyring file: an absolute path, or a name inside `/etc/apt/keyrings/`;
    /// derived from `src` or the key ids when not given.
    #[serde(default)]
    pub dest: Option<String>,
    /// Whether the key should be there; removing with only `keyid` searches all of APT's
    /// keyring directories.
    #[serde(default = "yes")]
    pub present: bool,
}

/// Lower-cased, with runs of anything but word characters, `.` and `-` turned into
/// one `_`, for a keyring file name.
fn sanitize_keyring_part(name: &str) -> Result<String, OperationError> {
    let pattern_error = |error: &regex::Error| OperationError::Operation(error.to_string());
    let unsafe_characters = KEYRING_UNSAFE.as_ref().map_err(pattern_error)?;
    let underscores = UNDERSCORES.as_ref().map_err(pattern_error)?;
    let lowered = name.trim().to_lowercase();
    let replaced = unsafe_characters.replace_all(&lowered, "_");
    let single = underscores.replace_all(&replaced, "_");
    let trimmed = single.trim_matches(|c| c == '_' || c == '.');
    Ok(if trimmed.is_empty() { "apt-keyring".to_owned() } else { trimmed.to_owned() })
}

fn key_stem(name: &str) -> String {
    name.replace(".asc", "").replace(".gpg", "")
}

/// The keyring path in `/etc/apt/keyrings/` named after the URL's host and file, the
/// local file's name, or the key ids.
fn derive_keyring_path(src: Option<&str>, keyids: Option<&[String]>) -> Result<String, OperationError> {
    let base = if let Some(src) = src.filter(|src| !src.is_empty()) {
        let url = UrlParts::parse(src);
        if !url.scheme.is_empty() && !url.netloc.is_empty() {
            let domain = sanitize_keyring_part(&url.netloc.replace(':', "_"))?;
            let file = url.path.rsplit('/').next().filter(|file| !file.is_empty()).unwrap_or("key");
            format!("{domain}-{}", sanitize_keyring_part(&key_stem(file))?)
        } else {
            sanitize_keyring_part(&key_stem(src.rsplit('/').next().unwrap_or(src)))?
        }
    } else if let Some(keyids) = keyids.filter(|keyids| !keyids.is_empty()) {
        format!("keyserver-{}", sanitize_keyring_part(&keyids.join("-"))?)
    } else {
        "apt-keyring".to_owned()
    };
    Ok(format!("/etc/apt/keyrings/{base}.gpg"))
}

/// `apt.key`: installs a key into a keyring file for `signed-by=` (never `apt-key`),
/// or removes a keyring file or keys from keyrings.
pub fn key(args: &KeyArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let src = given(args.src.as_ref());
    let keyserver = given(args.keyserver.as_ref());
    let keyid = args.keyid.as_ref().filter(|keyid| keyid.is_given());
    let dest = given(args.dest.as_ref());
    if !args.present && keyid.is_some() && dest.is_none() && src.is_none() && keyserver.is_none() {
        let request = gpg::KeyArgs {
            keyid: args.keyid.clone(),
            present: false,
            working_dirs: Some(APT_KEYRING_DIRS.iter().map(|directory| (*directory).to_owned()).collect()),
            ..gpg::KeyArgs::default()
        };
        return gpg::key(&request, plan);
    }
    let dest = match dest {
        Some(dest) if !dest.starts_with('/') => format!("/etc/apt/keyrings/{dest}"),
        Some(dest) => dest.to_owned(),
        None if src.is_some() => derive_keyring_path(src, None)?,
        None => match (keyserver, keyid) {
            (Some(_), Some(keyid)) => derive_keyring_path(None, Some(&keyid.items()))?,
            _ => "/etc/apt/keyrings/apt-key.gpg".to_owned(),
        },
    };
    let request = gpg::KeyArgs {
        src: args.src.clone(),
        dest: Some(dest),
        keyserver: args.keyserver.clone(),
        keyid: args.keyid.clone(),
        present: args.present,
        ..gpg::KeyArgs::default()
    };
    gpg::key(&request, plan)
}

// ---------------------------------------------------------------------------------------
// apt.repo, apt.sources_file, apt.ppa

/// Arguments of `apt.repo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoArgs {
    /// The one-line source, `deb [options] URL suite components`.
    pub src: String,
    /// Whether the source should be configured.
    #[serde(default = "yes")]
    pub present: bool,
    /// Keep the line in `/etc/apt/sources.list.d/<filename>.list` instead of
    /// `/etc/apt/sources.list`.
    #[serde(default)]
    pub filename: Option<String>,
}

/// pyinfra's `AptRepo` equality: the five fields, whatever else a value holds.
fn same_repo(left: &Value, right: &Value) -> bool {
    ["type", "url", "distribution", "components", "options"]
        .iter()
        .all(|field| left.get(field) == right.get(field))
}

fn configured(sources: &Value, repo: &Value) -> bool {
    sources.as_array().is_some_and(|sources| sources.iter().any(|source| same_repo(source, repo)))
}

/// `apt.repo`: adds or removes a one-line source, as a line of a `.list` file.
pub fn repo(args: &RepoArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let path = match given(args.filename.as_ref()) {
        Some(filename) => format!("/etc/apt/sources.list.d/{filename}.list"),
        None => "/etc/apt/sources.list".to_owned(),
    };
    let sources = plan.fact("apt.AptSources", &[])?;
    let wanted = parse_apt_repo(&args.src).map_err(|error| OperationError::Value(error.to_string()))?;
    let is_present = wanted.is_some_and(|wanted| configured(&sources, &wanted));
    match (is_present, args.present) {
        (false, true) => call(plan, "files.line", json!({"path": path, "line": args.src, "escape_regex_characters": true})),
        (true, false) => call(
            plan,
            "files.line",
            json!({"path": path, "line": args.src, "present": false, "escape_regex_characters": true}),
        ),
        _ => {
            let state = if args.present { "exists" } else { "does not exist" };
            plan.noop(format!("apt repo \"{}\" {state}", args.src));
            Ok(())
        }
    }
}

#[expect(clippy::unnecessary_wraps, reason = "serde's default has the field's type")]
fn deb_type() -> Option<OneOrMany> {
    Some(OneOrMany::One("deb".to_owned()))
}

/// Arguments of `apt.sources_file`. Each multi-valued field takes a list or one text
/// of space-separated values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFileArgs {
    /// The file's name in `/etc/apt/sources.list.d/`, without `.sources`.
    pub filename: String,
    /// `deb`, `deb-src`, or both.
    #[serde(default = "deb_type")]
    pub types: Option<OneOrMany>,
    /// Repository URLs (at least one).
    #[serde(default)]
    pub uris: Option<OneOrMany>,
    /// Suites such as `bookworm` (at least one).
    #[serde(default)]
    pub suites: Option<OneOrMany>,
    /// Components such as `main`.
    #[serde(default)]
    pub components: Option<OneOrMany>,
    /// Architectures to restrict the repository to.
    #[serde(default)]
    pub architectures: Option<OneOrMany>,
    /// The keyring that signs the repository (an absolute path).
    #[serde(default)]
    pub signed_by: Option<String>,
    /// Whether the file should exist.
    #[serde(default = "yes")]
    pub present: bool,
}

fn words(value: Option<&OneOrMany>) -> Vec<String> {
    value.map(OneOrMany::words).unwrap_or_default()
}

/// `apt.sources_file`: writes a deb822 `.sources` file unless every repository it
/// describes is already configured (in any file), or removes it.
pub fn sources_file(args: &SourcesFileArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let dest = format!("/etc/apt/sources.list.d/{}.sources", args.filename);
    if !args.present {
        if truthy(&plan.fact("files.File", &[("path", json!(dest))])?) {
            return call(plan, "files.file", json!({"path": dest, "present": false}));
        }
        plan.noop(format!("apt sources file \"{dest}\" does not exist"));
        return Ok(());
    }
    let mut types = words(args.types.as_ref());
    if types.is_empty() {
        types = vec!["deb".to_owned()];
    }
    let signed_by = given(args.signed_by.as_ref());
    let entry = SourcesEntry {
        types,
        uris: words(args.uris.as_ref()),
        suites: words(args.suites.as_ref()),
        components: words(args.components.as_ref()),
        architectures: Some(words(args.architectures.as_ref())).filter(|values| !values.is_empty()),
        signed_by: signed_by.map(|signed_by| vec![signed_by.to_owned()]),
        trusted: None,
    };
    if entry.uris.is_empty() || entry.suites.is_empty() {
        return Err(OperationError::Operation("apt.sources_file requires at least one URI and one suite".to_owned()));
    }
    let wanted = entry.expand();
    let sources = plan.fact("apt.AptSources", &[])?;
    if !wanted.is_empty() && wanted.iter().all(|repo| configured(&sources, repo)) {
        plan.noop(format!("apt sources file \"{dest}\" is already configured"));
        return Ok(());
    }
    let mut lines = vec![
        format!("Types: {}", entry.types.join(" ")),
        format!("URIs: {}", entry.uris.join(" ")),
        format!("Suites: {}", entry.suites.join(" ")),
    ];
    if !entry.components.is_empty() {
        lines.push(format!("Components: {}", entry.components.join(" ")));
    }
    if let Some(architectures) = &entry.architectures {
        lines.push(format!("Architectures: {}", architectures.join(" ")));
    }
    if let Some(signed_by) = signed_by {
        lines.push(format!("Signed-By: {signed_by}"));
    }
    let content = lines.join("\n") + "\n";
    call(plan, "files.put", json!({"src": {"content": content}, "dest": dest, "mode": "0644"}))
}

/// Arguments of `apt.ppa`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpaArgs {
    /// The PPA, written `ppa:user/repo`.
    pub src: String,
    /// Whether the PPA should be configured.
    #[serde(default = "yes")]
    pub present: bool,
}

/// `apt.ppa`: adds or removes a PPA with `apt-add-repository`, every time.
pub fn ppa(args: &PpaArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let command = if args.present {
        "apt-add-repository -y"
    } else {
        "apt-add-repository -y --remove"
    };
    plan.push(StringCommand::raw(command).quoted(&args.src));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// apt.deb

/// Arguments of `apt.deb`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebArgs {
    /// A `.deb` file on the host, or a URL to download it from first.
    pub src: String,
    /// Whether the package should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Pass `--force-yes` to `apt-get`.
    #[serde(default)]
    pub force: bool,
}

/// `apt.deb`: installs a `.deb` (then its missing dependencies with `apt-get -f`)
/// unless that version is installed, or removes its package.
pub fn deb(args: &DebArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut src = args.src.clone();
    if UrlParts::parse(&src).has_scheme() {
        let temp = plan.temp_filename(&src);
        call(plan, "files.download", json!({"src": src, "dest": temp}))?;
        src = temp;
    }
    let info = plan.fact("deb.DebPackage", &[("package", json!(src))])?;
    let installed = plan.fact("deb.DebPackages", &[])?;
    let name = info.get("name").and_then(Value::as_str);
    let exists = truthy(&info)
        && name.and_then(|name| installed.get(name)).and_then(Value::as_array).is_some_and(|versions| {
            let version = info.get("version").unwrap_or(&Value::Null);
            versions.contains(version)
        });
    let dpkg_install = || StringCommand::raw("dpkg --force-confdef --force-confold -i").quoted(&src);
    match (args.present, exists, name) {
        (true, false, _) => {
            // Unmet dependencies fail the first install; `apt-get -f` brings them, and the
            // second install configures the package (and fails for real if still unmet).
            plan.push(dpkg_install().text("2> /dev/null || true"));
            plan.push_raw(format!("{} -f", noninteractive_apt("install", args.force)));
            plan.push(dpkg_install());
        }
        (false, true, Some(name)) => {
            plan.push(StringCommand::raw(noninteractive_apt("remove", args.force)).quoted(name));
        }
        (true, true, _) => plan.noop(format!("deb {} is installed", args.src)),
        (false, _, _) => plan.noop(format!("deb {} is not installed", args.src)),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// apt.update, apt.upgrade, apt.dist_upgrade

/// Arguments of `apt.update`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateArgs {
    /// Skip the update when the last one is younger than this many seconds.
    #[serde(default)]
    pub cache_time: Option<f64>,
}

/// Microseconds since 1970 in UTC; a time without offset counts as UTC.
fn utc_micros(time: DateTime) -> i64 {
    time.wall_micros() - time.offset_seconds().unwrap_or_default() * 1_000_000
}

/// Whether the last update, by the stamp file's `mtime`, is younger than `cache_time`
/// seconds on the host's clock.
fn updated_within(cache_time: f64, plan: &mut Plan<'_>) -> Result<bool, OperationError> {
    let info = plan.fact("files.File", &[("path", json!(APT_UPDATE_FILENAME))])?;
    let Some(mtime) = info.get("mtime").filter(|mtime| truthy(mtime)) else {
        return Ok(false);
    };
    let now = plan.fact("server.Date", &[])?;
    let (Some(mtime), Some(now)) = (mtime.as_str().and_then(DateTime::parse_iso), now.as_str().and_then(DateTime::parse_iso)) else {
        return Ok(false);
    };
    #[expect(clippy::cast_possible_truncation, reason = "cache times are far below i64 microseconds")]
    let window = (cache_time * 1e6) as i64;
    Ok(utc_micros(mtime) > utc_micros(now) - window)
}

/// `apt.update`: `apt-get update`, skipped while `cache_time` has not passed since the
/// last one, then touching the stamp file that `cache_time` reads (Debian leaves it
/// alone).
pub fn update(args: &UpdateArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let cache_time = args.cache_time.filter(|seconds| *seconds != 0.0);
    if let Some(seconds) = cache_time {
        if updated_within(seconds, plan)? {
            plan.noop("apt is already up to date");
            return Ok(());
        }
    }
    plan.push_raw("apt-get update");
    if cache_time.is_some() {
        plan.push_raw(format!("touch {APT_UPDATE_FILENAME}"));
    }
    Ok(())
}

/// Arguments of `apt.upgrade` and `apt.dist_upgrade`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeArgs {
    /// Also remove the dependencies nothing needs any more (`--autoremove`).
    #[serde(default)]
    pub auto_remove: bool,
}

/// Arguments of `apt.dist_upgrade`.
pub type DistUpgradeArgs = UpgradeArgs;

/// Runs `apt-get <command>` unless a simulation says it would change nothing (a failed
/// simulation runs it, to fail for real).
fn simulate_then_perform(command: &str, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let changes = plan.fact("apt.SimulateOperationWillChange", &[("command", json!(command))])?;
    let nothing = truthy(&changes)
        && ["upgraded", "newly_installed", "removed", "not_upgraded"]
            .iter()
            .all(|field| changes.get(field).and_then(Value::as_f64) == Some(0.0));
    if nothing {
        plan.noop(format!("{command} skipped, no changes would be performed"));
    } else {
        plan.push_raw(noninteractive_apt(command, false));
    }
    Ok(())
}

fn upgrade_command(name: &str, auto_remove: bool) -> String {
    if auto_remove { format!("{name} --autoremove") } else { name.to_owned() }
}

/// `apt.upgrade`: upgrades every package, when any can be.
pub fn upgrade(args: &UpgradeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    simulate_then_perform(&upgrade_command("upgrade", args.auto_remove), plan)
}

/// `apt.dist_upgrade`: upgrades every package with `dist-upgrade`, which may add or
/// remove packages to do so.
pub fn dist_upgrade(args: &DistUpgradeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    simulate_then_perform(&upgrade_command("dist-upgrade", args.auto_remove), plan)
}

// ---------------------------------------------------------------------------------------
// apt.packages

/// Arguments of `apt.packages`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// A package or a list of them, each optionally pinned as `name=version`.
    #[serde(default)]
    pub packages: Option<PackageList>,
    /// Whether the packages should be installed.
    #[serde(default = "yes")]
    pub present: bool,
    /// Also upgrade installed packages that have no pinned version.
    #[serde(default)]
    pub latest: bool,
    /// Run `apt-get update` first.
    #[serde(default)]
    pub update: bool,
    /// With `update`: skip it while the last update is younger than this many seconds.
    #[serde(default)]
    pub cache_time: Option<f64>,
    /// Run `apt-get upgrade` first.
    #[serde(default)]
    pub upgrade: bool,
    /// Pass `--force-yes` to `apt-get`.
    #[serde(default)]
    pub force: bool,
    /// Install without recommended packages (`--no-install-recommends`).
    #[serde(default)]
    pub no_recommends: bool,
    /// Let a pinned version be older than the installed one (`--allow-downgrades`).
    #[serde(default)]
    pub allow_downgrades: bool,
    /// Remove with `purge`, configuration files included.
    #[serde(default)]
    pub purge: bool,
    /// Shell text added to the install command.
    #[serde(default)]
    pub extra_install_args: Option<String>,
    /// Shell text added to the remove command.
    #[serde(default)]
    pub extra_uninstall_args: Option<String>,
}

/// The install, remove and upgrade commands of `apt.packages`, for
/// [`ensure_packages`].
fn package_commands(args: &PackagesArgs) -> PackageCommands {
    let mut install = vec!["install"];
    if args.no_recommends {
        install.push("--no-install-recommends");
    }
    if args.allow_downgrades {
        install.push("--allow-downgrades");
    }
    // Upgrades take the install options but not the extra arguments, as in pyinfra.
    let upgrade = install.join(" ");
    if let Some(extra) = given(args.extra_install_args.as_ref()) {
        install.push(extra);
    }
    let mut uninstall = vec![if args.purge { "purge" } else { "remove" }];
    if let Some(extra) = given(args.extra_uninstall_args.as_ref()) {
        uninstall.push(extra);
    }
    PackageCommands {
        install: StringCommand::raw(noninteractive_apt(&install.join(" "), args.force)),
        uninstall: StringCommand::raw(noninteractive_apt(&uninstall.join(" "), args.force)),
        upgrade: Some(StringCommand::raw(noninteractive_apt(&upgrade, args.force))),
        latest: args.latest,
        version_join: Some("="),
        ..PackageCommands::default()
    }
}

/// `apt.packages`: optionally updates and upgrades, then installs the missing packages
/// (and with `latest` upgrades the others) or removes the installed ones.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if args.update {
        update(&UpdateArgs { cache_time: args.cache_time }, plan)?;
    }
    if args.upgrade {
        upgrade(&UpgradeArgs { auto_remove: false }, plan)?;
    }
    let installed = plan.fact("deb.DebPackages", &[])?;
    ensure_packages(plan, args.packages.as_ref(), &installed, Some(args.present), &package_commands(args))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use oxinfra_core::local_files::RealLocalFiles;
    use oxinfra_core::{Command, FactKey, FactSource, Missing};

    use super::*;

    /// Facts keyed as the engine prints them: `files.File (path=/x)`.
    struct Facts(BTreeMap<String, Value>);

    impl FactSource for Facts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.0.get(&key.to_string()).cloned().ok_or_else(|| Missing(key.clone()))
        }
    }

    /// Plans `operation` with `arguments` against `facts`: the commands as shown, and
    /// the no-op reason.
    fn plan(operation: &str, arguments: Value, facts: &[(&str, Value)]) -> Result<(Vec<String>, Option<String>), OperationError> {
        let mut facts = Facts(facts.iter().map(|(key, value)| ((*key).to_owned(), value.clone())).collect());
        let files = RealLocalFiles;
        let mut plan = Plan::new(&mut facts, &files, PathBuf::from("/"), "a-timestamp".to_owned());
        call(&mut plan, operation, arguments)?;
        let commands = plan.commands.iter().map(Command::display).collect();
        Ok((commands, plan.noop_reason))
    }

    const KEYRING: &str = "/etc/apt/keyrings/vendor.gpg";

    fn keyring_facts(format: &str) -> Vec<(&'static str, Value)> {
        let path = if format == "asc" { "/etc/apt/keyrings/vendor.asc" } else { KEYRING };
        vec![
            (
                "files.File (path=/etc/apt/keyrings/vendor.gpg)",
                json!({"mode": 644, "user": "root", "group": "root"}),
            ),
            (
                "gpg.GpgKeyrings (directories=['/etc/apt/keyrings'])",
                json!({path: {"format": format, "keys": {
                    "AAAA1111BBBB2222": {"validity": "-", "length": 4096, "subkeys": {}, "fingerprint": "FFFFAAAA1111BBBB2222"},
                    "CCCC3333DDDD4444": {"validity": "-", "length": 4096, "subkeys": {}},
                }}}),
            ),
        ]
    }

    #[test]
    fn keyserver_keys_already_in_the_keyring_change_nothing() {
        let (commands, noop) = plan(
            "apt.key",
            json!({"keyserver": "hkps://keys.example", "keyid": ["0xbbbb2222", "CCCC3333DDDD4444"], "dest": "vendor.gpg"}),
            &keyring_facts("gpg"),
        )
        .unwrap();
        assert_eq!(commands, Vec::<String>::new());
        assert_eq!(
            noop.as_deref(),
            Some("GPG keys ['0xbbbb2222', 'CCCC3333DDDD4444'] already exist in /etc/apt/keyrings/vendor.gpg")
        );
    }

    #[test]
    fn removing_one_key_deletes_it_by_fingerprint() {
        let (commands, _) = plan(
            "apt.key",
            json!({"keyid": "AAAA1111BBBB2222", "dest": "vendor.gpg", "present": false}),
            &keyring_facts("gpg"),
        )
        .unwrap();
        assert_eq!(
            commands,
            [
                "gpg --batch --yes --no-default-keyring --keyring \"/etc/apt/keyrings/vendor.gpg\" --delete-keys FFFFAAAA1111BBBB2222",
                "gpg --batch --no-default-keyring --keyring \"/etc/apt/keyrings/vendor.gpg\" --list-keys 2>/dev/null | grep -q \"^pub\" || rm -f \"/etc/apt/keyrings/vendor.gpg\"",
            ]
        );
    }

    #[test]
    fn one_key_of_an_armored_keyring_cannot_be_removed() {
        let error = plan(
            "apt.key",
            json!({"keyid": "CCCC3333", "dest": "/etc/apt/keyrings/vendor.asc", "present": false}),
            &keyring_facts("asc"),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("Cannot remove individual keys from armored keyring '/etc/apt/keyrings/vendor.asc'")
        );
    }

    #[test]
    fn key_without_source_or_keyserver_is_an_error() {
        let error = plan("apt.key", json!({"dest": "x.gpg"}), &[]).unwrap_err();
        assert_eq!(error.to_string(), "Either `src` or `keyserver` must be provided for installation");
    }

    #[test]
    fn odd_key_paths_are_quoted() {
        let facts = [
            ("files.File (path=/etc/apt/keyrings/k.gpg)", Value::Null),
            (
                "files.Directory (path=/etc/apt/keyrings)",
                json!({"mode": 755, "user": "root", "group": "root"}),
            ),
        ];
        let (commands, _) = plan("apt.key", json!({"src": "/tmp/$(reboot).asc", "dest": "k.gpg"}), &facts).unwrap();
        let install = commands.iter().find(|command| command.starts_with("if grep"));
        assert_eq!(
            install.map(String::as_str),
            Some(
                "if grep -q \"BEGIN PGP PUBLIC KEY BLOCK\" '/tmp/$(reboot).asc'; then gpg --batch --dearmor -o \"/etc/apt/keyrings/k.gpg\" '/tmp/$(reboot).asc'; else cp '/tmp/$(reboot).asc' \"/etc/apt/keyrings/k.gpg\"; fi"
            )
        );
    }

    #[test]
    fn keyring_names_follow_the_source() {
        let derive = |src: Option<&str>, ids: Option<&[String]>| derive_keyring_path(src, ids).unwrap();
        assert_eq!(
            derive(Some("https://download.docker.com:443/linux/debian/gpg"), None),
            "/etc/apt/keyrings/download.docker.com_443-gpg.gpg"
        );
        assert_eq!(derive(Some("/root/Vendor Key.asc"), None), "/etc/apt/keyrings/vendor_key.gpg");
        assert_eq!(derive(Some("..."), None), "/etc/apt/keyrings/apt-keyring.gpg");
        assert_eq!(
            derive(None, Some(&["0xAB".to_owned(), "cd".to_owned()])),
            "/etc/apt/keyrings/keyserver-0xab-cd.gpg"
        );
    }

    #[test]
    fn pinned_version_counts_only_at_that_version() {
        let facts = [("deb.DebPackages", json!({"jq": ["1.5"], "tree": ["2.1.0-1"]}))];
        let (commands, noop) = plan("apt.packages", json!({"packages": ["jq=1.6", "tree=2.1.0-1"]}), &facts).unwrap();
        assert_eq!(commands, [format!("{} jq=1.6", noninteractive_apt("install", false))]);
        assert_eq!(noop.as_deref(), Some("package tree is installed (2.1.0-1)"));
    }

    #[test]
    fn package_names_are_quoted() {
        let facts = [("deb.DebPackages", json!({}))];
        let (commands, _) = plan("apt.packages", json!({"packages": "x; reboot", "extra_install_args": "-q"}), &facts).unwrap();
        assert_eq!(commands, [format!("{} 'x; reboot'", noninteractive_apt("install -q", false))]);
    }

    #[test]
    fn update_without_cache_time_always_runs() {
        let (commands, _) = plan("apt.update", json!({}), &[]).unwrap();
        assert_eq!(commands, ["apt-get update"]);
    }

    #[test]
    fn simulation_without_changes_skips_the_upgrade() {
        let facts = [(
            "apt.SimulateOperationWillChange (command=dist-upgrade --autoremove)",
            json!({"upgraded": 0, "newly_installed": 0, "removed": 0, "not_upgraded": 0}),
        )];
        let (commands, noop) = plan("apt.dist_upgrade", json!({"auto_remove": true}), &facts).unwrap();
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("dist-upgrade --autoremove skipped, no changes would be performed"));
    }

    #[test]
    fn repo_with_a_bare_option_is_a_value_error() {
        let facts = [("apt.AptSources", json!([]))];
        let error = plan("apt.repo", json!({"src": "deb [trusted] file:/srv/repo ./"}), &facts).unwrap_err();
        assert_eq!(error.class_name(), "OperationValueError");
    }

    #[test]
    fn deb_from_a_file_already_installed_changes_nothing() {
        let facts = [
            (
                "deb.DebPackage (package=/srv/lab-repo/sl_5.02-1+b1_amd64.deb)",
                json!({"name": "sl", "version": "5.02-1+b1"}),
            ),
            ("deb.DebPackages", json!({"sl": ["5.02-1+b1"]})),
        ];
        let (commands, noop) = plan("apt.deb", json!({"src": "/srv/lab-repo/sl_5.02-1+b1_amd64.deb"}), &facts).unwrap();
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("deb /srv/lab-repo/sl_5.02-1+b1_amd64.deb is installed"));
    }
}
