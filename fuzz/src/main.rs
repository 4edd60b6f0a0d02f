//! `oxinfra-fuzz TARGET SECONDS`: feeds mutated inputs to one of oxinfra's parsers or
//! argument loaders for a bounded time and fails on the first panic, writing the input
//! to `fuzz/findings/`. Targets:
//!
//! - `facts`: every fact's output parser, with output lines mutated from pyinfra's
//!   fixtures (`../shared/pyinfra-fixtures/facts`) and from plain seeds;
//! - `operations`: every operation's argument loading and planning, with arguments and
//!   facts mutated from the operation fixtures (`tests/fixtures`, pyinfra's);
//! - `ssh-config`: the `ssh -G` output parser and `ProxyJump` lists;
//! - `cli`: the command line parser;
//! - `arguments`: the global (connector) arguments the Python front sends as JSON.
//!
//! Only stable Rust is available here, so this is a mutation fuzzer without coverage
//! feedback, run by `make fuzz` (part of `make test`) for a few seconds per target.
//! Every input in `fuzz/regressions/TARGET/` is replayed first: findings become
//! regression inputs there.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// Text fragments that parsers treat specially, spliced into mutated inputs.
const TOKENS: &[&str] = &[
    "\n",
    " ",
    "\t",
    "=",
    ":",
    ",",
    "'",
    "\"",
    "\\",
    "/",
    "-",
    "--",
    "%",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "0",
    "-1",
    "4294967296",
    "99999999999999999999",
    "null",
    "true",
    "\u{0}",
    "\u{fffd}",
    "é",
    "日本",
    "@",
    "#",
    "*",
    ".",
    "..",
    "~",
    "$",
    "|",
    ";",
];

struct Fuzzer {
    random: fastrand::Rng,
}

impl Fuzzer {
    /// A mutated copy of `seed`: a few random edits (byte changes, token insertions,
    /// cuts, duplications).
    fn mutate(&mut self, seed: &str) -> String {
        let mut text: Vec<char> = seed.chars().collect();
        for _ in 0..self.random.usize(1..=4) {
            let at = if text.is_empty() { 0 } else { self.random.usize(0..=text.len()) };
            match self.random.u8(0..6) {
                0 if !text.is_empty() => {
                    let end = (at + self.random.usize(1..=8)).min(text.len());
                    text.drain(at.min(end)..end);
                }
                1 => {
                    let token = TOKENS[self.random.usize(0..TOKENS.len())];
                    text.splice(at..at, token.chars());
                }
                2 if !text.is_empty() => {
                    let index = at.min(text.len() - 1);
                    text[index] = char::from(self.random.u8(0..128));
                }
                3 if !text.is_empty() => {
                    let start = self.random.usize(0..text.len());
                    let end = (start + self.random.usize(1..=16)).min(text.len());
                    let copy: Vec<char> = text[start..end].to_vec();
                    text.splice(at..at, copy);
                }
                4 => text.truncate(at),
                _ => text.insert(at, self.random.char('\u{0}'..='\u{2fff}')),
            }
        }
        text.into_iter().collect()
    }

    /// A mutated JSON value: strings, numbers and structure changed here and there.
    fn mutate_json(&mut self, value: &Value) -> Value {
        match self.random.u8(0..10) {
            0 => json!(null),
            1 => json!(self.random.i64(..)),
            2 => json!(self.mutate(&value.to_string())),
            3 => json!([value.clone()]),
            4 => json!({"x": value.clone()}),
            _ => match value {
                Value::String(text) => Value::String(self.mutate(text)),
                Value::Array(items) => Value::Array(items.iter().map(|item| self.maybe(item)).collect()),
                Value::Object(map) => Value::Object(map.iter().map(|(key, item)| (key.clone(), self.maybe(item))).collect()),
                Value::Number(_) => json!(self.random.i64(-3..100_000)),
                Value::Bool(flag) => json!(!flag),
                Value::Null => json!(self.mutate("")),
            },
        }
    }

    fn maybe(&mut self, value: &Value) -> Value {
        if self.random.u8(0..4) == 0 { self.mutate_json(value) } else { value.clone() }
    }
}

/// JSON files under `root`, recursively (missing folders give nothing).
fn json_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(json_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The fixture folders: pyinfra's beside the project, and the project's own.
fn fixture_roots(kind: &str) -> Vec<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![here.join("../../shared/pyinfra-fixtures").join(kind), here.join("../tests/fixtures").join(kind)]
}

