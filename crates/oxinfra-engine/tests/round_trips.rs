//! The engine's promise on round trips: every fact the operations of a host need is
//! read in one batch, facts are reused until an operation changes the host, and a run
//! that changes nothing costs one command per host.
#![expect(clippy::expect_used, reason = "a test fails loudly on broken setup")]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use oxinfra_connectors::LocalConnector;
use oxinfra_core::command::UploadSource;
use oxinfra_core::{CommandOutput, Connector, ConnectorArguments, ConnectorError, StringCommand};
use oxinfra_engine::state::{OperationArguments, OperationCall, OperationKind};
use oxinfra_engine::{Engine, Settings, Strategy};
use serde_json::{Map, Value, json};

/// The local connector, counting the commands it runs.
#[derive(Default)]
struct Counting {
    inner: LocalConnector,
    commands: AtomicUsize,
}

#[async_trait]
impl Connector for Counting {
    async fn connect(&self) -> Result<(), ConnectorError> {
        self.inner.connect().await
    }

    async fn run_shell_command(&self, command: &StringCommand, arguments: &ConnectorArguments) -> Result<CommandOutput, ConnectorError> {
        self.commands.fetch_add(1, Ordering::SeqCst);
        self.inner.run_shell_command(command, arguments).await
    }

    async fn put_file(&self, source: &UploadSource, dest: &str, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        self.inner.put_file(source, dest, arguments).await
    }

    async fn get_file(&self, src: &str, dest: &Path, arguments: &ConnectorArguments) -> Result<(), ConnectorError> {
        self.inner.get_file(src, dest, arguments).await
    }

    async fn disconnect(&self) -> Result<(), ConnectorError> {
        self.inner.disconnect().await
    }
}

fn call(index: i64, planner: &str, arguments: Value) -> OperationCall {
    let Value::Object(arguments) = arguments else {
        return call(index, planner, Value::Object(Map::new()));
    };
    OperationCall {
        host: 0,
        hash: format!("op-{index}"),
        order: vec![0, index],
        name: planner.to_owned(),
        arguments_label: String::new(),
        kind: OperationKind::Builtin {
            planner: planner.to_owned(),
            arguments,
        },
        arguments: OperationArguments::default(),
        nested: false,
    }
}

/// Runs the operations on a fresh engine; returns how many commands reached the host.
fn run(calls: Vec<OperationCall>) -> usize {
    let connector = Arc::new(Counting::default());
    let engine = Arc::new(Engine::new(
        Settings::default(),
        vec![("@local".to_owned(), Arc::clone(&connector) as Arc<dyn Connector>)],
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        engine.connect_all().await.expect("@local connects");
        for call in calls {
            assert!(engine.register(call).expect("registers"));
        }
        engine.run(Strategy::Default).await.expect("the run succeeds");
    });
    connector.commands.load(Ordering::SeqCst)
}

#[test]
fn facts_are_batched_and_reused_until_a_change() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let root = folder.path().display().to_string();
    let operations = || {
        vec![
            call(1, "files.directory", json!({"path": format!("{root}/conf")})),
            call(2, "files.file", json!({"path": format!("{root}/conf/a"), "mode": "600"})),
            call(3, "files.line", json!({"path": format!("{root}/conf/a"), "line": "debug=true"})),
        ]
    };
    // First run: one batch of facts, then one command per operation: its commands in one
    // invocation, with the next operation's facts read at the end of it.
    let first = run(operations());
    assert_eq!(first, 4);
    assert_eq!(std::fs::read_to_string(format!("{root}/conf/a")).expect("the file exists"), "debug=true\n");

    // Second run: nothing to change, so one batched fact command and nothing else.
    assert_eq!(run(operations()), 1);
}
