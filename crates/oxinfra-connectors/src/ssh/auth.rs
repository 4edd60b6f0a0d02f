//! Authentication, in pyinfra's order with OpenSSH's sources: the `ssh_key` file (and
//! its certificate) when given; otherwise the agent's keys (`IdentityAgent` or
//! `SSH_AUTH_SOCK`, limited by `IdentitiesOnly`) and the `IdentityFile`s, each with a
//! matching `CertificateFile`/`<key>-cert.pub` first; then `ssh_password` (password,
//! then keyboard-interactive). A failure lists every method tried and what the server
//! accepts. Decrypting a key is CPU work, so it runs off the async threads and each key
//! is decrypted once per process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use russh::MethodKind;
use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::PrivateKeyWithHashAlg;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::{Certificate, HashAlg, PrivateKey, PublicKey, public::KeyData};
use tokio::sync::OnceCell;

use super::config::{AgentSocket, Settings};
use super::error::SshError;
use super::session::ClientHandler;

/// What the host data offers beyond the ssh configuration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Credentials<'a> {
    /// `ssh_password`.
    pub password: Option<&'a str>,
    /// `ssh_key`: when set, the agent and identity files are not used.
    pub key: Option<&'a Path>,
    /// `ssh_key_password`.
    pub key_password: Option<&'a str>,
    /// `ssh_allow_agent`.
    pub allow_agent: bool,
    /// `ssh_look_for_keys`.
    pub look_for_keys: bool,
}

/// What has been tried, and what the server said it accepts.
struct Attempts {
    tried: Vec<String>,
    accepted: Option<Vec<String>>,
}

impl Attempts {
    fn allows(&self, method: MethodKind) -> bool {
        let name: &str = (&method).into();
        self.accepted.as_ref().is_none_or(|accepted| accepted.iter().any(|item| item == name))
    }

    /// Records a finished attempt; `true` when it authenticated.
    fn record(&mut self, label: String, result: &AuthResult) -> bool {
        self.tried.push(label);
        match result {
            AuthResult::Success => true,
            AuthResult::Failure { remaining_methods, .. } => {
                self.accepted = Some(remaining_methods.iter().map(|method| <&str>::from(method).to_owned()).collect());
                false
            }
        }
    }
}

/// Authenticates `handle` as `settings.user`.
pub async fn authenticate(handle: &mut Handle<ClientHandler>, host: &str, settings: &Settings, credentials: &Credentials<'_>) -> Result<(), SshError> {
    let user = settings.user.as_str();
    let address = format!("{}:{}", settings.hostname, settings.port);
    let protocol = |error: String| SshError::Handshake {
        host: host.to_owned(),
        address: address.clone(),
        detail: format!("during authentication: {error}"),
    };
    let mut attempts = Attempts {
        tried: Vec::new(),
        accepted: None,
    };

    if let Some(path) = credentials.key {
        let key = load_key(path, credentials.key_password).await.map_err(|error| SshError::Key {
            host: host.to_owned(),
            path: path.display().to_string(),
            detail: error.to_string(),
        })?;
        if try_key(handle, user, &key, path, &settings.certificate_files, &mut attempts)
            .await
            .map_err(protocol)?
        {
            return Ok(());
        }
    } else {
        let mut offered: Vec<KeyData> = Vec::new();
        if credentials.allow_agent
            && attempts.allows(MethodKind::PublicKey)
            && try_agent(handle, user, settings, &mut offered, &mut attempts).await.map_err(protocol)?
        {
            return Ok(());
        }
        if credentials.look_for_keys {
            for path in &settings.identity_files {
                if !attempts.allows(MethodKind::PublicKey) || !tokio::fs::try_exists(path).await.unwrap_or(false) {
                    continue;
                }
                let public = public_key_beside(path).await;
                if public.as_ref().is_some_and(|public| offered.contains(public.key_data())) {
                    continue;
                }
                match load_key(path, credentials.key_password).await {
                    Ok(key) => {
                        offered.push(key.public_key().key_data().clone());
                        if try_key(handle, user, &key, path, &settings.certificate_files, &mut attempts)
                            .await
                            .map_err(protocol)?
                        {
                            return Ok(());
                        }
                    }
                    Err(error) => attempts.tried.push(format!("(skipped `{}`: {error})", path.display())),
                }
            }
        }
    }

    if let Some(password) = credentials.password {
        if attempts.allows(MethodKind::Password) {
            let result = handle
                .authenticate_password(user, password)
                .await
                .map_err(|error| protocol(error.to_string()))?;
            if attempts.record("password".to_owned(), &result) {
                return Ok(());
            }
        }
        if attempts.allows(MethodKind::KeyboardInteractive) && keyboard_interactive(handle, user, password, &mut attempts).await.map_err(protocol)? {
            return Ok(());
        }
    }

    let tried = if attempts.tried.is_empty() {
        "nothing (no `ssh_key`, no `ssh_password`, no agent key and no identity file)".to_owned()
    } else {
        attempts.tried.join(", ")
    };
    let accepted = attempts
        .accepted
        .map(|methods| format!("; the server accepts {}", methods.join(",")))
        .unwrap_or_default();
    Err(SshError::Authentication {
        host: host.to_owned(),
        user: user.to_owned(),
        address,
        tried,
        accepted,
    })
}