/// One input of a target: what it parses, as text (so findings can be saved).
type Check = fn(&str);

fn check_fact(input: &str) {
    // `NAME\nLINE\nLINE...`: the fact, then its output lines.
    let mut lines = input.split('\n');
    let name = lines.next().unwrap_or_default();
    let Some(fact) = oxinfra_facts::find(name) else { return };
    let output: Vec<String> = lines.map(str::to_owned).collect();
    let keyword: Map<String, Value> = fact.params.iter().map(|param| (param.name.to_owned(), json!("x"))).collect();
    if let Ok(arguments) = oxinfra_facts::bind_arguments(fact, &[], &keyword) {
        let _ = (fact.process)(&arguments, &output);
        let _ = (fact.command)(&arguments);
    }
}

fn check_operation(input: &str) {
    // `NAME\n{"arguments": {...}, "case": {...}}`.
    let Some((name, rest)) = input.split_once('\n') else { return };
    let Ok(value) = serde_json::from_str::<Value>(rest) else { return };
    let empty = Map::new();
    let arguments = value.get("arguments").and_then(Value::as_object).unwrap_or(&empty);
    let case = value.get("case").cloned().unwrap_or(Value::Null);
    let _ = oxinfra_engine::fixtures::plan_with_case(name, arguments, &case);
}

fn check_ssh_config(input: &str) {
    let values = oxinfra_connectors::ssh::config::parse_ssh_g(input);
    let _ = oxinfra_connectors::ssh::config::parse_proxy_jump(input);
    if let Some(jumps) = values.get("proxyjump") {
        for jump in jumps {
            let _ = oxinfra_connectors::ssh::config::parse_proxy_jump(jump);
        }
    }
}

fn check_cli(input: &str) {
    let argv: Vec<String> = std::iter::once("oxinfra".to_owned()).chain(input.split('\u{1f}').map(str::to_owned)).collect();
    let _ = oxinfra_engine::cli::parse(&argv);
}

fn check_arguments(input: &str) {
    if let Ok(arguments) = serde_json::from_str::<oxinfra_engine::state::OperationArguments>(input) {
        let _ = arguments.connector.secrets();
        let command = oxinfra_core::StringCommand::raw("true");
        let _ = oxinfra_core::wrap::wrap_for_host(&command, &arguments.connector, Some("/tmp/askpass"));
    }
}

/// The seeds of `target`.
fn seeds(target: &str) -> Vec<String> {
    let mut seeds = Vec::new();
    match target {
        "facts" => {
            for root in fixture_roots("facts") {
                for path in json_files(&root) {
                    let group = path
                        .parent()
                        .and_then(Path::file_name)
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let Some(case) = read_json(&path) else { continue };
                    let output: Vec<String> = case
                        .get("output")
                        .and_then(Value::as_array)
                        .map(|lines| lines.iter().map(|line| line.as_str().map_or_else(|| line.to_string(), str::to_owned)).collect())
                        .unwrap_or_default();
                    seeds.push(format!("{group}\n{}", output.join("\n")));
                }
            }
            for name in oxinfra_engine::fixtures::fact_registry_names() {
                seeds.push(format!("{name}\nroot 1 2 3\n/etc/hosts\nkey=value"));
            }
        }
        "operations" => {
            let params: std::collections::HashMap<String, Vec<String>> = oxinfra_engine::fixtures::operation_registry_params().into_iter().collect();
            for root in fixture_roots("operations") {
                for path in json_files(&root) {
                    let group = path
                        .parent()
                        .and_then(Path::file_name)
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let (Some(case), Some(names)) = (read_json(&path), params.get(&group)) else {
                        continue;
                    };
                    let mut arguments: Map<String, Value> = case.get("kwargs").and_then(Value::as_object).cloned().unwrap_or_default();
                    for (name, value) in names.iter().zip(case.get("args").and_then(Value::as_array).into_iter().flatten()) {
                        arguments.insert(name.clone(), value.clone());
                    }
                    seeds.push(format!("{group}\n{}", json!({"arguments": arguments, "case": case})));
                }
            }
            for (name, names) in oxinfra_engine::fixtures::operation_registry_params() {
                let arguments: Map<String, Value> = names.into_iter().map(|param| (param, json!("/tmp/x"))).collect();
                seeds.push(format!("{name}\n{}", json!({"arguments": arguments, "case": {"facts": {}}})));
            }
        }
        "ssh-config" => {
            seeds.push("hostname web1.example.com\nuser deploy\nport 2222\nidentityfile ~/.ssh/id_ed25519\nproxyjump bastion@jump:22,other\nstricthostkeychecking ask\nconnecttimeout 10\n".to_owned());
            seeds.push("user@host:22,[::1]:2222,ssh://u@h:1".to_owned());
        }
        "cli" => {
            for line in [
                "@local\u{1f}deploy.py\u{1f}-y\u{1f}--limit\u{1f}web",
                "inventory.py\u{1f}exec\u{1f}--\u{1f}echo\u{1f}hi",
                "@local\u{1f}fact\u{1f}server.Os\u{1f}files.File\u{1f}path=/etc/hosts\u{1f}--json",
                "@local\u{1f}files.file\u{1f}path=/tmp/x\u{1f}--parallel\u{1f}3\u{1f}--fail-percent\u{1f}10.5\u{1f}-vvv",
            ] {
                seeds.push(line.to_owned());
            }
        }
        "arguments" => {
            seeds.push(
                json!({"_sudo": true, "_sudo_user": "www", "_sudo_password": "pw", "_env": [["A", "1"], ["B", {"secret": "s"}]],
                       "_chdir": "/srv", "_shell_executable": "bash", "_timeout": 3.5, "_success_exit_codes": [0, 2], "_stdin": ["a"],
                       "_su_user": "app", "_doas": true, "_dzdo": true, "_retries": 2, "_retry_delay": 1, "_ignore_errors": true})
                .to_string(),
            );
            seeds.push("{}".to_owned());
        }
        _ => {}
    }
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions").join(target);
    if let Ok(entries) = std::fs::read_dir(regressions) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        paths.sort();
        seeds.extend(paths.iter().filter_map(|path| std::fs::read_to_string(path).ok()));
    }
    if seeds.is_empty() {
        seeds.push(String::new());
    }
    seeds
}

