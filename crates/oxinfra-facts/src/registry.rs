//! The fact registry: every fact oxinfra has, its parameters with their defaults,
//! and binding call arguments to them the way Python binds `command()`'s signature.

use oxinfra_core::{FactKey, FactSource, Missing, StringCommand};
use serde_json::{Map, Value};

use crate::{
    apk, apt, brew, bsdinit, cargo, crontab, deb, dnf, files, gem, git, gpg, iptables, launchd, lxd, mysql, npm, openrc, pacman, pip, postgres, rpm, runit,
    selinux, server, snap, systemd, sysvinit, upstart, yum, zypper,
};

/// Why a fact could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// No fact of that name.
    #[error("no fact named `{0}`")]
    Unknown(String),
    /// The arguments do not fit the fact's parameters.
    #[error("fact `{fact}`: {message}")]
    Arguments {
        /// The fact's name.
        fact: String,
        /// What is wrong.
        message: String,
    },
    /// The output could not be understood (pyinfra's `FactProcessError`).
    #[error("could not process fact `{fact}`: {message}")]
    Process {
        /// The fact's name.
        fact: String,
        /// What is wrong.
        message: String,
    },
}

/// One parameter of a fact's `command()`.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The parameter's name.
    pub name: &'static str,
    /// Its default as JSON text (`"null"`, `"false"`), or `None` when it is required.
    pub default: Option<&'static str>,
}

impl Param {
    /// A required parameter.
    pub const fn required(name: &'static str) -> Self {
        Self { name, default: None }
    }

    /// A parameter with a default, given as JSON text.
    pub const fn optional(name: &'static str, default: &'static str) -> Self {
        Self { name, default: Some(default) }
    }
}

/// Bound fact arguments, by parameter name.
pub type Arguments = Map<String, Value>;

/// Parses a fact's output lines.
pub type Processor = fn(&Arguments, &[String]) -> Result<Value, FactError>;

/// A fact: how to read it and how to understand what was read.
#[derive(Debug, Clone, Copy)]
pub struct FactDef {
    /// `module.Class`, as pyinfra names it.
    pub name: &'static str,
    /// The parameters of pyinfra's `command()`, in order.
    pub params: &'static [Param],
    /// The command, from the bound arguments.
    pub command: fn(&Map<String, Value>) -> StringCommand,
    /// The binary that must exist for the command to work, if any.
    pub requires_command: Option<fn(&Arguments) -> String>,
    /// Parses the command's standard output lines (only called when there are some).
    pub process: Processor,
    /// The value when the command printed nothing, failed, or needs a missing binary.
    pub default: fn() -> Value,
    /// The shell the command must run in, if not the operation's.
    pub shell_executable: Option<&'static str>,
}

impl FactDef {
    /// The key of this fact read with already bound `arguments`.
    pub fn key(&self, arguments: &Map<String, Value>) -> FactKey {
        FactKey::new(self.name, arguments)
    }
}

/// Every fact oxinfra has.
pub fn registry() -> &'static [FactDef] {
    static REGISTRY: std::sync::OnceLock<Vec<FactDef>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        [
            apk::FACTS,
            apt::FACTS,
            brew::FACTS,
            bsdinit::FACTS,
            cargo::FACTS,
            crontab::FACTS,
            deb::FACTS,
            dnf::FACTS,
            files::FACTS,
            gem::FACTS,
            git::FACTS,
            gpg::FACTS,
            iptables::FACTS,
            launchd::FACTS,
            lxd::FACTS,
            mysql::FACTS,
            npm::FACTS,
            openrc::FACTS,
            pacman::FACTS,
            pip::FACTS,
            postgres::FACTS,
            rpm::FACTS,
            runit::FACTS,
            selinux::FACTS,
            server::FACTS,
            snap::FACTS,
            systemd::FACTS,
            sysvinit::FACTS,
            upstart::FACTS,
            yum::FACTS,
            zypper::FACTS,
        ]
        .concat()
    })
}

/// The fact called `name`.
pub fn find(name: &str) -> Option<&'static FactDef> {
    registry().iter().find(|fact| fact.name == name)
}

/// Reads, through `facts`, the host facts that a fact's command depends on and returns
/// the arguments its `command` and `process` then see. These are pyinfra's facts that
/// call `host.get_fact` inside `command()` (`server.Uptime` asks `server.Kernel` which
/// command to run). A preparation asks for every fact it can before it returns
/// [`Missing`], so that a recording source learns all of them in one pass.
pub type Prepare = fn(&Arguments, &mut dyn FactSource) -> Result<Arguments, Missing>;

/// The preparation of `fact`, if its command depends on other facts.
fn preparation(fact: &FactDef) -> Option<Prepare> {
    server::PREPARED.iter().find(|(name, _)| *name == fact.name).map(|(_, prepare)| *prepare)
}

/// Whether `fact`'s command depends on other facts of the host.
pub fn reads_other_facts(fact: &FactDef) -> bool {
    preparation(fact).is_some()
}

/// The arguments `fact`'s command and parser see, from its bound `arguments`: the same
/// for most facts; with the values of the facts it depends on for the few whose
/// command does ([`Prepare`]), or [`Missing`] while one of those is not read yet.
pub fn prepare(fact: &FactDef, arguments: &Arguments, facts: &mut dyn FactSource) -> Result<Arguments, Missing> {
    match preparation(fact) {
        Some(prepare) => prepare(arguments, facts),
        None => Ok(arguments.clone()),
    }
}

