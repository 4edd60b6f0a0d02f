//! Facts of `pyinfra/facts/gpg.py`: the keys of a key file or URL, of a keychain
//! (public or secret), and of every keyring file under some directories, all parsed
//! from `gpg --with-colons` records.
//!
//! Also here, because the `apt` operations write the same shell words:
//! [`double_quoted`] (pyinfra's `"{value}"`, made safe).

use oxinfra_core::StringCommand;
use oxinfra_core::command::shell_quote;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_none, string_argument};

fn requires_gpg(_arguments: &Map<String, Value>) -> String {
    "gpg".to_owned()
}

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "gpg.GpgKey",
        params: &[Param::required("src")],
        command: key_command,
        requires_command: Some(requires_gpg),
        process: |_, output| public_keys(output),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "gpg.GpgKeys",
        params: &[Param::optional("keyring", "null")],
        command: |arguments| list_command("--list-keys", arguments),
        requires_command: Some(requires_gpg),
        process: |_, output| public_keys(output),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "gpg.GpgSecretKeys",
        params: &[Param::optional("keyring", "null")],
        command: |arguments| list_command("--list-secret-keys", arguments),
        requires_command: Some(requires_gpg),
        process: |_, output| parse_keys(output, "sec", "ssb"),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "gpg.GpgKeyrings",
        params: &[Param::required("directories")],
        command: |arguments| keyrings_command(&directories(arguments.get("directories"))),
        requires_command: Some(requires_gpg),
        process: |_, output| keyrings(output),
        default: default_none,
        shell_executable: None,
    },
];

// Commands

/// The keys of a local file, or of a URL fetched with `wget` or `curl`.
fn key_command(arguments: &Map<String, Value>) -> StringCommand {
    let src = string_argument(arguments, "src");
    if !has_url_scheme(src) {
        return StringCommand::raw("gpg --with-colons").quoted(src);
    }
    StringCommand::raw("(wget -O -")
        .quoted(src)
        .text("|| curl -sSLf")
        .nested(StringCommand {
            separator: String::new(),
            ..StringCommand::new().quoted(src).text(")")
        })
        .text("| gpg --with-colons")
}

/// `gpg --list-keys` (or `--list-secret-keys`) of the default keychain or of one keyring.
fn list_command(listing: &str, arguments: &Map<String, Value>) -> StringCommand {
    let command = StringCommand::raw("gpg").text(listing).text("--with-colons");
    match arguments.get("keyring").and_then(Value::as_str).filter(|keyring| !keyring.is_empty()) {
        None => command,
        Some(keyring) => command.text("--keyring").quoted(keyring).text("--no-default-keyring"),
    }
}

/// The `directories` argument: one directory or a list of them.
pub fn directories(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(directory)) => vec![directory.clone()],
        Some(Value::Array(items)) => items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Lists every binary keyring (`*.gpg`, `*.kbx`), then every armored one (`*.asc`),
/// under `directories`, each after a `KEYRING:<path>` line. Plain `sh` only: two
/// `find -exec` passes rather than a bash loop.
pub fn keyrings_command(directories: &[String]) -> StringCommand {
    let locations = directories.iter().map(|directory| double_quoted(directory)).collect::<Vec<_>>().join(" ");
    StringCommand::raw("find")
        .text(locations.clone())
        .text(r"-type f \( -name '*.gpg' -o -name '*.kbx' \) 2>/dev/null -exec sh -c")
        .text(r#"'echo "KEYRING:$1"; gpg --list-keys --with-colons --keyring "$1" --no-default-keyring 2>/dev/null || true' _ {} \; ;"#)
        .text("find")
        .text(locations)
        .text("-type f -name '*.asc' 2>/dev/null -exec sh -c")
        .text(r#"'echo "KEYRING:$1"; gpg --with-colons "$1" 2>/dev/null || true' _ {} \;"#)
}

/// `value` as one shell word in double quotes, as pyinfra writes `"{value}"`; a value
/// the shell would expand or end inside double quotes is single-quoted instead.
pub fn double_quoted(value: &str) -> String {
    if value.contains(['"', '$', '`', '\\', '!']) {
        shell_quote(value)
    } else {
        format!("\"{value}\"")
    }
}

// Parsing

fn public_keys(output: &[String]) -> Result<Value, FactError> {
    parse_keys(output, "pub", "sub")
}

fn process_error(message: String) -> FactError {
    FactError::Process {
        fact: "gpg".to_owned(),
        message,
    }
}

/// Field `index` of a colon record, failing as Python's `bits[index]` would.
fn record_field<'a>(bits: &[&'a str], index: usize, line: &str) -> Result<&'a str, FactError> {
    bits.get(index)
        .copied()
        .ok_or_else(|| process_error(format!("gpg record `{line}` has no field {}", index + 1)))
}