/// Tries a private key, after any certificate made for it.
async fn try_key(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    key: &Arc<PrivateKey>,
    path: &Path,
    certificate_files: &[PathBuf],
    attempts: &mut Attempts,
) -> Result<bool, String> {
    let mut candidates: Vec<PathBuf> = certificate_files.to_vec();
    candidates.push(PathBuf::from(format!("{}-cert.pub", path.display())));
    for candidate in candidates {
        let Some(certificate) = load_certificate(&candidate).await else { continue };
        if certificate.public_key() != key.public_key().key_data() {
            continue;
        }
        let result = handle
            .authenticate_openssh_cert(user, Arc::clone(key), certificate)
            .await
            .map_err(|error| error.to_string())?;
        if attempts.record(format!("publickey with the certificate `{}`", candidate.display()), &result) {
            return Ok(true);
        }
    }
    let hash = rsa_hash(handle, key.public_key()).await;
    let result = handle
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::clone(key), hash))
        .await
        .map_err(|error| error.to_string())?;
    Ok(attempts.record(format!("publickey with `{}`", path.display()), &result))
}

async fn rsa_hash(handle: &Handle<ClientHandler>, key: &PublicKey) -> Option<HashAlg> {
    if key.algorithm().is_rsa() {
        handle.best_supported_rsa_hash().await.ok().flatten().flatten()
    } else {
        None
    }
}

/// Tries the agent's identities (only those of the identity files under `IdentitiesOnly`).
async fn try_agent(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    settings: &Settings,
    offered: &mut Vec<KeyData>,
    attempts: &mut Attempts,
) -> Result<bool, String> {
    let agent = match &settings.identity_agent {
        AgentSocket::Disabled => return Ok(false),
        AgentSocket::Environment => AgentClient::connect_env().await,
        AgentSocket::Path(path) => AgentClient::connect_uds(path).await,
    };
    let Ok(mut agent) = agent else { return Ok(false) };
    let Ok(identities) = agent.request_identities().await else { return Ok(false) };
    let mut allowed: Vec<KeyData> = Vec::new();
    if settings.identities_only {
        for path in settings.identity_files.iter().chain(&settings.certificate_files) {
            if let Some(public) = public_key_beside(path).await {
                allowed.push(public.key_data().clone());
            }
        }
    }
    for identity in identities {
        let public = identity.public_key().into_owned();
        if settings.identities_only && !allowed.contains(public.key_data()) {
            continue;
        }
        if !attempts.allows(MethodKind::PublicKey) {
            break;
        }
        let label = match identity.comment() {
            "" => format!("publickey with the agent key {}", public.fingerprint(HashAlg::Sha256)),
            comment => format!("publickey with the agent key `{comment}`"),
        };
        offered.push(public.key_data().clone());
        let hash = rsa_hash(handle, &public).await;
        let result = match identity {
            AgentIdentity::PublicKey { key, .. } => handle.authenticate_publickey_with(user, key, hash, &mut agent).await,
            AgentIdentity::Certificate { certificate, .. } => handle.authenticate_certificate_with(user, certificate, hash, &mut agent).await,
        };
        match result {
            Ok(result) => {
                if attempts.record(label, &result) {
                    return Ok(true);
                }
            }
            // The agent refused to sign (a locked or confirm-only key): try the next one.
            Err(error) => attempts.tried.push(format!("{label} (the agent did not sign: {error})")),
        }
    }
    Ok(false)
}

