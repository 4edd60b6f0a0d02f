//! The command line, with pyinfra 3.10's options and forms: `oxinfra INVENTORY
//! OPERATIONS...` where OPERATIONS are deploy files, `exec -- CMD`, `fact Mod.Fact
//! [k=v]`, `module.function [args]` or `debug-inventory`. Parsed here with clap; the
//! Python front acts on the result.

use clap::{ArgAction, Parser};
use serde::Serialize;

/// oxinfra: pyinfra deploys, run by a Rust engine.
#[derive(Debug, Parser, Serialize)]
#[command(name = "oxinfra", version, about = "Run pyinfra deploy files, operations and facts on hosts, with a Rust engine.", long_about = None)]
pub struct Cli {
    /// Inventory: a file, a comma-separated list of hosts, or `@local`, `@fake/NAME`
    pub inventory: String,

    /// Deploy files, `exec -- COMMAND`, `fact MOD.FACT [k=v]`, `MOD.OPERATION [args]` or `debug-inventory`
    #[arg(required = true, num_args = 1..)]
    pub operations: Vec<String>,

    /// More output: -v facts and no-ops, -vv commands, -vvv command output
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,
    /// Detect changes and print them, but change nothing
    #[arg(long)]
    pub dry: bool,
    /// Show the differences in changed file contents
    #[arg(long)]
    pub diff: bool,
    /// Execute at once, without detecting changes or asking
    #[arg(short = 'y', long = "yes", env = "PYINFRA_YES", value_parser = clap::builder::FalseyValueParser::new())]
    pub yes: bool,
    /// Only these hosts or groups (glob patterns allowed); may be repeated
    #[arg(long)]
    pub limit: Vec<String>,
    /// Leave out these hosts or groups (glob patterns allowed); may be repeated
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Fail the run when more than this percentage of hosts fail
    #[arg(long = "fail-percent")]
    pub fail_percent: Option<f64>,
    /// Override data: `key=value`; may be repeated
    #[arg(long)]
    pub data: Vec<String>,
    /// Extra group data folders or files; may be repeated
    #[arg(long = "group-data")]
    pub group_data: Vec<String>,
    /// The config file
    #[arg(long, default_value = "config.py")]
    pub config: String,
    /// Change to this folder before anything else
    #[arg(long)]
    pub chdir: Option<String>,
    /// Run operations with sudo
    #[arg(long)]
    pub sudo: bool,
    /// The user sudo runs as
    #[arg(long = "sudo-user")]
    pub sudo_user: Option<String>,
    /// Ask for the sudo password once, up front
    #[arg(long = "same-sudo-password")]
    pub same_sudo_password: bool,
    /// Accepted for pyinfra compatibility; the password is asked for when needed
    #[arg(long = "use-sudo-password")]
    pub use_sudo_password: bool,
    /// Use a login shell with sudo (`sudo -i`)
    #[arg(long = "use-sudo-login")]
    pub use_sudo_login: bool,
    /// Run operations with su as this user
    #[arg(long = "su-user")]
    pub su_user: Option<String>,
    /// Run operations with dzdo
    #[arg(long)]
    pub dzdo: bool,
    /// The user dzdo runs as
    #[arg(long = "dzdo-user")]
    pub dzdo_user: Option<String>,
    /// The shell commands run in (`None` runs them unwrapped)
    #[arg(long = "shell-executable")]
    pub shell_executable: Option<String>,
    /// How many hosts work at once
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Let every host run all its operations without waiting for the others
    #[arg(long = "no-wait")]
    pub no_wait: bool,
    /// Run host by host: all operations on one host, then the next
    #[arg(long)]
    pub serial: bool,
    /// Default retries of every operation
    #[arg(long)]
    pub retry: Option<u32>,
    /// Default seconds between retries
    #[arg(long = "retry-delay")]
    pub retry_delay: Option<f64>,
    /// SSH user
    #[arg(long = "ssh-user", visible_alias = "user")]
    pub ssh_user: Option<String>,
    /// SSH port
    #[arg(long = "ssh-port", visible_alias = "port")]
    pub ssh_port: Option<u16>,
    /// SSH private key file
    #[arg(long = "ssh-key", visible_alias = "key")]
    pub ssh_key: Option<String>,
    /// Password of the SSH private key
    #[arg(long = "ssh-key-password", visible_alias = "key-password")]
    pub ssh_key_password: Option<String>,
    /// SSH password
    #[arg(long = "ssh-password", visible_alias = "password")]
    pub ssh_password: Option<String>,
    /// Ask for the SSH password
    #[arg(long = "ssh-password-prompt")]
    pub ssh_password_prompt: bool,
    /// Print system information for bug reports
    #[arg(long)]
    pub support: bool,
    /// Debug logging of oxinfra
    #[arg(long)]
    pub debug: bool,
    /// Debug logging of everything
    #[arg(long = "debug-all")]
    pub debug_all: bool,
    /// Stop after preparing (kept for pyinfra compatibility)
    #[arg(long = "debug-facts")]
    pub debug_facts: bool,
    /// Print the prepared operations and stop
    #[arg(long = "debug-operations")]
    pub debug_operations: bool,
    /// JSON on stdout; without -y this plans and changes nothing
    #[arg(long)]
    pub json: bool,
}

/// A parse that did not produce options: `--help`, `--version` or a usage error.
#[derive(Debug)]
pub struct CliExit {
    /// What to print.
    pub message: String,
    /// Where: stdout for help and version, stderr for errors.
    pub to_stdout: bool,
    /// The exit code.
    pub code: i32,
}

/// Parses `argv` (program name first).
pub fn parse(argv: &[String]) -> Result<Cli, CliExit> {
    Cli::try_parse_from(argv).map_err(|error| {
        let to_stdout = !error.use_stderr();
        CliExit {
            message: error.render().to_string(),
            to_stdout,
            code: error.exit_code(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn options_may_follow_operations() {
        let cli = parse(&argv(&["oxinfra", "@local", "deploy.py", "-y", "--limit", "web"])).unwrap_or_else(|error| unreachable!("{}", error.message));
        assert_eq!(cli.operations, vec!["deploy.py"]);
        assert!(cli.yes);
        assert_eq!(cli.limit, vec!["web"]);
    }

    #[test]
    fn exec_passes_the_command_through() {
        let cli = parse(&argv(&["oxinfra", "@local", "exec", "--", "echo", "-n", "hi"])).unwrap_or_else(|error| unreachable!("{}", error.message));
        assert_eq!(cli.operations, vec!["exec", "echo", "-n", "hi"]);
    }

    #[test]
    fn missing_operations_is_a_usage_error() {
        let error = parse(&argv(&["oxinfra", "@local"])).err();
        assert_eq!(error.map(|error| error.code), Some(2));
    }
}
