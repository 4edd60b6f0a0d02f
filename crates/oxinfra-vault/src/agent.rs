//! Keys through the ssh-agent. age cannot decrypt with an ssh-agent: unwrapping an
//! `ssh-ed25519` or `ssh-rsa` stanza needs the private key itself (an X25519 exchange or
//! an RSA-OAEP decryption), and the agent protocol only signs. So a key held by the
//! agent stands for an age X25519 identity derived from it: the agent signs a fixed,
//! oxinfra-specific message, and the SHA-256 of that signature is the identity's secret.
//! Ed25519 and RSA (PKCS#1 v1.5) signatures are deterministic, so the same agent key
//! gives the same identity every time; ECDSA and security-key (`sk-`) signatures are not,
//! and those keys are skipped. `oxinfra secret init --ssh-agent` writes the derived
//! public key (`age1...`) to the recipients file.

use std::path::Path;

use bech32::ToBase32;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, HashAlg, PublicKey};
use sha2::{Digest, Sha256};

use crate::VaultError;

/// What the agent signs; the key's public blob follows it.
const MESSAGE: &[u8] = b"oxinfra-vault: derive an age identity from this ssh-agent key, v1\0";

/// An age identity derived from an ssh-agent key.
pub struct DerivedIdentity {
    /// The agent key: its type, SHA-256 fingerprint and comment.
    pub description: String,
    /// The derived identity.
    pub identity: age::x25519::Identity,
}

/// Whether an agent is configured (`SSH_AUTH_SOCK`).
pub fn available() -> bool {
    std::env::var_os("SSH_AUTH_SOCK").is_some_and(|path| !path.is_empty())
}

/// The identities derived from the Ed25519 and RSA keys of the agent at
/// `SSH_AUTH_SOCK`, or only from those whose fingerprint or comment contains `matching`.
pub fn derived_identities(matching: Option<&str>) -> Result<Vec<DerivedIdentity>, VaultError> {
    let socket = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|path| !path.is_empty())
        .ok_or_else(|| VaultError::Agent("`SSH_AUTH_SOCK` is not set".to_owned()))?;
    derived_identities_at(Path::new(&socket), matching)
}

/// [`derived_identities`] with the agent listening at `socket`.
pub fn derived_identities_at(socket: &Path, matching: Option<&str>) -> Result<Vec<DerivedIdentity>, VaultError> {
    // The agent client is async; a thread of its own keeps this usable from inside a
    // caller's runtime (Python callbacks run within the engine's `block_on`).
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .map_err(|error| VaultError::Agent(error.to_string()))?;
                runtime.block_on(derive_all(socket, matching))
            })
            .join()
            .unwrap_or_else(|_| Err(VaultError::Agent("the agent thread stopped".to_owned())))
    })
}

async fn derive_all(socket: &Path, matching: Option<&str>) -> Result<Vec<DerivedIdentity>, VaultError> {
    let agent_error = |error: russh::keys::Error| VaultError::Agent(format!("`{}`: {error}", socket.display()));
    let mut agent = AgentClient::connect_uds(socket).await.map_err(agent_error)?;
    let mut derived = Vec::new();
    for identity in agent.request_identities().await.map_err(agent_error)? {
        let AgentIdentity::PublicKey { key, comment } = identity else {
            continue;
        };
        let hash = match key.algorithm() {
            Algorithm::Ed25519 => None,
            Algorithm::Rsa { .. } => Some(HashAlg::Sha512),
            _ => continue,
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        if matching.is_some_and(|pattern| !fingerprint.contains(pattern) && !comment.contains(pattern)) {
            continue;
        }
        let signature = agent.sign_request_signature(&key, hash, &message_for(&key)?).await.map_err(agent_error)?;
        derived.push(DerivedIdentity {
            description: format!("{} {fingerprint} {comment}", key.algorithm()).trim_end().to_owned(),
            identity: identity_from_signature(signature.as_bytes())?,
        });
    }
    Ok(derived)
}

fn message_for(key: &PublicKey) -> Result<Vec<u8>, VaultError> {
    let blob = key.to_bytes().map_err(|error| VaultError::Agent(error.to_string()))?;
    Ok([MESSAGE, blob.as_slice()].concat())
}

/// The identity whose secret is the SHA-256 of `signature`.
fn identity_from_signature(signature: &[u8]) -> Result<age::x25519::Identity, VaultError> {
    let secret: [u8; 32] = Sha256::digest(signature).into();
    let encoded = bech32::encode("age-secret-key-", secret.to_base32(), bech32::Variant::Bech32).map_err(|error| VaultError::Agent(error.to_string()))?;
    encoded.to_uppercase().parse().map_err(|error: &str| VaultError::Agent(error.to_owned()))
}

/// The public key (`age1...`) of an identity, for the recipients file.
pub fn public_key(identity: &age::x25519::Identity) -> String {
    identity.to_public().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_signature_gives_the_same_identity() {
        let first = identity_from_signature(b"signature bytes").map(|identity| public_key(&identity)).ok();
        let second = identity_from_signature(b"signature bytes").map(|identity| public_key(&identity)).ok();
        let other = identity_from_signature(b"other bytes").map(|identity| public_key(&identity)).ok();
        assert!(first.as_deref().is_some_and(|key| key.starts_with("age1")));
        assert_eq!(first, second);
        assert_ne!(first, other);
    }
}
