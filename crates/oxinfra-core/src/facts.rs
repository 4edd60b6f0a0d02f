//! How planning reads host state: a [`FactKey`] names a fact and its arguments, and a
//! [`FactSource`] answers it or records that it is missing. Planning never fetches:
//! the engine collects the missing keys of every pending operation, fetches them in
//! one round trip, and plans again.

use std::fmt;

use serde_json::{Map, Value};

use crate::pyrepr::python_str;

/// A fact and the arguments it is read with, defaults included. Two keys are equal
/// when their names and printed arguments are.
#[derive(Clone, Debug)]
pub struct FactKey {
    /// `module.Class`, as pyinfra names it (`files.File`).
    pub name: String,
    /// The arguments, as pyinfra prints them: `k=str(v)` sorted by key, joined with `, `.
    pub arguments: String,
    /// The arguments themselves, to build the fact's command from.
    pub values: Map<String, Value>,
}

impl FactKey {
    /// The key of fact `name` read with `arguments` (all of them, defaults included).
    pub fn new(name: &str, arguments: &Map<String, Value>) -> Self {
        Self {
            name: name.to_owned(),
            arguments: arguments_key(arguments),
            values: arguments.clone(),
        }
    }
}

impl PartialEq for FactKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.arguments == other.arguments
    }
}

impl Eq for FactKey {}

impl std::hash::Hash for FactKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.arguments.hash(state);
    }
}

impl PartialOrd for FactKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FactKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.name, &self.arguments).cmp(&(&other.name, &other.arguments))
    }
}

impl fmt::Display for FactKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.arguments.is_empty() {
            write!(formatter, "{}", self.name)
        } else {
            write!(formatter, "{} ({})", self.name, self.arguments)
        }
    }
}

/// pyinfra's `get_kwargs_str`: the pairs sorted by key, each `k=str(v)`, joined by `, `.
pub fn arguments_key(arguments: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, &Value)> = arguments.iter().collect();
    pairs.sort_by(|left, right| left.0.cmp(right.0));
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", python_str(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fact the source does not hold yet; planning stops and the engine fetches it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fact `{0}` is not loaded yet")]
pub struct Missing(pub FactKey);

/// Where planning reads facts from.
pub trait FactSource {
    /// The value of `key`, or [`Missing`] after recording that it is wanted.
    fn get(&mut self, key: &FactKey) -> Result<Value, Missing>;

    /// Says that planning is likely to read `key` soon, so that a source which fetches
    /// what is missing can fetch it in the same round trip as the facts read before it.
    /// Never fails; sources that hold every fact up front ignore it.
    fn hint(&mut self, _key: &FactKey) {}
}
