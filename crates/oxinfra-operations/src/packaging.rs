//! What the package-manager operations share, after pyinfra's
//! `operations/util/packaging.py`: [`ensure_packages`] (which of the wanted packages to
//! install, remove or upgrade, against a fact of the installed ones), [`ensure_rpm`]
//! (an `.rpm` file or URL) and [`ensure_yum_repo`] (a `.repo` file, written or
//! downloaded), plus the part of Python's `urlparse` these read ([`UrlParts`]).
//!
//! Each planner reads its facts through the [`Plan`] and pushes its commands there;
//! the operation calling it chooses the commands of its package manager.
//!
//! Not here: `PkgInfo.from_pep508` (Python requirement strings); a caller that parses
//! those builds [`PackageSpec`]s itself and hands them to [`ensure_package_specs`].

use oxinfra_core::StringCommand;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan};
use crate::registry::call;

/// A `packages` argument: one package, or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PackageList {
    /// A single package.
    One(String),
    /// Several packages, in order.
    Many(Vec<String>),
}

impl PackageList {
    /// The packages, in order.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::One(name) => vec![name.clone()],
            Self::Many(names) => names.clone(),
        }
    }
}

/// One wanted package (pyinfra's `PkgInfo`): its name and, optionally, a version with
/// the operator that joins it to the name, or a URL to install from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageSpec {
    /// The package's name, as the installed-packages fact spells it.
    pub name: String,
    /// The wanted version, empty for any.
    pub version: String,
    /// What joins name and version on the install command line (`=`, `@`, `==`).
    pub operator: String,
    /// Where to install the package from, empty for the package manager's choice.
    pub url: String,
}

impl PackageSpec {
    /// A package given as `name`, or as `name<join>version` when the package manager
    /// pins versions with `join` (split at its last occurrence).
    pub fn from_possible_pair(text: &str, join: Option<&str>) -> Self {
        match join {
            Some(join) => {
                let (name, version) = text.rsplit_once(join).unwrap_or((text, ""));
                Self {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    operator: join.to_owned(),
                    url: String::new(),
                }
            }
            None => Self {
                name: text.to_owned(),
                ..Self::default()
            },
        }
    }

    /// Whether a version is wanted.
    pub fn has_version(&self) -> bool {
        !self.version.is_empty()
    }

    /// How the package is named on the install command line (to be quoted): its URL,
    /// else `name<operator>version`, else its name.
    pub fn install_text(&self) -> String {
        if !self.url.is_empty() {
            self.url.clone()
        } else if self.has_version() {
            format!("{}{}{}", self.name, self.operator, self.version)
        } else {
            self.name.clone()
        }
    }
}

/// A fact that expands a wanted name into the packages that satisfy it (a group's
/// members, or the providers of a capability), read with the name as its one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpandFact {
    /// The fact's name (`rpm.RpmPackageProvides`).
    pub fact: &'static str,
    /// The parameter the wanted name goes to (`package`).
    pub argument: &'static str,
}

/// How a package manager installs, removes and upgrades, for [`ensure_packages`].
#[derive(Debug, Clone, Default)]
pub struct PackageCommands {
    /// Prefix of the install command; the packages follow, quoted.
    pub install: StringCommand,
    /// Prefix of the removal command.
    pub uninstall: StringCommand,
    /// Prefix of the upgrade command, when the package manager has one.
    pub upgrade: Option<StringCommand>,
    /// Upgrade installed packages that name no version.
    pub latest: bool,
    /// What pins a version in a package name (`=` for `vim=9.0`), if anything.
    pub version_join: Option<&'static str>,
    /// The fact that expands a name into the packages satisfying it, if any.
    pub expand: Option<ExpandFact>,
    /// With `expand`, one installed package of the expansion is enough (rather than all
    /// of them) for the name to count as installed.
    pub expand_match_any: bool,
}

