//! What a run knows: its hosts, the operations each host registered during prepare
//! (keyed by the call-site hash the Python front computes), the metadata operations
//! share across hosts, and each host's results. Also the global operation order
//! (pyinfra's `get_op_order`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use oxinfra_core::ConnectorArguments;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The global arguments of one operation call, resolved and type-checked by the Python
/// front in pyinfra's order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationArguments {
    /// How its commands run.
    #[serde(flatten)]
    pub connector: ConnectorArguments,
    /// `_ignore_errors`: a failure does not fail the host.
    #[serde(rename = "_ignore_errors")]
    pub ignore_errors: bool,
    /// `_continue_on_error`: keep running the remaining commands after a failure.
    #[serde(rename = "_continue_on_error")]
    pub continue_on_error: bool,
    /// `_if`: ids of the callables that must all return true at execute time.
    #[serde(rename = "_if")]
    pub conditions: Vec<u64>,
    /// `_parallel`: how many hosts run the operation at once.
    #[serde(rename = "_parallel")]
    pub parallel: Option<usize>,
    /// `_run_once`: only the first host to reach the operation runs it.
    #[serde(rename = "_run_once")]
    pub run_once: bool,
    /// `_serial`: hosts run the operation one after another.
    #[serde(rename = "_serial")]
    pub serial: bool,
    /// `_retries`: how many times a failed operation is tried again.
    #[serde(rename = "_retries")]
    pub retries: u32,
    /// `_retry_delay`: seconds between tries.
    #[serde(rename = "_retry_delay")]
    pub retry_delay: f64,
    /// `_retry_until`: id of the callable that asks for another try.
    #[serde(rename = "_retry_until")]
    pub retry_until: Option<u64>,
}

/// What an operation does on a host.
#[derive(Clone, Debug)]
pub enum OperationKind {
    /// A built-in operation planned in Rust from plain-data arguments.
    Builtin {
        /// The planner's name (`files.put`).
        planner: String,
        /// Its keyword arguments.
        arguments: Map<String, Value>,
    },
    /// An operation whose generator is Python (user `@operation`s, `python.call`).
    Python {
        /// The Python front's id of the generator factory.
        generator: u64,
    },
}

/// One operation call on one host, as the Python front registers it.
#[derive(Clone, Debug)]
pub struct OperationCall {
    /// The host.
    pub host: usize,
    /// The call-site hash.
    pub hash: String,
    /// pyinfra's `op_order`: file number, stack line numbers, loop positions.
    pub order: Vec<i64>,
    /// The operation's label (`name=` or `module.function`).
    pub name: String,
    /// The arguments as shown after an automatic name (`path=/x, present=True`), or empty.
    pub arguments_label: String,
    /// What it does.
    pub kind: OperationKind,
    /// Its global arguments.
    pub arguments: OperationArguments,
    /// Registered while executing (inside `python.call`): runs at once.
    pub nested: bool,
}

/// What every host's call of one operation shares.
#[derive(Clone, Debug, Serialize)]
pub struct OperationMeta {
    /// The call-site hash.
    pub hash: String,
    /// Every label the operation got, in first-seen order.
    pub names: Vec<String>,
    /// The arguments label of the first call.
    pub arguments_label: String,
    /// pyinfra's `op_order`.
    pub order: Vec<i64>,
    /// `_serial`.
    pub serial: bool,
    /// `_run_once`.
    pub run_once: bool,
    /// `_parallel`.
    pub parallel: Option<usize>,
    /// Registered while executing.
    pub nested: bool,
}

impl OperationMeta {
    /// The label shown in headers and tables: the first name, plus the arguments when
    /// the name was automatic.
    pub fn label(&self) -> String {
        let name = self.names.first().cloned().unwrap_or_default();
        if self.arguments_label.is_empty() {
            name
        } else {
            format!("{name} ({})", self.arguments_label)
        }
    }
}

/// How one host's run of one operation ended.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HostResult {
    /// Whether it succeeded (or failed with `_ignore_errors`, which is not success).
    pub success: bool,
    /// How many commands ran.
    pub commands: usize,
    /// Standard output lines of all its commands.
    pub stdout: Vec<String>,
    /// Standard error lines of all its commands.
    pub stderr: Vec<String>,
    /// How many retries it took.
    pub retries: u32,
    /// The most retries it was allowed.
    pub max_retries: u32,
    /// Whether a failure was ignored.
    pub ignored_error: bool,
    /// What went wrong, for people.
    pub error: Option<String>,
    /// Facts read after the operation's last command for the next operation, with the
    /// privilege context they were read in.
    #[serde(skip)]
    pub fresh_facts: Vec<(String, oxinfra_core::FactKey, serde_json::Value)>,
}

impl HostResult {
    /// Success with at least one command.
    pub fn did_change(&self) -> bool {
        self.success && self.commands > 0
    }
}

/// One host's registration of one operation.
#[derive(Clone, Debug)]
pub struct HostOperation {
    /// What it does.
    pub kind: OperationKind,
    /// Its global arguments.
    pub arguments: OperationArguments,
    /// Whether planning before the run found something to change.
    pub will_change: Option<bool>,
    /// How it ended, once it ran.
    pub result: Option<HostResult>,
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Hosts disagree on an execution argument of the same operation.
    #[error("Cannot have different values for `{0}`.")]
    Inconsistent(&'static str),
    /// The hosts' operation orders contradict each other.
    #[error("Cycle detected in operation ordering DAG. Use `host.loop` for loops whose length differs between hosts.")]
    Cycle,
}

/// The operations of a run.
#[derive(Debug, Default)]
pub struct Operations {
    /// Shared metadata by hash.
    pub meta: HashMap<String, OperationMeta>,
    /// Each host's operations in the order it registered them.
    pub host_order: Vec<Vec<String>>,
    /// Each host's operations by hash.
    pub host_operations: Vec<HashMap<String, HostOperation>>,
    /// Nested operations in the order they ran, for the end of the results table.
    pub nested_order: Vec<String>,
}

impl Operations {
    /// Room for `hosts` hosts.
    pub fn new(hosts: usize) -> Self {
        Self {
            meta: HashMap::new(),
            host_order: vec![Vec::new(); hosts],
            host_operations: vec![HashMap::new(); hosts],
            nested_order: Vec::new(),
        }
    }

