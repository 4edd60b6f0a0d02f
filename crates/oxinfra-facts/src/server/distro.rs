//! pyinfra's `LinuxDistribution`: the `*-release` files the command printed are written
//! to a scratch `/etc` and read with the `distro` package (1.9, no `lsb_release`, no
//! `uname`). This module reads them the same way from memory.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::files::{compiled, python_int};
use crate::registry::FactError;

static RELEASE_FILE_NAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\w+)[-_](release|version)$"));
// Matches a release line reversed: `CentOS Linux release 7.9.2009 (Core)`.
static RELEASE_LINE_REVERSED: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)"));
static VERSION_CODENAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"\((\D+)\)|,\s*(\D+)"));
static VERSION_PARTS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\d+)\.?(\d+)?\.?(\d+)?"));

/// Files `distro` never takes as the distribution's release file.
const IGNORED: [&str; 9] = [
    "debian_version",
    "lsb-release",
    "oem-release",
    "os-release",
    "system-release",
    "plesk-release",
    "iredmail-release",
    "board-release",
    "ec2_version",
];

/// The value when nothing could be read.
pub(super) fn unknown() -> Value {
    json!({"name": null, "major": null, "minor": null, "release_meta": {}})
}

fn error(message: impl Into<String>) -> FactError {
    FactError::Process {
        fact: "server.LinuxDistribution".to_owned(),
        message: message.into(),
    }
}

/// Name, major and minor version and the `os-release` items of the distribution.
pub(super) fn linux_distribution(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let files = release_files(output)?;
    if files.is_empty() {
        return Ok(unknown());
    }
    let os_release = match files.get("os-release") {
        Some(content) => parse_os_release(content)?,
        None => Vec::new(),
    };
    let os = |key: &str| os_release.iter().find(|(name, _)| name == key).map_or("", |(_, value)| value.as_str());
    let release = distro_release(&files)?;
    let from_release = |key: &str| release.get(key).map_or("", String::as_str);

    let id = if os("id").is_empty() {
        normalize(from_release("id"), &[("redhat", "rhel")])
    } else {
        normalize(os("id"), &[("ol", "oracle"), ("opensuse-leap", "opensuse")])
    };
    let name = [os("name"), from_release("name")].into_iter().find(|name| !name.is_empty()).unwrap_or_default();
    let mut versions = vec![
        os("version_id").to_owned(),
        from_release("version_id").to_owned(),
        parse_release_line(os("pretty_name"))?.remove("version_id").unwrap_or_default(),
    ];
    if id == "debian" || os("id_like").split_whitespace().any(|like| like == "debian") {
        let first = files.get("debian_version").map(|content| first_line(content).trim_end().to_owned());
        versions.push(first.unwrap_or_default());
    }
    // `distro`'s best version: the last most precise one (most dots) wins.
    let mut version = String::new();
    for candidate in versions {
        if version.is_empty() || candidate.matches('.').count() > version.matches('.').count() {
            version = candidate;
        }
    }
    let parts = compiled(&VERSION_PARTS)?.captures(&version);
    let part = |index: usize| {
        parts
            .as_ref()
            .and_then(|captures| captures.get(index))
            .and_then(|found| python_int(found.as_str()))
    };

    let pretty = match id.as_str() {
        "alpine" => "Alpine",
        "centos" => "CentOS",
        "fedora" => "Fedora",
        "gentoo" => "Gentoo",
        "opensuse" => "openSUSE",
        "rhel" => "RedHat",
        "ubuntu" => "Ubuntu",
        "debian" => "Debian",
        _ => name,
    };
    let mut meta = Map::new();
    for (key, value) in os_release.iter().filter(|(key, _)| key != "release_codename") {
        meta.insert(key.to_uppercase(), Value::String(value.clone()));
    }
    Ok(json!({"name": pretty, "major": part(1), "minor": part(2), "release_meta": meta}))
}

/// The printed files, `/etc/<name>` then its content then `---`, by base name; files
/// without content are left out (there is nothing to write).
fn release_files(output: &[String]) -> Result<BTreeMap<String, String>, FactError> {
    let mut files = BTreeMap::new();
    let joined = output.join("\n");
    for part in joined.trim().split("---").map(str::trim) {
        let Some((path, content)) = part.split_once('\n') else {
            continue;
        };
        let name = path
            .rsplit('/')
            .find(|component| !component.is_empty() && *component != ".")
            .unwrap_or_default();
        if name.is_empty() || name == ".." {
            return Err(error(format!("cannot write release file `{path}`")));
        }
        // Read back in text mode, as `distro` does: every line ending becomes `\n`.
        files.insert(name.to_owned(), content.replace("\r\n", "\n").replace('\r', "\n"));
    }
    Ok(files)
}