/// pyinfra's `PackageStatus`, for installed-packages facts that carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Installed,
    Upgradeable,
    Held,
}

/// Installs (`present` is `Some(true)`) or removes (`Some(false)`) the `packages` not
/// already so, against `current`, the installed-packages fact. `current` maps names to
/// their versions (a list), or to a `PackageInfo` dict (`installed_versions`,
/// `status`), which makes held packages no-ops and upgrades only upgradeable ones. A
/// `present` that is neither `True` nor `False` does nothing, as in pyinfra.
pub fn ensure_packages(
    plan: &mut Plan<'_>,
    packages: Option<&PackageList>,
    current: &Value,
    present: Option<bool>,
    commands: &PackageCommands,
) -> Result<(), OperationError> {
    let Some(packages) = packages else {
        return Ok(());
    };
    let specs: Vec<PackageSpec> = packages
        .names()
        .iter()
        .map(|name| PackageSpec::from_possible_pair(name, commands.version_join))
        .collect();
    plan_packages(plan, &specs, current, present, commands)
}

/// [`ensure_packages`] for packages already split into [`PackageSpec`]s; `version_join`
/// must then be unset.
pub fn ensure_package_specs(
    plan: &mut Plan<'_>,
    specs: &[PackageSpec],
    current: &Value,
    present: Option<bool>,
    commands: &PackageCommands,
) -> Result<(), OperationError> {
    if !specs.is_empty() && commands.version_join.is_some() {
        return Err(OperationError::Value("cannot specify version_join and provide list[PkgInfo]".to_owned()));
    }
    plan_packages(plan, specs, current, present, commands)
}

fn plan_packages(plan: &mut Plan<'_>, specs: &[PackageSpec], current: &Value, present: Option<bool>, commands: &PackageCommands) -> Result<(), OperationError> {
    let empty = Map::new();
    let current = current.as_object().unwrap_or(&empty);
    let mut changes = Vec::new();
    let mut upgrades = Vec::new();
    match present {
        Some(true) => {
            for spec in specs {
                if !has_package(plan, spec, current, commands.expand, commands.expand_match_any)? {
                    changes.push(spec.install_text());
                    continue;
                }
                let status = status(current, &spec.name);
                if status == Some(Status::Held) {
                    plan.noop(format!("package {} is held", spec.name));
                    continue;
                }
                if !spec.has_version() && (status == Some(Status::Upgradeable) || (commands.latest && status.is_none())) {
                    upgrades.push(spec.install_text());
                }
                let versions = version_display(current, &spec.name);
                let versions = if versions.is_empty() { String::new() } else { format!(" ({versions})") };
                if !commands.latest {
                    plan.noop(format!("package {} is installed{versions}", spec.name));
                } else if status == Some(Status::Installed) {
                    plan.noop(format!("package {} is up to date{versions}", spec.name));
                }
            }
        }
        Some(false) => {
            for spec in specs {
                if has_package(plan, spec, current, commands.expand, true)? {
                    changes.push(spec.install_text());
                } else {
                    plan.noop(format!("package {} is not installed", spec.name));
                }
            }
        }
        None => {}
    }
    if !changes.is_empty() {
        let prefix = if present == Some(true) { &commands.install } else { &commands.uninstall };
        plan.push(with_packages(prefix, &changes));
    }
    if let Some(upgrade) = commands
        .upgrade
        .as_ref()
        .filter(|upgrade| commands.latest && !upgrade.is_empty() && !upgrades.is_empty())
    {
        plan.push(with_packages(upgrade, &upgrades));
    }
    Ok(())
}

fn with_packages(prefix: &StringCommand, packages: &[String]) -> StringCommand {
    packages.iter().fold(StringCommand::new().nested(prefix.clone()), StringCommand::quoted)
}