/// A key or subkey record: validity, length and id.
fn key_record(bits: &[&str], line: &str) -> Result<(String, Map<String, Value>), FactError> {
    let length_text = record_field(bits, 2, line)?;
    let length: i64 = length_text
        .trim()
        .parse()
        .map_err(|_| process_error(format!("gpg key length `{length_text}` is not a number")))?;
    let mut details = Map::new();
    details.insert("validity".to_owned(), Value::String(record_field(bits, 1, line)?.to_owned()));
    details.insert("length".to_owned(), Value::from(length));
    Ok((record_field(bits, 4, line)?.to_owned(), details))
}

/// A key being read: its id, its fields, and its subkeys so far.
struct Key {
    id: String,
    details: Map<String, Value>,
    subkeys: Vec<(String, Map<String, Value>)>,
}

/// pyinfra's `GpgFactBase.process`: keys by id, each with `validity`, `length`,
/// `subkeys` (by id), and `fingerprint`, `uid_hash`, `uid` when their records follow.
/// As in pyinfra, `fpr` and `uid` records after a subkey describe that subkey, and a
/// key keeps only the last of its subkeys.
pub fn parse_keys(output: &[String], key_type: &str, subkey_type: &str) -> Result<Value, FactError> {
    let mut keys: Vec<Key> = Vec::new();
    let mut current: Option<Key> = None;
    let mut subkey: Option<(String, Map<String, Value>)> = None;
    for line in output.iter().filter(|line| !line.is_empty()) {
        let bits: Vec<&str> = line.split(':').collect();
        let record = bits[0];
        if record == key_type || record == subkey_type {
            let details = key_record(&bits, line)?;
            if record == key_type {
                if let Some(mut done) = current.take() {
                    done.subkeys.extend(subkey.take());
                    keys.push(done);
                }
                current = Some(Key {
                    id: details.0,
                    details: details.1,
                    subkeys: Vec::new(),
                });
                subkey = None;
            } else if current.is_some() {
                subkey = Some(details);
            }
            continue;
        }
        let ((Some((_, target)), _) | (None, Some(Key { details: target, .. }))) = (&mut subkey, &mut current) else {
            continue;
        };
        match record {
            "fpr" => {
                target.insert("fingerprint".to_owned(), Value::String(record_field(&bits, 9, line)?.to_owned()));
            }
            "uid" => {
                target.insert("uid_hash".to_owned(), Value::String(record_field(&bits, 7, line)?.to_owned()));
                target.insert("uid".to_owned(), Value::String(record_field(&bits, 9, line)?.to_owned()));
            }
            _ => {}
        }
    }
    if let Some(mut done) = current {
        done.subkeys.extend(subkey);
        keys.push(done);
    }
    let mut by_id = Map::new();
    for key in keys {
        let subkeys: Map<String, Value> = key.subkeys.into_iter().map(|(id, details)| (id, Value::Object(details))).collect();
        // Python builds the dict with `subkeys` right after `length`.
        let mut details = Map::new();
        for (name, value) in key.details {
            details.insert(name.clone(), value);
            if name == "length" {
                details.insert("subkeys".to_owned(), Value::Object(subkeys.clone()));
            }
        }
        by_id.insert(key.id, Value::Object(details));
    }
    Ok(Value::Object(by_id))
}