fn normalize(id: &str, table: &[(&str, &str)]) -> String {
    let id = id.to_lowercase().replace(' ', "_");
    table.iter().find(|(from, _)| *from == id).map_or(id, |(_, to)| (*to).to_owned())
}

fn first_line(content: &str) -> &str {
    content.split_inclusive('\n').next().unwrap_or_default()
}

/// `os-release` as `distro` reads it: shell words, `KEY=value` assignments with
/// lowercased keys, and a `codename` from `VERSION`, `VERSION_CODENAME` or
/// `UBUNTU_CODENAME`.
fn parse_os_release(content: &str) -> Result<Vec<(String, String)>, FactError> {
    // Insertion-ordered, as the Python dict: a key set again keeps its place.
    fn set(props: &mut Vec<(String, String)>, key: String, value: String) {
        match props.iter_mut().find(|(name, _)| *name == key) {
            Some(entry) => entry.1 = value,
            None => props.push((key, value)),
        }
    }
    let mut props: Vec<(String, String)> = Vec::new();
    for word in shell_words(content).map_err(error)? {
        if let Some((key, value)) = word.split_once('=') {
            set(&mut props, key.to_lowercase(), value.to_owned());
        }
    }
    let get = |props: &Vec<(String, String)>, key: &str| props.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
    if let Some(version) = get(&props, "version") {
        let codename = compiled(&VERSION_CODENAME)?
            .captures(&version)
            .and_then(|captures| captures.get(1).or_else(|| captures.get(2)))
            .map(|found| found.as_str().to_owned());
        if let Some(codename) = codename {
            set(&mut props, "codename".to_owned(), codename.clone());
            set(&mut props, "release_codename".to_owned(), codename);
        }
    }
    if let Some(codename) = get(&props, "version_codename").or_else(|| get(&props, "ubuntu_codename")) {
        set(&mut props, "codename".to_owned(), codename);
    }
    Ok(props)
}

/// The first `*-release`/`*_version` file (by name) whose first line gives a name,
/// read as `distro` reads it, with the file name's prefix as `id`.
fn distro_release(files: &BTreeMap<String, String>) -> Result<BTreeMap<&'static str, String>, FactError> {
    let pattern = compiled(&RELEASE_FILE_NAME)?;
    for (name, content) in files.iter().filter(|(name, _)| !IGNORED.contains(&name.as_str())) {
        let Some(prefix) = pattern.captures(name).and_then(|captures| captures.get(1)) else {
            continue;
        };
        let mut info = parse_release_line(first_line(content))?;
        let Some(found) = info.get("name") else {
            continue;
        };
        let id = if found.to_lowercase().contains("cloudlinux") {
            "cloudlinux".to_owned()
        } else {
            prefix.as_str().to_owned()
        };
        info.insert("id", id);
        return Ok(info);
    }
    Ok(BTreeMap::new())
}

/// `Name release 1.2 (Codename)` as name, version and codename, matched backwards.
fn parse_release_line(line: &str) -> Result<BTreeMap<&'static str, String>, FactError> {
    let reversed: String = line.trim().chars().rev().collect();
    let backwards = |found: regex::Match<'_>| found.as_str().chars().rev().collect::<String>();
    let mut info = BTreeMap::new();
    if let Some(captures) = compiled(&RELEASE_LINE_REVERSED)?.captures(&reversed) {
        let fields = [(3, "name"), (2, "version_id"), (1, "codename")];
        for (index, key) in fields {
            if let Some(found) = captures.get(index).filter(|found| index == 3 || !found.as_str().is_empty()) {
                info.insert(key, backwards(found));
            }
        }
    } else if !line.is_empty() {
        info.insert("name", line.trim().to_owned());
    }
    Ok(info)
}

