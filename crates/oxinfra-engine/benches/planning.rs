//! Micro-benchmarks of the controller's pure work, so regressions show: planning
//! `files.file` and `files.line` against facts held in memory (no host, no I/O), and
//! parsing the output of `files.File` and `server.Users`. The round trips that dominate
//! a real deploy are measured by `bench/` on lab hosts, not here.
//!
//! `cargo bench -p oxinfra-engine --bench planning` (add `-- --quick` for a short run).

#![expect(clippy::expect_used, reason = "fixed inputs: a failure means the benchmark itself is wrong")]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use oxinfra_core::{FactKey, FactSource, Missing, RealLocalFiles};
use oxinfra_operations::Plan;
use serde_json::{Map, Value, json};

/// Facts held in memory, by name and printed arguments, as pyinfra's fixtures give them.
struct MemoryFacts(HashMap<(String, String), Value>);

impl MemoryFacts {
    fn new(facts: &[(&str, &str, Value)]) -> Self {
        Self(
            facts
                .iter()
                .map(|(name, arguments, value)| (((*name).to_owned(), (*arguments).to_owned()), value.clone()))
                .collect(),
        )
    }
}

impl FactSource for MemoryFacts {
    fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
        self.0
            .get(&(key.name.clone(), key.arguments.clone()))
            .cloned()
            .ok_or_else(|| Missing(key.clone()))
    }
}

/// Plans operation `name` with `arguments` once; returns how many commands it made.
fn plan(name: &str, arguments: &Map<String, Value>, facts: &mut MemoryFacts) -> usize {
    let operation = oxinfra_operations::find(name).expect("the operation is registered");
    let local_files = RealLocalFiles;
    let mut plan = Plan::new(facts, &local_files, PathBuf::from("/"), "2026-01-01T000000".to_owned());
    (operation.plan)(arguments, &mut plan).expect("the operation plans");
    plan.commands.len()
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().expect("arguments are an object")
}

fn file_fact(mode: u32) -> Value {
    json!({"user": "benchapp", "group": "benchapp", "mode": mode, "size": 0, "atime": "2026-01-01T00:00:00", "mtime": "2026-01-01T00:00:00", "ctime": "2026-01-01T00:00:00"})
}

fn planning(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("plan");
    let file = object(&json!({"path": "/var/log/benchapp/app.log", "user": "benchapp", "group": "benchapp", "mode": "640"}));
    for (label, mode, commands) in [("noop", 640, 0), ("chmod", 600, 1)] {
        let mut facts = MemoryFacts::new(&[("files.File", "path=/var/log/benchapp/app.log", file_fact(mode))]);
        assert_eq!(plan("files.file", &file, &mut facts), commands, "files.file {label}");
        group.bench_with_input(BenchmarkId::new("files.file", label), &file, |bench, arguments| {
            bench.iter(|| plan("files.file", black_box(arguments), &mut facts));
        });
    }
    let line = object(&json!({"path": "/etc/hosts", "line": "127.0.0.1 benchapp.internal"}));
    let key = "extended_regex=False, interpolate_variables=False, path=/etc/hosts, pattern=^.*127.0.0.1 benchapp.internal.*$";
    for (label, found, commands) in [("noop", json!(["127.0.0.1 benchapp.internal"]), 0), ("append", json!([]), 1)] {
        let mut facts = MemoryFacts::new(&[("files.FindInFile", key, found)]);
        assert_eq!(plan("files.line", &line, &mut facts), commands, "files.line {label}");
        group.bench_with_input(BenchmarkId::new("files.line", label), &line, |bench, arguments| {
            bench.iter(|| plan("files.line", black_box(arguments), &mut facts));
        });
    }
    group.finish();
}

/// Runs fact `name`'s parser on `output`, read with `arguments`.
fn parse(name: &str, arguments: &[Value], output: &[String]) -> Value {
    let fact = oxinfra_facts::find(name).expect("the fact is registered");
    let bound = oxinfra_facts::bind_arguments(fact, arguments, &Map::new()).expect("the arguments fit");
    (fact.process)(&bound, output).expect("the output parses")
}

/// `count` lines of the `server.Users` command's output, one per account.
fn users_output(count: usize) -> Vec<String> {
    let mut lines = vec!["root:x:0:0:root:/root:/bin/bash|root|root|root pts/0 Sat Jun 5 12:03:23 -0600 2021|$y$j9T$rootpw$".to_owned()];
    lines.extend((1..count).map(|index| {
        format!(
            "user{index}:x:{uid}:{uid}:User {index},,,:/home/user{index}:/bin/sh|user{index}|user{index} sudo adm|**Never logged in**|!",
            uid = 1000 + index
        )
    }));
    lines
}

fn parsing(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("parse");
    let stat =
        vec!["user=benchapp group=benchapp mode=-rw-r----- atime=1767225600 mtime=1767225600 ctime=1767225600 size=0 '/var/log/benchapp/app.log'".to_owned()];
    let path = [json!("/var/log/benchapp/app.log")];
    group.bench_function("files.File", |bench| bench.iter(|| parse("files.File", &path, black_box(&stat))));
    for count in [20, 500] {
        let output = users_output(count);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("server.Users", count), &output, |bench, output| {
            bench.iter(|| parse("server.Users", &[], black_box(output)));
        });
    }
    group.finish();
}

criterion_group!(benches, planning, parsing);
criterion_main!(benches);