/// pyinfra's `GpgKeyrings.process`: each keyring path with keys, with its `format`
/// (the file's extension) and its `keys`.
pub fn keyrings(output: &[String]) -> Result<Value, FactError> {
    let mut result = Map::new();
    let mut current: Option<&str> = None;
    let mut records: Vec<String> = Vec::new();
    let mut finish = |keyring: Option<&str>, records: &mut Vec<String>| -> Result<(), FactError> {
        if let Some(keyring) = keyring.filter(|_| !records.is_empty()) {
            let format = keyring.rsplit('.').next().unwrap_or(keyring).to_lowercase();
            let mut entry = Map::new();
            entry.insert("format".to_owned(), Value::String(format));
            entry.insert("keys".to_owned(), parse_keys(records, "pub", "sub")?);
            result.insert(keyring.to_owned(), Value::Object(entry));
        }
        records.clear();
        Ok(())
    };
    for line in output.iter().map(|line| line.trim()).filter(|line| !line.is_empty()) {
        if let Some(keyring) = line.strip_prefix("KEYRING:") {
            finish(current, &mut records)?;
            current = Some(keyring);
        } else {
            records.push(line.to_owned());
        }
    }
    finish(current, &mut records)?;
    Ok(Value::Object(result))
}

// URLs

/// Whether Python's `urlparse` finds a scheme in `text` (`https:`, but also `c:` or
/// `ppa:`): letters, digits, `+`, `-` and `.` before a `:`, starting with a letter.
fn has_url_scheme(text: &str) -> bool {
    let text = text.trim_start_matches(|c: char| c <= ' ');
    text.split_once(':').is_some_and(|(scheme, _)| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn only_the_last_subkey_is_kept_as_in_pyinfra() {
        let output = lines(&["pub:-:4096:1:AAAA:1::::", "sub:-:2048:1:S1:1::::", "sub:-:1024:1:S2:1::::"]);
        let keys = parse_keys(&output, "pub", "sub").unwrap();
        assert_eq!(
            keys,
            json!({"AAAA": {"validity": "-", "length": 4096, "subkeys": {"S2": {"validity": "-", "length": 1024}}}})
        );
    }

    #[test]
    fn a_short_record_is_an_error() {
        assert!(parse_keys(&lines(&["pub:-:4096"]), "pub", "sub").is_err());
        assert!(parse_keys(&lines(&["pub:-:big:1:A"]), "pub", "sub").is_err());
    }

    #[test]
    fn keyrings_without_keys_are_left_out() {
        let output = lines(&["KEYRING:/k/empty.gpg", "KEYRING:/k/Full.KBX", "pub:u:256:22:B:1::::", ""]);
        assert_eq!(
            keyrings(&output).unwrap(),
            json!({"/k/Full.KBX": {"format": "kbx", "keys": {"B": {"validity": "u", "length": 256, "subkeys": {}}}}})
        );
    }

    #[test]
    fn odd_directories_are_single_quoted() {
        assert_eq!(double_quoted("/etc/apt/keyrings"), "\"/etc/apt/keyrings\"");
        assert_eq!(double_quoted("/a\"$(x)"), "'/a\"$(x)'");
    }

    #[test]
    fn url_schemes_as_python() {
        assert!(has_url_scheme("https://example.com/key.asc"));
        assert!(has_url_scheme("ppa:user/repo"));
        assert!(!has_url_scheme("/tmp/key.asc"));
        assert!(!has_url_scheme("1a:b"));
        assert!(!has_url_scheme("/tmp/a:b"));
    }
}
