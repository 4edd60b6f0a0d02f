//! Facts of `pyinfra/facts/lxd.py`: the LXD containers of the host, as `lxc list`
//! reports them in JSON. Needs the `lxc` binary.

use oxinfra_core::StringCommand;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, default_list};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "lxd.LxdContainers",
    params: &[],
    command: |_| StringCommand::raw("lxc list --format json --fast"),
    requires_command: Some(|_: &Map<String, Value>| "lxc".to_owned()),
    process: |_, output| containers(output),
    default: default_list,
    shell_executable: None,
}];

/// `lxc list --format json` prints its whole answer on one line; anything else is not
/// understood.
fn containers(output: &[String]) -> Result<Value, FactError> {
    let error = |message: String| FactError::Process {
        fact: "lxd.LxdContainers".to_owned(),
        message,
    };
    let [line] = output else {
        return Err(error(format!("expected one line of JSON, got {} lines", output.len())));
    };
    serde_json::from_str(line).map_err(|source| error(format!("invalid JSON: {source}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn containers_are_the_json_list() -> Result<(), FactError> {
        let output = vec![r#"[{"name": "web", "status": "Running"}]"#.to_owned()];
        assert_eq!(containers(&output)?, json!([{"name": "web", "status": "Running"}]));
        Ok(())
    }

    #[test]
    fn containers_over_several_lines_are_an_error() {
        let output = vec!["[".to_owned(), "]".to_owned()];
        assert!(containers(&output).is_err());
    }
}
