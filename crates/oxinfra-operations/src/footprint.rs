//! What a built-in operation can change on a host when it runs, so that the engine keeps
//! the facts it cannot have changed instead of reading them all again.
//!
//! Only two kinds of operation have a footprint narrower than [`Footprint::Anything`]:
//! the `files` operations that write one path (and, with `create_remote_dir`, the folders
//! above it), and `server.group`, which edits the account files. Everything else
//! (packages, users, services, shell commands) may change anything.

use serde_json::{Map, Value};

/// The part of a host an operation may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Footprint {
    /// These absolute paths, what lies below them and the folders above them.
    Paths(Vec<String>),
    /// The account files ([`ACCOUNT_FILES`]): what is read from them changes, and none
    /// of the facts in [`UNTOUCHED_BY_ACCOUNTS`] do.
    Accounts,
    /// Anything at all.
    Anything,
}

/// The argument naming the path each confined operation writes.
const PATH_ARGUMENT: &[(&str, &str)] = &[
    ("files.put", "dest"),
    ("files.template", "dest"),
    ("files.download", "dest"),
    ("files.file", "path"),
    ("files.directory", "path"),
    ("files.link", "path"),
    ("files.line", "path"),
    ("files.replace", "path"),
    ("files.block", "path"),
];

/// The files `groupadd`, `groupmod` and `groupdel` edit.
pub const ACCOUNT_FILES: [&str; 4] = ["/etc/group", "/etc/gshadow", "/etc/passwd", "/etc/shadow"];

/// Facts that editing the account files leaves as they were (besides `files` facts about
/// other paths): what is installed and the system itself.
pub const UNTOUCHED_BY_ACCOUNTS: [&str; 6] = [
    "server.Which",
    "server.Os",
    "server.Kernel",
    "server.Arch",
    "deb.DebPackages",
    "server.LinuxDistribution",
];

/// The footprint of the operation `planner` called with `arguments`.
pub fn footprint(planner: &str, arguments: &Map<String, Value>) -> Footprint {
    if planner == "server.group" {
        return Footprint::Accounts;
    }
    let path = PATH_ARGUMENT
        .iter()
        .find(|(name, _)| *name == planner)
        .and_then(|(_, argument)| arguments.get(*argument))
        .and_then(Value::as_str)
        .and_then(plain_absolute);
    match path {
        Some(path) => Footprint::Paths(vec![path]),
        None => Footprint::Anything,
    }
}

/// `path` without a trailing slash, when it is absolute and has no `.`, `..` or empty
/// segment (paths that could name the same file in two ways are not narrowed down).
pub fn plain_absolute(path: &str) -> Option<String> {
    let trimmed = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    let plain = trimmed.starts_with('/') && (trimmed == "/" || trimmed[1..].split('/').all(|segment| !matches!(segment, "" | "." | "..")));
    plain.then(|| trimmed.to_owned())
}

/// Whether two plain absolute paths are the same, or one lies below the other.
pub fn overlaps(left: &str, right: &str) -> bool {
    let below = |inner: &str, outer: &str| outer == "/" || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('/'));
    left == right || below(left, right) || below(right, left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arguments(value: &Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn files_operations_touch_their_path() {
        let put = footprint("files.put", &arguments(&json!({"src": "a", "dest": "/srv/app/conf/"})));
        assert_eq!(put, Footprint::Paths(vec!["/srv/app/conf".to_owned()]));
        let line = footprint("files.line", &arguments(&json!({"path": "/etc/hosts", "line": "x"})));
        assert_eq!(line, Footprint::Paths(vec!["/etc/hosts".to_owned()]));
    }

    #[test]
    fn other_operations_and_unclear_paths_touch_anything() {
        assert_eq!(footprint("server.shell", &arguments(&json!({"commands": ["x"]}))), Footprint::Anything);
        assert_eq!(footprint("files.put", &arguments(&json!({"dest": "relative/file"}))), Footprint::Anything);
        assert_eq!(footprint("files.file", &arguments(&json!({"path": "/srv/../etc/passwd"}))), Footprint::Anything);
        assert_eq!(footprint("files.file", &arguments(&json!({"path": "/srv//x"}))), Footprint::Anything);
    }

    #[test]
    fn groups_touch_the_account_files() {
        assert_eq!(footprint("server.group", &arguments(&json!({"group": "staff"}))), Footprint::Accounts);
    }

    #[test]
    fn overlap_is_same_path_or_ancestor() {
        assert!(overlaps("/srv/app", "/srv/app"));
        assert!(overlaps("/srv/app/conf/x", "/srv/app"));
        assert!(overlaps("/srv", "/srv/app/conf"));
        assert!(overlaps("/", "/etc"));
        assert!(!overlaps("/srv/application", "/srv/app"));
        assert!(!overlaps("/etc/motd", "/srv/app"));
    }
}
