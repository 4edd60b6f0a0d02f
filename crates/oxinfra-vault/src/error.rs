//! [`VaultError`]: every way encrypting, decrypting or loading keys can fail, with the
//! file, variable or key it concerns, and a hint for the command line.

use std::path::PathBuf;

use crate::PREFIX;

/// A vault operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The text is not a vault value.
    #[error("not a vault value: it does not start with `{PREFIX}`")]
    NotAValue,
    /// The text after the prefix is not base64, or not an age file.
    #[error("the vault value is damaged: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The ciphertext was changed after it was written: its authentication failed.
    #[error("the vault value was changed or damaged after it was encrypted ({reason})")]
    Tampered {
        /// What failed.
        reason: String,
    },
    /// None of the loaded keys is a recipient of the value.
    #[error("no key can decrypt this value; tried {tried}")]
    NoMatchingKey {
        /// The keys tried, by where they came from.
        tried: String,
    },
    /// There is no key to decrypt with.
    #[error("no vault key found: none given, `OXINFRA_VAULT_KEY` and `OXINFRA_VAULT_KEY_FILE` are unset, and `{default_file}` does not exist")]
    NoKeys {
        /// The default key file that was looked for.
        default_file: PathBuf,
    },
    /// A key file could not be read or parsed.
    #[error("cannot use the key `{source_name}`: {message}")]
    Key {
        /// The file or variable the key came from.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// A recipient line could not be parsed.
    #[error("`{source_name}` line {line}: {message}")]
    Recipient {
        /// The file (or argument) the recipient came from.
        source_name: String,
        /// Its line number, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// There is nobody to encrypt for.
    #[error("no recipients: `{file}` was not found in this folder or any above it, and none were given")]
    NoRecipients {
        /// The recipients file name that was looked for.
        file: String,
    },
    /// Talking to the ssh-agent failed.
    #[error("ssh-agent: {0}")]
    Agent(String),
    /// Encrypting failed.
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
    /// Reading or writing a file failed.
    #[error("`{path}`: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
}

impl VaultError {
    /// A next step for the person who saw the error, when there is a useful one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NoMatchingKey { .. } => Some(
                "the value was encrypted for other keys; someone holding one of them can add your key to `.oxinfra-recipients` and run `oxinfra secret rekey`",
            ),
            Self::NoKeys { .. } => Some("run `oxinfra secret init`, or set `OXINFRA_VAULT_KEY_FILE` to an age key file or an OpenSSH private key"),
            Self::NoRecipients { .. } => Some("run `oxinfra secret init` in the project folder, or pass `--recipient`"),
            Self::Tampered { .. } | Self::Malformed { .. } => Some("copy the whole value again from where it was written; vault values are one line"),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            message: error.to_string(),
        }
    }
}