    /// Registers a call. Returns `false` when `_run_once` means this host does not run it.
    pub fn register(&mut self, call: OperationCall) -> Result<bool, StateError> {
        if let Some(meta) = self.meta.get_mut(&call.hash) {
            if meta.serial != call.arguments.serial {
                return Err(StateError::Inconsistent("_serial"));
            }
            if meta.run_once != call.arguments.run_once {
                return Err(StateError::Inconsistent("_run_once"));
            }
            if meta.parallel != call.arguments.parallel {
                return Err(StateError::Inconsistent("_parallel"));
            }
            if !meta.names.contains(&call.name) {
                meta.names.push(call.name.clone());
            }
            if meta.run_once {
                return Ok(false);
            }
        } else {
            self.meta.insert(
                call.hash.clone(),
                OperationMeta {
                    hash: call.hash.clone(),
                    names: vec![call.name.clone()],
                    arguments_label: call.arguments_label.clone(),
                    order: call.order.clone(),
                    serial: call.arguments.serial,
                    run_once: call.arguments.run_once,
                    parallel: call.arguments.parallel,
                    nested: call.nested,
                },
            );
            if call.nested {
                self.nested_order.push(call.hash.clone());
            }
        }
        if let (Some(order), Some(operations)) = (self.host_order.get_mut(call.host), self.host_operations.get_mut(call.host)) {
            order.push(call.hash.clone());
            operations.insert(
                call.hash,
                HostOperation {
                    kind: call.kind,
                    arguments: call.arguments,
                    will_change: None,
                    result: None,
                },
            );
        }
        Ok(true)
    }

    /// The global operation order (pyinfra's `get_op_order`): a topological sort of
    /// every host's sequence, each batch of ready operations sorted by `op_order`.
    /// Nested operations are left out: they already ran.
    pub fn order(&self) -> Result<Vec<String>, StateError> {
        let mut predecessors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for sequence in &self.host_order {
            let sequence: Vec<&str> = sequence
                .iter()
                .map(String::as_str)
                .filter(|hash| self.meta.get(*hash).is_some_and(|meta| !meta.nested))
                .collect();
            for (index, hash) in sequence.iter().enumerate() {
                let entry = predecessors.entry(hash).or_default();
                if index > 0 {
                    entry.insert(sequence[index - 1]);
                }
            }
        }
        let mut ordered = Vec::with_capacity(predecessors.len());
        while !predecessors.is_empty() {
            let mut ready: Vec<&str> = predecessors.iter().filter(|(_, before)| before.is_empty()).map(|(hash, _)| *hash).collect();
            if ready.is_empty() {
                return Err(StateError::Cycle);
            }
            ready.sort_by(|left, right| self.meta[*left].order.cmp(&self.meta[*right].order));
            for hash in &ready {
                predecessors.remove(hash);
            }
            for before in predecessors.values_mut() {
                for hash in &ready {
                    before.remove(hash);
                }
            }
            ordered.extend(ready.into_iter().map(str::to_owned));
        }
        Ok(ordered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(host: usize, hash: &str, order: &[i64]) -> OperationCall {
        OperationCall {
            host,
            hash: hash.to_owned(),
            order: order.to_vec(),
            name: hash.to_owned(),
            arguments_label: String::new(),
            kind: OperationKind::Python { generator: 0 },
            arguments: OperationArguments::default(),
            nested: false,
        }
    }

    #[test]
    fn order_merges_host_sequences_by_call_site() {
        let mut operations = Operations::new(2);
        for (host, hash, order) in [(0, "a", 1), (0, "c", 3), (1, "b", 2), (1, "c", 3)] {
            assert_eq!(operations.register(call(host, hash, &[0, order])), Ok(true));
        }
        assert_eq!(operations.order(), Ok(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]));
    }

    #[test]
    fn contradicting_orders_are_a_cycle() {
        let mut operations = Operations::new(2);
        for (host, hash) in [(0, "a"), (0, "b"), (1, "b"), (1, "a")] {
            assert_eq!(operations.register(call(host, hash, &[0])), Ok(true));
        }
        assert_eq!(operations.order(), Err(StateError::Cycle));
    }

    #[test]
    fn run_once_registers_only_the_first_host() {
        let mut operations = Operations::new(2);
        let mut first = call(0, "a", &[0]);
        first.arguments.run_once = true;
        let mut second = call(1, "a", &[0]);
        second.arguments.run_once = true;
        assert_eq!(operations.register(first), Ok(true));
        assert_eq!(operations.register(second), Ok(false));
    }

    #[test]
    fn differing_serial_is_refused() {
        let mut operations = Operations::new(2);
        let mut second = call(1, "a", &[0]);
        second.arguments.serial = true;
        assert_eq!(operations.register(call(0, "a", &[0])), Ok(true));
        assert_eq!(operations.register(second), Err(StateError::Inconsistent("_serial")));
    }
}
