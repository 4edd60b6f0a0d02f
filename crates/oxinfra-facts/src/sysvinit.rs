//! Facts of `pyinfra/facts/sysvinit.py`: `InitdStatus`, the status of every LSB script
//! in `/etc/init.d`, from each script's own `status` exit code.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value};

use crate::files::compiled;
use crate::registry::{FactDef, FactError, default_dict};

/// Runs `status` of every script carrying an LSB header and prints `name=exit code`.
/// The text, blank lines and indentation included, is pyinfra's.
const INITD_STATUS_SCRIPT: &str = r####"
        for SERVICE in `ls /etc/init.d/`; do
            _=`cat /etc/init.d/$SERVICE | grep "### BEGIN INIT INFO"`

            if [ "$?" = "0" ]; then
                STATUS=`/etc/init.d/$SERVICE status`
                echo "$SERVICE=$?"
            fi
        done
    "####;

static STATUS_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^([a-zA-Z0-9\-]+)=([0-9]+)"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "sysvinit.InitdStatus",
    params: &[],
    command: |_| StringCommand::raw(INITD_STATUS_SCRIPT),
    requires_command: None,
    process: |_, output| initd_status(output),
    default: default_dict,
    shell_executable: None,
}];

/// Script names to running (`true`, exit 0), stopped (`false`, exits 1 to 3) or
/// unknown (`None`, any other exit: the LSB codes for "status not known").
fn initd_status(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&STATUS_LINE)?;
    let mut services = Map::new();
    for line in output {
        let Some(captures) = pattern.captures(line) else {
            continue;
        };
        // The exit code is digits only; one too large for a number is not 0 to 3.
        let status = match captures[2].parse::<u64>() {
            Ok(0) => Value::Bool(true),
            Ok(1..=3) => Value::Bool(false),
            _ => Value::Null,
        };
        services.insert(captures[1].to_owned(), status);
    }
    Ok(Value::Object(services))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exit_codes_map_to_running_stopped_and_unknown() {
        let output: Vec<String> = ["a=0", "b=3", "c=4", "not a status line"].map(str::to_owned).into();
        assert_eq!(initd_status(&output), Ok(json!({"a": true, "b": false, "c": null})));
    }
}
