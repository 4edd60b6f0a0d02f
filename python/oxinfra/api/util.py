"""Small helpers of the Python front: turning Python values into the plain data the
engine takes, and rendering templates with Jinja2 exactly as pyinfra does."""

from __future__ import annotations

import datetime
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
    if hasattr(value, "value") and hasattr(value, "name") and value.__class__.__class__.__name__ == "EnumMeta":
        return to_plain(value.value)
    return str(value)


def render_template(src: Any, data: dict[str, Any], jinja_env_kwargs: dict[str, Any] | None = None) -> str:
    """Renders a Jinja2 template file (or open file) with pyinfra's settings:
    `StrictUndefined`, `keep_trailing_newline`, templates loadable from the deploy folder,
    and `host`, `state` and `inventory` in the context."""
    import jinja2

    from oxinfra import context
    from oxinfra.api.exceptions import OperationError

    deploy_dir = getattr(context.current("state"), "cwd", None) or os.getcwd()
    options = {"undefined": jinja2.StrictUndefined, "keep_trailing_newline": True, "loader": jinja2.FileSystemLoader(deploy_dir)}
    options.update(jinja_env_kwargs or {})
    environment = jinja2.Environment(**options)
    if hasattr(src, "read"):
        text = src.read()
        name = getattr(src, "name", "template")
    else:
        path = Path(src)
        if not path.is_absolute():
            path = Path(deploy_dir) / path
        name = str(path)
        try:
            text = path.read_text()
        except OSError as error:
            raise OperationError(f"No such template file: {src}") from error
    if isinstance(text, bytes):
        text = text.decode()
    values = {"host": context.current("host"), "state": context.current("state"), "inventory": context.current("inventory"), **data}
    try:
        return environment.from_string(text).render(values)
    except jinja2.TemplateError as error:
        line_number = getattr(error, "lineno", None)
        lines = text.splitlines()
        snippet = ""
        if line_number and 0 < line_number <= len(lines):
            snippet = "\n...\n" + "\n".join(lines[line_number - 1].split()) + "\n..."
        location = f" (L{line_number})" if line_number else ""
        raise OperationError(f"Error in template: {name}{location}: {error}{snippet}") from error
