//! Facts of `pyinfra/facts/iptables.py`: the rules and the chains of one table, as
//! `iptables-save` (or `ip6tables-save`) prints them.
//!
//! A rule is a mapping from the names of the arguments pyinfra knows (`-A` is
//! `chain`, `! -s` is `not_source`, ...) to their text; every other argument and its
//! values land in `extras`, a Python set, given here as a sorted list without
//! repeats. `iptables.rule` compares `extras` as a set.

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_dict, default_list, string_argument};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "iptables.IptablesRules",
        params: TABLE,
        command: |arguments| save_command("iptables-save", arguments),
        requires_command: Some(|_| "iptables-save".to_owned()),
        process: |_, output| Ok(rules(output)),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "iptables.Ip6tablesRules",
        params: TABLE,
        command: |arguments| save_command("ip6tables-save", arguments),
        requires_command: Some(|_| "ip6tables-save".to_owned()),
        process: |_, output| Ok(rules(output)),
        default: default_list,
        shell_executable: None,
    },
    FactDef {
        name: "iptables.IptablesChains",
        params: TABLE,
        command: |arguments| save_command("iptables-save", arguments),
        requires_command: Some(|_| "iptables-save".to_owned()),
        process: |_, output| chains("iptables.IptablesChains", output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "iptables.Ip6tablesChains",
        params: TABLE,
        command: |arguments| save_command("ip6tables-save", arguments),
        requires_command: Some(|_| "ip6tables-save".to_owned()),
        process: |_, output| chains("iptables.Ip6tablesChains", output),
        default: default_dict,
        shell_executable: None,
    },
];

const TABLE: &[Param] = &[Param::optional("table", "\"filter\"")];

/// `<tool> -t <table>`.
fn save_command(tool: &str, arguments: &Map<String, Value>) -> StringCommand {
    StringCommand::raw(tool).text("-t").quoted(string_argument(arguments, "table"))
}

/// The name pyinfra gives an `iptables-save` argument, if it knows it.
fn argument_name(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "-A" => "chain",
        "-j" => "jump",
        "-p" => "protocol",
        "-s" => "source",
        "-d" => "destination",
        "-i" => "in_interface",
        "-o" => "out_interface",
        "--log-prefix" => "log_prefix",
        "--to-destination" => "to_destination",
        "--to-source" => "to_source",
        "--to-ports" => "to_ports",
        _ => return None,
    })
}

/// Every `-A` line of the table, parsed.
fn rules(output: &[String]) -> Value {
    Value::Array(
        output
            .iter()
            .filter(|line| line.starts_with('-'))
            .map(|line| Value::Object(parse_rule(line)))
            .collect(),
    )
}

/// One `iptables-save` rule line as pyinfra's `parse_iptables_rule` reads it: each flag
/// takes the words up to the next flag, and a `!` negates the flag after it.
pub fn parse_rule(line: &str) -> Map<String, Value> {
    let mut definition = Map::new();
    let mut extras: Vec<String> = Vec::new();
    let mut flag: Option<&str> = None;
    let mut words: Vec<&str> = Vec::new();
    let mut negated = false;

    let mut close = |flag: &str, words: &[&str], negated: bool, definition: &mut Map<String, Value>| {
        let text = words.join(" ");
        match argument_name(flag) {
            Some(name) if negated => {
                definition.insert(format!("not_{name}"), Value::String(text));
            }
            Some(name) => {
                definition.insert(name.to_owned(), Value::String(text));
            }
            None => {
                // Python's `setdefault` places `extras` where the first extra appears.
                definition.entry("extras").or_insert(Value::Null);
                extras.extend([flag.to_owned(), text]);
            }
        }
    };

    for word in line.split_whitespace() {
        if word == "!" {
            if let Some(open) = flag.take() {
                close(open, &words, negated, &mut definition);
                words.clear();
            }
            negated = true;
        } else if word.starts_with('-') {
            if let Some(open) = flag {
                close(open, &words, negated, &mut definition);
                words.clear();
                negated = false;
            }
            flag = Some(word);
        } else {
            words.push(word);
        }
    }
    if let Some(open) = flag {
        close(open, &words, negated, &mut definition);
    }
    if !extras.is_empty() {
        definition.insert("extras".to_owned(), string_set(extras));
    }
    definition
}

/// A Python set of strings as plain data: sorted, without repeats.
pub fn string_set(mut items: Vec<String>) -> Value {
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// The `:NAME POLICY [packets:bytes]` lines, as `{name: policy}`.
fn chains(fact: &str, output: &[String]) -> Result<Value, FactError> {
    let mut chains = Map::new();
    for line in output {
        let Some(rest) = line.strip_prefix(':') else {
            continue;
        };
        match rest.split_whitespace().collect::<Vec<_>>()[..] {
            [name, policy, _] => {
                chains.insert(name.to_owned(), Value::String(policy.to_owned()));
            }
            _ => {
                return Err(FactError::Process {
                    fact: fact.to_owned(),
                    message: format!("not a chain line: `{line}`"),
                });
            }
        }
    }
    Ok(Value::Object(chains))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn negation_applies_to_the_next_flag_only() {
        let rule = parse_rule("-A INPUT ! -s 10.0.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT");
        assert_eq!(
            Value::Object(rule),
            json!({
                "chain": "INPUT",
                "not_source": "10.0.0.1/32",
                "protocol": "tcp",
                "extras": ["--dport", "-m", "22", "tcp"],
                "jump": "ACCEPT",
            })
        );
    }

    #[test]
    fn flags_without_values_add_an_empty_extra() {
        let rule = parse_rule("-A INPUT -p tcp --syn -j DROP");
        assert_eq!(rule.get("extras"), Some(&json!(["", "--syn"])));
    }

    #[test]
    fn chain_lines_need_three_words() {
        assert!(chains("iptables.IptablesChains", &[":INPUT ACCEPT".to_owned()]).is_err());
        assert_eq!(
            chains("iptables.IptablesChains", &["*filter".to_owned(), ":X - [0:0]".to_owned()]),
            Ok(json!({"X": "-"}))
        );
    }
}
