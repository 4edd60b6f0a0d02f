"""The vault: encrypted values in deploy data, and the `oxinfra secret` command.

A vault value is one line, `oxinfra-vault:v1:` and the base64 of an age file. It may
stand in group data, inventory files and deploy data, as a plain string or wrapped in
`vault("...")`. It is decrypted only when a host's data is read (`host.data.x`), in
memory; the plaintext comes back as a `SecretStr`, and is registered with the engine so
that it is masked (`*MASKED*`) in all output, logs, diffs and JSON. Encryption and key
handling are in Rust (`oxinfra-vault`); this module reads and writes files, runs the
editor and prints.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn, TextIO

from oxinfra import _core

PREFIX = "oxinfra-vault:v1:"
RECIPIENTS_FILE = ".oxinfra-recipients"

__all__ = ["PREFIX", "Secret", "SecretBytes", "SecretStr", "is_secret", "reveal", "vault", "vault_file"]


class SecretStr(str):
    """A decrypted vault value: a `str`, whose `repr` is masked. Its text is registered
    with the engine, which masks it wherever it appears in output."""

    def __repr__(self) -> str:
        return "'*MASKED*'"


class SecretBytes(bytes):
    """A decrypted vault value that is not UTF-8 text."""

    def __repr__(self) -> str:
        return "b'*MASKED*'"


class Secret:
    """An encrypted value in data files: `vault("oxinfra-vault:v1:...")`. Reading it
    through `host.data` decrypts it (so does `reveal()`); `str()` gives the encrypted
    text, so printing data never decrypts."""

    def __init__(self, value: str | None = None, *, path: str | os.PathLike[str] | None = None) -> None:
        if (value is None) == (path is None):
            raise TypeError("give a vault value or path=, not both")
        if value is not None and not value.strip().startswith(PREFIX):
            raise ValueError(f"not a vault value: it does not start with `{PREFIX}`; make one with `oxinfra secret encrypt`")
        self._value = value.strip() if value is not None else None
        self._path = os.path.abspath(path) if path is not None else None
        self._plaintext: SecretStr | SecretBytes | None = None

    @property
    def ciphertext(self) -> str:
        """The vault value (read from the file for `vault_file`)."""
        if self._value is None:
            assert self._path is not None
            self._value = Path(self._path).read_text().strip()
        return self._value

    def reveal(self) -> SecretStr | SecretBytes:
        """Decrypts (once) and returns the plaintext."""
        if self._plaintext is None:
            try:
                self._plaintext = _decrypt(self.ciphertext)
            except _core.VaultError as error:
                where = f" (`{self._path}`)" if self._path else ""
                raise VaultValueError(f"{error.args[0]}{where}", error.args[1]) from None
        return self._plaintext

    def __str__(self) -> str:
        # The encrypted text: printing data (`debug-inventory`) never decrypts.
        return self.ciphertext

    def __repr__(self) -> str:
        if self._path is not None and self._value is None:
            return f"vault_file({self._path!r})"
        return f"vault({self.ciphertext[:40]!r}...)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


class VaultValueError(ValueError):
    """A vault value that cannot be decrypted; `args` are `(message, hint or None)`."""

    def __str__(self) -> str:
        message, hint = [*self.args, None][:2]
        return f"{message}\nhint: {hint}" if hint else str(message)


def vault(value: str) -> Secret:
    """Marks an encrypted value in a data file: `db_password = vault("oxinfra-vault:v1:...")`."""
    return Secret(value)


def vault_file(path: str | os.PathLike[str]) -> Secret:
    """A value kept encrypted in its own file (written by `oxinfra secret encrypt -o` or
    `oxinfra secret edit`), read and decrypted when a host needs it."""
    return Secret(path=path)


def is_secret(value: Any) -> bool:
    """Whether `value` is a decrypted vault value."""
    return isinstance(value, (SecretStr, SecretBytes))


def _decrypt(value: str) -> SecretStr | SecretBytes:
    plaintext = _core.vault_decrypt(value)
    _install_redacting_streams()
    try:
        return SecretStr(plaintext.decode("utf-8"))
    except UnicodeDecodeError:
        return SecretBytes(plaintext)


def reveal(value: Any, name: str | None = None) -> Any:
    """`value` with vault values (`Secret`s and `oxinfra-vault:v1:` strings), also inside
    lists, tuples and dicts, decrypted; other values are returned as they are. `name`
    (the data key) is named in errors."""
    try:
        return _reveal(value)
    except VaultValueError as error:
        if name is None:
            raise
        message, hint = [*error.args, None][:2]
        raise VaultValueError(f"host data `{name}`: {message}", hint) from None


def _reveal(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, str):
        if value.startswith(PREFIX) and not isinstance(value, SecretStr):
            try:
                return _decrypt(value)
            except _core.VaultError as error:
                raise VaultValueError(*error.args) from None
        return value
    if isinstance(value, (list, tuple)):
        items = [_reveal(item) for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return type(value)(items) if type(value) in (list, tuple) else items
        return value
    if isinstance(value, dict):
        revealed = {key: _reveal(item) for key, item in value.items()}
        if any(revealed[key] is not item for key, item in value.items()):
            return revealed
        return value
    return value


class _RedactingStream:
    """A text stream that masks registered secrets in everything written through it."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(_core.redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _install_redacting_streams() -> None:
    """Once a secret is decrypted, Python's own output (user `print`s, tracebacks,
    warnings) is masked like the engine's."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _RedactingStream):
            setattr(sys, name, _RedactingStream(stream))


# --- oxinfra secret ---------------------------------------------------------------


class _Failure(Exception):
    """An error the command reports in one line (with a hint), then exits 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def main(argv: list[str]) -> int:
    """`oxinfra secret ...`: `argv` are the words after `secret`."""
    code, text, to_stdout = _core.vault_parse_cli(["oxinfra secret", *argv])
    if code is not None:
        (sys.stdout if to_stdout else sys.stderr).write(text)
        return int(code)
    options = json.loads(text)
    keys = options["keys"]
    _core.vault_configure([os.path.expanduser(path) for path in keys["key_files"]], not keys["no_agent"])
    command = options["command"]
    try:
        handler = {"init": _init, "encrypt": _encrypt, "decrypt": _decrypt_command, "edit": _edit, "rekey": _rekey}[command["command"]]
        handler(command, keys)
    except _core.VaultError as error:
        _report(error.args[0], error.args[1])
    except _Failure as error:
        _report(str(error), error.hint)
    except OSError as error:
        _report(f"`{error.filename}`: {error.strerror}" if error.filename else str(error))
    return 0