/// Whether `spec` counts as installed: its name (or, with `expand`, the packages the
/// name expands to; all of them, or one when `match_any`) is in `current`, at the
/// wanted version if one is given.
fn has_package(
    plan: &mut Plan<'_>,
    spec: &PackageSpec,
    current: &Map<String, Value>,
    expand: Option<ExpandFact>,
    match_any: bool,
) -> Result<bool, OperationError> {
    let wanted = if spec.has_version() {
        json!([spec.name, spec.version])
    } else {
        json!(spec.name)
    };
    let mut candidates = vec![wanted];
    if let Some(expand) = expand {
        let expanded = plan.fact(expand.fact, &[(expand.argument, json!(spec.name))])?;
        if truthy(&expanded) {
            candidates = match expanded {
                Value::Array(items) => items,
                Value::Object(map) => map.into_iter().map(|(key, _)| Value::String(key)).collect(),
                Value::String(text) => text.chars().map(|character| Value::String(character.to_string())).collect(),
                other => vec![other],
            };
        }
    }
    // Names in first-seen order, each with the versions asked of it (none: any).
    let mut by_name: Vec<(Value, Vec<Value>)> = Vec::new();
    for candidate in candidates {
        let (name, version) = match candidate {
            Value::Array(pair) => {
                let mut pair = pair.into_iter();
                match (pair.next(), pair.next()) {
                    (Some(name), Some(version)) => (name, Some(version)),
                    _ => {
                        return Err(OperationError::Operation(format!(
                            "package {}: an expanded package is not a [name, version] pair",
                            spec.name
                        )));
                    }
                }
            }
            name => (name, None),
        };
        let index = by_name.iter().position(|(known, _)| *known == name).unwrap_or_else(|| {
            by_name.push((name, Vec::new()));
            by_name.len() - 1
        });
        if let Some(version) = version {
            by_name[index].1.push(version);
        }
    }
    let mut checks = by_name.iter().map(|(name, versions)| in_packages(current, name, versions));
    Ok(if match_any { checks.any(|found| found) } else { checks.all(|found| found) })
}

/// Whether `name` is installed, at one of `versions` when any are given.
fn in_packages(current: &Map<String, Value>, name: &Value, versions: &[Value]) -> bool {
    let Some(installed) = name.as_str().and_then(|name| current.get(name)) else {
        return false;
    };
    if versions.is_empty() {
        return true;
    }
    let installed = package_info(installed).and_then(|info| info.get("installed_versions")).unwrap_or(installed);
    versions.iter().any(|version| match installed {
        Value::Array(items) => items.contains(version),
        // A bare version string: Python's `in` tests for a substring.
        Value::String(text) => version.as_str().is_some_and(|version| text.contains(version)),
        Value::Object(map) => version.as_str().is_some_and(|version| map.contains_key(version)),
        _ => false,
    })
}

/// The `PackageInfo` dict an installed package maps to, if the fact has that shape.
fn package_info(installed: &Value) -> Option<&Map<String, Value>> {
    installed
        .as_object()
        .filter(|info| info.contains_key("installed_versions") || info.contains_key("status"))
}

/// The status of an installed package, for facts that carry one.
fn status(current: &Map<String, Value>, name: &str) -> Option<Status> {
    let info = package_info(current.get(name)?)?;
    let status = info.get("status").and_then(Value::as_str).unwrap_or("installed").to_ascii_lowercase();
    Some(match status.rsplit('.').next().unwrap_or_default() {
        "held" => Status::Held,
        "upgradeable" => Status::Upgradeable,
        _ => Status::Installed,
    })
}

