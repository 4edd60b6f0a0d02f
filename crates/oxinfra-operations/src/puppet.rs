//! Operations of `pyinfra/operations/puppet.py`: `puppet.agent` runs the Puppet agent
//! once, every time.

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use crate::files::util::truthy;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[OperationDef {
    name: "puppet.agent",
    params: &["server", "port"],
    plan: |arguments, plan| agent(&parse_arguments("puppet.agent", arguments)?, plan),
}];

/// Arguments of `puppet.agent`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentArgs {
    /// The Puppet server to ask, instead of the agent's configured one.
    #[serde(default)]
    pub server: Value,
    /// The Puppet server's port, instead of the configured one.
    #[serde(default)]
    pub port: Value,
}

/// `puppet.agent`: `puppet agent -t`, with the server and port when given. The agent
/// exits with 2 when it changed something, which callers accept with
/// `_success_exit_codes`.
pub fn agent(args: &AgentArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut command = StringCommand::raw("puppet agent -t");
    if truthy(&args.server) {
        command = command.quoted(format!("--server={}", python_str(&args.server)));
    }
    if truthy(&args.port) {
        command = command.quoted(format!("--masterport={}", python_str(&args.port)));
    }
    plan.push(command);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn agent_without_arguments_uses_its_configuration() -> Result<(), OperationError> {
        let (commands, _) = run(agent, &json!({}), &mut TableFacts::default())?;
        assert_eq!(commands, ["puppet agent -t"]);
        Ok(())
    }

    #[test]
    fn server_with_spaces_is_one_word() -> Result<(), OperationError> {
        let (commands, _) = run(agent, &json!({"server": "a b"}), &mut TableFacts::default())?;
        assert_eq!(commands, ["puppet agent -t '--server=a b'"]);
        Ok(())
    }
}
