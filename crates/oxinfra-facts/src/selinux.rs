//! Facts of `pyinfra/facts/selinux.py`: booleans (`getsebool`), the context of a file
//! (`stat -c %C`), the file context mappings of the policy (`semanage fcontext`) and
//! the types of network ports (`semanage port`, `sepolicy network`).
//!
//! Commands take their values quoted where pyinfra writes them into the text as is.
//! Port numbers are mapping keys, so they are text here (`"22"`) where pyinfra has
//! Python integers.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_dict, default_none, string_argument};

/// The fields of a context, in the order `user:role:type:level` writes them.
const FIELDS: [&str; 4] = ["user", "role", "type", "level"];

static MAPPING_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^.*\s+(\w+):(\w+):(\w+):(\w+)"));
// `amqp_port_t                    tcp      15672, 5671-5672`
static PORTS_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^([\w_]+)\s+(\w+)\s+([\w\-,\s]+)$"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "selinux.SEBoolean",
        params: &[Param::required("boolean")],
        command: |arguments| StringCommand::raw("getsebool").quoted(string_argument(arguments, "boolean")),
        requires_command: Some(|_| "getsebool".to_owned()),
        process: |_, output| boolean(output),
        default: default_text,
        shell_executable: None,
    },
    FactDef {
        name: "selinux.FileContext",
        params: &[Param::required("path")],
        command: |arguments| StringCommand::raw("stat -c %C").quoted(string_argument(arguments, "path")).text("|| exit 0"),
        requires_command: None,
        process: |_, output| Ok(file_context(output)),
        default: default_none,
        shell_executable: None,
    },
    FactDef {
        name: "selinux.FileContextMapping",
        params: &[Param::required("target")],
        command: |arguments| {
            // A `^` makes the pattern always quoted, as pyinfra's `grep '^...'`.
            let pattern = format!("^{}", string_argument(arguments, "target"));
            let grep = StringCommand::raw("grep").quoted(pattern).text("|| true");
            let mut command = StringCommand::raw("set -o pipefail && semanage fcontext -n -l | (").nested(grep).text(")");
            command.separator = String::new();
            command
        },
        requires_command: Some(|_| "semanage".to_owned()),
        process: |_, output| file_context_mapping(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "selinux.SEPorts",
        params: &[],
        command: |_| StringCommand::raw("semanage port -ln"),
        requires_command: Some(|_| "semanage".to_owned()),
        process: |_, output| ports(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "selinux.SEPort",
        params: &[Param::required("protocol"), Param::required("port")],
        command: |arguments| {
            let port = arguments.get("port").map(python_str).unwrap_or_default();
            let protocol = arguments.get("protocol").map(python_str).unwrap_or_default();
            StringCommand::raw("(sepolicy network -p")
                .quoted(port)
                .text("2>/dev/null || true) | grep")
                .quoted(protocol)
        },
        requires_command: Some(|_| "sepolicy".to_owned()),
        process: |_, output| Ok(port(output)),
        default: default_text,
        shell_executable: None,
    },
];

/// `""`, pyinfra's `default = str`.
fn default_text() -> Value {
    Value::String(String::new())
}

fn process_error(fact: &str, message: impl Into<String>) -> FactError {
    FactError::Process {
        fact: fact.to_owned(),
        message: message.into(),
    }
}

fn compiled(regex: &'static LazyLock<Result<Regex, regex::Error>>, fact: &str) -> Result<&'static Regex, FactError> {
    regex.as_ref().map_err(|error| process_error(fact, error.to_string()))
}

/// `name --> on`: the state after the arrow.
fn boolean(output: &[String]) -> Result<Value, FactError> {
    let Some(line) = output.first() else {
        return Ok(default_text());
    };
    match line.split(" --> ").nth(1) {
        Some(state) => Ok(Value::String(state.to_owned())),
        None => Err(process_error("selinux.SEBoolean", format!("unexpected `getsebool` output: `{line}`"))),
    }
}

/// `user:role:type:level`, or `None` when the file has no context (`?`) or is missing.
fn file_context(output: &[String]) -> Value {
    let Some(line) = output.first() else {
        return Value::Null;
    };
    let components: Vec<&str> = line.split(':').collect();
    if components.len() < 4 {
        return Value::Null;
    }
    Value::Object(
        FIELDS
            .iter()
            .zip(components)
            .map(|(field, value)| ((*field).to_owned(), Value::String(value.to_owned())))
            .collect(),
    )
}

/// The context at the end of the one mapping line, or `{}` when there is not exactly one.
fn file_context_mapping(output: &[String]) -> Result<Value, FactError> {
    let [line] = output else {
        return Ok(default_dict());
    };
    let regex = compiled(&MAPPING_LINE, "selinux.FileContextMapping")?;
    Ok(match regex.captures(line) {
        Some(captures) => Value::Object(
            FIELDS
                .iter()
                .enumerate()
                .map(|(index, field)| ((*field).to_owned(), Value::String(captures[index + 1].to_owned())))
                .collect(),
        ),
        None => default_dict(),
    })
}

/// `{protocol: {port: type}}` from `semanage port -ln`, ranges expanded; the
/// `unreserved_port_t` lines, which cover every other port, are left out.
fn ports(output: &[String]) -> Result<Value, FactError> {
    const FACT: &str = "selinux.SEPorts";
    let regex = compiled(&PORTS_LINE, FACT)?;
    let number = |text: &str| {
        text.trim()
            .parse::<u32>()
            .map_err(|_| process_error(FACT, format!("`{text}` is not a port number")))
    };
    let mut labels: Map<String, Value> = Map::new();
    for line in output {
        let Some(captures) = regex.captures(line) else {
            continue;
        };
        let (label, protocol) = (&captures[1], &captures[2]);
        if label == "unreserved_port_t" {
            continue;
        }
        let ports = labels.entry(protocol).or_insert_with(default_dict);
        let Value::Object(ports) = ports else {
            continue;
        };
        for item in captures[3].split(',') {
            let item = item.trim();
            let (start, stop) = if let Some((start, rest)) = item.split_once('-') {
                (number(start)?, number(rest.split('-').next().unwrap_or_default())?)
            } else {
                let port = number(item)?;
                (port, port)
            };
            for port in start..=stop {
                ports.insert(port.to_string(), Value::String(label.to_owned()));
            }
        }
    }
    Ok(Value::Object(labels))
}

/// `22: tcp ssh_port_t 22`: the type of the first line, when a second (generic) line
/// follows; a port with only the generic line has no type of its own.
fn port(output: &[String]) -> Value {
    match output {
        [first, _, ..] => Value::String(first.split(' ').nth(2).unwrap_or_default().to_owned()),
        _ => default_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn mapping_pattern_is_quoted_with_its_anchor() {
        let arguments: Map<String, Value> = [("target".to_owned(), json!("/srv/it's"))].into_iter().collect();
        let fact = FACTS
            .iter()
            .find(|fact| fact.name == "selinux.FileContextMapping")
            .map(|fact| (fact.command)(&arguments));
        assert_eq!(
            fact.map(|command| command.raw_value()),
            Some("set -o pipefail && semanage fcontext -n -l | (grep '^/srv/it'\"'\"'s' || true)".to_owned())
        );
    }

    #[test]
    fn port_ranges_are_expanded_per_protocol() {
        let fact = ports(&lines(&["a_port_t   udp   7, 9-10", "b_port_t   tcp   7"])).ok();
        assert_eq!(
            fact,
            Some(json!({"udp": {"7": "a_port_t", "9": "a_port_t", "10": "a_port_t"}, "tcp": {"7": "b_port_t"}}))
        );
    }

    #[test]
    fn boolean_without_arrow_is_an_error() {
        assert!(boolean(&lines(&["Error getting active value for x"])).is_err());
    }

    #[test]
    fn file_without_context_reads_none() {
        assert_eq!(file_context(&lines(&["?"])), Value::Null);
    }
}
