"""Executing the prepared operations, as pyinfra's `pyinfra.api.operations.run_ops`.
The engine runs them (operation by operation across hosts, `serial` or `no_wait`),
and the state's callback handlers hear of each step as it happens (see
`oxinfra.api.callbacks`); this module raises pyinfra's exception when the run stopped."""

from __future__ import annotations

from typing import Any

from oxinfra import _core, context
from oxinfra.api.exceptions import PyinfraError


def run_ops(state: Any, serial: bool = False, no_wait: bool = False) -> None:
    """Runs every prepared operation on the active hosts: by default one operation at a
    time on all hosts; `serial` host by host; `no_wait` every host through all its
    operations without waiting for the others. Raises `PyinfraError` when no host is
    left or more than `FAIL_PERCENT` failed."""
    state.is_executing = True
    strategy = "serial" if serial else "no_wait" if no_wait else "default"
    dispatcher = state.dispatcher
    if dispatcher is not None:
        dispatcher.begin_run(strategy)
    stopped = None
    finished = False
    try:
        with context.use(state=state):
            try:
                state.engine.run(strategy)
                finished = True
            except _core.EngineError as error:
                stopped = error
    finally:
        if dispatcher is not None:
            dispatcher.end_run(stopped=not finished)
    if dispatcher is not None:
        dispatcher.raise_error()
    if stopped is not None:
        raise PyinfraError(str(stopped)) from stopped
