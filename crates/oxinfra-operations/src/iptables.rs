//! Operations of `pyinfra/operations/iptables.py`: chains and rules of one table,
//! with `iptables` or `ip6tables`.
//!
//! Values enter the commands quoted, where pyinfra writes them in as they are; `extras`
//! is the exception: it holds extension arguments as shell words the caller writes, so
//! it is sent as written.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "iptables.chain",
        params: &["chain", "present", "table", "policy", "version"],
        plan: |arguments, plan| chain(&parse_arguments("iptables.chain", arguments)?, plan),
    },
    OperationDef {
        name: "iptables.rule",
        params: &[
            "chain",
            "jump",
            "present",
            "table",
            "append",
            "version",
            "protocol",
            "not_protocol",
            "source",
            "not_source",
            "destination",
            "not_destination",
            "in_interface",
            "not_in_interface",
            "out_interface",
            "not_out_interface",
            "to_destination",
            "to_source",
            "to_ports",
            "log_prefix",
            "destination_port",
            "source_port",
            "extras",
        ],
        plan: |arguments, plan| rule(&parse_arguments("iptables.rule", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

fn filter() -> String {
    "filter".to_owned()
}

fn four() -> Value {
    Value::from(4)
}

/// Whether `version` picks `iptables` (4) rather than `ip6tables` (anything else).
fn is_v4(version: &Value) -> bool {
    version.as_f64() == Some(4.0)
}

/// `iptables -t <table>` or `ip6tables -t <table>`.
fn table_command(version: &Value, table: &str) -> StringCommand {
    StringCommand::raw(if is_v4(version) { "iptables" } else { "ip6tables" })
        .text("-t")
        .quoted(table)
}

/// Arguments of `iptables.chain`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainArgs {
    /// The chain's name.
    pub chain: String,
    /// Whether the chain should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The table the chain belongs to.
    #[serde(default = "filter")]
    pub table: String,
    /// The chain's default policy (only built-in chains such as `INPUT` have one).
    #[serde(default)]
    pub policy: Option<String>,
    /// 4 for `iptables`, anything else for `ip6tables`.
    #[serde(default = "four")]
    pub version: Value,
}

/// `iptables.chain`: creates or deletes a chain, and sets its policy.
pub fn chain(args: &ChainArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let fact = if is_v4(&args.version) {
        "iptables.IptablesChains"
    } else {
        "iptables.Ip6tablesChains"
    };
    let chains = plan.fact(fact, &[("table", Value::String(args.table.clone()))])?;
    let current = chains.get(&args.chain);
    let command = || table_command(&args.version, &args.table);
    let name = &args.chain;

    if !args.present {
        if current.is_some() {
            plan.push(command().text("-X").quoted(name));
        } else {
            plan.noop(format!("iptables chain {name} does not exist"));
        }
        return Ok(());
    }
    if current.is_some() {
        plan.noop(format!("iptables chain {name} exists"));
    } else {
        plan.push(command().text("-N").quoted(name));
    }
    if let Some(policy) = args.policy.as_deref().filter(|policy| !policy.is_empty()) {
        if current.and_then(Value::as_str) != Some(policy) {
            plan.push(command().text("-P").quoted(name).quoted(policy));
        }
    }
    Ok(())
}

/// Arguments of `iptables.rule`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleArgs {
    /// The chain the rule lives in.
    pub chain: String,
    /// The rule's target (`ACCEPT`, `DROP`, `DNAT`, a chain, ...).
    pub jump: String,
    /// Whether the rule should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The table the rule belongs to.
    #[serde(default = "filter")]
    pub table: String,
    /// Add a missing rule at the end of the chain (`-A`) rather than at its start (`-I`).
    #[serde(default = "yes")]
    pub append: bool,
    /// 4 for `iptables`, anything else for `ip6tables`.
    #[serde(default = "four")]
    pub version: Value,
    /// Match this protocol (`tcp`, `udp`, ...).
    #[serde(default)]
    pub protocol: Option<String>,
    /// Match every protocol but this one.
    #[serde(default)]
    pub not_protocol: Option<String>,
    /// Match packets from this address or network.
    #[serde(default)]
    pub source: Option<String>,
    /// Match packets not from this address or network.
    #[serde(default)]
    pub not_source: Option<String>,
    /// Match packets to this address or network.
    #[serde(default)]
    pub destination: Option<String>,
    /// Match packets not to this address or network.
    #[serde(default)]
    pub not_destination: Option<String>,
    /// Match packets coming in on this interface.
    #[serde(default)]
    pub in_interface: Option<String>,
    /// Match packets not coming in on this interface.
    #[serde(default)]
    pub not_in_interface: Option<String>,
    /// Match packets going out on this interface.
    #[serde(default)]
    pub out_interface: Option<String>,
    /// Match packets not going out on this interface.
    #[serde(default)]
    pub not_out_interface: Option<String>,
    /// Where `DNAT` sends packets (nat table only).
    #[serde(default)]
    pub to_destination: Option<String>,
    /// The address `SNAT` rewrites the source to (nat table only).
    #[serde(default)]
    pub to_source: Option<String>,
    /// The port or ports `REDIRECT` sends packets to (nat table only), a number or text.
    #[serde(default)]
    pub to_ports: Option<Value>,
    /// The prefix of the messages of a `LOG` rule.
    #[serde(default)]
    pub log_prefix: Option<String>,
    /// Shortcut for `--dport <port>` in `extras`; needs `protocol`.
    #[serde(default)]
    pub destination_port: Option<Value>,
    /// Shortcut for `--sport <port>` in `extras`; needs `protocol`.
    #[serde(default)]
    pub source_port: Option<Value>,
    /// Further match or target arguments (`--limit 5/min`, ...), as shell words.
    #[serde(default)]
    pub extras: String,
}

/// A non-empty optional text (Python's `if value:`).
fn given(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

/// The rule as `iptables-save` would show it, to find it in `IptablesRules`: the
/// given arguments by name (addresses without a prefix length get `/32`) and the
/// extras as a set.
struct Definition {
    fields: Vec<(&'static str, String)>,
    extras: BTreeSet<String>,
}

impl Definition {
    /// Python's `definition == rule`: the same names, the same values, `extras` as sets.
    fn matches(&self, rule: &Value) -> bool {
        let Value::Object(rule) = rule else {
            return false;
        };
        let wanted_len = self.fields.len() + usize::from(!self.extras.is_empty());
        if rule.len() != wanted_len {
            return false;
        }
        let fields_match = self
            .fields
            .iter()
            .all(|(name, value)| rule.get(*name).and_then(Value::as_str) == Some(value.as_str()));
        let extras_match = match rule.get("extras") {
            None => self.extras.is_empty(),
            Some(Value::Array(items)) => {
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<BTreeSet<String>>>()
                    .as_ref()
                    == Some(&self.extras)
            }
            Some(_) => false,
        };
        fields_match && extras_match
    }
}

/// Checks the NAT and `LOG` arguments against the table and the jump.
fn check_targets(args: &RuleArgs, to_ports: Option<&str>) -> Result<(), OperationError> {
    let (table, jump) = (&args.table, &args.jump);
    let needs = |what: &str, wanted_jump: &str| {
        OperationError::Operation(format!(
            "iptables only supports {what} on the nat table and the {wanted_jump} jump (table={table}, jump={jump})"
        ))
    };
    if given(args.to_destination.as_ref()).is_some() && (table != "nat" || jump != "DNAT") {
        return Err(needs("to_destination", "DNAT"));
    }
    if given(args.to_source.as_ref()).is_some() && (table != "nat" || jump != "SNAT") {
        return Err(needs("to_source", "SNAT"));
    }
    if to_ports.is_some() && (table != "nat" || jump != "REDIRECT") {
        return Err(needs("to_ports", "REDIRECT"));
    }
    if given(args.log_prefix.as_ref()).is_some() && jump != "LOG" {
        return Err(OperationError::Operation(format!(
            "iptables only supports log_prefix with the LOG jump (jump={jump})"
        )));
    }
    Ok(())
}

/// `iptables.rule`: adds (`-A`/`-I`) or deletes (`-D`) one rule.
pub fn rule(args: &RuleArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    // A number of ports becomes its text first, so `0` counts as given, as in pyinfra.
    let to_ports = match &args.to_ports {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(value) => Some(python_str(value)),
    };
    let to_ports = to_ports.as_deref().filter(|value| !value.is_empty());

    let mut extras = args.extras.clone();
    let destination_port = args.destination_port.as_ref().filter(|port| truthy(port));
    let source_port = args.source_port.as_ref().filter(|port| truthy(port));
    if let Some(port) = destination_port {
        extras = format!("{extras} --dport {}", python_str(port));
    }
    if let Some(port) = source_port {
        extras = format!("{extras} --sport {}", python_str(port));
    }
    let mut extras_set: BTreeSet<String> = extras.split_whitespace().map(str::to_owned).collect();

    // A protocol makes iptables load the match module of the same name, which
    // `iptables-save` then shows as `-m <protocol>`.
    let protocol = given(args.protocol.as_ref()).map(str::to_lowercase);
    if let Some(protocol) = &protocol {
        extras_set.insert("-m".to_owned());
        extras_set.insert(protocol.clone());
    } else if destination_port.is_some() || source_port.is_some() {
        return Err(OperationError::Operation(
            "iptables cannot filter by destination_port/source_port without a protocol".to_owned(),
        ));
    }
    check_targets(args, to_ports)?;

    let with_prefix = |value: &str| {
        if value.contains('/') { value.to_owned() } else { format!("{value}/32") }
    };
    let candidates: [(&'static str, Option<String>, bool); 16] = [
        ("chain", Some(args.chain.clone()), false),
        ("jump", Some(args.jump.clone()), false),
        ("protocol", protocol.clone(), false),
        ("source", args.source.clone(), true),
        ("destination", args.destination.clone(), true),
        ("in_interface", args.in_interface.clone(), false),
        ("out_interface", args.out_interface.clone(), false),
        ("not_protocol", args.not_protocol.clone(), false),
        ("not_source", args.not_source.clone(), true),
        ("not_destination", args.not_destination.clone(), true),
        ("not_in_interface", args.not_in_interface.clone(), false),
        ("not_out_interface", args.not_out_interface.clone(), false),
        ("log_prefix", args.log_prefix.clone(), false),
        ("to_destination", args.to_destination.clone(), false),
        ("to_source", args.to_source.clone(), false),
        ("to_ports", to_ports.map(str::to_owned), false),
    ];
    let fields = candidates
        .into_iter()
        .filter_map(|(name, value, address)| {
            let value = value.filter(|value| !value.is_empty())?;
            Some((name, if address { with_prefix(&value) } else { value }))
        })
        .collect();
    let definition = Definition { fields, extras: extras_set };

    let fact = if is_v4(&args.version) {
        "iptables.IptablesRules"
    } else {
        "iptables.Ip6tablesRules"
    };
    let rules = plan.fact(fact, &[("table", Value::String(args.table.clone()))])?;
    let exists = rules.as_array().is_some_and(|rules| rules.iter().any(|rule| definition.matches(rule)));

    let chain = &args.chain;
    let action = match (args.present, exists) {
        (true, true) => {
            plan.noop(format!("iptables {chain} rule exists"));
            return Ok(());
        }
        (false, false) => {
            plan.noop(format!("iptables {chain} rule does not exists"));
            return Ok(());
        }
        (true, false) if args.append => "-A",
        (true, false) => "-I",
        (false, true) => "-D",
    };

    let mut command = table_command(&args.version, &args.table).text(action).quoted(chain);
    for (flag, value) in [
        ("-p", protocol.as_deref()),
        ("-s", given(args.source.as_ref())),
        ("-d", given(args.destination.as_ref())),
        ("-i", given(args.in_interface.as_ref())),
        ("-o", given(args.out_interface.as_ref())),
    ] {
        if let Some(value) = value {
            command = command.text(flag).quoted(value);
        }
    }
    let not_protocol = given(args.not_protocol.as_ref()).map(str::to_lowercase);
    for (flag, value) in [
        ("-p", not_protocol.as_deref()),
        ("-s", given(args.not_source.as_ref())),
        ("-d", given(args.not_destination.as_ref())),
        ("-i", given(args.not_in_interface.as_ref())),
        ("-o", given(args.not_out_interface.as_ref())),
    ] {
        if let Some(value) = value {
            command = command.text("!").text(flag).quoted(value);
        }
    }
    if !extras.is_empty() {
        command = command.text(extras.trim());
    }
    command = command.text("-j").quoted(&args.jump);
    for (flag, value) in [
        ("--log-prefix", given(args.log_prefix.as_ref())),
        ("--to-destination", given(args.to_destination.as_ref())),
        ("--to-source", given(args.to_source.as_ref())),
        ("--to-ports", to_ports),
    ] {
        if let Some(value) = value {
            command = command.text(flag).quoted(value);
        }
    }
    plan.push(command);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(fields: &[(&'static str, &str)], extras: &[&str]) -> Definition {
        Definition {
            fields: fields.iter().map(|(name, value)| (*name, (*value).to_owned())).collect(),
            extras: extras.iter().map(|extra| (*extra).to_owned()).collect(),
        }
    }

    #[test]
    fn extras_compare_as_sets() {
        let wanted = definition(&[("chain", "INPUT"), ("jump", "ACCEPT"), ("protocol", "tcp")], &["-m", "tcp", "--dport", "22"]);
        let rule = json!({"chain": "INPUT", "protocol": "tcp", "extras": ["22", "--dport", "-m", "tcp"], "jump": "ACCEPT"});
        assert!(wanted.matches(&rule));
        let other = json!({"chain": "INPUT", "protocol": "tcp", "extras": ["23", "--dport", "-m", "tcp"], "jump": "ACCEPT"});
        assert!(!wanted.matches(&other));
    }

    #[test]
    fn values_are_quoted_and_extras_sent_as_written() {
        let planned = crate::mysql::test_support::planned(
            "iptables.rule",
            json!({"chain": "INPUT", "jump": "LOG", "log_prefix": "fw drop: ", "protocol": "tcp", "extras": "-m limit --limit 5/min", "append": false}),
            json!({"iptables.IptablesRules": []}),
        );
        assert_eq!(
            planned.0[0].0,
            "iptables -t filter -I INPUT -p tcp -m limit --limit 5/min -j LOG --log-prefix 'fw drop: '"
        );
    }

    #[test]
    fn a_rule_with_more_arguments_is_another_rule() {
        let wanted = definition(&[("chain", "INPUT"), ("jump", "DROP")], &[]);
        assert!(wanted.matches(&json!({"chain": "INPUT", "jump": "DROP"})));
        assert!(!wanted.matches(&json!({"chain": "INPUT", "jump": "DROP", "source": "1.2.3.4/32"})));
    }
}