/// The installed versions of `name` as no-op messages show them: comma-separated,
/// sorted (a `PackageInfo` keeps its own order).
fn version_display(current: &Map<String, Value>, name: &str) -> String {
    let Some(installed) = current.get(name) else {
        return String::new();
    };
    if let Some(info) = package_info(installed) {
        let versions = info.get("installed_versions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        return versions.iter().map(python_text).collect::<Vec<_>>().join(",");
    }
    let mut versions: Vec<String> = match installed {
        Value::Array(items) => items.iter().map(python_text).collect(),
        // Python sorts the characters of a bare string.
        Value::String(text) => text.chars().map(String::from).collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    versions.sort();
    versions.join(",")
}

fn python_text(value: &Value) -> String {
    oxinfra_core::pyrepr::python_str(value)
}

/// Installs or removes the package in an `.rpm` file (`source`, a path on the host or
/// a URL, downloaded first). `package_manager` removes packages (`dnf`, `yum`,
/// `zypper --non-interactive`).
pub fn ensure_rpm(plan: &mut Plan<'_>, source: &str, present: bool, package_manager: &str) -> Result<(), OperationError> {
    let mut file = source.to_owned();
    if UrlParts::parse(source).has_scheme() {
        // The `.rpm` suffix is for yum, which only installs files named so.
        file = format!("{}.rpm", plan.temp_filename(source));
        call(plan, "files.download", json!({"src": source, "dest": file}))?;
    }
    let info = plan.fact("rpm.RpmPackage", &[("package", json!(file))])?;
    let mut name = None;
    let mut exists = false;
    if truthy(&info) {
        let package = info
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| OperationError::Operation(format!("rpm {source}: the package has no name")))?
            .to_owned();
        let installed = plan.fact("rpm.RpmPackage", &[("package", json!(package))])?;
        exists = truthy(&installed) && installed.get("version") == info.get("version");
        name = Some(package);
    }
    match name {
        _ if present && !exists => {
            if name.is_some() {
                plan.push(StringCommand::raw("rpm -i").quoted(&file));
            } else {
                // Downloaded during this run: whether it is installed is only known then.
                let mut package_of_file = StringCommand::raw("`rpm -qp ").quoted(&file).text("`");
                package_of_file.separator = String::new();
                plan.push(
                    StringCommand::raw("rpm -q")
                        .nested(package_of_file)
                        .text("2> /dev/null || rpm -i")
                        .quoted(&file),
                );
            }
        }
        Some(name) if exists && !present => {
            plan.push(StringCommand::raw(package_manager).text("remove -y").quoted(name));
        }
        _ => plan.noop(format!("rpm {source} is {}", if present { "installed" } else { "not installed" })),
    }
    Ok(())
}

/// A `.repo` file for [`ensure_yum_repo`].
#[derive(Debug, Clone, Copy)]
pub struct YumRepo<'a> {
    /// The repository's name, or the URL of a `.repo` file to download.
    pub name_or_url: &'a str,
    /// The repository's base URL, required unless `name_or_url` is a URL.
    pub baseurl: Option<&'a str>,
    /// Whether the file should exist.
    pub present: bool,
    /// The repository's description, its name if not given.
    pub description: Option<&'a str>,
    /// `enabled=1` rather than `enabled=0`.
    pub enabled: bool,
    /// `gpgcheck=1` rather than `gpgcheck=0`.
    pub gpgcheck: bool,
    /// The repository's signing keys: URLs or absolute paths, blank-separated.
    pub gpgkey: Option<&'a str>,
    /// The folder of `.repo` files, ending in `/`.
    pub repo_directory: &'a str,
    /// The repository's `type=` line, if any.
    pub repo_type: Option<&'a str>,
}

