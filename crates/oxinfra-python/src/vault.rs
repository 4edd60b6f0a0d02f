//! `_core`'s vault functions: encrypting and decrypting vault values
//! (`oxinfra-vault`), the `oxinfra secret` command line, and the secret registry the
//! engine masks output with (`oxinfra_engine::secrets`). Every plaintext decrypted here is
//! registered before Python sees it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use oxinfra_vault::{Identities, KeyOptions};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pyo3::create_exception!(
    _core,
    VaultError,
    pyo3::exceptions::PyException,
    "A vault value could not be encrypted or decrypted; `args` are `(message, hint or None)`."
);

fn vault_error(error: &oxinfra_vault::VaultError) -> PyErr {
    VaultError::new_err((error.to_string(), error.hint()))
}

/// Where keys come from, and the keys once loaded (on the first decryption).
struct KeyState {
    options: KeyOptions,
    loaded: Option<Arc<Identities>>,
}

static KEYS: Mutex<KeyState> = Mutex::new(KeyState {
    options: KeyOptions {
        key_files: Vec::new(),
        use_agent: true,
    },
    loaded: None,
});

fn keys() -> PyResult<std::sync::MutexGuard<'static, KeyState>> {
    KEYS.lock().map_err(|_| PyRuntimeError::new_err("the vault key state is poisoned"))
}

/// Asks for a key's passphrase with `getpass` when standard input is a terminal.
fn ask_passphrase(prompt: &str) -> Option<String> {
    Python::attach(|py| {
        let interactive = py
            .import("sys")
            .and_then(|sys| sys.getattr("stdin")?.call_method0("isatty")?.extract::<bool>())
            .unwrap_or(false);
        if !interactive {
            return None;
        }
        py.import("getpass")
            .and_then(|getpass| getpass.call_method1("getpass", (prompt,))?.extract())
            .ok()
    })
}

fn identities() -> PyResult<Arc<Identities>> {
    let mut state = keys()?;
    if let Some(loaded) = &state.loaded {
        return Ok(Arc::clone(loaded));
    }
    let loaded = Arc::new(Identities::load(&state.options, &ask_passphrase).map_err(|error| vault_error(&error))?);
    state.loaded = Some(Arc::clone(&loaded));
    Ok(loaded)
}

fn recipients(text: &str, source: &str) -> PyResult<Vec<oxinfra_vault::Recipient>> {
    oxinfra_vault::parse_recipients(text, source).map_err(|error| vault_error(&error))
}

/// Registers a secret with the engine: masked from now on in all output.
#[pyfunction]
fn register_secret(text: &str) {
    oxinfra_engine::secrets::register(text);
}

/// `text` with every registered secret masked.
#[pyfunction]
fn redact(text: &str) -> String {
    oxinfra_engine::secrets::redact(text).into_owned()
}

/// Parses `oxinfra secret` arguments (program name first); returns `(None, json, False)`
/// or, for help and usage errors, `(exit_code, text, to_stdout)`.
#[pyfunction]
fn vault_parse_cli(argv: Vec<String>) -> PyResult<(Option<i32>, String, bool)> {
    match oxinfra_vault::cli::parse(&argv) {
        Ok(cli) => Ok((
            None,
            serde_json::to_string(&cli).map_err(|error| PyRuntimeError::new_err(error.to_string()))?,
            false,
        )),
        Err(exit) => Ok((Some(exit.code), exit.message, exit.to_stdout)),
    }
}

/// Sets where keys come from and forgets keys loaded before.
#[pyfunction]
fn vault_configure(key_files: Vec<PathBuf>, use_agent: bool) -> PyResult<()> {
    let mut state = keys()?;
    state.options = KeyOptions { key_files, use_agent };
    state.loaded = None;
    Ok(())
}

/// A new age key pair: `(secret_key, public_key)`.
#[pyfunction]
fn vault_generate_key() -> (String, String) {
    oxinfra_vault::generate_key()
}

/// The public key of the age key file text `text` (`source` names it in errors).
#[pyfunction]
fn vault_public_key(text: &str, source: &str) -> PyResult<String> {
    let keys = Identities::age_public_keys(text, source).map_err(|error| vault_error(&error))?;
    keys.into_iter().next().ok_or_else(|| {
        vault_error(&oxinfra_vault::VaultError::Key {
            source_name: source.to_owned(),
            message: "it holds no age key (only age keys can be used by `init`)".to_owned(),
        })
    })
}

