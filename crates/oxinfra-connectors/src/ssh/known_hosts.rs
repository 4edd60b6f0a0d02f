//! Host key verification against `known_hosts` files, with OpenSSH's matching rules:
//! `host` or `[host]:port` looked up in comma-separated pattern lists (`*`/`?`
//! wildcards, `!` negation) and in hashed entries (`|1|salt|hmac-sha1`); `@revoked`
//! entries reject their key; a key of the same type but different value is "changed".
//! `StrictHostKeyChecking` decides what happens to an unknown or changed key, and
//! `accept-new` appends the new key to the first user file. russh's own
//! `check_known_hosts_path` is not used: it knows neither wildcards nor markers.
//!
//! Host certificates are checked as their plain key: russh does not ask servers for
//! certificates unless told to, and `@cert-authority` lines are not consulted yet.

use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::{Algorithm, HashAlg, PublicKey};
use sha1::Sha1;

use super::options::StrictHostKeyChecking;

/// A host key that is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    /// No `known_hosts` entry for the host, and the policy is `yes` (or `ask`).
    #[error(
        "unknown host key for `{name}`: the server offers {algorithm} {fingerprint}, which is not in {files}, and strict host key checking is `{policy}`\n\
         hint: check the fingerprint with the host's owner, then add it (`ssh-keyscan{port_flag} {host} >> {first_file}`) or set `ssh_strict_host_key_checking` to `accept-new`"
    )]
    Unknown {
        /// The name looked up (`host` or `[host]:port`).
        name: String,
        /// The host alone.
        host: String,
        /// ` -p PORT` when not 22.
        port_flag: String,
        /// The offered key's algorithm.
        algorithm: String,
        /// The offered key's `SHA256:` fingerprint.
        fingerprint: String,
        /// The files searched, for the message.
        files: String,
        /// The file a key would be added to.
        first_file: String,
        /// `yes`, or `ask` (with nobody to ask).
        policy: &'static str,
    },
    /// A key of that type is known for the host, and it is another one.
    #[error(
        "host key for `{name}` has changed: the server offers {algorithm} {fingerprint}, but `{file}` line {line} has {known_fingerprint}; someone could be intercepting the connection, or the host was reinstalled\n\
         hint: if the change is expected, remove the old key with `ssh-keygen -R {quoted_name} -f {quoted_file}`"
    )]
    Changed {
        /// The name looked up.
        name: String,
        /// The name quoted for a shell.
        quoted_name: String,
        /// The offered key's algorithm.
        algorithm: String,
        /// The offered key's fingerprint.
        fingerprint: String,
        /// The known key's fingerprint.
        known_fingerprint: String,
        /// The file holding the known key.
        file: String,
        /// The file quoted for a shell.
        quoted_file: String,
        /// Its line number.
        line: usize,
    },
    /// The offered key is marked `@revoked`.
    #[error("host key {algorithm} {fingerprint} of `{name}` is revoked (`{file}` line {line})")]
    Revoked {
        /// The name looked up.
        name: String,
        /// The offered key's algorithm.
        algorithm: String,
        /// Its fingerprint.
        fingerprint: String,
        /// The file with the `@revoked` line.
        file: String,
        /// Its line number.
        line: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Revoked,
    CertAuthority,
}

#[derive(Debug)]
enum Patterns {
    List(Vec<String>),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug)]
struct Entry {
    marker: Option<Marker>,
    patterns: Patterns,
    key: PublicKey,
    file: PathBuf,
    line: usize,
}

/// Checks the keys one host offers.
#[derive(Clone, Debug)]
pub struct Verifier {
    /// The name looked up: `host`, or `[host]:port` when the port is not 22.
    name: String,
    host: String,
    port: u16,
    user_files: Vec<PathBuf>,
    global_files: Vec<PathBuf>,
    policy: StrictHostKeyChecking,
    hash_new_entries: bool,
}

impl Verifier {
    /// A verifier for `host` (the `HostKeyAlias` or host name) on `port`.
    pub fn new(host: &str, port: u16, user_files: Vec<PathBuf>, global_files: Vec<PathBuf>, policy: StrictHostKeyChecking, hash_new_entries: bool) -> Self {
        Self {
            name: lookup_name(host, port),
            host: host.to_owned(),
            port,
            user_files,
            global_files,
            policy,
            hash_new_entries,
        }
    }

