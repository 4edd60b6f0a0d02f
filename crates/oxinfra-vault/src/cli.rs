//! The `oxinfra secret` command line, parsed with clap. The Python front
//! (`oxinfra/vault.py`) acts on the result: it reads and writes the files, runs the
//! editor, and calls back into this crate to encrypt and decrypt.

use clap::{ArgAction, Args, Parser, Subcommand};
use serde::Serialize;

/// Encrypt, decrypt and manage the secrets of deploy data.
#[derive(Debug, Parser, Serialize)]
#[command(
    name = "oxinfra secret",
    about = "Encrypt, decrypt and manage the secrets of deploy data (age encryption)",
    after_help = "Keys: --key-file, else $OXINFRA_VAULT_KEY (age secret keys), $OXINFRA_VAULT_KEY_FILE, the key file `init` writes, and unencrypted ~/.ssh/id_ed25519 or id_rsa; then keys derived through the ssh-agent. Recipients: --recipient, else the nearest .oxinfra-recipients."
)]
pub struct SecretCli {
    /// What to do.
    #[command(subcommand)]
    pub command: SecretCommand,
    /// Options shared by the subcommands.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Where keys and recipients come from.
#[derive(Debug, Args, Serialize)]
pub struct KeyArgs {
    /// A key file to decrypt with (age identity file or OpenSSH private key); may be repeated
    #[arg(short = 'i', long = "key-file", global = true)]
    pub key_files: Vec<String>,
    /// A recipient to encrypt for (`age1...`, `ssh-ed25519 ...`, `ssh-rsa ...`) instead of the recipients file; may be repeated
    #[arg(short = 'r', long = "recipient", global = true)]
    pub recipients: Vec<String>,
    /// The recipients file (default: the nearest `.oxinfra-recipients`)
    #[arg(short = 'R', long = "recipients-file", global = true)]
    pub recipients_file: Option<String>,
    /// Never ask the ssh-agent
    #[arg(long = "no-agent", global = true, action = ArgAction::SetTrue)]
    pub no_agent: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand, Serialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum SecretCommand {
    /// Create a key (unless one exists) and add its public key to `.oxinfra-recipients` in this folder
    Init {
        /// Where to write the new age key (default: ~/.config/oxinfra/vault-key.txt)
        #[arg(long = "new-key-file")]
        new_key_file: Option<String>,
        /// Add this SSH public key (a `.pub` file) as the recipient instead of creating an age key; may be repeated
        #[arg(long = "ssh-key")]
        ssh_keys: Vec<String>,
        /// Add a key derived through the ssh-agent instead of creating an age key
        #[arg(long = "ssh-agent")]
        ssh_agent: bool,
        /// With --ssh-agent: only agent keys whose fingerprint or comment contains this
        #[arg(long = "agent-key", requires = "ssh_agent")]
        agent_key: Option<String>,
    },
    /// Encrypt a value (argument, file or standard input) and print the vault value
    Encrypt {
        /// The value; read from standard input when neither it nor --file is given
        value: Option<String>,
        /// Encrypt this file's content
        #[arg(short = 'f', long, conflicts_with = "value")]
        file: Option<String>,
        /// Write the vault value to this file instead of printing it
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Print a Python assignment, `NAME = vault("...")`, ready for a group data file
        #[arg(short = 'n', long)]
        name: Option<String>,
    },
    /// Decrypt a vault value (argument, file or standard input) and print the plaintext
    Decrypt {
        /// The vault value; read from standard input when neither it nor --file is given
        value: Option<String>,
        /// Decrypt the vault value this file holds
        #[arg(short = 'f', long, conflicts_with = "value")]
        file: Option<String>,
        /// Write the plaintext to this file instead of printing it
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Decrypt a vault file into $EDITOR and encrypt it again when the editor exits
    Edit {
        /// The file holding one vault value (created when missing)
        file: String,
    },
    /// Encrypt every vault value in these files again, for the current recipients
    Rekey {
        /// Files holding vault values (group data, inventories, vault files)
        #[arg(required = true)]
        files: Vec<String>,
    },
}

/// A parse that did not produce options: help or a usage error.
#[derive(Debug)]
pub struct CliExit {
    /// What to print.
    pub message: String,
    /// Where: stdout for help, stderr for errors.
    pub to_stdout: bool,
    /// The exit code.
    pub code: i32,
}

/// Parses `argv`, the words after `oxinfra secret` with a program name first.
pub fn parse(argv: &[String]) -> Result<SecretCli, CliExit> {
    SecretCli::try_parse_from(argv).map_err(|error| CliExit {
        message: error.render().to_string(),
        to_stdout: !error.use_stderr(),
        code: error.exit_code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn shared_options_may_follow_the_subcommand() {
        let cli = parse(&argv(&["oxinfra secret", "encrypt", "hunter2", "-r", "age1x", "--name", "db_password"]))
            .unwrap_or_else(|error| unreachable!("{}", error.message));
        assert_eq!(cli.keys.recipients, vec!["age1x"]);
        let json = serde_json::to_value(&cli).unwrap_or_default();
        assert_eq!(json["command"]["command"], "encrypt");
        assert_eq!(json["command"]["name"], "db_password");
    }

    #[test]
    fn rekey_needs_files() {
        assert_eq!(parse(&argv(&["oxinfra secret", "rekey"])).err().map(|error| error.code), Some(2));
    }
}
