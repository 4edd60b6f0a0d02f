//! The vault: secrets that stand in deploy data as encrypted values. A value is one line,
//! `oxinfra-vault:v1:` followed by the base64 of an age file, so that it fits in Python,
//! YAML and JSON data files alike. It is encrypted for the project's recipients (age
//! X25519 keys and OpenSSH `ssh-ed25519`/`ssh-rsa` public keys, [`recipients`]) and
//! decrypted with the identities of whoever runs the deploy ([`identities`], [`agent`]).
//!
//! This crate only encrypts and decrypts; it does no masking. Plaintexts are registered
//! for masking by the engine (`oxinfra_engine::secrets`), and the Python front decides when
//! a value is needed.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod agent;
pub mod cli;
mod error;
pub mod identities;
pub mod recipients;

use std::io::Write;

use data_encoding::BASE64;

pub use error::VaultError;
pub use identities::{Identities, KeyOptions};
pub use recipients::{Recipient, find_recipients_file, generate_key, parse_recipients, read_recipients_file};

/// What every vault value starts with; `v1` is the version of this text form.
pub const PREFIX: &str = "oxinfra-vault:v1:";

/// Whether `text` is a vault value (surrounding whitespace allowed).
pub fn is_value(text: &str) -> bool {
    text.trim().starts_with(PREFIX)
}

/// Encrypts `plaintext` for every recipient; returns the one-line vault value.
pub fn encrypt(plaintext: &[u8], recipients: &[Recipient]) -> Result<String, VaultError> {
    let encrypt_error = |error: &dyn std::fmt::Display| VaultError::Encrypt(error.to_string());
    if recipients.is_empty() {
        return Err(VaultError::NoRecipients {
            file: recipients::RECIPIENTS_FILE.to_owned(),
        });
    }
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(Recipient::as_age)).map_err(|error| encrypt_error(&error))?;
    let mut ciphertext = Vec::new();
    let mut writer = encryptor.wrap_output(&mut ciphertext).map_err(|error| encrypt_error(&error))?;
    writer.write_all(plaintext).map_err(|error| encrypt_error(&error))?;
    writer.finish().map_err(|error| encrypt_error(&error))?;
    Ok(format!("{PREFIX}{}", BASE64.encode(&ciphertext)))
}

/// Decrypts a vault value.
pub fn decrypt(value: &str, identities: &Identities) -> Result<Vec<u8>, VaultError> {
    let encoded = value.trim().strip_prefix(PREFIX).ok_or(VaultError::NotAValue)?;
    let ciphertext = BASE64.decode(encoded.as_bytes()).map_err(|error| VaultError::Malformed {
        reason: format!("not base64 ({error})"),
    })?;
    identities.decrypt_bytes(&ciphertext)
}

/// Every vault value in `text`, as byte ranges, in order.
pub fn find_values(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text.get(from..).and_then(|rest| rest.find(PREFIX)) {
        let start = from + offset;
        let body = start + PREFIX.len();
        let length = text.get(body..).map_or(0, |rest| {
            rest.bytes()
                .take_while(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='))
                .count()
        });
        found.push(start..body + length);
        from = body + length;
    }
    found
}

/// Re-encrypts every vault value in `text` for `recipients`; returns the new text and
/// how many values it held. Text around the values is kept byte for byte.
pub fn rekey_text(text: &str, identities: &Identities, recipients: &[Recipient]) -> Result<(String, usize), VaultError> {
    let ranges = find_values(text);
    let mut rekeyed = String::with_capacity(text.len());
    let mut last = 0;
    for range in &ranges {
        let value = text.get(range.clone()).unwrap_or_default();
        let plaintext = decrypt(value, identities)?;
        rekeyed.push_str(text.get(last..range.start).unwrap_or_default());
        rekeyed.push_str(&encrypt(&plaintext, recipients)?);
        last = range.end;
    }
    rekeyed.push_str(text.get(last..).unwrap_or_default());
    Ok((rekeyed, ranges.len()))
}

#[cfg(test)]
mod tests;
