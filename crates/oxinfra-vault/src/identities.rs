//! Identities: the private keys that decrypt. They come from files (age identity files
//! and OpenSSH private keys, encrypted ones with a passphrase), from the environment
//! (`OXINFRA_VAULT_KEY`, `OXINFRA_VAULT_KEY_FILE`), from the default key file that
//! `oxinfra secret init` writes, and from the ssh-agent ([`crate::agent`]). Each key
//! remembers where it came from, so that errors can name it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use age::secrecy::SecretString;

use crate::VaultError;

/// The environment variable holding age secret keys (an identity file's text).
pub const KEY_VARIABLE: &str = "OXINFRA_VAULT_KEY";
/// The environment variable naming a key file.
pub const KEY_FILE_VARIABLE: &str = "OXINFRA_VAULT_KEY_FILE";
/// The environment variable holding the passphrase of an encrypted OpenSSH key.
pub const PASSPHRASE_VARIABLE: &str = "OXINFRA_VAULT_KEY_PASSPHRASE";

/// Asked for the passphrase of an encrypted key, with a prompt naming it; `None` when
/// nobody can answer.
pub type PassphrasePrompt<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where to look for keys.
#[derive(Clone, Debug, Default)]
pub struct KeyOptions {
    /// Key files given on the command line; when any are given, only they (and the
    /// agent) are used.
    pub key_files: Vec<PathBuf>,
    /// Whether the ssh-agent may be asked, after the other keys failed.
    pub use_agent: bool,
}

/// The file `oxinfra secret init` writes the age key to:
/// `$XDG_CONFIG_HOME/oxinfra/vault-key.txt`, else `~/.config/oxinfra/vault-key.txt`.
pub fn default_key_file() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    config.join("oxinfra").join("vault-key.txt")
}

#[derive(Clone)]
enum Key {
    X25519(age::x25519::Identity),
    Ssh(age::ssh::Identity),
}

impl Key {
    fn as_age(&self) -> &dyn age::Identity {
        match self {
            Self::X25519(key) => key,
            Self::Ssh(key) => key,
        }
    }
}

/// A private key and where it came from.
#[derive(Clone)]
struct SourcedKey {
    source: String,
    key: Key,
}

/// The keys a process decrypts with.
pub struct Identities {
    keys: Vec<SourcedKey>,
    use_agent: bool,
    /// Keys derived through the ssh-agent: asked for once, when first needed.
    agent_keys: Mutex<Option<Result<Vec<SourcedKey>, String>>>,
}

impl Identities {
    /// Loads keys as `options` say: the given key files, or else `OXINFRA_VAULT_KEY`,
    /// `OXINFRA_VAULT_KEY_FILE`, the default key file and unencrypted `~/.ssh/id_ed25519`
    /// and `~/.ssh/id_rsa`. Fails when there is no key at all and the agent is not allowed.
    pub fn load(options: &KeyOptions, prompt: PassphrasePrompt<'_>) -> Result<Self, VaultError> {
        let mut keys = Vec::new();
        if options.key_files.is_empty() {
            if let Some(text) = std::env::var(KEY_VARIABLE).ok().filter(|text| !text.trim().is_empty()) {
                keys.extend(parse_key_text(&text, KEY_VARIABLE, prompt)?);
            }
            if let Some(path) = std::env::var_os(KEY_FILE_VARIABLE).filter(|path| !path.is_empty()) {
                keys.extend(read_key_file(Path::new(&path), prompt)?);
            }
            let default_file = default_key_file();
            if default_file.is_file() {
                keys.extend(read_key_file(&default_file, prompt)?);
            }
            if keys.is_empty() {
                keys.extend(default_ssh_keys());
            }
            if keys.is_empty() && !(options.use_agent && crate::agent::available()) {
                return Err(VaultError::NoKeys { default_file });
            }
        } else {
            for path in &options.key_files {
                keys.extend(read_key_file(path, prompt)?);
            }
        }
        Ok(Self {
            keys,
            use_agent: options.use_agent,
            agent_keys: Mutex::new(None),
        })
    }

    /// Keys from an identity text (age keys or an OpenSSH private key), named `source`.
    pub fn from_text(text: &str, source: &str) -> Result<Self, VaultError> {
        Ok(Self {
            keys: parse_key_text(text, source, &|_| None)?,
            use_agent: false,
            agent_keys: Mutex::new(None),
        })
    }

    /// The public keys (`age1...`) of the age keys in an identity text.
    pub fn age_public_keys(text: &str, source: &str) -> Result<Vec<String>, VaultError> {
        Ok(parse_key_text(text, source, &|_| None)?
            .into_iter()
            .filter_map(|key| match key.key {
                Key::X25519(identity) => Some(identity.to_public().to_string()),
                Key::Ssh(_) => None,
            })
            .collect())
    }