    /// The algorithms of the keys already known for the host, so the handshake can
    /// prefer them (as OpenSSH does) instead of tripping over a key of another type.
    pub async fn known_algorithms(&self) -> Vec<Algorithm> {
        let entries = self.load().await;
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for entry in entries.iter().filter(|entry| entry.marker.is_none() && matches(&entry.patterns, &self.name)) {
            let algorithm = family(&entry.key.algorithm());
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// Accepts or refuses `offered` under the policy; `accept-new` records a new key.
    pub async fn verify(&self, offered: &PublicKey) -> Result<(), HostKeyError> {
        let entries = self.load().await;
        let relevant: Vec<&Entry> = entries.iter().filter(|entry| matches(&entry.patterns, &self.name)).collect();
        let fingerprint = offered.fingerprint(HashAlg::Sha256).to_string();
        let algorithm = offered.algorithm().to_string();

        if let Some(entry) = relevant
            .iter()
            .find(|entry| entry.marker == Some(Marker::Revoked) && entry.key.key_data() == offered.key_data())
        {
            return Err(HostKeyError::Revoked {
                name: self.name.clone(),
                algorithm,
                fingerprint,
                file: entry.file.display().to_string(),
                line: entry.line,
            });
        }
        let plain: Vec<&&Entry> = relevant.iter().filter(|entry| entry.marker.is_none()).collect();
        if plain.iter().any(|entry| entry.key.key_data() == offered.key_data()) {
            return Ok(());
        }
        let offered_family = family(&offered.algorithm());
        if let Some(known) = plain.iter().find(|entry| family(&entry.key.algorithm()) == offered_family) {
            if self.policy == StrictHostKeyChecking::No {
                log::warn!(
                    "host key for `{}` has changed ({algorithm} {fingerprint}); accepting it because strict host key checking is `no`",
                    self.name
                );
                return Ok(());
            }
            return Err(HostKeyError::Changed {
                name: self.name.clone(),
                quoted_name: oxinfra_core::shell_quote(&self.name),
                algorithm,
                fingerprint,
                known_fingerprint: known.key.fingerprint(HashAlg::Sha256).to_string(),
                file: known.file.display().to_string(),
                quoted_file: oxinfra_core::shell_quote(&known.file.display().to_string()),
                line: known.line,
            });
        }
        match self.policy {
            StrictHostKeyChecking::No => {
                log::warn!(
                    "no known host key for `{}` ({algorithm} {fingerprint}); accepting it because strict host key checking is `no`",
                    self.name
                );
                Ok(())
            }
            StrictHostKeyChecking::AcceptNew => {
                self.record(offered).await;
                Ok(())
            }
            StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => Err(HostKeyError::Unknown {
                name: self.name.clone(),
                host: self.host.clone(),
                port_flag: if self.port == 22 { String::new() } else { format!(" -p {}", self.port) },
                algorithm,
                fingerprint,
                files: self.files().map(|file| format!("`{}`", file.display())).collect::<Vec<_>>().join(", "),
                first_file: self.user_files.first().map(|file| file.display().to_string()).unwrap_or_default(),
                policy: if self.policy == StrictHostKeyChecking::Ask { "ask" } else { "yes" },
            }),
        }
    }

    fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.user_files.iter().chain(&self.global_files)
    }

    async fn load(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        for file in self.files() {
            match tokio::fs::read_to_string(file).await {
                Ok(text) => entries.extend(parse(&text, file)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => log::warn!("could not read the known hosts file `{}`: {error}", file.display()),
            }
        }
        entries
    }

    /// Appends the key to the first user file (creating it and its folder); a failure
    /// is reported but does not refuse the key the policy accepted.
    async fn record(&self, key: &PublicKey) {
        let Some(file) = self.user_files.first() else { return };
        let pattern = if self.hash_new_entries {
            hashed_pattern(&self.name)
        } else {
            self.name.clone()
        };
        let mut plain = key.clone();
        plain.set_comment("");
        let Ok(encoded) = plain.to_openssh() else { return };
        if let Err(error) = append_line(file, &format!("{pattern} {}", encoded.trim_end())).await {
            log::warn!("could not add the host key of `{}` to `{}`: {error}", self.name, file.display());
        } else {
            log::info!(
                "added the host key of `{}` ({}) to `{}`",
                self.name,
                key.fingerprint(HashAlg::Sha256),
                file.display()
            );
        }
    }
}

/// The name `known_hosts` stores for a host: `host`, or `[host]:port` off port 22.
pub fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 { host } else { format!("[{host}]:{port}") }
}

async fn append_line(file: &Path, line: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    if let Some(parent) = file.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        if !tokio::fs::try_exists(parent).await.unwrap_or(false) {
            tokio::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).await?;
        }
    }
    // A file whose last line has no newline would swallow ours.
    let needs_newline = tokio::fs::read(file).await.is_ok_and(|bytes| bytes.last().is_some_and(|last| *last != b'\n'));
    let text = format!("{}{line}\n", if needs_newline { "\n" } else { "" });
    let mut handle = tokio::fs::OpenOptions::new().create(true).append(true).open(file).await?;
    // One write of a whole line, so concurrent connections never interleave.
    handle.write_all(text.as_bytes()).await?;
    handle.flush().await
}

