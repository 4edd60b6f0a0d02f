//! Facts of `pyinfra/facts/upstart.py`: `UpstartStatus`, whether each job `initctl`
//! lists is running.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::compiled;
use crate::registry::{FactDef, FactError, default_dict};

/// A job line of `initctl list`: `name goal/state`, as in `ssh start/running, process 1`.
static JOB_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^([a-z\-]+) [a-z]+/([a-z]+)"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "upstart.UpstartStatus",
    params: &[],
    command: |_| StringCommand::raw("initctl list"),
    requires_command: Some(|_| "initctl".to_owned()),
    process: |_, output| status(output),
    default: default_dict,
    shell_executable: None,
}];

/// Job names to whether their state is `running`; other lines are skipped.
fn status(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&JOB_LINE)?;
    let mut jobs = Map::new();
    for captures in output.iter().filter_map(|line| pattern.captures(line)) {
        jobs.insert(captures[1].to_owned(), Value::Bool(&captures[2] == "running"));
    }
    Ok(Value::Object(jobs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_outside_pyinfras_pattern_are_skipped() {
        // pyinfra's pattern has no digits or capitals: `tty1` is not read.
        let lines = [
            "ssh start/running, process 1",
            "plymouth-log stop/waiting",
            "tty1 start/running",
            "Ssh start/running",
        ];
        let output: Vec<String> = lines.map(str::to_owned).into();
        assert_eq!(status(&output), Ok(json!({"ssh": true, "plymouth-log": false})));
    }
}
