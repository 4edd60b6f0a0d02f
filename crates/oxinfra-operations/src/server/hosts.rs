//! `server.hostname` and `server.etc_hosts`: the host's own name and the names it
//! knows others by, written with `hostnamectl`/`hostname` or as whole files (through
//! `files.put`).

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use super::{contains_name, os, text_fact, which, yes};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;
use crate::registry::call;

/// `server.hostname`.
pub const HOSTNAME: OperationDef = OperationDef {
    name: "server.hostname",
    params: &["hostname", "hostname_file"],
    plan: |arguments, plan| hostname(&parse_arguments("server.hostname", arguments)?, plan),
};

/// `server.etc_hosts`.
pub const ETC_HOSTS: OperationDef = OperationDef {
    name: "server.etc_hosts",
    params: &["ip", "hostnames", "present", "path"],
    plan: |arguments, plan| etc_hosts(&parse_arguments("server.etc_hosts", arguments)?, plan),
};

/// Where `server.hostname` writes the name for the next boot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum HostnameFile {
    /// This file.
    Path(String),
    /// `False`: write no file.
    Disabled(bool),
}

/// Arguments of `server.hostname`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostnameArgs {
    /// The hostname to set.
    pub hostname: String,
    /// The file that keeps the hostname across reboots, on hosts without
    /// `hostnamectl`: `/etc/hostname` on Linux and `/etc/myname` on OpenBSD unless
    /// given; `False` writes none.
    #[serde(default)]
    pub hostname_file: Option<HostnameFile>,
}

/// The file to write the hostname to, if any.
fn hostname_file(args: &HostnameArgs, plan: &mut Plan<'_>) -> Result<Option<String>, OperationError> {
    match &args.hostname_file {
        Some(HostnameFile::Path(path)) => Ok(Some(path.clone()).filter(|path| !path.is_empty())),
        Some(HostnameFile::Disabled(false)) => Ok(None),
        Some(HostnameFile::Disabled(true)) => Err(OperationError::Type("server.hostname: `hostname_file` must be a path or False".to_owned())),
        None => Ok(match os(plan)?.as_str() {
            "Linux" => Some("/etc/hostname".to_owned()),
            "OpenBSD" => Some("/etc/myname".to_owned()),
            _ => None,
        }),
    }
}

/// `server.hostname`: sets the hostname with `hostnamectl`, or with `hostname` and
/// the hostname file.
pub fn hostname(args: &HostnameArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let current = text_fact(plan, "server.Hostname")?;
    let is_set = current.as_deref() == Some(args.hostname.as_str());
    if which(plan, "hostnamectl")? {
        if is_set {
            plan.noop("hostname is set");
        } else {
            plan.push(StringCommand::raw("hostnamectl set-hostname").quoted(&args.hostname));
        }
        return Ok(());
    }
    let file = hostname_file(args, plan)?;
    if is_set {
        plan.noop("hostname is set");
    } else {
        plan.push(StringCommand::raw("hostname").quoted(&args.hostname));
    }
    if let Some(file) = file {
        let content = format!("{}\n", args.hostname);
        call(plan, "files.put", json!({"src": {"content": content}, "dest": file}))?;
    }
    Ok(())
}

fn default_hosts_file() -> String {
    "/etc/hosts".to_owned()
}

/// Hostnames given as one space-separated text or as a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Hostnames {
    /// Names separated by blanks.
    Text(String),
    /// One name per item.
    List(Vec<String>),
}

/// Arguments of `server.etc_hosts`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtcHostsArgs {
    /// The IP address whose entry is managed.
    pub ip: String,
    /// The names the address should have (required when `present`); when removing,
    /// only these names are dropped from the entry.
    #[serde(default)]
    pub hostnames: Option<Hostnames>,
    /// Whether the entry (or the given names) should be in the file.
    #[serde(default = "yes")]
    pub present: bool,
    /// The hosts file.
    #[serde(default = "default_hosts_file")]
    pub path: String,
}