/// Python's `shlex` in POSIX mode with `whitespace_split`: quotes, backslashes and
/// `#` comments handled as `distro` relies on.
fn shell_words(text: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Word,
        Quoted(char),
        Escaped(Option<char>),
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut state = State::Between;
    let mut chars = text.chars();
    let mut finish = |word: &mut String, quoted: &mut bool| {
        if !word.is_empty() || *quoted {
            words.push(std::mem::take(word));
        }
        *quoted = false;
    };
    loop {
        let next = chars.next();
        match (state, next) {
            (State::Between | State::Word, None) => {
                finish(&mut word, &mut quoted);
                break;
            }
            (State::Quoted(_), None) => return Err("No closing quotation"),
            (State::Escaped(_), None) => return Err("No escaped character"),
            (State::Between | State::Word, Some(' ' | '\t' | '\r' | '\n')) => {
                finish(&mut word, &mut quoted);
                state = State::Between;
            }
            (State::Between | State::Word, Some('#')) => {
                // A comment runs to the end of the line, even in the middle of a word.
                chars.by_ref().find(|c| *c == '\n');
                finish(&mut word, &mut quoted);
                state = State::Between;
            }
            (State::Between | State::Word, Some('\\')) => state = State::Escaped(None),
            (State::Between | State::Word, Some(quote @ ('"' | '\''))) => {
                state = State::Quoted(quote);
            }
            (State::Between | State::Word, Some(c)) => {
                word.push(c);
                state = State::Word;
            }
            (State::Quoted(quote), Some(c)) => {
                quoted = true;
                if c == quote {
                    state = State::Word;
                } else if c == '\\' && quote == '"' {
                    state = State::Escaped(Some(quote));
                } else {
                    word.push(c);
                }
            }
            (State::Escaped(inside), Some(c)) => {
                // In double quotes only `\"` and `\\` are escapes; other pairs stay.
                if inside.is_some_and(|quote| c != quote && c != '\\') {
                    word.push('\\');
                }
                word.push(c);
                state = inside.map_or(State::Word, State::Quoted);
            }
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_follow_posix_shlex() {
        let words = shell_words("A=\"x \\\"y\\\" \\z\" B='it''s' C=a#comment\nD=\"\" # full line\nE=\\ e");
        assert_eq!(
            words,
            Ok(vec![
                "A=x \"y\" \\z".to_owned(),
                "B=its".to_owned(),
                "C=a".to_owned(),
                "D=".to_owned(),
                "E= e".to_owned()
            ])
        );
        assert_eq!(shell_words("A=\"open"), Err("No closing quotation"));
    }

    #[test]
    fn release_line_reads_name_version_codename() {
        let info = parse_release_line("CentOS Linux release 7.9.2009 (Core)\n");
        assert_eq!(info.as_ref().map(|info| info.get("name").cloned()), Ok(Some("CentOS Linux".to_owned())));
        assert_eq!(info.as_ref().map(|info| info.get("version_id").cloned()), Ok(Some("7.9.2009".to_owned())));
        assert_eq!(info.map(|info| info.get("codename").cloned()), Ok(Some("Core".to_owned())));
        assert_eq!(parse_release_line("\n").map(|info| info.get("name").cloned()), Ok(Some(String::new())));
    }

    #[test]
    fn debian_version_file_refines_the_version() {
        let output: Vec<String> = ["/etc/os-release", "ID=debian", "VERSION_ID=\"12\"", "---", "/etc/debian_version", "12.5", "---"]
            .map(str::to_owned)
            .to_vec();
        let value = linux_distribution(&Map::new(), &output);
        assert_eq!(
            value.map(|value| (value["name"].clone(), value["major"].clone(), value["minor"].clone())),
            Ok((json!("Debian"), json!(12), json!(5)))
        );
    }

    #[test]
    fn redhat_release_normalizes_to_rhel() {
        let output: Vec<String> = ["/etc/redhat-release", "Red Hat Enterprise Linux Server release 6.10 (Santiago)", "---"]
            .map(str::to_owned)
            .to_vec();
        let value = linux_distribution(&Map::new(), &output);
        assert_eq!(
            value.map(|value| (value["name"].clone(), value["major"].clone(), value["minor"].clone())),
            Ok((json!("RedHat"), json!(6), json!(10)))
        );
    }

    #[test]
    fn empty_output_is_unknown() {
        assert_eq!(linux_distribution(&Map::new(), &["---".to_owned()]), Ok(unknown()));
    }
}
