"""Command objects, as pyinfra's: `StringCommand` built from parts, `QuoteString` to
quote a value, `HiddenValue`/`MaskString` for secrets, and the upload, download and
function commands. Each turns into the plain data the engine runs (`to_data`)."""

from __future__ import annotations

import json
import shlex
import warnings
from io import IOBase
from pathlib import Path
from typing import Any, Callable

MASK = "*MASKED*"


class HiddenValue:
    """A value sent to the host but shown masked."""

    def __init__(self, content: Any, masked_value: str = MASK) -> None:
        self.content = content
        self.masked_value = masked_value

    def unmask(self) -> Any:
        return self.content

    def __str__(self) -> str:
        return self.masked_value

    __repr__ = __str__


class MaskString(str):
    """A string shown as `*MASKED*` (deprecated in pyinfra 3.10: use `HiddenValue`)."""

    def __new__(cls, value: str) -> MaskString:
        warnings.warn("MaskString is deprecated please switch to HiddenValue", DeprecationWarning, stacklevel=2)
        return super().__new__(cls, value)


class QuoteString:
    """A value quoted with `shlex.quote` when the command is rendered."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __repr__(self) -> str:
        return f"QuoteString({self.obj!r})"


def _part_data(bit: Any) -> dict[str, Any]:
    if isinstance(bit, StringCommand):
        return {"kind": "nested", "value": bit._command_data()}
    if isinstance(bit, QuoteString):
        return {"kind": "quoted", "value": [_part_data(bit.obj)]}
    if isinstance(bit, HiddenValue):
        return {"kind": "secret", "value": str(bit.content)}
    if isinstance(bit, MaskString):
        return {"kind": "secret", "value": str.__str__(bit)}
    return {"kind": "raw", "value": str(bit)}


def _render(bit: Any, masked: bool) -> str:
    if isinstance(bit, StringCommand):
        return bit._render(masked)
    if isinstance(bit, QuoteString):
        return shlex.quote(_render(bit.obj, masked))
    if isinstance(bit, HiddenValue):
        return bit.masked_value if masked else str(bit.content)
    if isinstance(bit, MaskString):
        return MASK if masked else str.__str__(bit)
    return str(bit)


class PyinfraCommand:
    """The base of command objects; keyword arguments are per-command global arguments."""

    def __init__(self, **connector_arguments: Any) -> None:
        self.connector_arguments = connector_arguments

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyinfraCommand) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def to_data(self) -> dict[str, Any]:
        raise NotImplementedError


class StringCommand(PyinfraCommand):
    """A shell command from parts joined by a separator."""

    def __init__(self, *bits: Any, _separator: str = " ", **connector_arguments: Any) -> None:
        super().__init__(**connector_arguments)
        self.bits = bits
        self.separator = _separator

    def _render(self, masked: bool) -> str:
        return self.separator.join(_render(bit, masked) for bit in self.bits)

    def get_raw_value(self) -> str:
        return self._render(False)

    def get_masked_value(self) -> str:
        return self._render(True)

    def _command_data(self) -> dict[str, Any]:
        return {"parts": [_part_data(bit) for bit in self.bits], "separator": self.separator}

    def to_data(self) -> dict[str, Any]:
        return {"type": "shell", "command": self._command_data()}

    def __str__(self) -> str:
        return self.get_masked_value()

    def __repr__(self) -> str:
        return f"StringCommand({self.get_masked_value()})"


class FileUploadCommand(PyinfraCommand):
    """Send a local file (a path or an open file) to the host."""

    def __init__(self, src: Any, dest: str, remote_temp_filename: str | None = None, **connector_arguments: Any) -> None:
        super().__init__(**connector_arguments)
        self.src = src
        self.dest = dest
        self.remote_temp_filename = remote_temp_filename

    def to_data(self) -> dict[str, Any]:
        source: dict[str, Any]
        if isinstance(self.src, (str, Path)):
            source = {"kind": "path", "value": str(self.src)}
        else:
            content = self.src.read()
            if hasattr(self.src, "seek"):
                self.src.seek(0)
            data = content.encode() if isinstance(content, str) else bytes(content)
            source = {"kind": "content", "value": list(data)}
        return {"type": "upload", "source": source, "dest": str(self.dest)}

    def __repr__(self) -> str:
        return f"FileUploadCommand({self.src}, {self.dest})"


class FileDownloadCommand(PyinfraCommand):
    """Fetch a file from the host to a local path."""

    def __init__(self, src: str, dest: Any, remote_temp_filename: str | None = None, **connector_arguments: Any) -> None:
        super().__init__(**connector_arguments)
        self.src = src
        self.dest = dest
        self.remote_temp_filename = remote_temp_filename

    def to_data(self) -> dict[str, Any]:
        if isinstance(self.dest, IOBase):
            raise TypeError("oxinfra downloads to a file path, not an open file")
        return {"type": "download", "src": str(self.src), "dest": str(self.dest)}

    def __repr__(self) -> str:
        return f"FileDownloadCommand({self.src}, {self.dest})"


class FunctionCommand(PyinfraCommand):
    """Run a Python function on the controller at execute time."""

    def __init__(self, function: Callable[..., Any], args: Any, func_kwargs: Any, **connector_arguments: Any) -> None:
        super().__init__(**connector_arguments)
        self.function = function
        self.args = args
        self.kwargs = func_kwargs

    def to_data(self) -> dict[str, Any]:
        from oxinfra.api.state import current_state

        function_id = current_state().register_function(self.function, self.args, self.kwargs)
        return {"type": "function", "id": function_id, "name": getattr(self.function, "__name__", "function")}

    def __repr__(self) -> str:
        return f"FunctionCommand({getattr(self.function, '__name__', self.function)}, {self.args}, {self.kwargs})"


class RsyncCommand(PyinfraCommand):
    """Copy a local folder to the host with the controller's ``rsync`` (SSH and ``@local`` only)."""

    def __init__(self, src: str, dest: str, flags: Any, **connector_arguments: Any) -> None:
        super().__init__(**connector_arguments)
        self.src = src
        self.dest = dest
        self.flags = flags

    def to_data(self) -> dict[str, Any]:
        return {"type": "rsync", "src": str(self.src), "dest": str(self.dest), "flags": [str(flag) for flag in self.flags]}

    def __repr__(self) -> str:
        return f"RsyncCommand({self.src}, {self.dest}, {self.flags})"


class PlannedCommand(PyinfraCommand):
    """A command the Rust planner produced, passed through as it is."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data

    def to_data(self) -> dict[str, Any]:
        return self.data

    def __repr__(self) -> str:
        return f"PlannedCommand({json.dumps(self.data)})"


def make_formatted_string_command(string: str, *args: Any, **kwargs: Any) -> StringCommand:
    """Splits `string` like a shell and formats each token with the given objects."""
    formatted = []
    for token in shlex.split(string):
        if token.startswith("{") and token.endswith("}"):
            key = token[1:-1]
            formatted.append(args[int(key)] if key.isdigit() else kwargs[key])
        else:
            formatted.append(token.format(*args, **kwargs))
    return StringCommand(*formatted)


def command_data(value: Any) -> dict[str, Any]:
    """The engine's form of anything an operation yields."""
    if isinstance(value, str):
        return StringCommand(value.strip()).to_data()
    if isinstance(value, PyinfraCommand):
        return value.to_data()
    raise TypeError(f"an operation yielded {type(value).__name__}, not a command")
