//! Operations of `pyinfra/operations/gpg.py`: `key`, which installs keys into a keyring
//! file (from a file, a URL or a keyserver) or removes keyring files or keys, and
//! `dearmor`, which converts an armored key to binary. `apt.key` plans through [`key`].
//!
//! pyinfra writes paths into these commands as `"{path}"`; [`double_quoted`] keeps that
//! text for ordinary paths and single-quotes any the shell would expand.

use oxinfra_core::StringCommand;
use oxinfra_core::command::shell_quote;
use oxinfra_core::pyrepr::{python_repr, python_str};
use oxinfra_facts::gpg::double_quoted;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::files::util::truthy;
use crate::packaging::UrlParts;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "gpg.key",
        params: &["src", "dest", "keyserver", "keyid", "dearmor", "mode", "present", "working_dirs"],
        plan: |arguments, plan| key(&parse_arguments("gpg.key", arguments)?, plan),
    },
    OperationDef {
        name: "gpg.dearmor",
        params: &["src", "dest", "mode"],
        plan: |arguments, plan| dearmor(&parse_arguments("gpg.dearmor", arguments)?, plan),
    },
];

/// One key id or a list of them, as pyinfra's `str | list[str]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeyIds {
    /// One key id.
    One(String),
    /// Several key ids.
    Many(Vec<String>),
}

impl KeyIds {
    /// The key ids, a single one as a list of one.
    pub fn items(&self) -> Vec<String> {
        match self {
            Self::One(value) => vec![value.clone()],
            Self::Many(values) => values.clone(),
        }
    }

    /// Python's truth of the value: a non-empty text or list.
    pub fn is_given(&self) -> bool {
        match self {
            Self::One(value) => !value.is_empty(),
            Self::Many(values) => !values.is_empty(),
        }
    }

    /// The value as plain data, for messages that print it as Python would.
    fn to_value(&self) -> Value {
        match self {
            Self::One(value) => json!(value),
            Self::Many(values) => json!(values),
        }
    }
}

/// Python's truth of an optional text argument.
fn given(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

fn mode_0644() -> String {
    "0644".to_owned()
}

fn yes() -> bool {
    true
}

/// Arguments of `gpg.key`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyArgs {
    /// A key file on the host, or an `http(s)` URL to fetch it from (armored or binary).
    #[serde(default)]
    pub src: Option<String>,
    /// The keyring file: needed to install, optional to remove.
    #[serde(default)]
    pub dest: Option<String>,
    /// A keyserver to receive `keyid` from.
    #[serde(default)]
    pub keyserver: Option<String>,
    /// The key ids to receive from `keyserver`, or to remove.
    #[serde(default)]
    pub keyid: Option<KeyIds>,
    /// Convert armored keys to binary.
    #[serde(default = "yes")]
    pub dearmor: bool,
    /// The keyring's mode.
    #[serde(default = "mode_0644")]
    pub mode: String,
    /// Whether the keys should be there. Removing takes `dest` (the whole keyring, or
    /// only the keys `keyid` names in it) or `keyid` and `working_dirs` (those keys,
    /// from every keyring in those folders).
    #[serde(default = "yes")]
    pub present: bool,
    /// The folders whose keyrings lose `keyid` when removing without `dest`.
    #[serde(default)]
    pub working_dirs: Option<Vec<String>>,
}

impl Default for KeyArgs {
    fn default() -> Self {
        Self {
            src: None,
            dest: None,
            keyserver: None,
            keyid: None,
            dearmor: true,
            mode: "0644".to_owned(),
            present: true,
            working_dirs: None,
        }
    }
}

/// `PurePosixPath(path).parent`.
fn parent_directory(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
    let parent = parts.get(..parts.len().saturating_sub(1)).unwrap_or_default().join("/");
    match (path.starts_with('/'), parent.is_empty()) {
        (true, _) => format!("/{parent}"),
        (false, true) => ".".to_owned(),
        (false, false) => parent,
    }
}

/// Whether an existing key id is the wanted one (`clean`: upper-case, no `0x`): short
/// ids, long ids and fingerprints all match each other by prefix or suffix.
fn matches_keyid(existing: &str, clean: &str) -> bool {
    let existing = existing.to_uppercase();
    clean == existing || existing.ends_with(clean) || existing.starts_with(clean) || clean.ends_with(&existing)
}

