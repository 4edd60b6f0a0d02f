//! Round trips through age and SSH keys, and the errors a person sees.

use std::path::{Path, PathBuf};

use super::*;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

fn recipients_of(text: &str) -> Vec<Recipient> {
    parse_recipients(text, "test").unwrap_or_else(|error| unreachable!("{error}"))
}

fn identities_from(files: &[PathBuf]) -> Identities {
    let options = KeyOptions {
        key_files: files.to_vec(),
        use_agent: false,
    };
    Identities::load(&options, &|_| Some("correct horse".to_owned())).unwrap_or_else(|error| unreachable!("{error}"))
}

fn age_key_file(folder: &Path, name: &str) -> (PathBuf, String) {
    let (secret, public) = generate_key();
    let path = folder.join(name);
    std::fs::write(&path, format!("# public key: {public}\n{secret}\n")).unwrap_or_else(|error| unreachable!("{error}"));
    (path, public)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| unreachable!("{error}"))
}

#[test]
fn round_trip_with_an_age_key() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let (key_file, public) = age_key_file(folder.path(), "key.txt");
    let value = encrypt(b"hunter2", &recipients_of(&public)).unwrap_or_else(|error| unreachable!("{error}"));
    assert!(value.starts_with(PREFIX));
    assert!(!value.contains('\n'));
    let plaintext = decrypt(&value, &identities_from(&[key_file])).ok();
    assert_eq!(plaintext.as_deref(), Some(&b"hunter2"[..]));
}

#[test]
fn round_trip_with_ssh_ed25519_and_rsa_keys() {
    let recipients = recipients_of(&format!("{}\n{}", read(&testdata("id_ed25519.pub")), read(&testdata("id_rsa.pub"))));
    let value = encrypt(b"s3cr3t with spaces\nand a line", &recipients).unwrap_or_else(|error| unreachable!("{error}"));
    for key in ["id_ed25519", "id_rsa"] {
        let plaintext = decrypt(&value, &identities_from(&[testdata(key)])).ok();
        assert_eq!(plaintext.as_deref(), Some(&b"s3cr3t with spaces\nand a line"[..]), "{key}");
    }
}

#[test]
fn an_encrypted_ssh_key_is_opened_with_its_passphrase() {
    let value = encrypt(b"pw", &recipients_of(&read(&testdata("id_ed25519_encrypted.pub")))).unwrap_or_else(|error| unreachable!("{error}"));
    let plaintext = decrypt(&value, &identities_from(&[testdata("id_ed25519_encrypted")])).ok();
    assert_eq!(plaintext.as_deref(), Some(&b"pw"[..]));

    let options = KeyOptions {
        key_files: vec![testdata("id_ed25519_encrypted")],
        use_agent: false,
    };
    let wrong = Identities::load(&options, &|_| Some("wrong".to_owned())).err().map(|error| error.to_string());
    if std::env::var_os(identities::PASSPHRASE_VARIABLE).is_none() {
        assert!(wrong.is_some_and(|message| message.contains("id_ed25519_encrypted") && message.contains("wrong passphrase")));
    }
}

#[test]
fn a_wrong_key_names_the_key_file() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let (_, public) = age_key_file(folder.path(), "right.txt");
    let (wrong_file, wrong_public) = age_key_file(folder.path(), "wrong.txt");
    let value = encrypt(b"hunter2", &recipients_of(&public)).unwrap_or_else(|error| unreachable!("{error}"));
    let error = decrypt(&value, &identities_from(std::slice::from_ref(&wrong_file))).err();
    assert!(matches!(error, Some(VaultError::NoMatchingKey { .. })));
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert_eq!(
        message,
        format!("no key can decrypt this value; tried `{}` ({wrong_public})", wrong_file.display())
    );
}