/// Binds positional and keyword arguments to the fact's parameters, filling defaults,
/// as Python's `getcallargs` does.
pub fn bind_arguments(fact: &FactDef, positional: &[Value], keyword: &Map<String, Value>) -> Result<Map<String, Value>, FactError> {
    let error = |message: String| FactError::Arguments {
        fact: fact.name.to_owned(),
        message,
    };
    if positional.len() > fact.params.len() {
        return Err(error(format!("takes {} arguments but {} were given", fact.params.len(), positional.len())));
    }
    for name in keyword.keys() {
        if !fact.params.iter().any(|param| param.name == name) {
            return Err(error(format!("got an unexpected keyword argument `{name}`")));
        }
    }
    let mut bound = Map::new();
    for (index, param) in fact.params.iter().enumerate() {
        let value = if let Some(value) = positional.get(index) {
            if keyword.contains_key(param.name) {
                return Err(error(format!("got multiple values for argument `{}`", param.name)));
            }
            value.clone()
        } else if let Some(value) = keyword.get(param.name) {
            value.clone()
        } else if let Some(default) = param.default {
            serde_json::from_str(default).map_err(|source| error(format!("bad default for `{}`: {source}", param.name)))?
        } else {
            return Err(error(format!("missing required argument `{}`", param.name)));
        };
        bound.insert(param.name.to_owned(), value);
    }
    Ok(bound)
}

/// The key of fact `name` called with keyword arguments, defaults filled in. For
/// operations, which always know the fact exists.
pub fn key(name: &str, keyword: &[(&str, Value)]) -> FactKey {
    let keyword: Map<String, Value> = keyword.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
    match find(name).map(|fact| bind_arguments(fact, &[], &keyword)) {
        Some(Ok(bound)) => FactKey::new(name, &bound),
        _ => FactKey::new(name, &keyword),
    }
}

/// A string argument, or empty when absent or not a string.
pub fn string_argument<'a>(arguments: &'a Map<String, Value>, name: &str) -> &'a str {
    arguments.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// A boolean argument, false when absent.
pub fn bool_argument(arguments: &Map<String, Value>, name: &str) -> bool {
    arguments.get(name).and_then(Value::as_bool).unwrap_or_default()
}

/// A fact's output joined into one text, as pyinfra's default `process`.
pub fn joined(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    Ok(Value::String(output.join("\n")))
}

/// The first line of output, stripped, as pyinfra's single-line facts.
pub fn first_line(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    Ok(Value::String(output.first().map(|line| line.trim().to_owned()).unwrap_or_default()))
}

/// `None` as a fact default.
pub fn default_none() -> Value {
    Value::Null
}

/// `[]` as a fact default.
pub fn default_list() -> Value {
    Value::Array(Vec::new())
}

/// `{}` as a fact default.
pub fn default_dict() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// Known facts by key; records every key asked for and not known.
    #[derive(Default)]
    struct Recording {
        known: BTreeMap<FactKey, Value>,
        missing: Vec<FactKey>,
    }

    impl FactSource for Recording {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.known.get(key).cloned().ok_or_else(|| {
                self.missing.push(key.clone());
                Missing(key.clone())
            })
        }
    }

    fn bound(name: &str, keyword: &Value) -> Result<(&'static FactDef, Arguments), FactError> {
        let fact = find(name).ok_or_else(|| FactError::Unknown(name.to_owned()))?;
        let keyword = keyword.as_object().cloned().unwrap_or_default();
        Ok((fact, bind_arguments(fact, &[], &keyword)?))
    }

    #[test]
    fn facts_without_dependencies_keep_their_arguments() -> Result<(), FactError> {
        let (fact, arguments) = bound("files.File", &json!({"path": "/etc/hosts"}))?;
        assert!(!reads_other_facts(fact));
        assert_eq!(prepare(fact, &arguments, &mut Recording::default()), Ok(arguments));
        Ok(())
    }

    #[test]
    fn a_dependent_fact_asks_for_everything_it_may_need_at_once() -> Result<(), FactError> {
        let (fact, arguments) = bound("server.Port", &json!({"port": 80}))?;
        let mut facts = Recording::default();
        assert!(prepare(fact, &arguments, &mut facts).is_err());
        let asked: Vec<String> = facts.missing.iter().map(ToString::to_string).collect();
        assert_eq!(asked, ["server.Kernel", "server.Which (command=ss)"]);
        Ok(())
    }

    #[test]
    fn a_prepared_command_follows_the_kernel() -> Result<(), FactError> {
        let (fact, arguments) = bound("server.Port", &json!({"port": 80}))?;
        let mut facts = Recording::default();
        facts.known.insert(key("server.Kernel", &[]), json!("FreeBSD"));
        let prepared = prepare(fact, &arguments, &mut facts).map_err(|missing| FactError::Unknown(missing.0.to_string()))?;
        assert_eq!((fact.command)(&prepared).raw_value(), "sockstat -l -p 80 -P tcp");
        assert!(facts.missing.is_empty());
        Ok(())
    }
}