/// The recipients in `text` (one a line), checked, without comments; `source` names it in errors.
#[pyfunction]
fn vault_recipients(text: &str, source: &str) -> PyResult<Vec<String>> {
    Ok(recipients(text, source)?.iter().map(|recipient| recipient.text().to_owned()).collect())
}

/// Encrypts `plaintext` for the recipients in `recipients_text`; returns the vault value.
#[pyfunction]
fn vault_encrypt(py: Python<'_>, plaintext: &[u8], recipients_text: &str, source: &str) -> PyResult<String> {
    let recipients = recipients(recipients_text, source)?;
    py.detach(|| oxinfra_vault::encrypt(plaintext, &recipients))
        .map_err(|error| vault_error(&error))
}

/// Decrypts a vault value and registers the plaintext as a secret.
#[pyfunction]
fn vault_decrypt<'py>(py: Python<'py>, value: &str) -> PyResult<Bound<'py, PyBytes>> {
    let identities = identities()?;
    let plaintext = py.detach(|| oxinfra_vault::decrypt(value, &identities)).map_err(|error| vault_error(&error))?;
    oxinfra_engine::secrets::register(&String::from_utf8_lossy(&plaintext));
    Ok(PyBytes::new(py, &plaintext))
}

/// Re-encrypts every vault value in `text` for `recipients_text`; returns `(text, count)`.
#[pyfunction]
fn vault_rekey(py: Python<'_>, text: &str, recipients_text: &str, source: &str) -> PyResult<(String, usize)> {
    let recipients = recipients(recipients_text, source)?;
    let identities = identities()?;
    py.detach(|| oxinfra_vault::rekey_text(text, &identities, &recipients))
        .map_err(|error| vault_error(&error))
}

/// The vault values in `text`, in order.
#[pyfunction]
fn vault_find(text: &str) -> Vec<String> {
    oxinfra_vault::find_values(text)
        .into_iter()
        .filter_map(|range| text.get(range).map(str::to_owned))
        .collect()
}

/// Where the loaded keys came from (loading them first).
#[pyfunction]
fn vault_key_sources() -> PyResult<Vec<String>> {
    Ok(identities()?.sources())
}

/// The default key file, `~/.config/oxinfra/vault-key.txt` or under `$XDG_CONFIG_HOME`.
#[pyfunction]
fn vault_default_key_file() -> String {
    oxinfra_vault::identities::default_key_file().display().to_string()
}

/// The nearest `.oxinfra-recipients` in `start` or above it.
#[pyfunction]
fn vault_find_recipients_file(start: PathBuf) -> Option<String> {
    oxinfra_vault::find_recipients_file(&start).map(|path| path.display().to_string())
}

/// The age public keys derived from the ssh-agent's keys, with a description of each
/// agent key: `[(age1..., "ssh-ed25519 SHA256:... comment")]`.
#[pyfunction]
#[pyo3(signature = (matching = None))]
fn vault_agent_recipients(py: Python<'_>, matching: Option<&str>) -> PyResult<Vec<(String, String)>> {
    let derived = py
        .detach(|| oxinfra_vault::agent::derived_identities(matching))
        .map_err(|error| vault_error(&error))?;
    Ok(derived
        .iter()
        .map(|key| (oxinfra_vault::agent::public_key(&key.identity), key.description.clone()))
        .collect())
}

/// Adds the vault functions to `_core`.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(register_secret, module)?)?;
    module.add_function(wrap_pyfunction!(redact, module)?)?;
    module.add_function(wrap_pyfunction!(vault_parse_cli, module)?)?;
    module.add_function(wrap_pyfunction!(vault_configure, module)?)?;
    module.add_function(wrap_pyfunction!(vault_generate_key, module)?)?;
    module.add_function(wrap_pyfunction!(vault_public_key, module)?)?;
    module.add_function(wrap_pyfunction!(vault_recipients, module)?)?;
    module.add_function(wrap_pyfunction!(vault_encrypt, module)?)?;
    module.add_function(wrap_pyfunction!(vault_decrypt, module)?)?;
    module.add_function(wrap_pyfunction!(vault_rekey, module)?)?;
    module.add_function(wrap_pyfunction!(vault_find, module)?)?;
    module.add_function(wrap_pyfunction!(vault_key_sources, module)?)?;
    module.add_function(wrap_pyfunction!(vault_default_key_file, module)?)?;
    module.add_function(wrap_pyfunction!(vault_find_recipients_file, module)?)?;
    module.add_function(wrap_pyfunction!(vault_agent_recipients, module)?)?;
    module.add("VaultError", module.py().get_type::<VaultError>())?;
    Ok(())
}