def _report(message: str, hint: str | None = None) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    raise SystemExit(1)


def _note(text: str) -> None:
    sys.stderr.write(f"{text}\n")


def _recipients(keys: dict[str, Any]) -> tuple[str, str]:
    """The recipients text and where it came from: `--recipient`s, `--recipients-file`,
    or the nearest `.oxinfra-recipients`."""
    if keys["recipients"]:
        return "\n".join(keys["recipients"]), "--recipient"
    path = keys["recipients_file"] or _core.vault_find_recipients_file(os.getcwd())
    if path is None:
        raise _Failure(
            f"no recipients: `{RECIPIENTS_FILE}` was not found in this folder or any above it, and none were given",
            "run `oxinfra secret init` in the project folder, or pass `--recipient`",
        )
    text = Path(path).read_text()
    if not _core.vault_recipients(text, str(path)):
        raise _Failure(f"`{path}` lists no recipients", "run `oxinfra secret init`, or add a public key to it")
    return text, str(path)


def _write_private(path: Path, data: bytes) -> None:
    """Writes a file only its owner can read, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _init(command: dict[str, Any], keys: dict[str, Any]) -> None:
    recipients_path = Path(keys["recipients_file"] or RECIPIENTS_FILE)
    existing = recipients_path.read_text() if recipients_path.exists() else ""
    known = set(_core.vault_recipients(existing, str(recipients_path)))
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    lines: list[str] = []
    if command["ssh_keys"]:
        for public_file in command["ssh_keys"]:
            text = Path(os.path.expanduser(public_file)).read_text().strip()
            for key in _core.vault_recipients(text, public_file):
                lines.append(f"{key} # {who} ({os.path.basename(public_file)})")
    elif command["ssh_agent"]:
        derived = _core.vault_agent_recipients(command["agent_key"])
        if not derived:
            raise _Failure("the ssh-agent holds no ssh-ed25519 or ssh-rsa key" + (f" matching `{command['agent_key']}`" if command["agent_key"] else ""))
        for public, description in derived:
            lines.append(f"{public} # {who}, ssh-agent: {description}")
    else:
        key_path = Path(os.path.expanduser(command["new_key_file"])) if command["new_key_file"] else Path(_core.vault_default_key_file())
        if key_path.exists():
            public = _core.vault_public_key(key_path.read_text(), str(key_path))
            _note(f"Using the existing key `{key_path}`")
        else:
            secret, public = _core.vault_generate_key()
            created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_private(key_path, f"# created: {created}\n# public key: {public}\n{secret}\n".encode())
            _note(f"Created the key `{key_path}`: keep it safe and out of version control")
        lines.append(f"{public} # {who}")
    added = [line for line in lines if line.split()[0] not in known and " ".join(line.split()[:2]) not in known]
    if not existing:
        existing = "# oxinfra vault recipients: every value is encrypted for each key below.\n# After a change, run `oxinfra secret rekey FILES...`.\n"
    if added:
        separator = "" if existing.endswith("\n") else "\n"
        recipients_path.write_text(existing + separator + "".join(f"{line}\n" for line in added))
        _note(f"Added {len(added)} recipient(s) to `{recipients_path}`")
    else:
        _note(f"`{recipients_path}` already lists this key")


def _input(command: dict[str, Any], strip_newline: bool) -> bytes:
    if command.get("value") is not None:
        return str(command["value"]).encode()
    if command.get("file"):
        return Path(command["file"]).read_bytes()
    if sys.stdin.isatty():
        _note("Reading from standard input; end with Ctrl-D")
    data = sys.stdin.buffer.read()
    if strip_newline and data.endswith(b"\n"):
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
    return data


def _encrypt(command: dict[str, Any], keys: dict[str, Any]) -> None:
    plaintext = _input(command, strip_newline=True)
    recipients, source = _recipients(keys)
    value = _core.vault_encrypt(plaintext, recipients, source)
    shown = f"{command['name']} = vault({value!r})" if command["name"] else value
    if command["output"]:
        Path(command["output"]).write_text(shown + "\n")
        _note(f"Wrote `{command['output']}`")
    else:
        sys.stdout.write(shown + "\n")


def _single_value(text: str, where: str) -> str:
    values = _core.vault_find(text)
    if len(values) != 1:
        raise _Failure(
            f"{where} holds {len(values)} vault values; decrypt takes exactly one",
            "`oxinfra secret rekey` works on files with many values" if values else "vault values start with `oxinfra-vault:v1:`",
        )
    return values[0]


def _decrypt_command(command: dict[str, Any], keys: dict[str, Any]) -> None:
    where = f"`{command['file']}`" if command.get("file") else "the argument" if command.get("value") is not None else "standard input"
    value = _single_value(_input(command, strip_newline=False).decode(errors="replace"), where)
    plaintext = _core.vault_decrypt(value)
    if command["output"]:
        _write_private(Path(command["output"]), plaintext)
        _note(f"Wrote `{command['output']}`")
    else:
        sys.stdout.buffer.write(plaintext)
        sys.stdout.buffer.flush()


def _edit(command: dict[str, Any], keys: dict[str, Any]) -> None:
    path = Path(command["file"])
    text = path.read_text() if path.exists() else ""
    plaintext = _core.vault_decrypt(_single_value(text, f"`{path}`")) if text.strip() else b""
    recipients, source = _recipients(keys)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    # A memory-backed folder where there is one, so the plaintext never reaches a disk.
    folder = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="oxinfra-secret-", suffix=path.suffix if path.suffix != ".vault" else "")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(plaintext)
        result = subprocess.run([*shlex.split(editor), temporary], check=False)
        if result.returncode != 0:
            raise _Failure(f"the editor `{editor}` exited with {result.returncode}; `{path}` is unchanged")
        edited = Path(temporary).read_bytes()
    finally:
        size = os.path.getsize(temporary) if os.path.exists(temporary) else 0
        if size:
            with open(temporary, "r+b") as file:
                file.write(b"\0" * size)
        if os.path.exists(temporary):
            os.unlink(temporary)
    if edited == plaintext and path.exists():
        _note(f"No changes; `{path}` is unchanged")
        return
    path.write_text(_core.vault_encrypt(edited, recipients, source) + "\n")
    _note(f"Encrypted `{path}`")


def _rekey(command: dict[str, Any], keys: dict[str, Any]) -> None:
    recipients, source = _recipients(keys)
    total = 0
    for name in command["files"]:
        path = Path(name)
        text = path.read_text()
        rekeyed, count = _core.vault_rekey(text, recipients, source)
        if count:
            path.write_text(rekeyed)
        _note(f"{name}: {count} value(s) encrypted again")
        total += count
    if total == 0:
        _note("No vault values found")
