//! Recipients: the public keys a value is encrypted for. age X25519 keys (`age1...`)
//! and OpenSSH public keys (`ssh-ed25519`, `ssh-rsa`), one a line in the project's
//! `.oxinfra-recipients` file, `#` starting a comment. Identities (private keys) live in
//! [`crate::identities`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;

use crate::VaultError;

/// The name of the recipients file, looked for in the current folder and those above it.
pub const RECIPIENTS_FILE: &str = ".oxinfra-recipients";

/// One public key a value is encrypted for.
#[derive(Clone)]
pub struct Recipient {
    text: String,
    key: Key,
}

#[derive(Clone)]
enum Key {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

impl Recipient {
    /// The key as age reads it.
    pub fn as_age(&self) -> &dyn age::Recipient {
        match &self.key {
            Key::X25519(key) => key,
            Key::Ssh(key) => key,
        }
    }

    /// The key's text without its comment (`age1...` or `ssh-ed25519 AAAA...`).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl FromStr for Recipient {
    type Err = String;

    /// Parses `age1...` or `ssh-TYPE BASE64 [comment]`.
    fn from_str(line: &str) -> Result<Self, String> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [key, ..] if key.starts_with("age1") => {
                let parsed = age::x25519::Recipient::from_str(key)
                    .map_err(|error| format!("`{key}` is not an age X25519 public key ({error}); plugin recipients are not supported"))?;
                Ok(Self {
                    text: (*key).to_owned(),
                    key: Key::X25519(parsed),
                })
            }
            [kind, blob, ..] if kind.starts_with("ssh-") => {
                let text = format!("{kind} {blob}");
                let parsed = age::ssh::Recipient::from_str(&text).map_err(|error| ssh_error(kind, &error))?;
                Ok(Self { text, key: Key::Ssh(parsed) })
            }
            [kind, ..] if kind.starts_with("ecdsa-") || kind.starts_with("sk-") => Err(format!(
                "`{kind}` keys cannot receive age values; use an ssh-ed25519 or ssh-rsa key, or an age key"
            )),
            _ => Err(format!(
                "`{line}` is not a recipient: expected an `age1...` key or an `ssh-ed25519`/`ssh-rsa` public key"
            )),
        }
    }
}

fn ssh_error(kind: &str, error: &age::ssh::ParseRecipientKeyError) -> String {
    use age::ssh::ParseRecipientKeyError as Error;
    match error {
        Error::RsaModulusTooSmall => "the ssh-rsa key is shorter than 2048 bits".to_owned(),
        Error::RsaModulusTooLarge => "the ssh-rsa key is longer than age supports".to_owned(),
        Error::Unsupported(kind) => format!("`{kind}` keys cannot receive age values; use an ssh-ed25519 or ssh-rsa key"),
        Error::Ignore | Error::Invalid(_) => format!("not a valid `{kind}` public key"),
    }
}

/// Parses recipients, one a line; blank lines and `#` comments are skipped.
/// `source_name` names the file or argument in errors.
pub fn parse_recipients(text: &str, source_name: &str) -> Result<Vec<Recipient>, VaultError> {
    let mut recipients = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let recipient = line.parse().map_err(|message| VaultError::Recipient {
            source_name: source_name.to_owned(),
            line: number + 1,
            message,
        })?;
        recipients.push(recipient);
    }
    Ok(recipients)
}

/// Reads a recipients file.
pub fn read_recipients_file(path: &Path) -> Result<Vec<Recipient>, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|error| VaultError::io(path, &error))?;
    parse_recipients(&text, &path.display().to_string())
}

/// The nearest [`RECIPIENTS_FILE`] in `start` or a folder above it.
pub fn find_recipients_file(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|folder| folder.join(RECIPIENTS_FILE)).find(|path| path.is_file())
}

/// A new age X25519 key pair: `(AGE-SECRET-KEY-1..., age1...)`.
pub fn generate_key() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    (identity.to_string().expose_secret().to_owned(), public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let (_, public) = generate_key();
        let text = format!("# team\n\n{public} # alice\n");
        let recipients = parse_recipients(&text, "r").unwrap_or_default();
        assert_eq!(recipients.len(), 1);
        assert_eq!(recipients.first().map(Recipient::text), Some(public.as_str()));
    }

    #[test]
    fn a_bad_line_is_named_by_file_and_number() {
        let error = parse_recipients("# team\nhello\n", ".oxinfra-recipients").err().map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some("`.oxinfra-recipients` line 2: `hello` is not a recipient: expected an `age1...` key or an `ssh-ed25519`/`ssh-rsa` public key")
        );
    }

    #[test]
    fn ecdsa_keys_are_refused_with_a_reason() {
        let error = "ecdsa-sha2-nistp256 AAAA x".parse::<Recipient>().err().unwrap_or_default();
        assert!(error.contains("cannot receive age values"), "{error}");
    }
}