    /// Where each loaded key came from, agent keys included once asked for.
    pub fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.keys.iter().map(|key| key.source.clone()).collect();
        if let Ok(guard) = self.agent_keys.lock() {
            if let Some(Ok(keys)) = guard.as_ref() {
                sources.extend(keys.iter().map(|key| key.source.clone()));
            }
        }
        sources
    }

    /// Decrypts age ciphertext (binary).
    pub(crate) fn decrypt_bytes(&self, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        match decrypt_with(ciphertext, &self.keys) {
            Err(VaultError::NoMatchingKey { .. }) if self.use_agent && crate::agent::available() => {
                let agent_keys = self.agent_keys()?;
                decrypt_with(ciphertext, &agent_keys).map_err(|error| match error {
                    VaultError::NoMatchingKey { .. } => self.no_matching_key(),
                    other => other,
                })
            }
            Err(VaultError::NoMatchingKey { .. }) => Err(self.no_matching_key()),
            other => other,
        }
    }

    fn agent_keys(&self) -> Result<Vec<SourcedKey>, VaultError> {
        let mut guard = self.agent_keys.lock().map_err(|_| VaultError::Agent("a previous use failed".to_owned()))?;
        let loaded = guard.get_or_insert_with(|| {
            crate::agent::derived_identities(None)
                .map(|keys| {
                    keys.into_iter()
                        .map(|derived| SourcedKey {
                            source: format!("ssh-agent key `{}`", derived.description),
                            key: Key::X25519(derived.identity),
                        })
                        .collect()
                })
                .map_err(|error| error.to_string())
        });
        loaded.clone().map_err(VaultError::Agent)
    }

    fn no_matching_key(&self) -> VaultError {
        let sources = self.sources();
        let tried = if sources.is_empty() {
            "no keys (none were found)".to_owned()
        } else {
            sources.join(", ")
        };
        VaultError::NoMatchingKey { tried }
    }
}

fn decrypt_with(ciphertext: &[u8], keys: &[SourcedKey]) -> Result<Vec<u8>, VaultError> {
    use std::io::Read;

    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|error| header_error(&error))?;
    let mut reader = decryptor
        .decrypt(keys.iter().map(|key| key.key.as_age()))
        .map_err(|error| header_error(&error))?;
    let mut plaintext = Vec::new();
    reader
        .read_to_end(&mut plaintext)
        .map_err(|error| VaultError::Tampered { reason: error.to_string() })?;
    Ok(plaintext)
}

fn header_error(error: &age::DecryptError) -> VaultError {
    use age::DecryptError as Error;
    match error {
        Error::NoMatchingKeys => VaultError::NoMatchingKey { tried: String::new() },
        Error::InvalidMac | Error::DecryptionFailed => VaultError::Tampered { reason: error.to_string() },
        Error::KeyDecryptionFailed => VaultError::Key {
            source_name: "an encrypted key".to_owned(),
            message: error.to_string(),
        },
        _ => VaultError::Malformed { reason: error.to_string() },
    }
}

fn read_key_file(path: &Path, prompt: PassphrasePrompt<'_>) -> Result<Vec<SourcedKey>, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|error| VaultError::Key {
        source_name: path.display().to_string(),
        message: error.to_string(),
    })?;
    parse_key_text(&text, &path.display().to_string(), prompt)
}

/// The unencrypted default OpenSSH keys; encrypted ones are left out so that no run
/// asks for a passphrase it does not need (name them in `OXINFRA_VAULT_KEY_FILE`).
fn default_ssh_keys() -> Vec<SourcedKey> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    ["id_ed25519", "id_rsa"]
        .iter()
        .map(|name| PathBuf::from(&home).join(".ssh").join(name))
        .filter(|path| path.is_file())
        .filter_map(|path| read_key_file(&path, &|_| None).ok())
        .flatten()
        .collect()
}

/// Parses an age identity file (`AGE-SECRET-KEY-1...` lines) or an OpenSSH private key.
fn parse_key_text(text: &str, source: &str, prompt: PassphrasePrompt<'_>) -> Result<Vec<SourcedKey>, VaultError> {
    let key_error = |message: String| VaultError::Key {
        source_name: source.to_owned(),
        message,
    };
    if text.contains("-----BEGIN") {
        let identity = age::ssh::Identity::from_buffer(text.as_bytes(), Some(source.to_owned())).map_err(|error| key_error(error.to_string()))?;
        let identity = match identity {
            age::ssh::Identity::Encrypted(encrypted) => {
                let passphrase = std::env::var(PASSPHRASE_VARIABLE)
                    .ok()
                    .or_else(|| prompt(&format!("Passphrase for `{source}`: ")))
                    .ok_or_else(|| key_error(format!("the key is encrypted; set `{PASSPHRASE_VARIABLE}` or run on a terminal to be asked")))?;
                let decrypted = encrypted
                    .decrypt(SecretString::from(passphrase))
                    .map_err(|_| key_error("wrong passphrase".to_owned()))?;
                age::ssh::Identity::Unencrypted(decrypted)
            }
            age::ssh::Identity::Unsupported(_) => {
                return Err(key_error(
                    "this kind of OpenSSH key cannot decrypt age values; use ssh-ed25519 or ssh-rsa".to_owned(),
                ));
            }
            unencrypted @ age::ssh::Identity::Unencrypted(_) => unencrypted,
        };
        return Ok(vec![SourcedKey {
            source: format!("`{source}`"),
            key: Key::Ssh(identity),
        }]);
    }
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let identity: age::x25519::Identity = line
            .parse()
            .map_err(|error| key_error(format!("line {}: not an age secret key ({error}); plugin keys are not supported", number + 1)))?;
        keys.push(SourcedKey {
            source: format!("`{source}` ({})", identity.to_public()),
            key: Key::X25519(identity),
        });
    }
    if keys.is_empty() {
        return Err(key_error("no key in it".to_owned()));
    }
    Ok(keys)
}
