"""Small helpers of the Python front: turning Python values into the plain data the
engine takes, and rendering templates with Jinja2 exactly as pyinfra does."""

from __future__ import annotations

import datetime
import enum
import functools
import io
import os
from pathlib import Path, PurePath
from typing import Any


def to_plain(value: Any) -> Any:
    """Plain JSON-able data: paths as strings, datetimes as ISO text, tuples and sets
    as lists, open files as `{"content": text}`."""
    from oxinfra.api.command import HiddenValue

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (io.IOBase,)) or hasattr(value, "read"):
        content = value.read()
        if hasattr(value, "seek"):
            value.seek(0)
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="surrogateescape")
        return {"content": content}
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(to_plain(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, HiddenValue):
        return str(value.content)
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    return str(value)


def to_commands(commands: Any) -> Any:
    """Commands given to run as written (`server.shell`): text as is, and each
    `StringCommand` as its parts (`{"parts": [...], "separator": " "}`, the engine's
    form), so that its `MaskString` and `HiddenValue` parts reach the engine as secrets:
    shown masked everywhere, sent on standard input. Anything else as `to_plain`."""
    from oxinfra.api.command import StringCommand

    if isinstance(commands, StringCommand):
        return commands._command_data()
    if isinstance(commands, (list, tuple)):
        return [to_commands(command) for command in commands]
    return to_plain(commands)


class LocalReader:
    """How templates are read from the controller; the fixture runner swaps in a
    virtual file system."""

    def read_text(self, path: str) -> str:
        return Path(path).read_text()

    def read_lines(self, path: str) -> list[str]:
        return Path(path).read_text().splitlines()


local_reader = LocalReader()


def _template_line_number(error: BaseException) -> int:
    """The template line an error happened on, as pyinfra finds it."""
    import sys
    import traceback

    line_number = getattr(error, "lineno", None)
    if line_number:
        return int(line_number)
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__ or sys.exc_info()[2]) if frame.name in ("template", "<module>", "top-level template code")
    ]
    return frames[-1].lineno or 1 if frames else 1


def _environment(deploy_dir: str, jinja_env_kwargs: dict[str, Any] | None = None) -> Any:
    """A Jinja2 environment with pyinfra's settings, and `jinja_env_kwargs` on top."""
    import jinja2

    options: dict[str, Any] = {"undefined": jinja2.StrictUndefined, "keep_trailing_newline": True, "loader": jinja2.FileSystemLoader(deploy_dir)}
    options.update(jinja_env_kwargs or {})
    return jinja2.Environment(**options)


@functools.lru_cache(maxsize=256)
def _compiled(deploy_dir: str, text: str) -> Any:
    """A template compiled once for every host that renders it (compiling takes longer
    than rendering)."""
    return _environment(deploy_dir).from_string(text)


def render_template(src: Any, data: dict[str, Any], jinja_env_kwargs: dict[str, Any] | None = None) -> str:
    """Renders a Jinja2 template file (or open file) with pyinfra's settings:
    `StrictUndefined`, `keep_trailing_newline`, templates loadable from the deploy folder,
    and `host`, `state` and `inventory` in the context."""
    import jinja2

    from oxinfra import context
    from oxinfra.api.exceptions import OperationError

    deploy_dir = getattr(context.current("state"), "cwd", None) or os.getcwd()
    path = None
    if hasattr(src, "read"):
        text = src.read()
        if hasattr(src, "seek"):
            src.seek(0)
        name = getattr(src, "name", "template")
    else:
        path = os.path.join(deploy_dir, str(src))
        name = path
        try:
            text = local_reader.read_text(path)
        except OSError as error:
            raise OperationError(f"No such template file: {src}") from error
    if isinstance(text, bytes):
        text = text.decode()
    values = {"host": context.current("host"), "state": context.current("state"), "inventory": context.current("inventory"), **data}
    try:
        if jinja_env_kwargs:
            return _environment(deploy_dir, jinja_env_kwargs).from_string(text).render(values)
        return _compiled(deploy_dir, text).render(values)
    except (jinja2.TemplateRuntimeError, jinja2.TemplateSyntaxError, jinja2.UndefinedError) as error:
        line_number = _template_line_number(error)
        lines = local_reader.read_lines(path) if path else text.splitlines()
        lines = [line.strip() for line in lines]
        relevant = "\n".join(lines[max(line_number - 2, 0) : line_number + 1])
        raise OperationError(f"Error in template: {name} (L{line_number}): {error}\n...\n{relevant}\n...") from error