/// The wanted hostnames as a list.
fn hostname_list(hostnames: Option<&Hostnames>) -> Vec<String> {
    match hostnames {
        None => Vec::new(),
        Some(Hostnames::Text(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Hostnames::List(names)) => names.clone(),
    }
}

/// Why the hosts file already is as wanted, if it is.
fn etc_hosts_noop(args: &EtcHostsArgs, names: &[String], current: Option<&Value>) -> Option<String> {
    let (ip, path) = (&args.ip, &args.path);
    if args.present {
        let current: Option<Vec<String>> = current.and_then(Value::as_array).map(|items| items.iter().map(python_str).collect());
        return (current.as_deref() == Some(names)).then(|| format!("{ip} -> {} already present in {path}", names.join(" ")));
    }
    let Some(current) = current.filter(|current| !current.is_null()) else {
        return Some(format!("{ip} already absent from {path}"));
    };
    if !names.is_empty() && !names.iter().any(|name| contains_name(current, name)) {
        return Some(format!("{ip} in {path} does not reference any of: {}", names.join(" ")));
    }
    None
}

/// The hosts file's lines with the entry for `ip` set, trimmed or dropped; comments,
/// blank lines and other entries are kept (a comment on the edited line is not).
fn edit_hosts_lines(existing: &[String], ip: &str, names: &[String], present: bool) -> Vec<String> {
    let entry = |names: &[String]| format!("{ip} {}", names.join(" "));
    let mut edited = Vec::with_capacity(existing.len() + 1);
    let mut found = false;
    for line in existing {
        let content = line.split('#').next().unwrap_or_default().trim();
        let mut tokens = content.split_whitespace();
        if tokens.next() != Some(ip) {
            edited.push(line.clone());
            continue;
        }
        found = true;
        if present {
            edited.push(entry(names));
        } else if !names.is_empty() {
            let remaining: Vec<String> = tokens.filter(|name| !names.iter().any(|wanted| wanted == name)).map(str::to_owned).collect();
            if !remaining.is_empty() {
                edited.push(entry(&remaining));
            }
        }
    }
    if present && !found {
        edited.push(entry(names));
    }
    edited
}

/// `server.etc_hosts`: adds, updates or removes the entry of one address in the hosts
/// file, rewriting the file (as `files.put`) only when needed.
pub fn etc_hosts(args: &EtcHostsArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let names = hostname_list(args.hostnames.as_ref());
    if args.present && names.is_empty() {
        return Err(OperationError::Operation("hostnames must be provided when present=True".to_owned()));
    }
    let entries = plan.fact("server.EtcHosts", &[("path", json!(args.path))])?;
    if let Some(reason) = etc_hosts_noop(args, &names, entries.get(&args.ip)) {
        plan.noop(reason);
        return Ok(());
    }
    let existing = plan.fact("files.FileContents", &[("path", json!(args.path))])?;
    let existing: Vec<String> = existing
        .as_array()
        .map(|lines| lines.iter().map(|line| python_str(line).trim_end_matches(['\r', '\n']).to_owned()).collect())
        .unwrap_or_default();
    let edited = edit_hosts_lines(&existing, &args.ip, &names, args.present);
    let content: String = edited.iter().flat_map(|line| [line.as_str(), "\n"]).collect();
    call(plan, "files.put", json!({"src": {"content": content}, "dest": args.path}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn hostname_file_is_written_without_hostnamectl() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with("server.Hostname", &[], json!("old"))
            .with("server.Which", &[("command", json!("hostnamectl"))], Value::Null)
            .with("server.Os", &[], json!("Linux"))
            .with("files.File", &[("path", json!("/etc/hostname"))], Value::Null)
            .with("files.Directory", &[("path", json!("/etc/hostname"))], Value::Null)
            .with("files.Directory", &[("path", json!("/etc"))], json!({"mode": 755}));
        let (commands, _) = run(hostname, &json!({"hostname": "new host"}), &mut facts)?;
        assert_eq!(commands, ["hostname 'new host'", "upload /etc/hostname"]);
        Ok(())
    }

    #[test]
    fn hosts_entries_keep_comments_and_lose_emptied_lines() {
        let existing: Vec<String> = ["# local", "127.0.0.1 localhost", "10.0.0.1 a b # old", ""].map(str::to_owned).into();
        let names = ["a".to_owned(), "b".to_owned()];
        assert_eq!(edit_hosts_lines(&existing, "10.0.0.1", &names, false), ["# local", "127.0.0.1 localhost", ""]);
        assert_eq!(
            edit_hosts_lines(&existing, "10.0.0.1", &names[..1], false),
            ["# local", "127.0.0.1 localhost", "10.0.0.1 b", ""]
        );
        assert_eq!(
            edit_hosts_lines(&existing, "10.0.0.2", &names, true),
            ["# local", "127.0.0.1 localhost", "10.0.0.1 a b # old", "", "10.0.0.2 a b"]
        );
    }
}
