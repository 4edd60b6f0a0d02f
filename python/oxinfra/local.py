"""`local.include` (run another deploy file for the current host) and `local.shell`
(run a command on the controller)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from oxinfra import context
from oxinfra.api.exceptions import PyinfraError


def include(filename: str, data: dict[str, Any] | None = None) -> None:
    """Runs `filename` for the current host, as part of the deploy; `data` becomes the
    included file's deploy data. A path starting with `./` is relative to the including
    file, any other to the working directory."""
    host = context.current("host")
    state = context.current("state")
    if host is None or state is None:
        raise PyinfraError("local.include is only available inside a deploy")
    if filename.startswith("./") and state.current_include_dir:
        path = os.path.join(state.current_include_dir, filename)
    else:
        path = os.path.join(state.cwd, filename)
    if not os.path.isfile(path):
        raise PyinfraError(f"No such include file: {filename}")
    relative = os.path.relpath(path, state.cwd)
    previous_dir = state.current_include_dir
    state.current_include_dir = os.path.dirname(path)
    try:
        with host.deploy(relative, None, data, in_deploy=False):
            with open(path) as file:
                code = compile(file.read(), path, "exec")
            exec(code, {"__file__": path, "__name__": "__main__"})
    finally:
        state.current_include_dir = previous_dir


def shell(
    commands: str | list[str], splitlines: bool = False, ignore_errors: bool = False, print_output: bool = False, print_input: bool = False
) -> str | list[str]:
    """Runs commands locally and returns their output; raises `PyinfraError` on failure."""
    outputs = []
    for command in [commands] if isinstance(commands, str) else commands:
        result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        if result.returncode != 0 and not ignore_errors:
            raise PyinfraError(f"Local command failed: {command}\n{result.stderr}")
        outputs.append(result.stdout)
    output = "\n".join(outputs)
    return output.splitlines() if splitlines else output