/// RSA keys are one family whatever the signature hash.
pub fn family(algorithm: &Algorithm) -> Algorithm {
    match algorithm {
        Algorithm::Rsa { .. } => Algorithm::Rsa { hash: None },
        other => other.clone(),
    }
}

fn parse(text: &str, file: &Path) -> Vec<Entry> {
    text.lines().enumerate().filter_map(|(index, line)| parse_line(line, file, index + 1)).collect()
}

fn parse_line(line: &str, file: &Path, number: usize) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Some(Marker::Revoked),
        "@cert-authority" => Some(Marker::CertAuthority),
        _ => None,
    };
    if marker.is_some() {
        first = fields.next()?;
    }
    let patterns = if let Some(hashed) = first.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        Patterns::Hashed {
            salt: BASE64.decode(salt.as_bytes()).ok()?,
            hash: BASE64.decode(hash.as_bytes()).ok()?,
        }
    } else {
        Patterns::List(first.split(',').map(str::to_ascii_lowercase).collect())
    };
    let _key_type = fields.next()?;
    let key = russh::keys::parse_public_key_base64(fields.next()?).ok()?;
    Some(Entry {
        marker,
        patterns,
        key,
        file: file.to_path_buf(),
        line: number,
    })
}

fn matches(patterns: &Patterns, name: &str) -> bool {
    match patterns {
        Patterns::Hashed { salt, hash } => hmac_sha1(salt, name).is_some_and(|digest| digest == *hash),
        Patterns::List(list) => {
            let mut positive = false;
            for pattern in list {
                if let Some(negated) = pattern.strip_prefix('!') {
                    if wildcard(negated, name) {
                        return false;
                    }
                } else if wildcard(pattern, name) {
                    positive = true;
                }
            }
            positive
        }
    }
}

fn hmac_sha1(salt: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(salt).ok()?;
    mac.update(name.as_bytes());
    Some(mac.finalize().into_bytes().to_vec())
}

fn hashed_pattern(name: &str) -> String {
    let salt: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..)).take(20).collect();
    let hash = hmac_sha1(&salt, name).unwrap_or_default();
    format!("|1|{}|{}", BASE64.encode(&salt), BASE64.encode(&hash))
}

/// OpenSSH's `match_pattern`: `*` any run, `?` one character.
fn wildcard(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

    fn entry(line: &str) -> Entry {
        parse_line(line, Path::new("kh"), 1).unwrap_or_else(|| unreachable!("`{line}` should parse"))
    }

    #[test]
    fn plain_port_and_wildcard_patterns() {
        assert!(matches(&entry(&format!("web1,10.0.0.1 ssh-ed25519 {KEY}")).patterns, "10.0.0.1"));
        assert!(matches(&entry(&format!("[web1]:2222 ssh-ed25519 {KEY}")).patterns, &lookup_name("web1", 2222)));
        assert!(!matches(&entry(&format!("web1 ssh-ed25519 {KEY}")).patterns, &lookup_name("web1", 2222)));
        assert!(matches(
            &entry(&format!("*.example.org,!bad.example.org ssh-ed25519 {KEY}")).patterns,
            "a.example.org"
        ));
        assert!(!matches(
            &entry(&format!("*.example.org,!bad.example.org ssh-ed25519 {KEY}")).patterns,
            "bad.example.org"
        ));
        assert!(matches(&entry(&format!("web? ssh-ed25519 {KEY}")).patterns, "web7"));
    }

    #[test]
    fn hashed_entries_match_their_name_only() {
        let line = format!("{} ssh-ed25519 {KEY}", hashed_pattern("[127.0.0.1]:2222"));
        assert!(matches(&entry(&line).patterns, "[127.0.0.1]:2222"));
        assert!(!matches(&entry(&line).patterns, "127.0.0.1"));
    }

    #[test]
    fn markers_tabs_and_comments_are_read() {
        let revoked = entry(&format!("@revoked\tweb1  ssh-ed25519 {KEY} old key"));
        assert_eq!(revoked.marker, Some(Marker::Revoked));
        assert!(parse_line("# a comment", Path::new("kh"), 1).is_none());
        assert!(parse_line("web1 ssh-ed25519 not-base64!", Path::new("kh"), 1).is_none());
    }

    #[test]
    fn wildcards_backtrack() {
        assert!(wildcard("*a*b", "xxaxxb"));
        assert!(!wildcard("*a*b", "xxaxxc"));
        assert!(wildcard("*", ""));
    }
}