/// Writes, downloads or removes `<repo_directory><name>.repo`. A URL is downloaded
/// once (when the file is missing) and named after the URL's last path segment.
pub fn ensure_yum_repo(plan: &mut Plan<'_>, repo: &YumRepo<'_>) -> Result<(), OperationError> {
    let mut name = repo.name_or_url.to_owned();
    let mut url = None;
    let parts = UrlParts::parse(repo.name_or_url);
    if parts.has_scheme() {
        url = Some(repo.name_or_url);
        let last = parts.path.rsplit('/').next().unwrap_or_default();
        last.strip_suffix(".repo").unwrap_or(last).clone_into(&mut name);
    }
    let filename = format!("{}{name}.repo", repo.repo_directory);
    if !repo.present {
        return call(plan, "files.file", json!({"path": filename, "present": false}));
    }
    if let Some(url) = url {
        if !truthy(&plan.fact("files.File", &[("path", json!(filename))])?) {
            call(plan, "files.download", json!({"src": url, "dest": filename}))?;
        }
        return Ok(());
    }
    let Some(baseurl) = repo.baseurl else {
        return Err(OperationError::Value(format!(
            "repository `{name}` needs a baseurl (or a URL of a .repo file as src)"
        )));
    };
    let description = repo.description.filter(|description| !description.is_empty()).unwrap_or(&name);
    let mut lines = vec![
        format!("[{name}]"),
        format!("name={description}"),
        format!("baseurl={baseurl}"),
        format!("enabled={}", u8::from(repo.enabled)),
        format!("gpgcheck={}", u8::from(repo.gpgcheck)),
    ];
    if let Some(repo_type) = repo.repo_type.filter(|repo_type| !repo_type.is_empty()) {
        lines.push(format!("type={repo_type}"));
    }
    if let Some(gpgkey) = repo.gpgkey.filter(|gpgkey| !gpgkey.is_empty()) {
        if let Some(bad) = gpgkey
            .split_whitespace()
            .find(|key| !UrlParts::parse(key).has_scheme() && !key.starts_with('/'))
        {
            return Err(OperationError::Value(format!("gpgkey must be a valid URL or an absolute path, got: {bad}")));
        }
        lines.push(format!("gpgkey={gpgkey}"));
    }
    lines.push(String::new());
    call(
        plan,
        "files.put",
        json!({"src": {"content": lines.join("\n")}, "dest": filename, "mode": "0644"}),
    )
}

/// The scheme, network location and path of a URL as Python's `urlparse` splits them
/// (the path without `;params`, `?query` and `#fragment`). Text without a scheme is
/// all path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlParts {
    /// `https`, lower-cased; empty when there is none.
    pub scheme: String,
    /// `host:port` after `//`, empty when there is none.
    pub netloc: String,
    /// The rest, up to `;params`, `?` or `#`.
    pub path: String,
}

/// Schemes whose last path segment may carry `;params` (Python's `uses_params`).
const SCHEMES_WITH_PARAMS: &[&str] = &[
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtspu", "sip", "sips", "mms", "sftp", "tel",
];

impl UrlParts {
    /// Splits `url` as Python's `urlparse` does.
    pub fn parse(url: &str) -> Self {
        let cleaned: String = url
            .trim_start_matches(|character: char| character <= ' ')
            .chars()
            .filter(|character| !matches!(character, '\t' | '\r' | '\n'))
            .collect();
        let mut rest = cleaned.as_str();
        let mut parts = Self::default();
        if let Some(colon) = rest.find(':') {
            let candidate = &rest[..colon];
            let starts_with_letter = candidate.chars().next().is_some_and(|first| first.is_ascii_alphabetic());
            if starts_with_letter
                && candidate
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character))
            {
                parts.scheme = candidate.to_ascii_lowercase();
                rest = &rest[colon + 1..];
            }
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            after[..end].clone_into(&mut parts.netloc);
            rest = &after[end..];
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let mut path = rest.split_once('?').map_or(rest, |(before, _)| before);
        if SCHEMES_WITH_PARAMS.contains(&parts.scheme.as_str()) {
            let from = path.rfind('/').unwrap_or(0);
            if let Some(semicolon) = path[from..].find(';') {
                path = &path[..from + semicolon];
            }
        }
        path.clone_into(&mut parts.path);
        parts
    }

    /// Whether the text has a scheme, which is how pyinfra tells URLs from names.
    pub fn has_scheme(&self) -> bool {
        !self.scheme.is_empty()
    }
}

