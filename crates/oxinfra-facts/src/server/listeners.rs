//! `server.Port` and `server.Ports`: which processes listen on which ports, read with
//! `sockstat` on FreeBSD, else with `ss`, or `netstat` where there is no `ss`. Which
//! tool is used comes from the kernel and `server.Which`, read first (see
//! [`super::kernel`]).

use oxinfra_core::{FactSource, Missing, StringCommand};
use serde_json::{Value, json};

use super::kernel::{has_tool, kernel, with_tool};
use super::process_error;
use crate::files::{python_int, python_str};
use crate::registry::{Arguments, FactError};

/// The tool that lists a host's sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Sockstat,
    Ss,
    Netstat,
}

fn tool(arguments: &Arguments) -> Tool {
    if kernel(arguments) == "FreeBSD" {
        Tool::Sockstat
    } else if has_tool(arguments) {
        Tool::Ss
    } else {
        Tool::Netstat
    }
}

/// The kernel and, except on FreeBSD, whether `ss` is installed.
pub(super) fn with_listeners_tool(arguments: &Arguments, facts: &mut dyn FactSource) -> Result<Arguments, Missing> {
    with_tool(arguments, facts, "ss", &["FreeBSD"])
}

/// Python's `str.isdigit()` for the ASCII text commands print.
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn pid_error(fact: &str, text: &str) -> FactError {
    process_error(fact, format!("`{text}` is not a process id"))
}

// Port

pub(super) fn port_command(arguments: &Arguments) -> StringCommand {
    let port = arguments.get("port").map(python_str).unwrap_or_default();
    let protocol = arguments.get("protocol").map(python_str).unwrap_or_default();
    let flag = if protocol == "tcp" { "t" } else { "u" };
    match tool(arguments) {
        Tool::Sockstat => StringCommand::raw("sockstat -l -p").quoted(port).text("-P").quoted(protocol),
        Tool::Ss => StringCommand::raw(format!("ss -lp{flag}n | grep")).quoted(format!(":{port} ")).text("|| true"),
        Tool::Netstat => StringCommand::raw(format!("netstat -{flag}lnp 2>/dev/null | awk")).quoted(format!("$4 ~ /:{port}$/")),
    }
}

/// The first process listening on the port, as `[name, pid]`, or `[None, None]`.
pub(super) fn port(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    let found = match tool(arguments) {
        Tool::Ss => ss_port(output)?,
        Tool::Netstat => netstat_port(output)?,
        Tool::Sockstat => sockstat_port(output)?,
    };
    Ok(found.map_or_else(|| json!([null, null]), |(name, pid)| json!([name, pid])))
}

/// `users:(("nginx",pid=1234,fd=3))`: the first process of the first line that names one.
fn ss_port(output: &[String]) -> Result<Option<(&str, i64)>, FactError> {
    for line in output {
        if !line.contains('"') || !line.contains("pid=") {
            continue;
        }
        let name = line.split('"').nth(1).unwrap_or_default();
        let pid = line.split("pid=").nth(1).unwrap_or_default();
        let pid = pid.split(',').next().unwrap_or_default();
        return Ok(Some((name, python_int(pid).ok_or_else(|| pid_error("server.Port", pid))?)));
    }
    Ok(None)
}

/// `1234/nginx` in a line's words; a line stops at its first word with a `/`.
fn netstat_port(output: &[String]) -> Result<Option<(&str, i64)>, FactError> {
    for line in output {
        if let Some((pid, name)) = line.split_whitespace().find_map(|word| word.split_once('/')) {
            if is_digits(pid) {
                return Ok(Some((name, python_int(pid).ok_or_else(|| pid_error("server.Port", pid))?)));
            }
        }
    }
    Ok(None)
}

/// `USER COMMAND PID ...` rows: the first row's command and PID.
fn sockstat_port(output: &[String]) -> Result<Option<(&str, i64)>, FactError> {
    for line in output.iter().map(|line| line.trim()) {
        if line.is_empty() || line.starts_with("USER") {
            continue;
        }
        if let [_, name, pid, ..] = line.split_whitespace().collect::<Vec<_>>()[..] {
            return Ok(Some((name, python_int(pid).ok_or_else(|| pid_error("server.Port", pid))?)));
        }
    }
    Ok(None)
}

// Ports

pub(super) fn ports_command(arguments: &Arguments) -> StringCommand {
    StringCommand::raw(match tool(arguments) {
        Tool::Sockstat => "sockstat -l",
        Tool::Ss => "ss -lpuntn || true",
        Tool::Netstat => "netstat -tunp 2>/dev/null || true",
    })
}

/// Every socket with a process: `{port, ip, protocol, process}`, in output order.
pub(super) fn ports(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    let listeners = match tool(arguments) {
        Tool::Ss => ss_ports(output),
        Tool::Netstat => netstat_ports(output)?,
        Tool::Sockstat => sockstat_ports(output),
    };
    Ok(Value::Array(listeners))
}

fn listener(port: i64, ip: &str, protocol: &str, process: &str) -> Value {
    json!({"port": port, "ip": ip, "protocol": protocol, "process": process})
}

