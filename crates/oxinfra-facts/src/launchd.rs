//! Facts of `pyinfra/facts/launchd.py`: `LaunchdStatus`, whether each job
//! `launchctl list` shows has a process.

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::files::python_int;
use crate::registry::{FactDef, FactError, default_dict};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "launchd.LaunchdStatus",
    params: &[],
    command: |_| StringCommand::raw("launchctl list"),
    requires_command: Some(|_| "launchctl".to_owned()),
    process: |_, output| status(output),
    default: default_dict,
    shell_executable: None,
}];

/// `PID Status Label` rows: a job runs when its PID column is a number (`-` when not).
fn status(output: &[String]) -> Result<Value, FactError> {
    let mut jobs = Map::new();
    for line in output {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&pid) = words.first() else { continue };
        if pid == "PID" {
            continue;
        }
        let label = words.get(2).ok_or_else(|| FactError::Process {
            fact: "launchd.LaunchdStatus".to_owned(),
            message: format!("no label in `{line}`"),
        })?;
        jobs.insert((*label).to_owned(), Value::Bool(python_int(pid).is_some()));
    }
    Ok(Value::Object(jobs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_without_a_label_is_an_error() {
        let output: Vec<String> = ["", "-  0"].map(str::to_owned).into();
        assert!(status(&output).is_err());
    }
}