/// `gpg.key`: installs keys into a keyring file (from a file, a URL or a keyserver),
/// or removes a keyring file or some keys from keyrings.
pub fn key(request: &KeyArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let src = given(request.src.as_ref());
    let dest = given(request.dest.as_ref());
    let keyserver = given(request.keyserver.as_ref());
    let keyids = request.keyid.as_ref().filter(|keyid| keyid.is_given()).map(KeyIds::items);
    let working_dirs = request.working_dirs.as_ref().filter(|directories| !directories.is_empty());
    let error = |message: &str| Err(OperationError::Operation(message.to_owned()));

    if !request.present {
        return match (dest, keyids) {
            (None, Some(keyids)) if working_dirs.is_some() => {
                let directories = working_dirs.cloned().unwrap_or_default();
                remove_keys(plan, &keyids, &directories, None)
            }
            (None, _) => error("For removal, either `dest` or both `keyid` and `working_dirs` must be provided"),
            (Some(dest), Some(keyids)) => remove_keys(plan, &keyids, &[parent_directory(dest)], Some(dest)),
            (Some(dest), None) => call(plan, "files.file", json!({"path": dest, "present": false})),
        };
    }

    if src.is_none() && keyserver.is_none() {
        return error("Either `src` or `keyserver` must be provided for installation");
    }
    if keyserver.is_some() && keyids.is_none() {
        return error("`keyid` must be provided with `keyserver`");
    }
    if keyids.is_some() && keyserver.is_none() && src.is_none() {
        return error("When using `keyid` for installation, either `keyserver` or `src` must be provided");
    }
    let Some(dest) = request.dest.as_deref() else {
        return error("`dest` must be provided for installation");
    };
    let dest_dir = parent_directory(dest);
    let ensure_mode = json!({"path": dest, "mode": request.mode, "present": true});

    if let Some(keyids) = &keyids {
        // A keyring file that does not exist holds no keys: its directory's keyrings are
        // only read when it does (`files.file` below reads the same `File` fact).
        let keyrings = if plan.fact("files.File", &[("path", json!(dest))])?.is_null() {
            Value::Null
        } else {
            plan.fact("gpg.GpgKeyrings", &[("directories", json!([dest_dir]))])?
        };
        if let Some(Value::Object(existing)) = keyrings.get(dest).filter(|info| truthy(info)).and_then(|info| info.get("keys")) {
            let all_there = keyids.iter().all(|keyid| {
                let clean = keyid.replace("0x", "").replace("0X", "").to_uppercase();
                existing.keys().any(|existing| matches_keyid(existing, &clean))
            });
            if all_there {
                call(plan, "files.file", ensure_mode)?;
                let keyid = request.keyid.as_ref().map_or(Value::Null, KeyIds::to_value);
                plan.noop(format!("GPG keys {} already exist in {dest}", python_str(&keyid)));
                return Ok(());
            }
        }
    } else if truthy(&plan.fact("files.File", &[("path", json!(dest))])?) {
        call(plan, "files.file", ensure_mode)?;
        plan.noop(format!("GPG keyring {dest} already exists"));
        return Ok(());
    }

    call(plan, "files.directory", json!({"path": dest_dir, "mode": "0755", "present": true}))?;
    if let Some(src) = src {
        if matches!(UrlParts::parse(src).scheme.as_str(), "http" | "https") {
            let temp = plan.temp_filename(src);
            call(plan, "files.download", json!({"src": src, "dest": temp}))?;
            install_key_file(plan, &temp, dest, request)?;
            call(plan, "files.file", json!({"path": temp, "present": false}))?;
        } else {
            install_key_file(plan, src, dest, request)?;
        }
    }
    if let (Some(keyserver), Some(keyids)) = (keyserver, &keyids) {
        let joined = keyids.iter().map(|keyid| shell_quote(keyid)).collect::<Vec<_>>().join(" ");
        let home = plan.temp_filename(&format!("gpg-keyserver-{}", keyids.join(" ")));
        call(plan, "files.directory", json!({"path": home, "mode": "0700", "present": true}))?;
        let gnupg_home = StringCommand::raw("export")
            .text(format!("GNUPGHOME={}", double_quoted(&home)))
            .text("&& gpg --batch");
        plan.push(
            gnupg_home
                .clone()
                .text("--keyserver")
                .text(double_quoted(keyserver))
                .text("--recv-keys")
                .text(joined.clone()),
        );
        plan.push(gnupg_home.text("--export").text(joined).text(">").text(double_quoted(dest)));
        call(plan, "files.directory", json!({"path": home, "present": false}))?;
        call(plan, "files.file", json!({"path": dest, "mode": request.mode, "present": true}))?;
    }
    Ok(())
}

/// Copies a key file into the keyring, converting it to binary when it is armored
/// (and `dearmor` is on), then sets the keyring's mode.
fn install_key_file(plan: &mut Plan<'_>, src: &str, dest: &str, request: &KeyArgs) -> Result<(), OperationError> {
    let (src_word, dest_word) = (double_quoted(src), double_quoted(dest));
    if request.dearmor {
        plan.push(
            StringCommand::raw("if grep -q \"BEGIN PGP PUBLIC KEY BLOCK\"")
                .text(format!("{src_word};"))
                .text("then gpg --batch --dearmor -o")
                .text(dest_word.clone())
                .text(format!("{src_word};"))
                .text("else cp")
                .text(src_word)
                .text(format!("{dest_word};"))
                .text("fi"),
        );
    } else {
        plan.push(StringCommand::raw("cp").text(src_word).text(dest_word));
    }
    call(plan, "files.file", json!({"path": dest, "mode": request.mode, "present": true}))
}