/// `ss -lpuntn` lines with a process. The local address is the fourth column after the
/// state, or the fifth when the line starts with the socket type; brackets and
/// `%interface` suffixes are taken off the address.
fn ss_ports(output: &[String]) -> Vec<Value> {
    let mut listeners = Vec::new();
    for line in output {
        if !line.contains('"') || !line.contains("pid=") {
            continue;
        }
        let parts: Vec<&str> = line.split('"').collect();
        let (Some(before), Some(process)) = (parts.first(), parts.get(1)) else {
            continue;
        };
        let columns: Vec<&str> = before.split_whitespace().collect();
        let [first, second, ..] = columns[..] else { continue };
        let (protocol, address_index) = if matches!(first, "LISTEN" | "UNCONN" | "ESTAB" | "ESTABLISHED") {
            (if first == "UNCONN" { "udp" } else { "tcp" }, if columns.len() > 3 { 3 } else { 1 })
        } else {
            (if second == "UNCONN" { "udp" } else { "tcp" }, if columns.len() > 4 { 4 } else { 1 })
        };
        let Some((ip, port)) = columns[address_index].rsplit_once(':') else {
            continue;
        };
        let ip = match ip.strip_prefix('[') {
            Some(inner) => inner.split(']').next().unwrap_or(inner),
            None => ip,
        };
        let ip = ip.split('%').next().unwrap_or(ip);
        if let Some(port) = python_int(port) {
            listeners.push(listener(port, ip, protocol, process));
        }
    }
    listeners
}

/// `netstat -tunp` rows: protocol from the first column, address from the fourth, the
/// process from the first `pid/name` word.
fn netstat_ports(output: &[String]) -> Result<Vec<Value>, FactError> {
    let mut listeners = Vec::new();
    for line in output.iter().map(|line| line.trim()).filter(|line| !line.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let protocol = if words[0].starts_with("tcp") { "tcp" } else { "udp" };
        for (index, word) in words.iter().enumerate() {
            let Some((pid, process)) = word.split_once('/') else { continue };
            if !is_digits(pid) {
                continue;
            }
            if index > 0 {
                let address = words
                    .get(3)
                    .ok_or_else(|| process_error("server.Ports", format!("no local address in `{line}`")))?;
                if let Some((ip, port)) = address.rsplit_once(':') {
                    // A port that is not a number sends pyinfra on to the line's next word.
                    let Some(port) = python_int(port) else { continue };
                    listeners.push(listener(port, ip, protocol, process));
                }
            }
            break;
        }
    }
    Ok(listeners)
}

/// `sockstat -l` rows: `USER COMMAND PID FD PROTO LOCAL FOREIGN`; a local address is
/// `ip:port` or `*.port`.
fn sockstat_ports(output: &[String]) -> Vec<Value> {
    let mut listeners = Vec::new();
    for line in output.iter().map(|line| line.trim()) {
        if line.is_empty() || line.starts_with("USER") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, process, _, _, protocol, local, ..] = words[..] else { continue };
        let (ip, port) = if let Some((ip, port)) = local.rsplit_once(':') {
            (ip, port)
        } else if let Some(port) = local.strip_prefix("*.") {
            ("*", port)
        } else {
            continue;
        };
        if let Some(port) = python_int(port) {
            listeners.push(listener(port, ip, protocol, process));
        }
    }
    listeners
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn output(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    fn prepared(kernel: &str, has_ss: bool) -> Arguments {
        let mut arguments = Map::new();
        arguments.insert(super::super::kernel::KERNEL.to_owned(), json!(kernel));
        arguments.insert(super::super::kernel::HAS_TOOL.to_owned(), json!(has_ss));
        arguments.insert("port".to_owned(), json!(22));
        arguments.insert("protocol".to_owned(), json!("udp"));
        arguments
    }

    #[test]
    fn port_commands_quote_the_port() {
        assert_eq!(port_command(&prepared("FreeBSD", true)).raw_value(), "sockstat -l -p 22 -P udp");
        assert_eq!(port_command(&prepared("Linux", true)).raw_value(), "ss -lpun | grep ':22 ' || true");
        assert_eq!(
            port_command(&prepared("Linux", false)).raw_value(),
            "netstat -ulnp 2>/dev/null | awk '$4 ~ /:22$/'"
        );
    }

    #[test]
    fn a_pid_that_is_not_a_number_is_an_error() {
        let error = port(&prepared("Linux", true), &output(&[r#"LISTEN 0 1 *:22 *:* users:(("sshd",pid=x,fd=3))"#]));
        assert!(error.is_err());
    }

    #[test]
    fn netstat_stops_at_the_first_word_with_a_slash() {
        let value = port(&prepared("Linux", false), &output(&["tcp 0 0 a/b 1/first", "tcp 0 0 :22 2/second"]));
        assert_eq!(value, Ok(json!(["second", 2])));
    }

    #[test]
    fn ss_ports_unwrap_addresses() {
        let lines = output(&[r#"tcp LISTEN 0 128 [fe80::1%eth0]:22 [::]:* users:(("sshd",pid=1,fd=3))"#]);
        assert_eq!(
            ports(&prepared("Linux", true), &lines),
            Ok(json!([{"port": 22, "ip": "fe80::1", "protocol": "tcp", "process": "sshd"}]))
        );
    }

    #[test]
    fn netstat_ports_need_a_local_address() {
        assert!(ports(&prepared("Linux", false), &output(&["tcp 0 1/x"])).is_err());
        assert_eq!(
            ports(&prepared("Linux", false), &output(&["tcp 0 0 0.0.0.0:http 0:* LISTEN 1/x"])),
            Ok(json!([]))
        );
    }

    #[test]
    fn sockstat_ports_read_star_dot_addresses() {
        let lines = output(&["root sshd 1 3 tcp4 *.22 *.*", "root x 1 3 tcp4 localhost *.*"]);
        assert_eq!(
            ports(&prepared("FreeBSD", false), &lines),
            Ok(json!([{"port": 22, "ip": "*", "protocol": "tcp4", "process": "sshd"}]))
        );
    }
}