#[test]
fn a_tampered_value_is_refused() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let (key_file, public) = age_key_file(folder.path(), "key.txt");
    let identities = identities_from(&[key_file]);
    let value = encrypt(b"hunter2 and more text", &recipients_of(&public)).unwrap_or_else(|error| unreachable!("{error}"));
    let mut ciphertext = data_encoding::BASE64.decode(value.trim_start_matches(PREFIX).as_bytes()).unwrap_or_default();
    // The last byte is in the payload's tag, 40 bytes from the end in the payload's nonce.
    for position in [ciphertext.len() - 1, ciphertext.len() - 40] {
        if let Some(byte) = ciphertext.get_mut(position) {
            *byte ^= 1;
        }
        let tampered = format!("{PREFIX}{}", data_encoding::BASE64.encode(&ciphertext));
        let error = decrypt(&tampered, &identities).err();
        assert!(matches!(error, Some(VaultError::Tampered { .. })), "{error:?}");
        if let Some(byte) = ciphertext.get_mut(position) {
            *byte ^= 1;
        }
    }
    let cut = &value[..value.len() - 10];
    assert!(decrypt(cut, &identities).is_err());
    assert!(matches!(
        decrypt("oxinfra-vault:v1:not base64!", &identities),
        Err(VaultError::Malformed { .. })
    ));
    assert!(matches!(decrypt("hunter2", &identities), Err(VaultError::NotAValue)));
}

#[test]
fn rekey_replaces_values_and_keeps_the_rest() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let (old_file, old_public) = age_key_file(folder.path(), "old.txt");
    let (new_file, new_public) = age_key_file(folder.path(), "new.txt");
    let first = encrypt(b"one", &recipients_of(&old_public)).unwrap_or_default();
    let second = encrypt(b"two", &recipients_of(&old_public)).unwrap_or_default();
    let text = format!("a = vault(\"{first}\")\nb = '{second}'\nc = 3\n");
    assert_eq!(find_values(&text).len(), 2);

    let (rekeyed, count) = rekey_text(&text, &identities_from(&[old_file]), &recipients_of(&new_public)).unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(count, 2);
    assert!(rekeyed.ends_with("')\nc = 3\n") || rekeyed.ends_with("'\nc = 3\n"));
    let values: Vec<Vec<u8>> = find_values(&rekeyed)
        .into_iter()
        .filter_map(|range| decrypt(&rekeyed[range], &identities_from(std::slice::from_ref(&new_file))).ok())
        .collect();
    assert_eq!(values, vec![b"one".to_vec(), b"two".to_vec()]);
}

#[test]
fn a_key_text_names_its_source_in_errors() {
    let error = Identities::from_text("AGE-SECRET-KEY-1NOTAKEY\n", "OXINFRA_VAULT_KEY")
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(
        error.starts_with("cannot use the key `OXINFRA_VAULT_KEY`: line 1: not an age secret key"),
        "{error}"
    );
}

/// Runs a private ssh-agent holding the test ed25519 key; `None` when ssh-agent is absent.
fn private_agent(folder: &Path) -> Option<(std::process::Child, PathBuf)> {
    let socket = folder.join("agent.sock");
    let agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let key = folder.join("id_ed25519");
    std::fs::copy(testdata("id_ed25519"), &key).ok()?;
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).ok()?;
    let added = std::process::Command::new("ssh-add")
        .arg("-q")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &socket)
        .status()
        .ok()?;
    added.success().then_some((agent, socket))
}

#[test]
fn an_agent_key_gives_the_same_identity_every_time() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let Some((mut agent, socket)) = private_agent(folder.path()) else {
        return;
    };
    let first = agent::derived_identities_at(&socket, None);
    let second = agent::derived_identities_at(&socket, Some("vault-test-ed25519"));
    let none = agent::derived_identities_at(&socket, Some("no such key"));
    let _ = agent.kill();
    let _ = agent.wait();
    let first = first.unwrap_or_else(|error| unreachable!("{error}"));
    let second = second.unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(first.len(), 1);
    assert!(first[0].description.starts_with("ssh-ed25519 SHA256:"), "{}", first[0].description);
    assert_eq!(agent::public_key(&first[0].identity), agent::public_key(&second[0].identity));
    assert!(none.is_ok_and(|keys| keys.is_empty()));

    let recipient = recipients_of(&agent::public_key(&first[0].identity));
    let value = encrypt(b"through the agent", &recipient).unwrap_or_default();
    let key_text = age::secrecy::ExposeSecret::expose_secret(&second[0].identity.to_string()).to_owned();
    let identities = Identities::from_text(&key_text, "derived").unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(decrypt(&value, &identities).ok().as_deref(), Some(&b"through the agent"[..]));
}