/// Removes the keys matching `keyids` from the keyrings found in `directories` (only
/// from `only` when given): keys are deleted from binary keyrings, which are removed
/// once empty; an armored keyring goes as a whole, and only if every key in it matches.
fn remove_keys(plan: &mut Plan<'_>, keyids: &[String], directories: &[String], only: Option<&str>) -> Result<(), OperationError> {
    let keyrings = plan.fact("gpg.GpgKeyrings", &[("directories", json!(directories))])?;
    let Value::Object(keyrings) = keyrings else {
        return Ok(());
    };
    let selected = keyrings.iter().filter(|(path, _)| only.is_none_or(|only| only == path.as_str()));
    for (path, keyring) in selected {
        let format = keyring.get("format").and_then(Value::as_str).unwrap_or("gpg");
        let empty = Map::new();
        let keys = keyring.get("keys").and_then(Value::as_object).unwrap_or(&empty);
        let mut fingerprints: Vec<String> = Vec::new();
        for keyid in keyids {
            let clean = keyid.replace("0x", "").replace("0X", "").to_uppercase();
            for (existing, info) in keys {
                if matches_keyid(existing, &clean) {
                    let fingerprint = info.get("fingerprint").map_or_else(|| existing.clone(), python_str);
                    if !fingerprints.contains(&fingerprint) {
                        fingerprints.push(fingerprint);
                    }
                }
            }
        }
        if fingerprints.is_empty() {
            continue;
        }
        if format == "asc" {
            if fingerprints.len() < keys.len() {
                return Err(OperationError::Operation(format!(
                    "Cannot remove individual keys from armored keyring {}: the file contains other keys and cannot be edited in-place. Remove the file explicitly with present=False and no keyid.",
                    python_repr(&json!(path))
                )));
            }
            call(plan, "files.file", json!({"path": path, "present": false}))?;
            continue;
        }
        let keyring_word = double_quoted(path);
        let fingerprints = fingerprints.iter().map(|fingerprint| shell_quote(fingerprint)).collect::<Vec<_>>().join(" ");
        plan.push(
            StringCommand::raw("gpg --batch --yes --no-default-keyring --keyring")
                .text(keyring_word.clone())
                .text("--delete-keys")
                .text(fingerprints),
        );
        plan.push(
            StringCommand::raw("gpg --batch --no-default-keyring --keyring")
                .text(keyring_word.clone())
                .text("--list-keys 2>/dev/null | grep -q \"^pub\" || rm -f")
                .text(keyring_word),
        );
    }
    Ok(())
}

/// Arguments of `gpg.dearmor`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DearmorArgs {
    /// The armored key file on the host.
    pub src: String,
    /// The binary key file to write.
    pub dest: String,
    /// The written file's mode.
    #[serde(default = "mode_0644")]
    pub mode: String,
}

/// `gpg.dearmor`: writes the binary form of an armored key, every time, in a folder
/// made first if need be.
pub fn dearmor(args: &DearmorArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    call(
        plan,
        "files.directory",
        json!({"path": parent_directory(&args.dest), "mode": "0755", "present": true}),
    )?;
    plan.push(
        StringCommand::raw("gpg --batch --dearmor -o")
            .text(double_quoted(&args.dest))
            .text(double_quoted(&args.src)),
    );
    call(plan, "files.file", json!({"path": args.dest, "mode": args.mode, "present": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_directory_as_pure_posix_path() {
        assert_eq!(parent_directory("/etc/apt/keyrings/x.gpg"), "/etc/apt/keyrings");
        assert_eq!(parent_directory("/x.gpg"), "/");
        assert_eq!(parent_directory("x.gpg"), ".");
        assert_eq!(parent_directory("a//b/"), "a");
    }

    #[test]
    fn dearmor_quotes_paths_the_shell_would_expand() -> Result<(), OperationError> {
        use crate::files::lines::test_support::{TableFacts, run};
        let mut facts = TableFacts::default()
            .with("files.Directory", &[("path", json!("/keys"))], json!({"mode": 755}))
            .with("files.File", &[("path", json!("/keys/$name.gpg"))], json!({"mode": 644}));
        let (commands, _) = run(dearmor, &json!({"src": "/tmp/a key.asc", "dest": "/keys/$name.gpg"}), &mut facts)?;
        assert_eq!(commands, ["gpg --batch --dearmor -o '/keys/$name.gpg' \"/tmp/a key.asc\""]);
        Ok(())
    }

    #[test]
    fn key_ids_match_by_prefix_or_suffix() {
        assert!(matches_keyid("3b4fe6acc0b21f32", "C0B21F32"));
        assert!(matches_keyid("3B4FE6ACC0B21F32", "790BC7277767219C42C86F933B4FE6ACC0B21F32"));
        assert!(!matches_keyid("3B4FE6ACC0B21F32", "DEADBEEF"));
    }
}