async fn keyboard_interactive(handle: &mut Handle<ClientHandler>, user: &str, password: &str, attempts: &mut Attempts) -> Result<bool, String> {
    let mut response = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .map_err(|error| error.to_string())?;
    // A server asks a few rounds at most (a password, maybe an empty info round).
    for _ in 0..4 {
        match response {
            KeyboardInteractiveAuthResponse::Success => {
                attempts.tried.push("keyboard-interactive".to_owned());
                return Ok(true);
            }
            KeyboardInteractiveAuthResponse::Failure { remaining_methods, .. } => {
                return Ok(attempts.record(
                    "keyboard-interactive".to_owned(),
                    &AuthResult::Failure {
                        remaining_methods,
                        partial_success: false,
                    },
                ));
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts
                    .iter()
                    .map(|prompt| if prompt.echo { String::new() } else { password.to_owned() })
                    .collect();
                response = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                    .map_err(|error| error.to_string())?;
            }
        }
    }
    attempts.tried.push("keyboard-interactive".to_owned());
    Ok(false)
}

/// Why a private key could not be used.
#[derive(Clone, Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("{0}")]
    Unreadable(String),
    /// It is encrypted and no passphrase was given.
    #[error("the key is encrypted; set `ssh_key_password`")]
    Encrypted,
    /// The passphrase did not decrypt it, or it is not a key.
    #[error("could not decode it{}: {detail}", if *.with_password { " with `ssh_key_password`" } else { "" })]
    Undecodable {
        /// Whether a passphrase was used.
        with_password: bool,
        /// russh's reason.
        detail: String,
    },
}

type KeyCell = Arc<OnceCell<Result<Arc<PrivateKey>, KeyError>>>;
type KeyCache = Mutex<HashMap<(PathBuf, Option<String>), KeyCell>>;

/// Loads (and decrypts) a private key once per process for each file and passphrase.
async fn load_key(path: &Path, password: Option<&str>) -> Result<Arc<PrivateKey>, KeyError> {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    let cell = {
        let mut cache = CACHE.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cache.entry((path.to_path_buf(), password.map(str::to_owned))).or_default())
    };
    let path = path.to_path_buf();
    let password = password.map(str::to_owned);
    cell.get_or_init(|| async move {
        let decoded = tokio::task::spawn_blocking(move || {
            let text = std::fs::read_to_string(&path).map_err(|error| KeyError::Unreadable(error.to_string()))?;
            russh::keys::decode_secret_key(&text, password.as_deref()).map_err(|error| match error {
                russh::keys::Error::KeyIsEncrypted => KeyError::Encrypted,
                other => KeyError::Undecodable {
                    with_password: password.is_some(),
                    detail: other.to_string(),
                },
            })
        })
        .await;
        match decoded {
            Ok(result) => result.map(Arc::new),
            Err(error) => Err(KeyError::Unreadable(error.to_string())),
        }
    })
    .await
    .clone()
}

async fn load_certificate(path: &Path) -> Option<Certificate> {
    let text = tokio::fs::read_to_string(path).await.ok()?;
    Certificate::from_openssh(text.trim()).ok()
}

/// The public key of an identity file, from `<file>.pub` (or the file itself when it
/// is a public key or certificate), without decrypting anything.
async fn public_key_beside(path: &Path) -> Option<PublicKey> {
    for candidate in [PathBuf::from(format!("{}.pub", path.display())), path.to_path_buf()] {
        let Ok(text) = tokio::fs::read_to_string(&candidate).await else { continue };
        let text = text.trim();
        if let Ok(public) = PublicKey::from_openssh(text) {
            return Some(public);
        }
        if let Ok(certificate) = Certificate::from_openssh(text) {
            return Some(PublicKey::new(certificate.public_key().clone(), ""));
        }
    }
    None
}