/// What the package operations' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;

    use oxinfra_core::command::UploadSource;
    use oxinfra_core::local_files::RealLocalFiles;
    use oxinfra_core::{Command, FactKey, FactSource, Missing};
    use serde_json::{Map, Value};

    use crate::plan::{OperationError, Plan};

    /// Facts by name: the same value whatever the arguments, or, when every key of the
    /// value is written `argument=value` as in pyinfra's fixtures, by arguments.
    struct Facts(Map<String, Value>);

    impl FactSource for Facts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            let missing = || Missing(key.clone());
            let value = self.0.get(&key.name).ok_or_else(missing)?;
            match value {
                Value::Object(by_arguments) if !by_arguments.is_empty() && by_arguments.keys().all(|name| name.contains('=')) => {
                    by_arguments.get(&key.arguments).cloned().ok_or_else(missing)
                }
                other => Ok(other.clone()),
            }
        }
    }

    /// No facts at all.
    pub(crate) struct NoFacts;

    impl FactSource for NoFacts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            Err(Missing(key.clone()))
        }
    }

    /// The commands (as shown) and the no-op reason of `operation` planned with
    /// `arguments` against `facts` (`{"rpm.RpmPackages": {...}}`).
    #[expect(clippy::needless_pass_by_value, reason = "tests read better with `json!` literals")]
    pub(crate) fn run(operation: &str, arguments: Value, facts: Value) -> Result<(Vec<String>, Option<String>), OperationError> {
        let mut facts = Facts(facts.as_object().cloned().unwrap_or_default());
        let mut plan = Plan::new(&mut facts, &RealLocalFiles, PathBuf::from("/"), "a-timestamp".to_owned());
        let arguments = arguments.as_object().cloned().unwrap_or_default();
        let definition = crate::registry::find(operation).ok_or_else(|| OperationError::Operation(format!("no operation `{operation}`")))?;
        (definition.plan)(&arguments, &mut plan)?;
        Ok((plan.commands.iter().map(shown).collect(), plan.noop_reason.clone()))
    }

    /// A command as shown, an upload of text with that text after its destination.
    fn shown(command: &Command) -> String {
        match command {
            Command::Upload {
                source: UploadSource::Content(content),
                dest,
            } => format!("upload {dest}:\n{}", String::from_utf8_lossy(content)),
            other => other.display(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_follow_urlparse() {
        let parts = UrlParts::parse("https://example.com/repos/docker-ce.repo?x=1#top");
        assert_eq!(
            (parts.scheme.as_str(), parts.netloc.as_str(), parts.path.as_str()),
            ("https", "example.com", "/repos/docker-ce.repo")
        );
        assert_eq!(UrlParts::parse("http://x/a.repo;v=2").path, "/a.repo");
        assert_eq!(UrlParts::parse("HTTP://x/y").scheme, "http");
        assert!(!UrlParts::parse("something.rpm").has_scheme());
        assert!(!UrlParts::parse("/tmp/a:b.rpm").has_scheme());
        assert!(!UrlParts::parse("1http://x").has_scheme());
        assert!(UrlParts::parse("file:///etc/pki/key").has_scheme());
        assert!(UrlParts::parse("mirror:8080").has_scheme());
    }

    #[test]
    fn version_pairs_split_at_the_last_join() {
        let spec = PackageSpec::from_possible_pair("python3=3.11=1", Some("="));
        assert_eq!((spec.name.as_str(), spec.version.as_str()), ("python3=3.11", "1"));
        assert_eq!(spec.install_text(), "python3=3.11=1");
        let spec = PackageSpec::from_possible_pair("vim=9", None);
        assert_eq!((spec.name.as_str(), spec.has_version()), ("vim=9", false));
    }

    #[test]
    fn versions_show_sorted() {
        let current = json!({"kernel": ["6.2", "5.14"], "bare": "21", "info": {"installed_versions": ["2", "10"]}});
        let current = current.as_object().cloned().unwrap_or_default();
        assert_eq!(version_display(&current, "kernel"), "5.14,6.2");
        assert_eq!(version_display(&current, "bare"), "1,2");
        assert_eq!(version_display(&current, "info"), "2,10");
        assert_eq!(version_display(&current, "missing"), "");
    }

    #[test]
    fn wanted_versions_must_be_installed() {
        let current = json!({"vim": ["9.0"], "bare": "1.2.3"});
        let current = current.as_object().cloned().unwrap_or_default();
        assert!(in_packages(&current, &json!("vim"), &[]));
        assert!(in_packages(&current, &json!("vim"), &[json!("9.0")]));
        assert!(!in_packages(&current, &json!("vim"), &[json!("8.2")]));
        assert!(in_packages(&current, &json!("bare"), &[json!("2.3")]));
        assert!(!in_packages(&current, &json!("emacs"), &[]));
    }

    #[test]
    fn package_info_status_decides_upgrades() {
        let facts = json!({"apk.ApkPackages": {
            "held": {"installed_versions": ["1.0"], "status": "held"},
            "old": {"installed_versions": ["1.0", "1.1"], "status": "upgradeable", "available_version": "2.0"},
            "new": {"installed_versions": ["3.0"], "status": "installed"},
        }});
        let result = testing::run("apk.packages", json!({"packages": ["held", "old", "new"], "latest": true}), facts.clone());
        assert_eq!(
            result,
            Ok((vec!["apk upgrade old".to_owned()], Some("package new is up to date (3.0)".to_owned())))
        );
        let result = testing::run("apk.packages", json!({"packages": ["new", "held"]}), facts);
        assert_eq!(result, Ok((Vec::new(), Some("package held is held".to_owned()))));
    }

    #[test]
    fn specs_exclude_a_version_join() {
        let commands = PackageCommands {
            version_join: Some("="),
            ..PackageCommands::default()
        };
        let mut facts = testing::NoFacts;
        let mut plan = Plan::new(
            &mut facts,
            &oxinfra_core::local_files::RealLocalFiles,
            std::path::PathBuf::from("/"),
            String::new(),
        );
        let specs = vec![PackageSpec {
            name: "requests".to_owned(),
            ..PackageSpec::default()
        }];
        let result = ensure_package_specs(&mut plan, &specs, &json!({}), Some(true), &commands);
        assert!(matches!(result, Err(OperationError::Value(_))));
    }

    #[test]
    fn gpg_keys_may_be_files_or_urls() {
        let facts = json!({"files.File": null, "files.Directory": {"path=/etc/yum.repos.d": true, "path=/etc/yum.repos.d/r.repo": null}});
        let arguments = json!({"src": "r", "baseurl": "http://b", "gpgkey": "file:///etc/pki/a /etc/pki/b"});
        let result = testing::run("yum.repo", arguments.clone(), facts.clone());
        assert!(result.is_ok_and(|(commands, _)| { commands[0].contains("gpgkey=file:///etc/pki/a /etc/pki/b\n") }));
        let arguments = json!({"src": "r", "baseurl": "http://b", "gpgkey": "/etc/pki/a relative/b"});
        let result = testing::run("yum.repo", arguments, facts);
        assert_eq!(
            result,
            Err(OperationError::Value(
                "gpgkey must be a valid URL or an absolute path, got: relative/b".to_owned()
            ))
        );
    }

    #[test]
    fn rpm_url_to_remove_before_download_is_a_noop() {
        let facts = json!({"files.File": {"mode": 644, "size": 1}, "rpm.RpmPackage": null});
        let result = testing::run("zypper.rpm", json!({"src": "https://x/a.rpm", "present": false}), facts);
        assert_eq!(result, Ok((Vec::new(), Some("rpm https://x/a.rpm is not installed".to_owned()))));
    }
}