fn check_for(target: &str) -> Option<Check> {
    Some(match target {
        "facts" => check_fact,
        "operations" => check_operation,
        "ssh-config" => check_ssh_config,
        "cli" => check_cli,
        "arguments" => check_arguments,
        _ => return None,
    })
}

/// Runs `check` on `input`; on a panic, saves the input and says where.
fn run_one(target: &str, check: Check, input: &str) -> Result<(), String> {
    if std::panic::catch_unwind(|| check(input)).is_ok() {
        return Ok(());
    }
    let findings = Path::new(env!("CARGO_MANIFEST_DIR")).join("findings");
    let _ = std::fs::create_dir_all(&findings);
    let path = findings.join(format!("{target}-{:016x}", fastrand::u64(..)));
    let _ = std::fs::write(&path, input);
    Err(format!("{target}: panic on the input saved in {}", path.display()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(target), seconds) = (args.get(1), args.get(2).and_then(|text| text.parse::<f64>().ok()).unwrap_or(10.0)) else {
        eprintln!("usage: oxinfra-fuzz facts|operations|ssh-config|cli|arguments SECONDS [SEED]");
        std::process::exit(2);
    };
    let Some(check) = check_for(target) else {
        eprintln!("unknown target `{target}`");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|text| text.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    let mut fuzzer = Fuzzer {
        random: fastrand::Rng::with_seed(seed),
    };
    // Panics are findings, reported once each below; keep their default message quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let seeds = seeds(target);
    let mut runs = 0usize;
    let mut outcome = seeds.iter().try_for_each(|input| run_one(target, check, input));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while outcome.is_ok() && Instant::now() < deadline {
        let seed_input = &seeds[fuzzer.random.usize(0..seeds.len())];
        let input = if target == "operations" || target == "arguments" {
            // Keep the operation name line; mutate the JSON structurally or as text.
            let (head, body) = seed_input.split_once('\n').map_or(("", seed_input.as_str()), |(head, body)| (head, body));
            let body = match serde_json::from_str::<Value>(body) {
                Ok(value) if fuzzer.random.bool() => fuzzer.mutate_json(&value).to_string(),
                _ => fuzzer.mutate(body),
            };
            if head.is_empty() { body } else { format!("{head}\n{body}") }
        } else {
            fuzzer.mutate(seed_input)
        };
        outcome = run_one(target, check, &input);
        runs += 1;
    }
    match outcome {
        Ok(()) => println!("fuzz {target}: {runs} inputs, {} seeds, no panic (seed {seed})", seeds.len()),
        Err(message) => {
            eprintln!("fuzz {message} (seed {seed})");
            std::process::exit(1);
        }
    }
}
